"""What people do to the shape of a tab, for every tab of the contract: delete it, rename or move a header,
merge cells, leave a blank row in the middle. A run stops naming the tab or cell and changes nothing, or
(for a blank row, or a tab the run owns and rebuilds) goes on and bills the same month.

tests/test_spreadsheet_edits.py holds the first cases (Rules, Rates and Clients deleted; Time and Rates
headers renamed; merged Invoice cells); these cover the rest of the contract.
"""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from functions import pipeline
from functions.sheet.contract import load_contract
from tests.bad_input.snapshot import refuses
from tests.test_spreadsheet_edits import OCT, edit, services_for, workbook

CONTRACT = load_contract()
STOPS = ["Time", "Categories"]  # a run never recreates these (Clients, Rates, Rules: test_spreadsheet_edits)
REBUILT = [t.name for t in CONTRACT.tabs if t.name not in (*STOPS, "Clients", "Rates", "Rules")]
WRITTEN_WITH_ROWS = ["Time", "Clients", "Preview", "Runs"]  # tabs the run writes, with rows in the month


def preview(work):
    return lambda: pipeline.preview(services_for(work), OCT)


def billed_entries(work) -> list[int]:
    return [i["entries"] for i in pipeline.preview(services_for(work), OCT).as_json()["invoices"]]


@pytest.mark.parametrize("tab", STOPS)
def test_a_deleted_tab_the_run_needs_stops_it(month, tab):
    edit(workbook(month), lambda wb: wb.remove(wb[tab]))
    refuses(preview(month), month, f"{tab}: the tab is missing")


@pytest.mark.parametrize("tab", REBUILT)
def test_a_deleted_tab_the_run_owns_is_rebuilt_and_billing_is_the_same(month, tab):
    edit(workbook(month), lambda wb: wb.remove(wb[tab]))
    assert billed_entries(month) == [4]
    assert load_workbook(workbook(month))[tab].cell(row=1, column=1).value == CONTRACT.tab(tab).headers[0]


@pytest.mark.parametrize("tab", CONTRACT.names)
def test_a_renamed_header_names_the_cell_and_the_header(month, tab):
    first = CONTRACT.tab(tab).headers[0]
    edit(workbook(month), lambda wb: wb[tab].cell(row=1, column=1, value=first + "s"))
    refuses(preview(month), month, f"{tab}!A1", f'"{first}"', f'"{first}s"')


@pytest.mark.parametrize("tab", ["Time", "Clients"])
def test_a_header_moved_without_its_column_is_refused_at_a_cell(month, tab):
    def swap(wb):
        ws = wb[tab]
        a, b = ws.cell(row=1, column=1).value, ws.cell(row=1, column=2).value
        ws.cell(row=1, column=1, value=b)
        ws.cell(row=1, column=2, value=a)

    edit(workbook(month), swap)
    refuses(preview(month), month, f"{tab}!B2")


@pytest.mark.parametrize("tab", WRITTEN_WITH_ROWS)
def test_merged_cells_in_a_tab_the_run_writes_are_refused(month, tab):
    edit(workbook(month), lambda wb: wb[tab].merge_cells("A2:B2"))
    refuses(preview(month), month, f"{tab}!A2:B2", "merged")


@pytest.mark.parametrize("tab", ["Time", "Clients", "Categories", "Preview", "Runs"])
def test_a_blank_row_in_the_middle_bills_the_same(month, tab):
    edit(workbook(month), lambda wb: wb[tab].insert_rows(3))
    assert billed_entries(month) == [4]
