"""The splice of changed cells into a tab's XML: cells replaced in place keep their format, new ones land
in column order, rows in row order, whatever order another program wrote the attributes in."""

from __future__ import annotations

import zipfile
from datetime import date
from decimal import Decimal

from openpyxl import Workbook, load_workbook
from openpyxl.styles import PatternFill

from functions.sheet.xlsx_patch import Styles, patch_file, patch_sheet

SHEET = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:C3"/>'
    b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Head</t></is></c></row>'
    b'<row r="3" spans="1:3"><c s="1" r="C3"><v>5</v></c><c r="A3" t="b"><v>1</v></c></row></sheetData></worksheet>'
)
STYLES = (
    b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="0"/>'
    b'<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    b'<xf numFmtId="0" fontId="0" fillId="2" borderId="0"/></cellXfs></styleSheet>'
)


def test_cells_are_replaced_in_place_or_inserted_in_order():
    styles = Styles(STYLES)
    out = patch_sheet(
        SHEET, {3: {3: Decimal("7.50"), 2: "=not a formula"}, 2: {1: date(2026, 10, 1)}, 9: {2: 1}}, {}, styles
    )
    assert out.index(b'<row r="2">') < out.index(b'<row r="3">') < out.index(b'<row r="9">')
    row3 = out[out.index(b'<row r="3">') : out.index(b"</row>", out.index(b'<row r="3">'))]
    assert row3.count(b'r="C3"') == 1 and b"<v>7.50</v>" in row3 and b's="1"' in row3  # its fill kept
    assert b'<c r="B3" t="inlineStr"><is><t>=not a formula</t></is></c>' in row3 and b"spans" not in row3
    assert b'<dimension ref="A1:C9"/>' in out
    assert b'numFmtId="164"' in styles.render()  # the date's format was added for the new date cell


def test_a_spliced_workbook_reads_back_in_openpyxl_with_formats_and_a_persons_colour(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Time"
    ws.append(["Date", "Hours", "Notes"])
    ws.append([None, 1, "kept"])
    ws["C2"].fill = PatternFill("solid", fgColor="FFFF00")
    src, out = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    wb.save(src)
    patch_file(
        src,
        str(out),
        {"Time": {2: {1: date(2026, 10, 5), 3: "changed"}, 4: {2: Decimal("0.25")}}},
        {"Time": {2: "0.00##"}},
    )
    back = load_workbook(out)["Time"]
    assert back["A2"].value.date() == date(2026, 10, 5) and back["A2"].is_date
    assert back["C2"].value == "changed" and back["C2"].fill.fgColor.rgb == "00FFFF00"
    assert back["B4"].value == 0.25 and back["B4"].number_format == "0.00##"
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(out) as b:
        assert a.namelist() == b.namelist()
        assert all(a.read(n) == b.read(n) for n in a.namelist() if "worksheets" not in n and "styles" not in n)


BIG = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:D6"/>'
    b"<sheetData>"
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>Date</t></is></c><c r="D1" t="inlineStr"><is><t>No</t></is></c></row>'
    b'<row r="2" spans="1:4"><c r="A2"><v>1</v></c><c r="D2" s="1"><v>2</v></c></row>'
    b'<row r="3"/>'
    b'<row r="4"><c r="A4" t="inlineStr"><is><r><rPr><charset val="1"/></rPr><t>rich</t></r></is></c>'
    b'<c s="1" r="C4"/><c r="D4"><v>4</v></c></row>'
    b'<row r="6"><c r="B6"><v>6</v></c></row>'
    b'</sheetData><mergeCells count="0"/></worksheet>'
)


def test_the_stream_splices_the_same_whatever_the_size_of_its_pieces():
    """A tab is read a few MB at a time: a row, a tag or `</sheetData>` cut between two pieces changes nothing."""
    changes = {2: {2: "two"}, 3: {3: "in an empty row"}, 4: {2: "bee", 3: 7}, 5: {1: "new"}, 6: {1: "a", 4: 9}}
    whole = patch_sheet(BIG, changes, {}, Styles(STYLES), chunk_size=1 << 20)
    for size in (1, 7, 13, 64, 200):
        assert patch_sheet(BIG, changes, {}, Styles(STYLES), chunk_size=size) == whole

    def row(r: int) -> bytes:
        start = whole.index(b'<row r="%d"' % r)
        return whole[start : whole.index(b"</row>", start)]

    assert row(2).index(b'r="A2"') < row(2).index(b'r="B2"') < row(2).index(b'r="D2"') and b"spans" not in row(2)
    assert b'<c r="C3" t="inlineStr"><is><t>in an empty row</t></is></c>' in row(3)
    # a row with rich text (a `<charset>` tag) and a cell written `s` first: the careful look finds the places
    assert row(4).index(b'r="B4"') < row(4).index(b"C4") < row(4).index(b'r="D4"') and row(4).count(b"C4") == 1
    assert b'<c s="1" r="C4"><v>7</v></c>' not in row(4) and b'<c r="C4" s="1"><v>7</v></c>' in row(4)
    assert whole.index(b'<row r="4"') < whole.index(b'<row r="5">') < whole.index(b'<row r="6"')
    assert row(6).index(b'r="A6"') < row(6).index(b'r="B6"') < row(6).index(b'r="D6"')
    assert whole.endswith(b'</sheetData><mergeCells count="0"/></worksheet>')


def test_a_workbook_whose_styles_come_before_its_tabs_gets_the_formats_its_new_cells_use(tmp_path):
    """Excel may store styles.xml ahead of the tabs; the tabs stream first, so the formats they add are kept."""
    src, out = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    wb = Workbook()
    wb.active.title = "Time"
    wb.active.append(["Date"])
    wb.save(src)
    with zipfile.ZipFile(src) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    order = ["xl/styles.xml", *[n for n in parts if n != "xl/styles.xml"]]
    with zipfile.ZipFile(src, "w") as z:
        for n in order:
            z.writestr(n, parts[n])
    patch_file(src, str(out), {"Time": {2: {1: date(2026, 10, 5)}}}, {"Time": {1: "yyyy-mm-dd"}})
    back = load_workbook(out)["Time"]
    assert back["A2"].value.date() == date(2026, 10, 5) and back["A2"].number_format == "yyyy-mm-dd"


def test_the_one_read_of_a_workbook_names_its_merged_ranges(tmp_path):
    from functions.sheet.xlsx_read import read_tabs

    wb = Workbook()
    wb.active.title = "Time"
    wb.active["A1"] = "Date"
    wb.active.merge_cells("T2:T3")
    wb.active.merge_cells("Z5:AB9")
    wb.create_sheet("Runs")
    wb.save(tmp_path / "m.xlsx")
    merged: dict[str, list[str]] = {}
    rows = read_tabs(tmp_path / "m.xlsx", merged)
    assert rows["Time"][0][0] == "Date"
    assert merged == {"Time": ["T2:T3", "Z5:AB9"], "Runs": []}
