"""The embedded sheet: a local .xlsx workbook with the tabs of the contract (opens in Excel and LibreOffice).

Built from sheet_templates/ exactly like the Google Sheet: frozen header, header notes, a Category dropdown
fed by the Categories tab, a TRUE/FALSE choice for Approved, number and date formats, hidden columns, and
the pipeline's columns shaded differently from the ones people edit. Writes go to a temporary file that
replaces the workbook in one rename, so a failed run leaves the workbook as it was; the rename keeps the
workbook's file mode (colleagues sharing the folder keep their access), and a temporary copy left by a
process killed mid-save is removed by the next save.

A run's `ensure_layout()` refuses a workbook a person changed in a way the pipeline cannot follow (a
settings tab deleted, a required header renamed, merged cells in a tab it writes), before anything is
written; the layout it does add (a new workbook, a column an upgrade brings) is saved with the run's first
write, so a run that fails leaves no workbook behind. Only `ensure_layout(setup=True)` (setup-sheet)
recreates a deleted tab.

Text from sources is always stored as text: a note such as `=SUM(A1)` or `-fixed header` never becomes a
formula or a number.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, InputError, InputErrors, Location
from ..ports import Cell, CellBlock
from ..values import clean_text
from . import xlsx_patch
from .contract import Contract, HeaderMap, Tab, layout_problems, load_contract
from .percent_cells import is_percent_format, percent_columns, with_percent_text
from .xlsx_read import read_tabs

if TYPE_CHECKING:  # openpyxl (240 ms to import) is loaded only for a layout change or a whole rewrite
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

NUMBER_FORMATS = {
    "date": "yyyy-mm-dd",
    "hours": "0.00##",  # 2 to 4 decimals: 0.5, 1.25, a timer's 0.7014
    "money": "#,##0.00",
    "number": "General",  # a count shows 42, a measure its own decimals (0.85, 1.23), never 42.00
    "percent": "0.0%",
    "bool": '"TRUE";"TRUE";"FALSE"',
}  # without it LibreOffice shows a boolean as 1 or 0
WRITTEN_TABS = ("Time", "Clients", "Preview", "Invoices", "Runs")  # tabs a run writes cell by cell


def _as_cell_value(value: Cell) -> Any:
    if isinstance(value, Decimal):
        return value  # openpyxl writes Decimal exactly as its text
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        return clean_text(value)[0]  # a control character would make openpyxl refuse the whole save
    return value


class LocalWorkbook:
    """SheetStore over an .xlsx file."""

    def __init__(self, path: Path, contract: Contract | None = None):
        self.path = Path(path)
        self.contract = contract or load_contract()
        # The workbook as this process last saved it, reused while the file is unchanged on disk, so a
        # run does not parse the whole file again for every read and write. A file changed by anyone
        # else (a different size, mtime or inode) is loaded afresh.
        self._cached: tuple[tuple[int, int, int], Workbook, bool] | None = None
        self._formula_free = True  # whether the workbook last loaded had no formula cells
        # Layout a run added (a new workbook, an upgrade's column), saved with the run's first write.
        self._pending: Workbook | None = None
        # Every tab's values as last read, with the file state they belong to (see _values).
        self._values_cache: (
            tuple[tuple[int, int, int] | None, dict[str, list[list[Cell]]], dict[str, list[str]]] | None
        ) = None

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _cached_workbook(self, values_only: bool = False) -> Workbook | None:
        """The cached workbook if it is still what is on disk (and, to read values, holds no formulas)."""
        if self._cached is None or self._cached[0] != self._stat():
            return None
        if values_only and not self._cached[2]:
            return None
        return self._cached[1]

    def describe(self) -> str:
        return str(self.path)

    # -- layout ---------------------------------------------------------------------------------------
    def ensure_layout(self, setup: bool = False) -> list[str]:
        if self._pending is not None:
            return []
        changes: list[str] = []
        exists = self.path.exists()
        if exists and not setup:
            self._refuse_merged_cells()
        if exists and self._layout_is_current():
            return changes
        if exists:
            wb = self._cached_workbook() or self._load()
            headers = {ws.title: [c.value for c in ws[1]] if ws.max_row >= 1 else [] for ws in wb.worksheets}
            problems = layout_problems(self.contract, headers, setup=setup)
            if problems:
                raise InputErrors(problems, what=f"workbook {self.path.name}")
        else:
            from openpyxl import Workbook

            wb = Workbook()
            wb.remove(wb.active)
            changes.append(f"created the workbook {self.path}")
        for position, tab in enumerate(self.contract.tabs):
            if tab.name not in wb.sheetnames:
                ws = wb.create_sheet(tab.name, index=position)
                changes.append(
                    f"added the tab {tab.name}"
                    + (" (it was missing; it is empty now: fill it in, or restore it from a backup)" if exists else "")
                )
            ws = wb[tab.name]
            changes += self._ensure_tab(ws, tab)
        if changes:
            self._cached = None
            if setup or not self._formula_free:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._save(wb)
            else:
                self._pending = wb  # saved with the run's first write; a run that fails leaves nothing
        return changes

    def _refuse_merged_cells(self) -> None:
        """Merged cells in a tab a run writes would fail the write-back after invoices were created."""
        problems = [
            InputError(
                "these cells are merged, and the pipeline writes this tab cell by cell; unmerge them "
                "(Format > Merge cells > Unmerge) and run again",
                Location(tab=tab, cell=ref),
            )
            for tab, refs in self._merged().items()
            if tab in WRITTEN_TABS
            for ref in refs
        ]
        if problems:
            raise InputErrors(problems, what=f"workbook {self.path.name}")

    def _layout_is_current(self) -> bool:
        """A cheap look: every tab there with every contract column (the common case)."""
        tabs = self._values()
        for tab in self.contract.tabs:
            if tab.name not in tabs:
                return False
            rows = tabs[tab.name]
            if HeaderMap(tab, list(rows[0]) if rows else []).missing:
                return False
        return True

    def _ensure_tab(self, ws: Worksheet, tab: Tab) -> list[str]:
        changes = []
        header = [c.value for c in ws[1]] if ws.max_row >= 1 else []
        while header and header[-1] in (None, ""):
            header.pop()
        hm = HeaderMap(tab, header)
        next_col = len(header) + 1
        for col in hm.missing:  # upgrade: new columns go to the end, so no value moves
            ws.cell(row=1, column=next_col, value=col.header)
            if header:
                changes.append(f"added the column {col.header} to {tab.name}")
            next_col += 1
        header = [c.value for c in ws[1]]
        hm = HeaderMap(tab, header)
        from .workbook_layout import style_tab

        style_tab(ws, tab, hm, self.contract)
        return changes

    # -- data -------------------------------------------------------------------------------------------
    def read(self, tabs: Sequence[str]) -> dict[str, list[list[Cell]]]:
        if self._pending is None and not self.path.exists():
            raise ConfigError(f"There is no workbook at {self.path} yet; run refresh (or demo) first.")
        if self._pending is not None:
            return self._read_pending(tabs)
        values = self._values()
        out: dict[str, list[list[Cell]]] = {}
        for name in tabs:
            rows = [list(r) for r in values.get(name, [])]  # a copy: callers append to what they read
            out[name] = self._percents_from_file(name, rows)
        return out

    def _values(self) -> dict[str, list[list[Cell]]]:
        """Every tab's values, read once per state of the file (a native reader; see xlsx_read.py)."""
        stat_now = self._stat()
        if self._values_cache is None or self._values_cache[0] != stat_now:
            merged: dict[str, list[str]] = {}
            self._values_cache = (stat_now, read_tabs(self.path, merged), merged)
        return self._values_cache[1]

    def _merged(self) -> dict[str, list[str]]:
        """Every tab's merged ranges ("T2:T3"), from the same read as the values."""
        self._values()
        assert self._values_cache is not None
        return self._values_cache[2]

    def _read_pending(self, tabs: Sequence[str]) -> dict[str, list[list[Cell]]]:
        wb = self._pending
        assert wb is not None
        out: dict[str, list[list[Cell]]] = {}
        for name in tabs:
            if name not in wb.sheetnames:
                out[name] = []
                continue
            rows = [list(r) for r in wb[name].iter_rows(values_only=True)]
            while rows and all(v is None or v == "" for v in rows[-1]):
                rows.pop()
            out[name] = self._percents_as_shown(wb[name], name, rows)
        return out

    def _percents_from_file(self, name: str, rows: list[list[Cell]]) -> list[list[Cell]]:
        """A typed 100% is stored as 1 in a percent-formatted cell: hand it as "100%" (see percent_cells.py)."""
        columns = percent_columns(self.contract, name, rows[0]) if rows else []
        if not columns:
            return rows
        with zipfile.ZipFile(self.path) as z:
            member = xlsx_patch.sheet_members(z).get(name)
            if member is None:
                return rows
            formats = xlsx_patch.cell_styles(
                z, member, xlsx_patch.Styles(z.read("xl/styles.xml")), {c + 1 for c in columns}
            )
        return with_percent_text(rows, columns, lambda i, c: is_percent_format(formats.get((i + 1, c + 1))))

    def _percents_as_shown(self, ws: Any, name: str, rows: list[list[Cell]]) -> list[list[Cell]]:
        """A typed 100% is stored as 1 in a percent-formatted cell: hand it as "100%" (see percent_cells.py)."""
        columns = percent_columns(self.contract, name, rows[0]) if rows else []
        if not columns:
            return rows
        lo, hi = min(columns), max(columns)
        formats = {
            (i, lo + j): cell.number_format
            for i, cells in enumerate(ws.iter_rows(min_row=1, max_row=len(rows), min_col=lo + 1, max_col=hi + 1))
            for j, cell in enumerate(cells)
        }
        return with_percent_text(rows, columns, lambda i, c: is_percent_format(formats.get((i, c))))

    def write(self, blocks: Sequence[CellBlock]) -> None:
        if not blocks:
            return
        if self._pending is None:
            try:
                self._splice(blocks)
                return
            except xlsx_patch.Unsupported:
                pass  # a file shaped in a way the splice does not handle: rewrite it whole
        elif self._pending is not None and not self.path.exists():
            pending = self._pending
            for block in blocks:
                if block.tab not in pending.sheetnames:
                    raise ConfigError(f"The workbook has no tab {block.tab}; run setup (ensure_layout) first.")
            self._replace(lambda tmp: self._write_new(pending, tmp, blocks))
            self._pending = None
            return
        self._write_whole(blocks)

    def _changes(self, blocks: Sequence[CellBlock], headers: dict[str, list[Cell]]) -> tuple[dict, dict]:
        """{tab: {row: {col: value}}} and {tab: {col: number format}} of the blocks (later blocks win)."""
        formats = self._formats()
        changes: dict[str, dict[int, dict[int, Any]]] = {}
        col_formats: dict[str, dict[int, str | None]] = {}
        for block in blocks:
            if block.tab not in headers:
                raise ConfigError(f"The workbook has no tab {block.tab}; run setup (ensure_layout) first.")
            if block.tab not in col_formats:
                tab_formats = formats.get(block.tab, {})
                col_formats[block.tab] = {
                    i + 1: tab_formats.get(str(h).strip().casefold()) for i, h in enumerate(headers[block.tab]) if h
                }
            rows = changes.setdefault(block.tab, {})
            for r, values in enumerate(block.values, start=block.row):
                cells = dict(enumerate(values, start=block.col))  # values are converted as they are written
                if r in rows:
                    rows[r].update(cells)
                else:
                    rows[r] = cells
        return changes, col_formats

    def _splice(self, blocks: Sequence[CellBlock]) -> None:
        """Only the changed cells of the changed tabs are written; every other part of the file is kept."""
        values = self._values()
        headers = {name: (rows[0] if rows else []) for name, rows in values.items()}
        changes, col_formats = self._changes(blocks, headers)
        self._replace(lambda tmp: xlsx_patch.patch_file(self.path, tmp, changes, col_formats))

    def _write_new(self, wb: Workbook, tmp: str, blocks: Sequence[CellBlock]) -> None:
        """A new workbook: its layout saved by openpyxl (small), then the run's cells spliced in."""
        wb.save(tmp)
        headers = {ws.title: [c.value for c in ws[1]] for ws in wb.worksheets}
        changes, col_formats = self._changes(blocks, headers)
        layout = Path(tmp).with_name(Path(tmp).stem + ".layout.xlsx")  # a stray copy the next save removes
        os.replace(tmp, layout)
        try:
            xlsx_patch.patch_file(layout, tmp, changes, col_formats)
        finally:
            layout.unlink(missing_ok=True)

    def _write_whole(self, blocks: Sequence[CellBlock]) -> None:
        """The slow way, for a layout change or a file the splice cannot handle: load, set, save all."""
        wb = self._pending or self._cached_workbook() or self._load()
        self._cached = None  # from here on the object differs from the file until it is saved
        formats = self._formats()
        col_formats: dict[str, dict[int, str | None]] = {}
        for block in blocks:
            if block.tab not in wb.sheetnames:
                raise ConfigError(f"The workbook has no tab {block.tab}; run setup (ensure_layout) first.")
            ws = wb[block.tab]
            if block.tab not in col_formats:  # the header is read once per tab (max_column is slow)
                header = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
                tab_formats = formats.get(block.tab, {})
                col_formats[block.tab] = {
                    i + 1: tab_formats.get(str(h).strip().casefold()) for i, h in enumerate(header) if h
                }
            col_fmt = col_formats[block.tab]
            for r_off, values in enumerate(block.values):
                r = block.row + r_off
                for c_off, value in enumerate(values):
                    c = block.col + c_off
                    cell = ws.cell(row=r, column=c)
                    v = _as_cell_value(value)
                    cell.value = v
                    if isinstance(v, str) and v.startswith("="):
                        cell.data_type = "s"  # text from a source stays text, never a formula
                    fmt = col_fmt.get(c)
                    if fmt and isinstance(v, (int, float, Decimal, date)):  # bool is an int too
                        cell.number_format = fmt
        self._save(wb)

    def _formats(self) -> dict[str, dict[str, str]]:
        return {
            t.name: {c.header.casefold(): NUMBER_FORMATS[c.type] for c in t.columns if c.type in NUMBER_FORMATS}
            for t in self.contract.tabs
        }

    def _load(self) -> Workbook:
        try:
            from openpyxl import load_workbook

            wb = load_workbook(self.path)
        except Exception as exc:  # a corrupt or foreign file: say which and why
            raise ConfigError(f"Cannot open the workbook {self.path}: {exc}") from exc
        self._formula_free = not any(
            cell.data_type == "f" for ws in wb.worksheets for row in ws.iter_rows() for cell in row
        )
        return wb

    def open_in(self) -> Path | None:
        """The lock file Excel (`~$name`) or LibreOffice (`.~lock.name#`) keeps while the workbook is open."""
        for name in (f"~${self.path.name}", f".~lock.{self.path.name}#"):
            lock = self.path.parent / name
            if lock.exists():
                return lock
        return None

    def _refuse_if_open(self) -> None:
        lock = self.open_in()
        if lock is not None:
            raise ConfigError(
                f"The workbook {self.path} is open in a spreadsheet program (it keeps {lock.name}). Save and "
                "close it, then run again: otherwise its next save and this run would overwrite each other. "
                f"If it is not open, delete {lock}."
            )

    def _save(self, wb: Workbook) -> None:
        self._replace(wb.save)
        self._pending = None
        stat_now = self._stat()
        if stat_now is not None:
            self._cached = (stat_now, wb, self._formula_free)

    def _replace(self, write: Callable[[str], object]) -> None:
        """`write(tmp)` makes the new file beside the workbook; it then replaces the workbook in one rename."""
        self._refuse_if_open()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".~{self.path.name}.{os.getpid()}.", suffix=".xlsx", dir=self.path.parent)
        os.close(fd)
        try:
            write(tmp)
            os.chmod(tmp, _mode_for(self.path))  # mkstemp makes 0600; the workbook keeps its own mode
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._values_cache = None
        self._remove_stray_copies()

    def _remove_stray_copies(self) -> None:
        """Temporary copies of processes that were killed mid-save (their pid is gone)."""
        for stray in self.path.parent.glob(f".~{glob_escape(self.path.name)}.*.xlsx"):
            m = re.match(rf"\.~{re.escape(self.path.name)}\.(\d+)\.", stray.name)
            if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1)), stray):
                stray.unlink(missing_ok=True)


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def _alive(pid: int, copy: Path) -> bool:
    """Whether the process that wrote `copy` may still be saving it."""
    if os.name == "nt":  # os.kill would end the process there: an hour-old copy is a dead save's
        try:
            return time.time() - copy.stat().st_mtime < 3600
        except FileNotFoundError:
            return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by someone else
        return True
    return True


def _mode_for(path: Path) -> int:
    """The mode the saved workbook should have: the file's own, or what the umask gives a new file."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
