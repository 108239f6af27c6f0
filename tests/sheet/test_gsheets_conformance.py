"""The Sheets emulator behaves like the Google Sheets API where the product depends on it, checked against
gspread's recorded exchanges with the real API (tests/cassettes/ in the gspread repository: facts only, no
recording is copied here), and the adapter handles it end to end. gspread and google-auth run unmodified.
"""

from __future__ import annotations

import gspread
import pytest
import requests

from functions.errors import AuthError
from functions.sheet.gsheets import GoogleSheet
from tests.emulators.google_certs import SERVICE_ACCOUNT, service_account_file
from tests.emulators.google_fixtures import PersonSession
from tests.emulators.sheets import a1_title, parse_mask


@pytest.fixture
def book(sheets_url, sa_file, new_sheet_id):
    return gspread.Client(auth=None, session=PersonSession(sheets_url, sa_file)).open_by_key(new_sheet_id)


def _get(book: gspread.Spreadsheet, **params: str) -> dict:
    return book.client.fetch_sheet_metadata(book.id, params=params)


# -- sharing -------------------------------------------------------------------------------------------------
def test_a_spreadsheet_not_shared_with_the_caller_answers_403_permission_denied(
    sheets_url, sheets_emulator, new_sheet_id, tmp_path
):
    """gspread tests/cassettes/ClientTest.test_access_private_spreadsheet.json: opening a spreadsheet the
    account has no access to answers 403 {"code": 403, "message": "The caller does not have permission",
    "status": "PERMISSION_DENIED"}."""
    stranger = service_account_file(tmp_path, sheets_url + "/token", email="other@elsewhere.iam.gserviceaccount.com")
    session = PersonSession(sheets_url, stranger)
    r = session.get(f"https://sheets.googleapis.com/v4/spreadsheets/{new_sheet_id}?includeGridData=false")
    assert r.status_code == 403
    assert r.json() == {
        "error": {"code": 403, "message": "The caller does not have permission", "status": "PERMISSION_DENIED"}
    }
    sheets_emulator.share(new_sheet_id, "other@elsewhere.iam.gserviceaccount.com")
    assert session.get(f"https://sheets.googleapis.com/v4/spreadsheets/{new_sheet_id}").status_code == 200


def test_product_an_unshared_sheet_stops_with_the_share_instruction(gsheet, gsettings, sheets_emulator, new_sheet_id):
    """README step 3 / docs/google.md: without the share every call is refused, and the adapter says so."""
    sheets_emulator.unshare(new_sheet_id, SERVICE_ACCOUNT)
    with pytest.raises(AuthError) as err:
        GoogleSheet.from_settings(gsettings).ensure_layout()
    assert "PERMISSION_DENIED" in str(err.value)
    assert "share the spreadsheet with the service account as an Editor" in str(err.value)
    assert len(sheets_emulator.sheets_calls()) == 1  # refused once, not retried
    sheets_emulator.share(new_sheet_id, SERVICE_ACCOUNT)
    gsheet.ensure_layout()  # shared: it works


# -- field masks and spreadsheets.get --------------------------------------------------------------------------
def test_fields_masks_written_with_slashes_select_the_grid_data(book, sheets_emulator, new_sheet_id):
    """gspread tests/cassettes/WorksheetTest.test_worksheet_notes.json: GET spreadsheets/{id}?ranges='Sheet1'!A1
    &fields=sheets/data/rowData/values/note answers only {"sheets": [{"data": [{"rowData": [{"values":
    [{"note": ...}]}]}]}]}, and {"sheets": [{"data": [{}]}]} when the cell has no note."""
    book.sheet1.update([["a", "b"]], "A1")
    assert _get(book, ranges="'Sheet1'!A1", fields="sheets/data/rowData/values/note") == {"sheets": [{"data": [{}]}]}
    book.sheet1.insert_note("A1", "read my note")
    got = _get(book, ranges="'Sheet1'!A1", fields="sheets/data/rowData/values/note")
    assert got == {"sheets": [{"data": [{"rowData": [{"values": [{"note": "read my note"}]}]}]}]}
    assert book.sheet1.get_note("A1") == "read my note"  # gspread's own call, the same request


