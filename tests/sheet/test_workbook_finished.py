"""The workbook looks finished after a month's run: whole counts, headers beside their filter buttons, a
print setup on every tab, Approved as a TRUE/FALSE choice, links that are not one machine's file:// paths;
and a run writes only the cells it changed, keeping what a person did to the rest of the file."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from openpyxl.styles import PatternFill

from functions import pipeline
from functions.config import Settings, bootstrap
from functions.models import Period
from functions.sheet.contract import load_contract
from tests.fakes import ListSource
from tests.seeding import seed_categories
from tests.test_spreadsheet_edits import col, entries

OCT = Period.parse("2026-10")
NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def services(workdir, source=None):
    s = bootstrap(Settings(workdir=workdir, ai_enabled=False), source=source, clock=lambda: NOW)
    if not (workdir / "invoicing.xlsx").exists():
        seed_categories(s.sheet)
    return s


@pytest.fixture(scope="module")
def invoiced(tmp_path_factory):
    """October refreshed, reviewed in the file as a person would, previewed and invoiced."""
    work = tmp_path_factory.mktemp("finished")
    pipeline.refresh(services(work, ListSource(entries(6))), OCT)
    path = work / "invoicing.xlsx"
    wb = load_workbook(path)
    clients = wb["Clients"]
    clients.cell(row=2, column=col(clients, "Default Rate"), value=100)
    time = wb["Time"]
    for r in range(2, time.max_row + 1):
        time.cell(row=r, column=col(time, "Category"), value="Development")
        time.cell(row=r, column=col(time, "Approved"), value=True)
    time.cell(row=3, column=col(time, "Comment"), value="ask Ana").fill = PatternFill("solid", fgColor="FFFF00")
    wb.save(path)
    pipeline.preview(services(work), OCT)
    created = pipeline.create_invoices(services(work), OCT)
    assert created.created == 1
    return path


def test_every_tab_prints_landscape_one_page_wide_with_its_header_on_every_page(invoiced):
    wb = load_workbook(invoiced)
    for tab in load_contract().tabs:
        ws = wb[tab.name]
        assert ws.page_setup.orientation == "landscape", tab.name
        assert ws.sheet_properties.pageSetUpPr.fitToPage, tab.name
        wide = 2 if tab.name == "Time" else 1  # the Time tab's 27 columns on one page would be unreadable
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (wide, 0), tab.name
        assert ws.print_title_rows == "$1:$1", tab.name
        assert ws.print_area.startswith(f"'{tab.name}'!$A$1:$"), (tab.name, ws.print_area)


def test_headers_fit_beside_their_filter_button(invoiced):
    wb = load_workbook(invoiced)
    for tab in load_contract().tabs:
        ws = wb[tab.name]
        assert ws.auto_filter.ref, tab.name  # every tab can be filtered (Time by date, Invoices by period)
        for c in ws[1]:
            if c.value:
                width = ws.column_dimensions[c.column_letter].width
                assert width >= len(str(c.value)) + 3, (tab.name, c.value, width)


def test_counts_show_as_whole_numbers(invoiced):
    wb = load_workbook(invoiced)
    inv = wb["Invoices"]
    for header in ("Lines", "Entries"):
        cell = inv.cell(row=2, column=col(inv, header))
        assert isinstance(cell.value, int) and cell.number_format == "General", (header, cell.number_format)
    preview = wb["Preview"]
    counts = [preview.cell(row=r, column=col(preview, "Entries")) for r in range(2, preview.max_row + 1)]
    assert any(c.value for c in counts)
    assert all(c.number_format in ("General", "0") for c in counts if isinstance(c.value, (int, float)))
    money = inv.cell(row=2, column=col(inv, "Total"))
    assert money.number_format == "#,##0.00" and Decimal(str(money.value)) == Decimal("900")


def test_approved_is_a_true_false_choice_and_shows_as_true_or_false(invoiced):
    ws = load_workbook(invoiced)["Time"]
    letter = ws.cell(row=1, column=col(ws, "Approved")).column_letter
    choices = [dv for dv in ws.data_validations.dataValidation if f"{letter}2:" in str(dv.sqref)]
    assert [dv.formula1 for dv in choices] == ['"TRUE,FALSE"']
    approved = ws.cell(row=2, column=col(ws, "Approved"))
    assert approved.value is True


def test_no_cell_links_to_a_file_path_of_this_machine(invoiced):
    with zipfile.ZipFile(invoiced) as z:
        for name in z.namelist():
            assert b"file://" not in z.read(name), name
    ws = load_workbook(invoiced)["Invoices"]
    link = ws.cell(row=2, column=col(ws, "Link")).value
    assert link.startswith("invoices/") and (invoiced.parent / link).is_file()


def test_a_run_keeps_what_a_person_did_to_cells_it_does_not_write(invoiced):
    ws = load_workbook(invoiced)["Time"]
    comment = ws.cell(row=3, column=col(ws, "Comment"))
    assert comment.value == "ask Ana" and comment.fill.fgColor.rgb == "00FFFF00"
    invoice = [ws.cell(row=r, column=col(ws, "Invoice")).value for r in range(2, 8)]
    assert all(invoice) and len(set(invoice)) == 1  # the numbers went in, one invoice for Acme's month
    date = ws.cell(row=2, column=col(ws, "Date"))
    assert date.is_date and date.number_format == "yyyy-mm-dd"
