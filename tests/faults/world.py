"""A small month for the fault suite, the person's edits made before a fault, and the counts a re-run must
bring to zero: duplicate invoices, lost entries, lost edits, rows marked invoiced without an invoice.

The month: three Toggl entries for each of two clients (one export, read by the real CSV importer). The
person then sets the clients' rates, changes the category of one entry (`EDITED`) and ticks Approved on all.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

CLIENTS = ("Umbra Games", "Vela Studio")
EDITED_CATEGORY = "Meetings"  # the classifier suggests Development for these notes: the person knows better
HEADER = (
    "\ufeffUser,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,"
    "Duration,Tags,Amount (USD)\r\n"
)
NOTES = ("hero banner", "level editor", "checkout API")


def row(client: str, day: int, notes: str) -> str:
    return (
        f"Jonas Weber,jonas@x.example,{client},Site,,{notes},Yes,2026-10-{day:02d},09:00:00,2026-10-{day:02d},"
        "11:00:00,02:00:00,,240.00\r\n"
    )


def write_export(path: Path, extra: int = 0) -> Path:
    """The month's export; `extra` more entries for the first client arrive later in the month."""
    lines = [row(c, 3 + 3 * k + i, NOTES[i]) for k, c in enumerate(CLIENTS) for i in range(3)]
    lines += [row(CLIENTS[0], 20 + i, f"late fix {i}") for i in range(extra)]
    path.write_text(HEADER + "".join(lines), "utf-8")
    return path


@dataclass
class TimeTab:
    """The Time tab as a list of header -> value rows, from whichever sheet holds it."""

    rows: list[dict[str, Any]]

    @classmethod
    def from_grid(cls, grid: Sequence[Sequence[Any]]) -> TimeTab:
        head = [str(h) for h in grid[0]]
        return cls([dict(zip(head, list(r) + [None] * (len(head) - len(r)), strict=False)) for r in grid[1:] if any(r)])

    @classmethod
    def from_workbook(cls, book: Path) -> TimeTab:
        wb = load_workbook(book, read_only=True)
        try:
            return cls.from_grid([list(r) for r in wb["Time"].iter_rows(values_only=True)])
        finally:
            wb.close()

    def ids(self) -> list[str]:
        return [str(r["Entry ID"]) for r in self.rows if r.get("Entry ID")]


def approved(value: Any) -> bool:
    return value is True or str(value).strip().upper() == "TRUE"


def billed(r: dict[str, Any]) -> bool:
    """An approved billable row: it must end up on an invoice."""
    return approved(r.get("Approved")) and r.get("Billable") is not False and str(r.get("Billable")).upper() != "FALSE"


@dataclass(frozen=True)
class Counts:
    duplicates: int = 0
    lost_entries: int = 0
    lost_edits: int = 0
    invoiced_without_invoice: int = 0
    unbilled: int = 0  # approved billable rows still without an invoice after the re-run

    def bad(self) -> int:
        return sum(vars(self).values())


def count(
    tab: TimeTab, invoices: Iterable[tuple[str, str]], expected_ids: set[str], ticked: set[str], edited: str
) -> Counts:
    """`invoices`: (client, number) of every live invoice the accounting target holds for the period;
    `ticked`: the entries the person approved before the fault; `edited`: the one whose category they set."""
    invoices = list(invoices)
    per_client = Counter(c for c, _ in invoices)
    numbers = {n for _, n in invoices}
    ids = Counter(tab.ids())
    by_id = {str(r["Entry ID"]): r for r in tab.rows if r.get("Entry ID")}
    lost_edits = 0
    for entry_id in ticked:
        r = by_id.get(entry_id, {})
        lost_edits += not approved(r.get("Approved"))
        if entry_id == edited:
            lost_edits += r.get("Category") != EDITED_CATEGORY
    marked = [str(r["Invoice"]) for r in tab.rows if r.get("Invoice") not in (None, "")]
    return Counts(
        duplicates=sum(n - 1 for n in per_client.values()) + sum(n - 1 for n in ids.values()),
        lost_entries=len(expected_ids - set(ids)),
        lost_edits=lost_edits,
        invoiced_without_invoice=sum(m not in numbers for m in marked),
        unbilled=sum(1 for r in by_id.values() if billed(r) and r.get("Invoice") in (None, "")),
    )


def ledger_invoices(path: Path, period: str = "2026-10") -> list[tuple[str, str]]:
    if not path.exists():
        return []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT client, number FROM invoices WHERE period=? AND voided_at IS NULL", (period,))
        return [(c, n) for c, n in rows]


def qbo_invoices(emu: Any) -> list[tuple[str, str]]:
    return [
        (i["CustomerRef"]["name"], str(i["DocNumber"]))
        for i in emu.all("Invoice")
        if not str(i.get("PrivateNote", "")).startswith("Voided")
    ]


def review(grid_rows: Mapping[str, Sequence[Sequence[Any]]]) -> list[tuple[str, int, str, Any]]:
    """The person's edits as (tab, row, header, value) for whichever sheet: rates, one category, Approved."""
    edits: list[tuple[str, int, str, Any]] = []
    clients = grid_rows["Clients"]
    head = list(clients[0])
    for r, values in enumerate(clients[1:], start=2):
        if values and values[head.index("Client")]:
            edits += [("Clients", r, "Default Rate", 100), ("Clients", r, "Terms", "Net 30")]
    time = grid_rows["Time"]
    head = list(time[0])
    for r, values in enumerate(time[1:], start=2):
        if not values or not values[head.index("Entry ID")]:
            continue
        if r == 2:
            edits.append(("Time", r, "Category", EDITED_CATEGORY))
        edits.append(("Time", r, "Approved", True))
    return edits


def edit_workbook(book: Path) -> str:
    """As a person in Excel: the review, saved. Returns the id of the entry whose category was changed."""
    wb = load_workbook(book)
    grids = {t: [list(r) for r in wb[t].iter_rows(values_only=True)] for t in ("Clients", "Time")}
    for tab, r, header, value in review(grids):
        ws = wb[tab]
        ws.cell(row=r, column=grids[tab][0].index(header) + 1, value=value)
    wb.save(book)
    return str(grids["Time"][1][grids["Time"][0].index("Entry ID")])