def test_spreadsheets_get_honours_fields_and_include_grid_data(book):
    """gspread tests/cassettes/CellTest.test_define_named_range.json: fields=namedRanges answers only that key
    ({} when there are none); ClientTest.test_access_private_spreadsheet.json: includeGridData=false answers
    spreadsheetId, properties and sheets without grid data."""
    assert _get(book, fields="namedRanges") == {}
    assert _get(book, fields="sheets.properties.title") == {"sheets": [{"properties": {"title": "Sheet1"}}]}
    assert _get(book, fields="sheets(properties(title,index))") == {
        "sheets": [{"properties": {"title": "Sheet1", "index": 0}}]
    }
    plain = _get(book, includeGridData="false")
    assert {"spreadsheetId", "properties", "sheets"} <= set(plain) and "data" not in plain["sheets"][0]
    book.sheet1.update([["x"]], "B2")
    grid = _get(book, includeGridData="true", ranges="Sheet1!A1:B2")
    assert grid["sheets"][0]["data"][0]["rowData"][1]["values"][1]["formattedValue"] == "x"


def test_masks_parse_dots_slashes_and_groups():
    assert parse_mask("sheets(properties,protectedRanges),namedRanges") == {
        "sheets": {"properties": None, "protectedRanges": None},
        "namedRanges": None,
    }
    assert parse_mask("sheets/data/rowData/values/note") == parse_mask("sheets.data.rowData.values.note")


def test_product_reads_the_layout_through_its_field_masks(gsheet, sheets_emulator, new_sheet_id):
    gsheet.ensure_layout()
    masks = [c["query"].get("fields", [""])[0] for c in sheets_emulator.sheets_calls() if c["method"] == "GET"]
    assert "sheets(properties,protectedRanges,conditionalFormats,charts)" in masks
    assert gsheet.read(["Time"])  # the tabs it made read back through sheets(properties(title))


# -- ranges in answers and 400 bodies --------------------------------------------------------------------------
def test_ranges_in_answers_are_quoted_only_where_a1_notation_needs_it(book, sheets_emulator, new_sheet_id):
    """gspread tests/cassettes/WorksheetTest.test_batch_update.json: a request for 'Sheet1'!A1:D1 answers
    updatedRange "Sheet1!A1:D1"; WorksheetTest.test_get_all_values_title_is_a1_notation.json: a tab named D3
    stays quoted ("'D3'!A1:D4"), as does one with spaces ("'Test ClientTest test_import_csv'!A1:Z1000" in
    ClientTest.test_import_csv.json)."""
    answer = book.values_update("'Sheet1'!A1:B1", params={"valueInputOption": "RAW"}, body={"values": [["a", "b"]]})
    assert answer["updatedRange"] == "Sheet1!A1:B1"
    assert book.values_get("'Sheet1'!A1:B1")["range"] == "Sheet1!A1:B1"
    assert (a1_title("D3"), a1_title("Time off"), a1_title("It's"), a1_title("Time")) == (
        "'D3'",
        "'Time off'",
        "'It''s'",
        "Time",
    )


def test_an_invalid_payload_answers_400_with_bad_request_details(book, sheets_url, new_sheet_id):
    """gspread tests/cassettes/WorksheetTest.test_add_validation.json: values that are not rows answer 400
    INVALID_ARGUMENT "Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue), "X"" with
    details [{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"field":
    "data.values", ...}]}]; WorksheetTest.test_hide_show_worksheet.json: a refused request ("Invalid
    requests[0]...") has no details."""
    with pytest.raises(gspread.exceptions.APIError) as exc:
        book.values_update("Sheet1!A1", params={"valueInputOption": "RAW"}, body={"values": ["X"]})
    error = exc.value.response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and error["message"].startswith("Invalid value at 'data.values'")
    assert error["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": "data.values", "description": error["message"]}],
        }
    ]
    with pytest.raises(gspread.exceptions.APIError) as exc:
        book.batch_update({"requests": [{"updateSheetProperties": {"properties": {"sheetId": 0}}}]})
    assert "details" not in exc.value.response.json()["error"]


def test_no_auth_mode_does_not_check_sharing(new_sheet_id):
    """The standalone emulator with --no-auth has no callers to check; documented in docs/emulators.md."""
    from tests.emulators.sheets import SheetsEmulator

    with SheetsEmulator(require_auth=False) as emu:
        emu.create("open", tabs=("Sheet1",))
        emu.unshare("open", SERVICE_ACCOUNT)
        assert requests.get(f"{emu.base_url}/v4/spreadsheets/open", timeout=5).status_code == 200
