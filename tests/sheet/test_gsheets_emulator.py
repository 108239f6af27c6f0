"""The Sheets emulator itself, driven by gspread's public API: the endpoints the adapter does not use
(values get/update/append/clear, USER_ENTERED parsing, render options) must still behave like Google's,
since the end-to-end test edits the sheet through them as a person would."""

from __future__ import annotations

import gspread
import pytest
import requests

from tests.emulators.google_fixtures import PersonSession
from tests.emulators.sheets import SheetsEmulator, parse_cells, split_range


@pytest.fixture
def book(sheets_url, sa_file, new_sheet_id):
    return gspread.Client(auth=None, session=PersonSession(sheets_url, sa_file)).open_by_key(new_sheet_id)


def test_user_entered_values_are_parsed_like_the_ui_and_raw_ones_are_not(book, sheets_emulator, new_sheet_id):
    ws = book.sheet1
    ws.update([["12.5", "TRUE", "2026-10-03", "=1+1", "text"]], "A1", value_input_option="USER_ENTERED")
    ws.update([["12.5", "TRUE", "2026-10-03", "=1+1"]], "A2", value_input_option="RAW")
    unformatted = ws.get("A1:E2", value_render_option="UNFORMATTED_VALUE", date_time_render_option="FORMATTED_STRING")
    assert unformatted[0] == [12.5, True, "2026-10-03", "#NAME?", "text"]
    assert unformatted[1] == ["12.5", "TRUE", "2026-10-03", "=1+1"]
    assert ws.get("A1:D1", value_render_option="FORMULA")[0][3] == "=1+1"
    serial = ws.get("C1", value_render_option="UNFORMATTED_VALUE", date_time_render_option="SERIAL_NUMBER")
    assert serial == [[46298]]
    assert ws.get("A1:C1")[0] == ["12.5", "TRUE", "2026-10-03"]  # FORMATTED_VALUE by default


def test_append_clear_and_trailing_blanks(book, sheets_emulator, new_sheet_id):
    ws = book.sheet1
    ws.update([["h1", "h2"]], "A1")
    ws.append_rows([["a", 1], ["b", 2]], value_input_option="RAW")
    ws.append_row(["c", 3], value_input_option="RAW")
    assert ws.get_all_values() == [["h1", "h2"], ["a", "1"], ["b", "2"], ["c", "3"]]
    ws.batch_clear(["A3:B3"])
    ws.update([[None, "kept?"]], "A4")  # a null leaves the cell as it is
    assert ws.get_all_values() == [["h1", "h2"], ["a", "1"], ["", ""], ["c", "kept?"]]
    ws.clear()
    assert sheets_emulator.values(new_sheet_id, "Sheet1") == []


def test_errors_have_googles_shape(book, sheets_url, sheets_emulator, new_sheet_id):
    with pytest.raises(gspread.exceptions.APIError) as exc:
        book.values_get("'Nope'!A1")
    assert exc.value.response.json()["error"] == {
        "code": 400,
        "message": "Unable to parse range: Nope",
        "status": "INVALID_ARGUMENT",
    }
    with pytest.raises(gspread.exceptions.APIError) as exc:
        book.values_get("Sheet1!A1:A5000")
    assert "exceeds grid limits. Max rows: 1000" in exc.value.response.json()["error"]["message"]
    r = requests.get(f"{sheets_url}/v4/spreadsheets/{new_sheet_id}", timeout=5)
    assert r.status_code == 401 and r.json()["error"]["status"] == "UNAUTHENTICATED"
    sheets_emulator.fail_next(429, retry_after=7)
    with pytest.raises(gspread.exceptions.APIError) as exc:
        book.sheet1.get("A1")
    assert exc.value.response.status_code == 429 and exc.value.response.headers["Retry-After"] == "7"
    assert exc.value.response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_the_ten_million_cell_limit_is_enforced_atomically(book, sheets_emulator, new_sheet_id):
    sheet_id = book.sheet1.id
    with pytest.raises(gspread.exceptions.APIError) as exc:
        book.batch_update(
            {
                "requests": [
                    {"addSheet": {"properties": {"title": "Big"}}},
                    {
                        "updateSheetProperties": {
                            "properties": {"sheetId": sheet_id, "gridProperties": {"rowCount": 400_000}},
                            "fields": "gridProperties.rowCount",
                        }
                    },
                ]
            }
        )
    assert "above the limit of 10000000 cells" in str(exc.value)
    assert [s.title for s in book.worksheets()] == ["Sheet1"]  # the addSheet before it did not land either


def test_a1_parsing():
    assert split_range("'It''s here'!A1:B2") == ("It's here", "A1:B2")
    assert split_range("Time") == ("Time", "")
    box = parse_cells("B2:D")
    assert (box.r1, box.c1, box.r2, box.c2) == (1, 1, None, 4)
    assert parse_cells("1:1").r2 == 1 and parse_cells("1:1").c2 is None
    assert parse_cells("C7").anchor


def test_emulator_runs_standalone_with_a_key_file(tmp_path):
    emu = SheetsEmulator()
    url = emu.start()
    try:
        emu.create("solo")
        from tests.emulators.google_certs import service_account_file

        key = service_account_file(tmp_path, url + "/token")
        book = gspread.Client(auth=None, session=PersonSession(url, key)).open_by_key("solo")
        assert book.title == "Invoicing" and book.sheet1.title == "Sheet1"
    finally:
        emu.stop()


def test_a_batch_update_is_refused_whole_naming_the_request_that_failed(book, sheets_emulator, new_sheet_id):
    """What the compare-and-set write relies on: atomic batches, deleteSheet of a gone id, a taken title."""
    ss = sheets_emulator.spreadsheets[new_sheet_id]
    sid = ss.sheet("Sheet1").props["sheetId"]
    cell = {"updateCells": {"start": {"sheetId": sid, "rowIndex": 0, "columnIndex": 0}, "fields": "userEnteredValue"}}
    write = {**cell["updateCells"], "rows": [{"values": [{"userEnteredValue": {"stringValue": "=1+1"}}]}]}
    book.batch_update({"requests": [{"updateCells": write}, {"addSheet": {"properties": {"title": "_v1"}}}]})
    assert ss is not sheets_emulator.spreadsheets[new_sheet_id]  # applied on a copy, swapped in whole
    ss = sheets_emulator.spreadsheets[new_sheet_id]
    assert ss.sheet("Sheet1").cells[(0, 0)] == "=1+1"  # a stringValue is text, never a formula
    again = {**write, "rows": [{"values": [{"userEnteredValue": {"stringValue": "second"}}]}]}
    for second, message in [
        ({"addSheet": {"properties": {"title": "_v1"}}}, 'requests[1].addSheet: A sheet with the name "_v1"'),
        ({"deleteSheet": {"sheetId": 424242}}, "requests[1].deleteSheet: No grid with id: 424242"),
        (
            {
                "updateCells": {
                    **cell["updateCells"],
                    "start": {"sheetId": sid, "rowIndex": 5000, "columnIndex": 0},
                    "rows": [{"values": [{"userEnteredValue": {"numberValue": 1}}]}],
                }
            },
            "requests[1].updateCells: GridCoordinate.rowIndex[5000] is after last row in grid[999]",
        ),
    ]:
        with pytest.raises(gspread.exceptions.APIError) as exc:
            book.batch_update({"requests": [{"updateCells": again}, second]})
        assert message in str(exc.value)
        assert sheets_emulator.spreadsheets[new_sheet_id].sheet("Sheet1").cells[(0, 0)] == "=1+1"  # nothing applied
