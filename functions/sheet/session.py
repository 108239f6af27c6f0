"""One run's unit of work on the sheet: read the tabs once, hand out records, collect changes, write once.

The pipeline never sees a cell. It asks a session for the Time rows, the rule book and the invoice history,
tells it what changed (a merge, invoice numbers, a Preview, a Runs row) in domain terms, and `commit()`s:
every change goes to the sheet in one write, or — when the run raises before that — none does.

    session = SheetSession(services.sheet, ["Time", *CONFIG_TABS, "Runs"])
    rows = session.time().rows
    session.log_run(summary, "ok", "3 invoices ready")
    session.commit()

Columns are found by their header as the tab is laid out now, so a moved or inserted column is read, written
and named in messages right (`Time!K7`, not the contract's default position).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from .. import collector
from ..billing.book import RuleBook
from ..billing.engine import BillingResult
from ..collector import collector_paused
from ..errors import InputError, InputErrors, InvariantError
from ..models import CreatedInvoice, Period, TimeEntry
from ..ports import Cell, CellBlock, SheetStore, SourceMilestone, SyncMark
from ..values import is_blank, parse_decimal, text
from .agency_tab import Letterheads, parse_letterheads
from .config_tabs import parse_book
from .contract import HeaderMap, load_contract
from .dashboard_tab import dashboard_changes, invoice_records, run_records
from .merge import MergeResult, row_maker
from .preview_tab import preview_rows
from .seed import seed_rows
from .sync_tab import (
    ClientKeys,
    People,
    milestone_cells,
    parse_client_keys,
    parse_people,
    parse_sync,
    sync_blocks,
)
from .tables import OUTPUT_KEYS, REVIEW_KEYS, SOURCE_KEYS, TimeTable, parse_time_tab, row_values

if TYPE_CHECKING:
    from ..settings import Settings
    from ..summaries import Summary

CONFIG_TABS = ("Clients", "Rates", "Rules", "Categories", "Agency")


class SheetSession:
    """The tabs one run read, as records, and the changes it will write (see the module docstring)."""

    def __init__(self, store: SheetStore, tabs: Sequence[str]):
        self.store = store
        collector.roomy()
        with collector.paused():
            self.tables: dict[str, list[list[Cell]]] = store.read(list(tabs))
        self.blocks: list[CellBlock] = []
        self._time: TimeTable | None = None

    # --- records ---------------------------------------------------------------------------------------------

    def time(self) -> TimeTable:
        """The Time tab parsed once: rows, problems by cell, rows without an id."""
        if self._time is None:
            with collector.paused():
                self._time = parse_time_tab(self.tables.get("Time") or [load_contract().tab("Time").headers])
        return self._time

    def time_cell(self, row: int, key: str) -> str:
        """`Time!K7`: the cell of a Time field at a row, through the tab's header as it is now."""
        return self.time().header.cell(key, row)

    def book(self, stop_on: Sequence[str] = CONFIG_TABS) -> tuple[RuleBook, list[str]]:
        """The settings tabs as a rule book. Problems in the tabs of `stop_on` stop the run (InputErrors, nothing
        written); problems elsewhere come back as warnings."""
        book, errors = parse_book({name: self.tables.get(name) or [] for name in CONFIG_TABS})
        fatal = [e for e in errors if e.location is None or e.location.tab in stop_on]
        if fatal:
            raise InputErrors(fatal, what="settings tabs")
        return book, [str(e) for e in errors]

    def letterheads(
        self, settings: Settings | None, folders: Sequence[Path] = ()
    ) -> tuple[Letterheads, list[InputError]]:
        """The documents' letterheads (Agency tab, the Clients tab's billing details, AGENCY_* settings) and
        their problems, each naming its cell (functions/sheet/agency_tab.py)."""
        return parse_letterheads(self.tables, settings, folders)

    def located(self, result: BillingResult) -> BillingResult:
        """The billing result with every Time-row issue named by its real cell."""
        return result.located(self.time_cell)

    def previous_totals(self, period: Period) -> dict[str, Decimal]:
        """client -> the total of its invoice for `period`, from the Invoices tab (the spike check's baseline)."""
        rows = self.tables.get("Invoices") or []
        if len(rows) < 2:
            return {}
        hm = HeaderMap(load_contract().tab("Invoices"), rows[0])
        out: dict[str, Decimal] = {}
        for r in rows[1:]:
            if text(hm.get(r, "period")) == str(period):
                try:
                    out[text(hm.get(r, "client"))] = parse_decimal(hm.get(r, "total")) or Decimal("0")
                except ValueError:
                    continue
        return out

    def invoices(self) -> list[tuple[str, str, str]]:
        """(client, period, number) of every invoice the Invoices tab lists: a client with an invoice for a month
        gets no second one (a fee-only invoice has no Time row to say so)."""
        rows = self.tables.get("Invoices") or []
        if len(rows) < 2:
            return []
        hm = HeaderMap(load_contract().tab("Invoices"), rows[0])
        return [
            (text(hm.get(r, "client")), text(hm.get(r, "period")), text(hm.get(r, "number")))
            for r in rows[1:]
            if text(hm.get(r, "number")) and not text(hm.get(r, "status")).startswith("void")  # a reissued one
        ]

    def invoice_records(self) -> list[tuple[str, str, Decimal]]:
        """(client, period, total) of the Invoices tab's invoices, voided ones left out (dashboard_tab.py)."""
        return invoice_records(self.tables.get("Invoices") or [])

    def run_records(self) -> list[tuple[str, str, Decimal, int, Decimal]]:
        """(started, command, seconds, Claude calls, AI cost) of the Runs tab's rows, this run's included."""
        return run_records(self.tables.get("Runs") or [])

    def sync_marks(self) -> dict[tuple[str, str], SyncMark]:
        """The Sync tab: each source's watermark per month."""
        return parse_sync(self.tables.get("Sync") or [])

    def people(self) -> People:
        """The People tab: source accounts mapped to one person and role (InputErrors on a half-filled row)."""
        return parse_people(self.tables.get("People") or [])

    def client_keys(self) -> ClientKeys:
        """The Clients tab's names and Tracker Keys: which client a Jira or Asana project bills to."""
        return parse_client_keys(self.tables.get("Clients") or [])

    # --- changes ---------------------------------------------------------------------------------------------

    def fill_milestones(self, milestones: Iterable[SourceMilestone], period: Period) -> list[str]:
        """Tick the Complete cell of Rules milestone rows whose Asana milestone is done (blank cells only)."""
        cells, said = milestone_cells(self.tables.get("Rules") or [], milestones, period)
        self.blocks += changed_cell_blocks("Rules", cells)
        return said

    def save_marks(self, marks: Iterable[SyncMark]) -> None:
        """New watermarks into the Sync tab, in this session's one write (a failed run moves none)."""
        marks = list(marks)
        if marks:
            self.blocks += sync_blocks(self.tables.get("Sync") or [], self.sync_marks(), marks)

    def mark_milestones(self, billed: Mapping[str, str]) -> None:
        """The invoice that billed each milestone into its Rules row's Invoice cell ({"Rules!A7": "INV-0012"}),
        so it is never billed again."""
        if not billed:
            return
        hm = HeaderMap(load_contract().tab("Rules"), self._rows("Rules")[0])
        if "invoice" not in hm.index:
            raise InvariantError("the Rules tab has no Invoice column; nothing was written")
        col = hm.index["invoice"] + 1
        cells = {(int("".join(ch for ch in loc.split("!")[1] if ch.isdigit())), col): n for loc, n in billed.items()}
        self.blocks += changed_cell_blocks("Rules", cells)

    def seed_config(self, names: Iterable[str], config_dir: Path) -> None:
        """Fill the empty settings tabs among `names` from a folder of CSVs (`Clients.csv` ...); a tab that holds
        anything a person typed is never touched."""
        for name in names:
            rows = self.tables.get(name) or []
            if len(rows) > 1 and any(not is_blank(v) for r in rows[1:] for v in r):
                continue
            header = rows[0] if rows else load_contract().tab(name).headers
            values = seed_rows(name, header, config_dir / f"{name}.csv")
            if values:
                self.blocks.append(CellBlock(name, 2, 1, values))
                self.tables[name] = [header, *values]

    @collector_paused
    def apply_merge(self, merged: MergeResult) -> None:
        """Write what a refresh's merge decided: changed source/output cells, appended rows. Review cells are
        people's: a merge that tried to write one is a bug, and the run stops before anything is written."""
        table, raw = self.time(), self.tables.get("Time") or []
        hm = table.header
        owned = set(SOURCE_KEYS) | set(OUTPUT_KEYS)
        changes: dict[tuple[int, int], Cell] = {}
        for row_number, cells in merged.updates.items():
            current = raw[row_number - 1] if row_number - 1 < len(raw) else []
            for key, value in cells.items():
                if key not in owned:
                    raise InvariantError(
                        f"refresh tried to write the review column {key!r} of Time row "
                        f"{row_number}; nothing was written"
                    )
                i = hm.index.get(key)
                if i is None:
                    continue
                old = current[i] if i < len(current) else None
                if type(old) is type(value) and old == value:
                    continue  # the same value of the same type reads the same (most cells of a re-run)
                if canonical(old) != canonical(value):
                    changes[(row_number, i + 1)] = value
        self.blocks += changed_cell_blocks("Time", changes)
        if merged.appends:
            first = max(len(raw), 1) + 1
            # each appended row's cells move into the write as they are laid out, so that the dicts and the
            # rows are never both held whole (100,000 of each at scale); the merge keeps its counts
            appends, merged.appends = merged.appends, []
            appends.reverse()
            # `row_values` for every row at once: the key of each column of the tab, found once
            width = max(hm.width, len(hm.tab.columns))
            keys = [""] * width  # a column of no key: no cell is named "", so it gets None
            for key, i in hm.index.items():
                keys[i] = key
            lay_out = row_maker(keys)
            values: list[list[Cell]] = []
            while appends:
                values.append(lay_out(appends.pop()))
            self.blocks.append(CellBlock("Time", first, 1, values))

    def set_review(self, changes: Mapping[int, Mapping[str, Cell]]) -> None:
        """Review cells as a person would type them: {Time row: {review field: value}}."""
        hm = self.time().header
        cells: dict[tuple[int, int], Cell] = {}
        for row_number, values in changes.items():
            for key, value in values.items():
                if key not in REVIEW_KEYS:
                    raise InvariantError(f"{key!r} is not a review column of the Time tab")
                cells[(row_number, hm.index[key] + 1)] = value
        self.blocks += changed_cell_blocks("Time", cells)

    def add_clients(self, entries: Iterable[TimeEntry]) -> list[str]:
        """Clients the Clients tab does not know get a row (people fill in the terms); returns their names."""
        rows = self._rows("Clients")
        hm = HeaderMap(load_contract().tab("Clients"), rows[0])
        known = {text(hm.get(r, "client")).casefold() for r in rows[1:]}
        first_seen: dict[str, TimeEntry] = {}
        looked: set[str] = set()  # each client name once: a month repeats them thousands of times
        for e in entries:
            if e.client in looked:
                continue
            looked.add(e.client)
            if not e.client.strip():  # time without a client (internal work): nothing to bill, no Clients row
                continue
            if e.client.casefold() not in known and e.client.casefold() not in first_seen:
                first_seen[e.client.casefold()] = e
        added = []
        for e in sorted(first_seen.values(), key=lambda e: e.client.casefold()):
            cells: dict[str, Cell] = {"client": e.client, "currency": e.currency or ""}
            if "active" in hm.index:
                cells["active"] = True
            self._append("Clients", row_values(hm, cells))
            added.append(e.client)
        return added

    def mark_invoiced(self, created: Sequence[CreatedInvoice], system: str) -> None:
        """Invoice numbers into the Time rows the accounting system confirmed, and each invoice into the
        Invoices tab once."""
        table = self.time()
        by_ref = {r.entry.ref: r.row for r in table.rows}
        col = table.header.index["invoice"] + 1
        changes = {(by_ref[ref], col): inv.number for inv in created for ref in inv.entry_refs if ref in by_ref}
        self.blocks += changed_cell_blocks("Time", changes)
        rows = self._rows("Invoices")
        hm = HeaderMap(load_contract().tab("Invoices"), rows[0])
        # the same key under another number is a new invoice (a voided one's contents invoiced again)
        listed = {(text(hm.get(r, "key")), text(hm.get(r, "number"))) for r in rows[1:]}
        for inv in created:
            if (inv.key, inv.number) in listed:
                continue
            self._append(
                "Invoices",
                row_values(
                    hm,
                    {
                        "number": inv.number,
                        "client": inv.client,
                        "period": inv.period,
                        "currency": inv.currency,
                        "total": inv.total,
                        "lines": inv.line_count,
                        "entries": len(inv.entry_refs),
                        "status": inv.status,
                        "system": system.split(" ")[0] if system.startswith("local") else system,
                        "external_id": inv.external_id,
                        "link": inv.url,
                        "created_at": inv.created_at.isoformat() if inv.created_at else "",
                        "key": inv.key,
                    },
                ),
            )

    def unmark_invoiced(self, refs: Iterable[str]) -> None:
        """Blank the Invoice cell of these Time rows (a corrected invoice no longer bills them)."""
        table = self.time()
        by_ref = {r.entry.ref: r for r in table.rows}
        col = table.header.index["invoice"] + 1
        changes = {(by_ref[ref].row, col): "" for ref in refs if ref in by_ref and by_ref[ref].invoiced}
        self.blocks += changed_cell_blocks("Time", changes)

    def set_invoice_status(self, statuses: Mapping[str, str]) -> None:
        """The Status cell of the Invoices tab's rows by invoice number ({"INV-0001": "void, replaced by ..."})."""
        rows = self._rows("Invoices")
        hm = HeaderMap(load_contract().tab("Invoices"), rows[0])
        if "status" not in hm.index:
            return
        col = hm.index["status"] + 1
        changes = {
            (i, col): statuses[text(hm.get(r, "number"))]
            for i, r in enumerate(rows[1:], start=2)
            if text(hm.get(r, "number")) in statuses
            and text(hm.get(r, "status")) != statuses[text(hm.get(r, "number"))]
        }
        self.blocks += changed_cell_blocks("Invoices", changes)

    def write_preview(self, result: BillingResult) -> None:
        """The Preview tab rewritten from the result, marking what changed since the last preview."""
        old = self.tables.get("Preview") or []
        new_rows = preview_rows(result, old)
        tab = load_contract().tab("Preview")
        blank = [[None] * len(tab.columns) for _ in range(max(0, len(old) - 1 - len(new_rows)))]
        self.blocks.append(CellBlock("Preview", 1, 1, [tab.headers, *new_rows, *blank]))

    def log_run(
        self,
        summary: Summary,
        status: str,
        detail: str,
        errors: str = "",
        ai_usage: str = "",
        reviewer_accuracy: str = "",
    ) -> None:
        """One row of the Runs tab for this run."""
        rows = self._rows("Runs")
        hm = HeaderMap(load_contract().tab("Runs"), rows[0])
        self._append(
            "Runs",
            row_values(
                hm,
                {
                    "run_id": summary.run_id,
                    "command": summary.command,
                    "period": summary.period,
                    "started": summary.started,
                    "seconds": round(summary.seconds, 2),
                    "status": status,
                    "summary": detail,
                    "errors": errors,
                    "peak_memory_mb": summary.peak_memory_mb or None,
                    "api_calls": ", ".join(f"{k} {n}" for k, n in summary.api_calls.items()),
                    "ai_input_tokens": summary.ai_input_tokens or None,
                    "ai_output_tokens": summary.ai_output_tokens or None,
                    "ai_cost": summary.ai_cost or None,
                    "ai_usage": ai_usage,
                    "reviewer_accuracy": reviewer_accuracy,
                },
            ),
        )

    def write_dashboard(self, tables: Mapping[str, Sequence[Sequence[Cell]]]) -> None:
        """The Dashboard tab's tables (functions/dashboard.py) as values under its charts' columns; only changed
        cells are written, and a store without the tab gets nothing (dashboard_tab.py)."""
        self.blocks += changed_cell_blocks("Dashboard", dashboard_changes(self.tables.get("Dashboard") or [], tables))

    def commit(self) -> None:
        """Everything collected, in one write; the session can collect again afterwards."""
        if self.blocks:
            self.store.write(self.blocks)
        self.blocks = []
        collector.restore()  # the run's records are the collector's again (functions/collector.py)

    # --- helpers ---------------------------------------------------------------------------------------------

    def _rows(self, name: str) -> list[list[Cell]]:
        rows = self.tables.setdefault(name, [])
        if not rows:
            rows.append(load_contract().tab(name).headers)
        return rows

    def _append(self, tab: str, values: list[Cell]) -> None:
        rows = self._rows(tab)
        self.blocks.append(CellBlock(tab, max(len(rows), 1) + 1, 1, [values]))
        rows.append(values)


def canonical(value: Cell) -> str:
    """One text per value, so that 1.5 (a float from xlsx), "1.50" and Decimal("1.5") compare equal."""
    if is_blank(value):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float, Decimal)):
        d = parse_decimal(value)
        return format(d.normalize(), "f") if d is not None else ""
    if isinstance(value, (datetime, date)):
        return text(value)
    return str(value)


def changed_cell_blocks(tab: str, changes: Mapping[tuple[int, int], Cell]) -> list[CellBlock]:
    """Group single-cell changes {(row, col): value} (1-based) into vertical runs, one block per run."""
    by_col: dict[int, list[int]] = defaultdict(list)
    for r, c in changes:
        by_col[c].append(r)
    blocks = []
    for c, rows in sorted(by_col.items()):
        rows.sort()
        runs: list[list[int]] = [[rows[0]]]
        for r in rows[1:]:
            if r == runs[-1][-1] + 1:
                runs[-1].append(r)
            else:
                runs.append([r])
        blocks += [CellBlock(tab, run[0], c, [[changes[(x, c)]] for x in run]) for run in runs]
    return blocks
