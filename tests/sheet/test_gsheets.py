"""The Google Sheets adapter, driven through gspread's HTTP client against the local Sheets emulator."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from functions.errors import AuthError, ConfigError, Terminal, Transient
from functions.ports import CellBlock, SheetStore
from functions.sheet.contract import load_contract
from functions.sheet.gsheets import GoogleSheet, GoogleSheetsSettings, a1_block, quote_tab, to_api
from functions.sheet.gsheets_http import SheetsApiError, SheetsUnavailable
from functions.values import parse_date
from tests.emulators.sheets import SheetsEmulator

CONTRACT = load_contract()


def api_calls(emu: SheetsEmulator) -> list[str]:
    """`GET values:batchGet`, `POST :batchUpdate`...: the Sheets API calls made, in order (token calls excluded)."""
    out = []
    for c in emu.sheets_calls():
        tail = c["path"].split("/v4/spreadsheets/", 1)[1]
        call = tail.split("/", 1)[1] if "/" in tail else tail.split(":", 1)[-1] if ":" in tail else "get"
        out.append(f"{c['method']} {call}")
    return out


def sheet_of(emu: SheetsEmulator, sid: str, tab: str):
    return emu.spreadsheets[sid].sheet(tab)


# ------------------------------------------------------------------ layout


def test_is_a_sheet_store(gsheet: GoogleSheet) -> None:
    assert isinstance(gsheet, SheetStore)
    assert gsheet.describe() == f"https://docs.google.com/spreadsheets/d/{gsheet.spreadsheet_id}/edit"


def test_setup_creates_every_tab_with_headers_formats_and_protections(gsheet, sheets_emulator, new_sheet_id):
    changes = gsheet.ensure_layout()

    assert [c for c in changes if c.startswith("added the")] == [
        f"added the {t.name} tab with {len(t.columns)} columns" for t in CONTRACT.tabs
    ]
    # the run's read finds no tabs, one metadata read, then structure, formats and headers in one batchUpdate
    assert api_calls(sheets_emulator) == ["GET values:batchGet", "GET get", "POST batchUpdate"]
    time_tab = CONTRACT.tab("Time")
    s = sheet_of(sheets_emulator, new_sheet_id, "Time")
    assert sheets_emulator.values(new_sheet_id, "Time") == [time_tab.headers]
    assert s.grid["frozenRowCount"] == 1

    idx = {c.key: i for i, c in enumerate(time_tab.columns)}
    assert s.validation(5, idx["approved"]) == {"condition": {"type": "BOOLEAN"}}
    assert s.validation(5, idx["billable"]) == {"condition": {"type": "BOOLEAN"}}
    dropdown = s.validation(5, idx["category"])
    assert dropdown["condition"]["type"] == "ONE_OF_RANGE"
    assert dropdown["condition"]["values"] == [{"userEnteredValue": "=Categories!$A$2:$A"}]
    assert s.validation(0, idx["approved"]) is None  # the header cell is no checkbox
    assert s.number_format(7, idx["date"]) == {"type": "DATE", "pattern": "yyyy-mm-dd"}
    assert s.number_format(7, idx["hours"])["pattern"] == "0.00##"
    assert s.number_format(7, idx["rate_override"])["pattern"] == "#,##0.00"

    # protections: warning only, on every pipeline column and never on a review column
    assert s.protected and all(p["warningOnly"] for p in s.protected)
    protected_cols = {
        i
        for p in s.protected
        if "startColumnIndex" in p["range"]
        for i in range(p["range"]["startColumnIndex"], p["range"]["endColumnIndex"])
    }
    for col in time_tab.columns:
        assert (idx[col.key] in protected_cols) == (col.owner in ("source", "output")), col.key
    # flagged rows are highlighted by a formula on the Flags column
    flags_letter = chr(ord("A") + idx["flags"])
    rule = s.conditional[0]["booleanRule"]["condition"]
    assert rule == {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": f"=LEN(${flags_letter}2)>0"}]}
    assert s.notes[(0, idx["approved"])] == time_tab.column("approved").note
    hidden = [d for d in s.dimensions if d["properties"]["hiddenByUser"]]
    assert [d["range"]["startIndex"] for d in hidden] == [idx["sync_hash"]]
    # config tabs are people's: only their header row is protected
    rates = sheet_of(sheets_emulator, new_sheet_id, "Rates")
    assert [p["range"] for p in rates.protected] == [
        {"sheetId": rates.props["sheetId"], "startRowIndex": 0, "endRowIndex": 1}
    ]


def test_a_laid_out_sheet_is_checked_inside_the_runs_one_read(gsheet, sheets_emulator, new_sheet_id):
    gsheet.ensure_layout()
    before = sheet_of(sheets_emulator, new_sheet_id, "Time")
    n_protected, n_formats = len(before.protected), len(before.formats)
    sheets_emulator.reset_calls()

    assert gsheet.ensure_layout() == []
    assert api_calls(sheets_emulator) == ["GET values:batchGet"]  # every tab and the state cell
    assert set(gsheet.read(["Time", "Runs", "Rates"])) == {"Time", "Runs", "Rates"}
    assert api_calls(sheets_emulator) == ["GET values:batchGet"]  # read() hands out what that read got
    # setup-sheet looks at everything (protections people removed): the read and one metadata read
    sheets_emulator.reset_calls()
    assert gsheet.ensure_layout(setup=True) == []
    assert api_calls(sheets_emulator) == ["GET get", "GET values:batchGet"]
    after = sheet_of(sheets_emulator, new_sheet_id, "Time")
    assert (len(after.protected), len(after.formats)) == (n_protected, n_formats)


def test_upgrade_adds_new_columns_after_the_last_and_keeps_every_value(gsheet, sheets_emulator, new_sheet_id):
    # an older Time layout: no Comment, Tracker Rate or Sync Hash columns, plus a column a person added
    old_headers = [h for h in CONTRACT.tab("Time").headers if h not in ("Comment", "Tracker Rate", "Sync Hash")]
    old_headers.append("My Notes")
    ss = sheets_emulator.spreadsheets[new_sheet_id]
    ss.add_sheet({"title": "Time"})
    row = [f"v{i}" for i in range(len(old_headers))]
    ss.sheet("Time").cells.update({(0, c): h for c, h in enumerate(old_headers)})
    ss.sheet("Time").cells.update({(1, c): v for c, v in enumerate(row)})
    ss.sheet("Time").cells[(2, 3)] = "only task"

    changes = gsheet.ensure_layout(setup=True)  # setup-sheet upgrades an older layout

    assert "added 3 column(s) to Time: Comment, Tracker Rate, Sync Hash" in changes
    values = sheets_emulator.values(new_sheet_id, "Time")
    assert values[0] == old_headers + ["Comment", "Tracker Rate", "Sync Hash"]
    assert values[1] == row
    assert values[2] == ["", "", "", "only task"]
    # the new columns are formatted where they landed, not where the contract lists them
    s = ss if False else sheets_emulator.spreadsheets[new_sheet_id].sheet("Time")
    assert s.number_format(4, len(old_headers) + 1)["pattern"] == "#,##0.00"  # Tracker Rate is money
    assert gsheet.ensure_layout() == []


def test_setup_restores_a_protection_someone_removed(gsheet, sheets_emulator, new_sheet_id):
    gsheet.ensure_layout()
    s = sheets_emulator.spreadsheets[new_sheet_id].sheet("Invoices")
    s.protected.clear()
    changes = gsheet.ensure_layout(setup=True)
    assert changes == ["restored the protections and highlighting of Invoices"]
    assert len(sheets_emulator.spreadsheets[new_sheet_id].sheet("Invoices").protected) == 2


# ------------------------------------------------------------------ values


def test_values_round_trip_through_raw_input(gsheet, sheets_emulator, new_sheet_id):
    gsheet.ensure_layout()
    sheets_emulator.reset_calls()
    row = [
        date(2026, 10, 3),
        "Acme Corp",
        '=IMPORTXML("http://x")',
        "+1 555 0100",
        "-rm",
        "@here",
        "Ana Ruiz",
        "Dev",
        "notes",
        Decimal("1.25"),
        True,
        "Design",
        None,
        Decimal("150.50"),
        False,
    ]
    gsheet.write(
        [
            CellBlock("Time", 2, 1, [row]),
            CellBlock("Runs", 2, 1, [["r1", "refresh", "2026-10", datetime(2026, 11, 1, 2, 0), Decimal("3")]]),
            CellBlock("Time", 3, 2, [["Beta LLC"]]),
        ]
    )

    calls = sheets_emulator.sheets_calls()
    assert len(calls) == 1 and calls[0]["path"].endswith(":batchUpdate")
    got = gsheet.read(["Time", "Runs"])
    assert len(sheets_emulator.sheets_calls()) == 2  # one batchGet for both tabs
    t = got["Time"][1]
    assert parse_date(t[0]) == date(2026, 10, 3) and t[0] == "2026-10-03"
    assert t[1:6] == ["Acme Corp", '=IMPORTXML("http://x")', "+1 555 0100", "-rm", "@here"]
    assert t[9] == Decimal("1.25") and isinstance(t[9], Decimal)
    assert t[10] is True and t[14] is False
    assert t[12] is None  # None cleared the cell
    assert t[13] == Decimal("150.5")
    assert got["Time"][2][:2] == [None, "Beta LLC"]
    assert got["Runs"][1] == ["r1", "refresh", "2026-10", "2026-11-01 02:00:00", 3]
    # the formula-looking text is stored as text, not as a formula
    stored = sheets_emulator.spreadsheets[new_sheet_id].sheet("Time").cells[(1, 2)]
    assert stored == '=IMPORTXML("http://x")'


def test_write_sends_one_call_whatever_the_block_count(gsheet, sheets_emulator):
    gsheet.ensure_layout()
    sheets_emulator.reset_calls()
    blocks = [CellBlock("Time", 2 + i, 20, [["INV-1"]]) for i in range(300)]
    gsheet.write(blocks)
    calls = sheets_emulator.sheets_calls()
    assert len(calls) == 1
    assert [r[19] for r in gsheet.read(["Time"])["Time"][1:]] == ["INV-1"] * 300


def test_nothing_to_write_makes_no_call(gsheet, sheets_emulator):
    gsheet.write([])
    gsheet.write([CellBlock("Time", 2, 1, [])])
    assert sheets_emulator.sheets_calls() == []


def test_read_of_a_missing_tab_gives_an_empty_tab(gsheet, sheets_emulator):
    got = gsheet.read(["Time", "Sheet1"])
    assert got == {"Time": [], "Sheet1": []}


def test_a_failed_batch_writes_nothing(gsheet, sheets_emulator, new_sheet_id):
    gsheet.ensure_layout()
    gsheet.read(["Time"])
    # a person deleted the Clients tab after the run read: the write's Clients cells name a gone sheetId
    ss = sheets_emulator.spreadsheets[new_sheet_id]
    ss.sheets.remove(ss.sheet("Clients"))
    sheets_emulator.reset_calls()
    with pytest.raises(ConfigError, match="setup-sheet"):
        gsheet.write([CellBlock("Time", 2, 1, [["kept?"]]), CellBlock("Clients", 2, 1, [["x"]])])
    # refused whole (400, not retried), one look at the spreadsheet, and nothing sent that cannot land
    assert api_calls(sheets_emulator) == ["POST batchUpdate", "GET get"]
    assert sheets_emulator.values(new_sheet_id, "Time") == [CONTRACT.tab("Time").headers]
    assert isinstance(ConfigError("x"), Terminal)


# ------------------------------------------------------------------ faults and retries


def test_429_is_retried_honouring_retry_after(gsettings, sheets_emulator, new_sheet_id):
    waits: list[float] = []
    sheet = GoogleSheet.from_settings(gsettings.model_copy(update={"max_backoff_seconds": 5}), sleep=waits.append)
    sheet.ensure_layout()
    sheets_emulator.reset_calls()
    sheets_emulator.fail_next(429, times=2, retry_after=2)
    sheet.write([CellBlock("Clients", 2, 1, [["Acme", "Acme Corp", "USD"]])])
    assert waits == [2.0, 2.0]
    assert len(sheets_emulator.sheets_calls()) == 3
    assert sheets_emulator.values(new_sheet_id, "Clients")[1] == ["Acme", "Acme Corp", "USD"]


def test_a_500_after_the_server_committed_is_completed_by_the_retry(gsheet, sheets_emulator, new_sheet_id):
    gsheet.ensure_layout()
    sheets_emulator.fail_after_commit = True
    gsheet.write([CellBlock("Time", 2, 2, [["Acme"], ["Beta"]])])
    assert [r[1] for r in sheets_emulator.values(new_sheet_id, "Time")[1:]] == ["Acme", "Beta"]
    assert gsheet.http.calls >= 2


def test_endless_429_gives_up_as_transient_and_leaves_the_sheet_alone(gsheet, sheets_emulator, new_sheet_id):
    gsheet.ensure_layout()
    sheets_emulator.reset_calls()
    sheets_emulator.fail_next(429, times=10)
    with pytest.raises(SheetsUnavailable) as exc:
        gsheet.write([CellBlock("Time", 2, 2, [["Acme"]])])
    assert isinstance(exc.value, Transient)
    assert "after 4 attempts" in str(exc.value) and "RESOURCE_EXHAUSTED" in str(exc.value)
    assert len(sheets_emulator.sheets_calls()) == 4
    sheets_emulator._faults.clear()
    assert sheets_emulator.values(new_sheet_id, "Time") == [CONTRACT.tab("Time").headers]


def test_403_is_not_retried_and_says_to_share_the_sheet(gsheet, sheets_emulator):
    sheets_emulator.fail_next(403)
    with pytest.raises(AuthError, match="share the spreadsheet with the service account"):
        gsheet.read(["Time"])
    assert len(sheets_emulator.sheets_calls()) == 1


def test_unknown_spreadsheet_is_a_config_error(gsettings, sheets_emulator):
    sheet = GoogleSheet.from_settings(gsettings.model_copy(update={"spreadsheet_id": "no-such-sheet"}))
    with pytest.raises(ConfigError, match="GOOGLE_SHEET_ID"):
        sheet.ensure_layout()


def test_service_account_token_is_fetched_once_per_process_and_sent(gsettings, sheets_emulator):
    from functions import auth

    auth._CREDENTIALS.clear()  # as a fresh process
    sheets_emulator.reset_calls()
    first = GoogleSheet.from_settings(gsettings)
    first.read(["Time"])
    assert [c["path"] for c in sheets_emulator.calls].count("/token") == 1
    assert sheets_emulator.tokens
    assert first.account == "invoicing@test-project.iam.gserviceaccount.com"
    # the next run in the same process (a warm Cloud Function) signs in with the same token
    GoogleSheet.from_settings(gsettings).read(["Time"])
    assert [c["path"] for c in sheets_emulator.calls].count("/token") == 1


def test_settings_errors_read_like_sentences(tmp_path, sheets_url):
    with pytest.raises(ConfigError, match="does not exist"):
        GoogleSheet.from_settings(GoogleSheetsSettings(spreadsheet_id="x", credentials_file=tmp_path / "nope.json"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "service_account", "private_key": "SECRET-MATERIAL"}))
    with pytest.raises(ConfigError) as exc:
        GoogleSheet.from_settings(GoogleSheetsSettings(spreadsheet_id="x", credentials_file=bad))
    assert "SECRET-MATERIAL" not in str(exc.value)


def test_missing_spreadsheet_id_is_a_config_error(sa_file, sheets_url):
    with pytest.raises(ConfigError, match="GOOGLE_SHEET_ID"):
        GoogleSheet.from_settings(
            GoogleSheetsSettings(spreadsheet_id="", credentials_file=sa_file, api_base_url=sheets_url)
        )


# ------------------------------------------------------------------ pure helpers


@pytest.mark.parametrize(
    "value, sent",
    [
        (None, ""),
        (True, True),
        (Decimal("12.50"), 12.5),
        (Decimal("3"), 3),
        (7, 7),
        (0.5, 0.5),
        (date(2026, 10, 1), 46296),
        (datetime(2026, 10, 1, 9, 30), "2026-10-01 09:30:00"),
        ("=1+1", "=1+1"),
    ],
)
def test_to_api(value, sent):
    assert to_api(value) == sent and type(to_api(value)) is type(sent)


def test_a1_names_quote_tabs():
    assert quote_tab("It's") == "'It''s'"
    assert a1_block("Time", 2, 1, 3, 26) == "'Time'!A2:Z4"


# ------------------------------------------------------------------ request size


def test_a_payload_over_the_request_limit_is_split_into_ordered_calls(gsheet, sheets_emulator, new_sheet_id):
    gsheet.ensure_layout()
    sheets_emulator.reset_calls()
    gsheet.max_request_bytes = 6_000  # as if Google's 10 MiB were 6 kB
    rows = [[f"entry-{i:03d}", "x" * 50] for i in range(100)]
    gsheet.write([CellBlock("Runs", 2, 1, rows), CellBlock("Runs", 1, 20, [["marker"]])])
    calls = sheets_emulator.sheets_calls()
    assert 4 <= len(calls) <= 8 and all(c["bytes"] <= 6_000 for c in calls)
    got = sheets_emulator.values(new_sheet_id, "Runs")
    assert [r[:2] for r in got[1:]] == rows
    assert got[0][19] == "marker"


def test_google_refuses_a_body_over_10_mib_and_the_adapter_does_not_retry_it(gsheet, sheets_emulator):
    gsheet.ensure_layout()
    sheets_emulator.reset_calls()
    gsheet.max_request_bytes = 50_000_000  # pretend there were no limit, to see what Google answers
    rows = [["y" * 1_000] for _ in range(11_000)]
    with pytest.raises(SheetsApiError, match="Request payload size exceeds the limit: 10485760 bytes"):
        gsheet.write([CellBlock("Runs", 2, 1, rows)])
    assert len(sheets_emulator.sheets_calls()) == 1


def test_an_emulator_without_auth_is_reached_anonymously(new_sheet_id, sheets_url, sheets_emulator):
    sheets_emulator.require_auth = False
    try:
        sheet = GoogleSheet.from_settings(GoogleSheetsSettings(spreadsheet_id=new_sheet_id, api_base_url=sheets_url))
        assert sheet.ensure_layout()
    finally:
        sheets_emulator.require_auth = True
    assert all("/token" not in c["path"] for c in sheets_emulator.calls)


def test_setup_survives_a_lost_answer_to_its_layout_batch(gsheet, sheets_emulator, new_sheet_id):
    # Google applied the batch (tabs, protections) but the answer was a 500; the retried batch then finds
    # the tabs made. Setup must finish the job without a duplicate protection or rule.
    sheets_emulator.fail_after_commit = True
    changes = gsheet.ensure_layout()
    assert changes[0].startswith("added the Time tab")
    assert sheets_emulator.values(new_sheet_id, "Time") == [CONTRACT.tab("Time").headers]
    time_sheet = sheets_emulator.spreadsheets[new_sheet_id].sheet("Time")
    descriptions = [p["description"] for p in time_sheet.protected]
    assert len(descriptions) == len(set(descriptions))
    assert len(time_sheet.conditional) == 1
    assert gsheet.ensure_layout() == []


def test_count_columns_keep_the_automatic_number_format_so_42_is_not_shown_as_42_dot():
    from functions.sheet.gsheets_layout import _column_requests

    tab = load_contract().tab("Preview")
    col = next(c for c in tab.columns if c.header == "Entries")
    [cell] = [r["repeatCell"] for r in _column_requests(0, 3, col, owned=True) if "repeatCell" in r]
    assert "numberFormat" not in cell["cell"]["userEnteredFormat"]  # no pattern: Sheets shows 42, 0.85
    assert "numberFormat" in cell["fields"]  # named, so an older 0.## pattern is cleared
