"""The local workbook: built from the tab contract, text stays text, upgrades keep values, writes are atomic."""

from __future__ import annotations

import hashlib
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from functions.errors import ConfigError
from functions.ports import CellBlock
from functions.sheet.contract import load_contract
from functions.sheet.workbook import LocalWorkbook
from functions.values import parse_date


@pytest.fixture
def wb(tmp_path):
    book = LocalWorkbook(tmp_path / "invoicing.xlsx")
    book.ensure_layout(setup=True)
    return book


def test_layout_has_every_tab_of_the_contract_with_frozen_headers(wb):
    x = load_workbook(wb.path)
    assert x.sheetnames == load_contract().names
    for tab in load_contract().tabs:
        ws = x[tab.name]
        assert [c.value for c in ws[1]][: len(tab.columns)] == tab.headers
        assert ws.freeze_panes == "A2"
    time = x["Time"]
    formulas = {dv.formula1 for dv in time.data_validations.dataValidation}
    assert "Categories!$A$2:$A$500" in formulas  # the Category dropdown is fed by the Categories tab
    assert '"TRUE,FALSE"' in formulas  # Approved is a TRUE/FALSE choice
    headers = [c.value for c in time[1]]
    sync = headers.index("Sync Hash") + 1
    assert time.column_dimensions[time.cell(1, sync).column_letter].hidden
    # the pipeline's columns look different from people's
    fills = {c.value: c.fill.fgColor.rgb for c in time[1]}
    assert fills["Notes"] != fills["Category"] and fills["Approved"] != fills["Flags"]


def test_a_second_ensure_layout_changes_nothing(wb):
    assert wb.ensure_layout() == []


def test_text_that_looks_like_a_formula_stays_text(wb):
    nasty = ["=SUM(A1:A9)", "+1 555 0100", "-fixed header", "@maria review", '=HYPERLINK("http://x")']
    wb.write([CellBlock("Time", 2, 7, [[v] for v in nasty])])
    x = load_workbook(wb.path)
    cells = [x["Time"].cell(row=r, column=7) for r in range(2, 2 + len(nasty))]
    assert [c.value for c in cells] == nasty
    assert all(c.data_type == "s" for c in cells)
    with zipfile.ZipFile(wb.path) as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    assert [r[6] for r in wb.read(["Time"])["Time"][1:]] == nasty


def test_values_round_trip_as_the_pipeline_reads_them(wb):
    wb.write(
        [CellBlock("Time", 2, 1, [[date(2026, 10, 3), "Acme", "P", "T", "Ana", "Dev", "n", Decimal("1.25"), True]])]
    )
    row = wb.read(["Time"])["Time"][1]
    fresh = LocalWorkbook(wb.path).read(["Time"])["Time"][1]  # another process reads it from disk
    for r in (row, fresh):
        assert parse_date(r[0]) == date(2026, 10, 3)
        assert Decimal(str(r[7])) == Decimal("1.25") and r[8] is True


def test_a_file_changed_by_someone_else_is_read_afresh(wb):
    wb.write([CellBlock("Time", 2, 7, [["ours"]])])
    other = load_workbook(wb.path)  # a person edits and saves the file in Excel
    other["Time"].cell(row=2, column=7, value="theirs")
    other["Time"].cell(row=2, column=12, value="=100*1.5")
    other.save(wb.path)
    assert wb.read(["Time"])["Time"][1][6] == "theirs"
    wb.write([CellBlock("Time", 3, 7, [["next"]])])  # our write keeps their edit and their formula
    x = load_workbook(wb.path)
    assert x["Time"].cell(row=2, column=7).value == "theirs"
    assert x["Time"].cell(row=2, column=12).value == "=100*1.5"


def test_upgrading_an_older_layout_keeps_every_value_in_place(tmp_path):
    path = tmp_path / "old.xlsx"
    x = Workbook()
    ws = x.active
    ws.title = "Time"
    old_headers = [h for h in load_contract().tab("Time").headers if h not in ("Suggested Description", "Email")]
    ws.append(old_headers + ["My notes"])
    ws.append([f"v{i}" for i in range(len(old_headers))] + ["keep me"])
    x.save(path)
    book = LocalWorkbook(path)
    changes = book.ensure_layout(setup=True)
    assert "added the column Suggested Description to Time" in changes
    rows = book.read(["Time"])["Time"]
    assert rows[0][: len(old_headers) + 1] == old_headers + ["My notes"]  # nothing moved
    assert rows[1][: len(old_headers) + 1] == [f"v{i}" for i in range(len(old_headers))] + ["keep me"]
    assert set(rows[0][len(old_headers) + 1 :]) == {"Suggested Description", "Email"}
    assert "Clients" in load_workbook(path).sheetnames


def test_a_failed_write_leaves_the_workbook_as_it_was(wb):
    before = hashlib.sha256(wb.path.read_bytes()).hexdigest()
    with pytest.raises(ConfigError, match="no tab Nope"):
        wb.write([CellBlock("Time", 2, 1, [["x"]]), CellBlock("Nope", 1, 1, [["y"]])])
    assert hashlib.sha256(wb.path.read_bytes()).hexdigest() == before
    assert not list(wb.path.parent.glob(".~*"))


def test_reading_before_any_refresh_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="run refresh"):
        LocalWorkbook(tmp_path / "none.xlsx").read(["Time"])


@pytest.mark.parametrize("lock_name", ["~$invoicing.xlsx", ".~lock.invoicing.xlsx#"])
def test_a_workbook_open_in_excel_or_libreoffice_is_not_overwritten(wb, lock_name):
    before = hashlib.sha256(wb.path.read_bytes()).hexdigest()
    (wb.path.parent / lock_name).write_text("someone")
    with pytest.raises(ConfigError, match="open in a spreadsheet program.*Save and close it"):
        wb.write([CellBlock("Time", 2, 1, [["x"]])])
    assert hashlib.sha256(wb.path.read_bytes()).hexdigest() == before
    (wb.path.parent / lock_name).unlink()
    wb.write([CellBlock("Time", 2, 1, [["x"]])])  # closed again: the run goes through
