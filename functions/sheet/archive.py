"""Archive closed months of a Google Sheet to a second spreadsheet, before the first reaches Google's cell limit.

`archive(main, target, before)` moves every Time row dated before `before` that carries an invoice number (a
closed, invoiced entry: nothing will change it again) to the Time tab of `target`, then closes the gap in
the main Time tab and shrinks its grid, so the spreadsheet's cell count falls. Exactly what moved (how many
rows, which months and invoices, where to) is written as a Runs row of the main sheet in the same write.

Safe to run again: rows the archive already holds (same Source and Entry ID) are not appended twice, so an
archive interrupted between its two writes completes on the next run and duplicates nothing. Rows not yet
invoiced, and every row of `before` and later, stay.

    python main.py archive --before 2026-06 --to 1AbC...   # the id in the archive spreadsheet's URL
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..models import Period
from ..ports import Cell, CellBlock
from ..summaries import Summary, run_id
from .contract import load_contract
from .gsheets import GoogleSheet
from .session import SheetSession
from .tables import parse_time_tab


@dataclass
class ArchiveResult:
    moved: int = 0  # rows taken out of the main Time tab
    appended: int = 0  # rows added to the archive (fewer when an earlier run had appended some)
    months: list[str] = field(default_factory=list)
    invoices: list[str] = field(default_factory=list)
    cells_before: int = 0
    cells_after: int = 0
    detail: str = ""


def archive(
    main: GoogleSheet,
    target: GoogleSheet,
    before: Period,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ArchiveResult:
    result = ArchiveResult()
    main.ensure_layout()
    result.cells_before = main.capacity()[0]
    session = SheetSession(main, ["Time", "Runs"])
    table = session.time()
    raw = session.tables.get("Time") or [load_contract().tab("Time").headers]
    moving = sorted((r for r in table.rows if r.invoiced and r.entry.date < before.start), key=lambda r: r.row)
    summary = Summary(command="archive", period=f"before {before}", sheet=main.describe(), **run_id(clock))
    if moving:
        target.ensure_layout()
        archived = target.read(["Time"])["Time"] or [load_contract().tab("Time").headers]
        have = {r.entry.ref for r in parse_time_tab(archived).rows}
        # the archive's columns may sit elsewhere: each value goes under the same header there
        src, dst = [str(h) for h in raw[0]], [str(h) for h in archived[0]]
        where = {h: dst.index(h) for h in src if h in dst}
        rows: list[list[Cell]] = []
        for r in moving:
            if r.entry.ref in have:
                continue
            out: list[Cell] = [None] * len(dst)
            for i, value in enumerate(raw[r.row - 1]):
                if i < len(src) and src[i] in where:
                    out[where[src[i]]] = value
            rows.append(out)
        if rows:
            target.write([CellBlock("Time", len(archived) + 1, 1, rows)])
        result.appended = len(rows)
        gone = {r.row for r in moving}
        keep = [row for n, row in enumerate(raw[1:], start=2) if n not in gone]
        width = max(len(row) for row in raw)
        # a grid keeps one row below its header at least: an emptied tab keeps a blank one
        body = [list(row) + [None] * (width - len(row)) for row in keep] or [[None] * width]
        result.moved = len(moving)
        result.months = sorted({str(Period.of(r.entry.date)) for r in moving})
        result.invoices = sorted({r.invoice for r in moving})
        result.detail = (
            f"moved {result.moved} invoiced Time rows dated before {before} ({', '.join(result.months)}; "
            f"invoices {', '.join(result.invoices[:30])}{' ...' if len(result.invoices) > 30 else ''}) "
            f"to spreadsheet {target.spreadsheet_id}"
            + (f" ({result.moved - result.appended} were there already)" if result.appended < result.moved else "")
        )
        session.log_run(summary, "ok", result.detail)
        blocks = [CellBlock("Time", 2, 1, body), *session.blocks]
        main.write(blocks, trims={"Time": max(len(keep) + 1, 2)})
    else:
        result.detail = f"nothing to move: no invoiced Time row is dated before {before}"
        session.log_run(summary, "ok", result.detail)
        session.commit()
    result.cells_after = main.capacity()[0]
    return result
