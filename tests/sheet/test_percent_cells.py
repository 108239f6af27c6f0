"""Percentages as spreadsheets store them (issue 10 item 5), through the real workbook file and through gspread
against the Sheets emulator.

A person types `100%` in the Percent cell of a markup: the spreadsheet stores 1 and formats the cell as a
percent. The engine must bill a 100 % markup, not 1 %. A plain number in a cell not formatted as a percent is
that many percent (`10` is 10 %, `0.5` is 0.5 %), as the Rules tab's header note says.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import gspread
import pytest
from openpyxl import load_workbook

from functions.billing.engine import compute_invoices
from functions.ports import CellBlock, SheetStore
from functions.sheet.config_tabs import parse_book
from functions.sheet.contract import load_contract
from functions.sheet.gsheets import GoogleSheet
from functions.sheet.session import CONFIG_TABS
from functions.sheet.workbook import LocalWorkbook
from tests.billing.helpers import CATEGORIES, ISSUE, OCT, row
from tests.emulators.google_fixtures import PersonSession
from tests.emulators.sheets import SheetsEmulator

RULES = load_contract().tab("Rules").headers


def by_header(tab: str, values: dict[str, object]) -> list[object]:
    return [values.get(h) for h in load_contract().tab(tab).headers]


@dataclass(frozen=True)
class Case:
    contract: str
    arithmetic: str
    rule: str  # expense (250.00 of cost, the Percent is its markup) or discount (of the whole invoice)
    value: float  # what the spreadsheet stores in the Percent cell
    number_format: str  # the cell's format: "0%" when the person typed 100%, "General" for a plain number
    typed: str  # what the person typed (the Google test types it through the API, as the UI does)
    total: str

    def __str__(self) -> str:
        return self.contract


CASES = [
    Case(
        "Printing is re-billed at cost plus 100 %. 10 h of work at 100 and 250.00 of printing.",
        "1,000.00 + 250.00 x 2 = 1,500.00",
        "expense",
        1,
        "0%",
        "100%",
        "1500.00",
    ),
    Case(
        "Rush printing is re-billed at cost plus 150 %. 10 h of work at 100 and 250.00 of printing.",
        "1,000.00 + 250.00 x 2.5 = 1,625.00",
        "expense",
        1.5,
        "0.0%",
        "150%",
        "1625.00",
    ),
    Case(
        "Hosting is re-billed at cost plus 10 %. 10 h of work at 100 and 250.00 of hosting.",
        "1,000.00 + 250.00 x 1.1 = 1,275.00",
        "expense",
        0.1,
        "0.0%",
        "10%",
        "1275.00",
    ),
    Case(
        "A loyalty discount of 10 %, written as the plain number 10. 10 h of work at 100.",
        "1,000.00 - 100.00 = 900.00",
        "discount",
        10,
        "General",
        "10",
        "900.00",
    ),
    Case(
        "An early-payment discount of 0.5 %, written as the plain number 0.5. 10 h of work at 100.",
        "1,000.00 - 5.00 = 995.00",
        "discount",
        0.5,
        "General",
        "0.5",
        "995.00",
    ),
]


def rules_row(case: Case, percent: object) -> list[object]:
    values = {"Rule": case.rule, "Client": "Acme", "Percent": percent, "Description": case.contract[:30]}
    if case.rule == "expense":
        values |= {"Amount": 250, "Line Item": "Printing", "Period": "2026-10"}
    return by_header("Rules", values)


def total_billed(store: SheetStore) -> Decimal:
    tables = store.read(list(CONFIG_TABS))
    book, errors = parse_book(tables)
    assert errors == [], [str(e) for e in errors]
    result = compute_invoices([row("Acme", "10", category="Development")], book, OCT, ISSUE)
    (draft,) = result.drafts
    return draft.total


def set_up(store: SheetStore) -> None:
    store.ensure_layout()
    clients = [by_header("Clients", {"Client": "Acme", "Currency": "USD", "Default Rate": 100})]
    categories = [by_header("Categories", dict(zip(CATEGORIES[0], r, strict=True))) for r in CATEGORIES[1:]]
    store.write([CellBlock("Clients", 2, 1, clients), CellBlock("Categories", 2, 1, categories)])


# ------------------------------------------------------------------ the workbook


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_percent_typed_in_the_workbook_bills_what_the_cell_shows(case: Case, tmp_path: Path):
    path = tmp_path / "invoicing.xlsx"
    set_up(LocalWorkbook(path))
    wb = load_workbook(path)
    ws = wb["Rules"]
    ws.append(rules_row(case, case.value))
    ws.cell(row=2, column=RULES.index("Percent") + 1).number_format = case.number_format
    wb.save(path)

    assert total_billed(LocalWorkbook(path)) == Decimal(case.total), f"{case.contract}\n{case.arithmetic}"


def test_the_header_note_says_how_a_plain_number_is_read(tmp_path: Path):
    path = tmp_path / "invoicing.xlsx"
    LocalWorkbook(path).ensure_layout(setup=True)  # setup-sheet: the layout is saved at once
    note = load_workbook(path)["Rules"].cell(row=1, column=RULES.index("Percent") + 1).comment.text
    assert "a plain number" in note.casefold() and "10 is 10%" in note


# ------------------------------------------------------------------ Google Sheets


def sheets_calls(emu: SheetsEmulator) -> list[str]:
    return [f"{c['method']} {c['path'].rsplit('/', 1)[-1].split(':')[-1]}" for c in emu.sheets_calls()]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_percent_typed_in_google_sheets_bills_what_the_cell_shows(
    case: Case, gsheet: GoogleSheet, gsettings, sheets_emulator: SheetsEmulator
):
    set_up(gsheet)
    # the person, in the browser: a plain-number cell is one they formatted as a number first
    gc = gspread.Client(auth=None, session=PersonSession(gsettings.api_base_url, gsettings.credentials_file))
    ws = gc.open_by_key(gsettings.spreadsheet_id).worksheet("Rules")
    cell = gspread.utils.rowcol_to_a1(2, RULES.index("Percent") + 1)
    if case.number_format == "General":
        ws.format(cell, {"numberFormat": {"type": "NUMBER", "pattern": "0.###"}})
    ws.update([rules_row(case, case.typed)], "A2", value_input_option="USER_ENTERED")
    assert ws.acell(cell).value.endswith("%") == (case.number_format != "General")

    sheet = GoogleSheet.from_settings(gsettings)
    sheets_emulator.reset_calls()
    sheet.ensure_layout()
    assert total_billed(sheet) == Decimal(case.total), f"{case.contract}\n{case.arithmetic}"
    # the run's one read, and one more (formatted) only because a percent column holds a number
    assert sheets_calls(sheets_emulator) == ["GET batchGet", "GET batchGet"]


def test_a_read_without_setup_asks_the_percent_tab_formatted_in_one_more_call(
    gsheet: GoogleSheet, gsettings, sheets_emulator: SheetsEmulator
):
    set_up(gsheet)
    gsheet.write([CellBlock("Rules", 2, 1, [rules_row(CASES[0], Decimal(1))])])  # 1 in the 0.0% column: 100.0%
    sheet = GoogleSheet.from_settings(gsettings)
    sheets_emulator.reset_calls()
    assert total_billed(sheet) == Decimal(CASES[0].total)
    assert sheets_calls(sheets_emulator) == ["GET batchGet", "GET batchGet"]
    sheets_emulator.reset_calls()
    sheet.read(["Time", "Runs"])  # tabs without a percent column: one call, as before
    assert sheets_calls(sheets_emulator) == ["GET batchGet"]


def test_the_emulator_formats_a_percent_like_google():
    from tests.emulators.sheets import Sheet, render

    s = Sheet(props={"title": "T", "sheetId": 1, "gridProperties": {"rowCount": 5, "columnCount": 5}})
    s.formats.append(({"sheetId": 1}, {"numberFormat": {"type": "PERCENT", "pattern": "0.0%"}}))
    assert render(s, 0, 0, 1, "FORMATTED_VALUE", "FORMATTED_STRING") == "100.0%"
    assert render(s, 0, 0, 0.125, "FORMATTED_VALUE", "FORMATTED_STRING") == "12.5%"
    assert render(s, 0, 0, 1, "UNFORMATTED_VALUE", "FORMATTED_STRING") == 1


def test_a_rules_row_added_after_a_runs_read_is_judged_by_its_own_format_in_the_next_run(
    gsheet: GoogleSheet, gsettings, sheets_emulator: SheetsEmulator
):
    """A run works from its one read: a row a person adds after it belongs to the next run, whose formatted read
    is of the same tab as its values (no percent is judged by another row's format)."""
    set_up(gsheet)
    sheet = GoogleSheet.from_settings(gsettings)
    sheet.ensure_layout()
    gsheet.write([CellBlock("Rules", 2, 1, [rules_row(CASES[0], Decimal(1))])])  # a person adds a 100% markup
    sheets_emulator.reset_calls()
    assert total_billed(sheet) == Decimal("1000.00")  # this run read the tab before the row was there
    assert sheets_calls(sheets_emulator) == []
    sheet.ensure_layout()
    assert total_billed(sheet) == Decimal(CASES[0].total)
    assert sheets_calls(sheets_emulator) == ["GET batchGet", "GET batchGet"]


def test_the_helper_examples():
    import doctest

    from functions.sheet import percent_cells

    result = doctest.testmod(percent_cells)
    assert result.attempted > 0 and result.failed == 0


def test_a_percent_the_pipeline_wrote_reads_back_as_it_shows(tmp_path: Path):
    """The workbook's Percent column is written in the 0.0% format: 1 shows as 100.0% and reads back as 100 %,
    from the workbook this process holds as from the file read afresh."""
    store = LocalWorkbook(tmp_path / "invoicing.xlsx")
    set_up(store)
    store.write([CellBlock("Rules", 2, 1, [rules_row(CASES[0], Decimal(1))])])
    assert total_billed(store) == Decimal(CASES[0].total)
    assert total_billed(LocalWorkbook(tmp_path / "invoicing.xlsx")) == Decimal(CASES[0].total)
