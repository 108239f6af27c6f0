"""A person moves columns of the Time tab (Hours to the far right, Approved to the front): billing still reads
every value from its column, and every warning names the cell where the value now is — in the local
workbook and in Google Sheets (the emulator, through gspread)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest

from functions import pipeline
from functions.accounting.ledger import Ledger
from functions.config import Settings, bootstrap
from functions.models import Period, TimeEntry
from functions.sheet.contract import column_letter
from functions.sheet.workbook import LocalWorkbook
from tests.emulators.sheets import SheetsEmulator
from tests.fakes import ListSource
from tests.seeding import seed_categories

OCT = Period.parse("2026-10")
NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
ENTRIES = [
    TimeEntry(
        source="csv",
        source_id=f"e{i}",
        date=date(2026, 10, 1 + i),
        client="Acme",
        person="Ana Ruiz",
        role="Developer",
        notes=f"checkout work {i}",
        hours=Decimal(h),
        currency="USD",
    )
    for i, h in enumerate(["2", "13", "1"])
]


def moved(grid: list[list[object]]) -> list[list[object]]:
    """The Time tab with Hours cut and pasted after the last column, and Approved moved to the front."""
    header = [str(h) for h in grid[0]]
    order = [i for i, h in enumerate(header) if h not in ("Hours", "Approved")]
    order = [header.index("Approved"), *order, header.index("Hours")]
    width = len(header)
    return [[(r + [None] * width)[i] for i in order] for r in grid]


class WorkbookPerson:
    """Edits the .xlsx as a person in Excel or LibreOffice would: the file itself, not through the pipeline."""

    def __init__(self, path):
        self.path = path

    def grid(self, tab: str) -> list[list[object]]:
        ws = openpyxl.load_workbook(self.path)[tab]
        return [list(r) for r in ws.iter_rows(values_only=True)]

    def replace(self, tab: str, grid: list[list[object]]) -> None:
        wb = openpyxl.load_workbook(self.path)
        ws = wb[tab]
        for r, row in enumerate(grid, start=1):
            for c, v in enumerate(row, start=1):
                ws.cell(r, c).value = v
        wb.save(self.path)


class SheetsPerson:
    """Edits the Google Sheet as a person in the browser would: the emulator's cells, not through the adapter."""

    def __init__(self, emu: SheetsEmulator, sid: str):
        self.ss = emu.spreadsheets[sid]
        self.emu, self.sid = emu, sid

    def grid(self, tab: str) -> list[list[object]]:
        return [list(r) for r in self.emu.values(self.sid, tab)]

    def replace(self, tab: str, grid: list[list[object]]) -> None:
        cells = self.ss.sheet(tab).cells
        cells.clear()
        cells.update({(r, c): v for r, row in enumerate(grid) for c, v in enumerate(row) if v not in (None, "")})


@pytest.fixture(params=["workbook", "google"])
def sheet_and_person(request, tmp_path):
    if request.param == "workbook":
        path = tmp_path / "invoicing.xlsx"
        return LocalWorkbook(path), lambda: WorkbookPerson(path)
    gsheet = request.getfixturevalue("gsheet")
    emu, sid = request.getfixturevalue("sheets_emulator"), request.getfixturevalue("new_sheet_id")
    return gsheet, lambda: SheetsPerson(emu, sid)


def set_cell(grid: list[list[object]], row: int, header: str, value: object) -> None:
    c = [str(h) for h in grid[0]].index(header)
    grid[row - 1] += [None] * (c + 1 - len(grid[row - 1]))
    grid[row - 1][c] = value


def test_warnings_name_the_cell_where_a_moved_column_now_is(sheet_and_person, tmp_path):
    sheet, person_for = sheet_and_person
    seed_categories(sheet)
    services = bootstrap(
        Settings(workdir=tmp_path),
        sheet=sheet,
        source=ListSource(ENTRIES),
        accounting=Ledger(tmp_path / "ledger.sqlite", tmp_path / "invoices"),
        clock=lambda: NOW,
    )
    pipeline.refresh(services, OCT)
    person = person_for()

    time_tab = moved(person.grid("Time"))
    header = [str(h) for h in time_tab[0]]
    ids = [str(h) for h in header].index("Entry ID")
    row_of = {str(r[ids]): n for n, r in enumerate(time_tab[1:], start=2) if len(r) > ids and r[ids]}
    set_cell(time_tab, row_of["e0"], "Approved", True)
    set_cell(time_tab, row_of["e1"], "Approved", True)
    for ref in row_of:
        set_cell(time_tab, row_of[ref], "Category", "Development")
    person.replace("Time", time_tab)
    clients = person.grid("Clients")
    set_cell(clients, 2, "Default Rate", 100)
    person.replace("Clients", clients)

    summary = pipeline.preview(services, OCT)

    hours_col = column_letter(header.index("Hours") + 1)
    approved_col = column_letter(header.index("Approved") + 1)
    assert (hours_col, approved_col) == (column_letter(len(header)), "A")
    assert [(i.client, i.total) for i in summary.invoices] == [("Acme", Decimal("1500.00"))], (
        summary.held,
        summary.warnings,
    )
    long_entry = f"Time!{hours_col}{row_of['e1']}: csv:e1 is 13 h in one entry"
    waiting = f"Time!{approved_col}{row_of['e2']}: 1 billable entry is not approved yet (1 h)"
    assert any(w.startswith(long_entry) for w in summary.warnings), summary.warnings
    assert any(w.startswith(waiting) for w in summary.warnings), summary.warnings
    preview_notes = [
        str(r[[str(h) for h in person.grid("Preview")[0]].index("Notes")]) for r in person.grid("Preview")[1:]
    ]
    assert any(n.startswith(long_entry) for n in preview_notes)
