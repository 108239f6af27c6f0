"""The Cloud Functions through their HTTP interface (functions-framework's app for main.py).

Auth uses real RS256 ID tokens signed by a test key whose certificates are served on 127.0.0.1; the sheet
is the Sheets emulator reached by gspread through the production adapter; accounting is the local ledger.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import functions_framework
import gspread
import pytest

from functions.config import build_sheet
from functions.settings import Settings
from functions.sheet.contract import load_contract
from tests.emulators.google_certs import GoogleIdentity, other_signer
from tests.emulators.google_fixtures import PersonSession
from tests.emulators.sheets import SheetsEmulator
from tests.seeding import seed_categories

ROOT = Path(__file__).resolve().parents[1]
FUNCTION_URL = "https://europe-west1-acme.cloudfunctions.net/invoicing"
SCRIPT_CLIENT_ID = "1234-apps-script.apps.googleusercontent.com"
OPS = "ops@agency.example"
SCHEDULER = "invoicing-scheduler@acme.iam.gserviceaccount.com"
EXPORT = ROOT / "functions" / "sample" / "exports" / "october_clockify.csv"


@pytest.fixture
def env(monkeypatch, tmp_path, identity: GoogleIdentity, gsettings):
    for key, value in {
        "INVOICING_ALLOWED_CALLERS": f"{OPS}, {SCHEDULER}",
        "INVOICING_AUDIENCES": f"{FUNCTION_URL} {SCRIPT_CLIENT_ID}",
        "INVOICING_ID_TOKEN_CERTS_URL": identity.certs_url,
        "INVOICING_SOURCE_CSV": str(EXPORT),
        "SHEET": "google",
        "ACCOUNTING": "ledger",
        "AI_ENABLED": "false",
        "WORKDIR": str(tmp_path / "work"),
        "GOOGLE_SHEET_ID": gsettings.spreadsheet_id,
        "GOOGLE_SHEETS_CREDENTIALS_FILE": str(gsettings.credentials_file),
        "GOOGLE_SHEETS_API_BASE_URL": gsettings.api_base_url,
        "GOOGLE_SHEETS_BACKOFF_SECONDS": "0.01",
        "GOOGLE_SHEETS_MAX_BACKOFF_SECONDS": "0.05",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)  # no stray .env from the repository
    seed_categories(build_sheet(Settings()))
    return gsettings


def client(target: str):
    return functions_framework.create_app(target=target, source=str(ROOT / "main.py")).test_client()


def bearer(identity: GoogleIdentity, email: str = OPS, audience: str = SCRIPT_CLIENT_ID, **kw) -> dict:
    return {"Authorization": "Bearer " + identity.token(email, audience, **kw)}


# ------------------------------------------------------------------ who may call


@pytest.mark.parametrize(
    "headers_for, status, words",
    [
        (lambda i: {}, 401, "no ID token"),
        (lambda i: {"Authorization": "Basic b3BzOnNlY3JldA=="}, 401, "no ID token"),
        (lambda i: {"Authorization": "Bearer not.a.jwt"}, 401, "refused"),
        (lambda i: bearer(i, audience="https://someone-else.example"), 401, "refused"),
        (lambda i: bearer(i, issued_at=int(time.time()) - 7200), 401, "refused"),
        (lambda i: bearer(i, signer=other_signer()), 401, "refused"),
        (lambda i: bearer(i, issuer="https://evil.example"), 401, "not by Google"),
        (lambda i: bearer(i, email="intruder@elsewhere.example"), 403, "intruder@elsewhere.example may not call"),
        (lambda i: bearer(i, verified=False), 403, "no verified email"),
    ],
)
def test_callers_without_a_valid_allowed_token_get_nothing_done(
    env, identity, sheets_emulator, headers_for, status, words
):
    sheets_emulator.reset_calls()
    r = client("create_invoices").post("/", json={"period": "2026-10"}, headers=headers_for(identity))
    assert r.status_code == status
    body = r.get_json()
    assert body["ok"] is False and words in body["error"]["message"]
    assert sheets_emulator.calls == []  # nothing was read or written
    if status == 401:
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_malformed_token_is_never_echoed_back(env, identity, caplog):
    secretish = "ya29.a0AfB_byC-looks-like-an-access-token-9f8e7d"
    r = client("refresh").post("/", json={}, headers={"Authorization": f"Bearer {secretish}"})
    assert r.status_code == 401
    assert "not a well-formed JWT" in r.get_json()["error"]["message"]
    assert secretish not in r.get_data(as_text=True)
    assert secretish not in caplog.text


def test_no_allowlist_configured_refuses_everyone(env, identity, monkeypatch, sheets_emulator):
    monkeypatch.setenv("INVOICING_ALLOWED_CALLERS", "")
    r = client("refresh").post("/", json={}, headers=bearer(identity))
    assert r.status_code == 403 and "no allowed callers" in r.get_json()["error"]["message"]


def test_only_post_is_accepted(env, identity):
    r = client("preview").get("/", headers=bearer(identity))
    assert r.status_code == 405 and r.headers["Allow"] == "POST"


def test_bad_period_is_a_400_in_plain_words(env, identity, sheets_emulator):
    r = client("preview").post("/", json={"period": "Oct 2026"}, headers=bearer(identity))
    assert r.status_code == 400
    assert "is not a period; write it as YYYY-MM" in r.get_json()["error"]["message"]
    r = client("create_invoices").post("/", json={"period": "2026-10", "dry_run": "yes"}, headers=bearer(identity))
    assert r.status_code == 400 and "dry_run must be true or false" in r.get_json()["error"]["message"]
    r = client("refresh").post("/", data="[1, 2]", content_type="application/json", headers=bearer(identity))
    assert r.status_code == 400


# ------------------------------------------------------------------ end to end


def person_edits(emu_url: str, settings) -> dict[str, int]:
    """What the ops manager does in the browser, through the Sheets API as the UI would (USER_ENTERED)."""
    gc = gspread.Client(auth=None, session=PersonSession(emu_url, settings.credentials_file))
    book = gc.open_by_key(settings.spreadsheet_id)
    time_ws = book.worksheet("Time")
    rows = time_ws.get_all_values()
    header = rows[0]
    col = {h: i for i, h in enumerate(header)}
    clients = ["Vertex Robotics", "Xenon Labs"]
    picked = [
        i for i, r in enumerate(rows[1:], start=2) if r[col["Client"]] in clients and r[col["Billable"]] == "TRUE"
    ]
    assert picked, "the export has rows for the chosen clients"

    def letter(name: str) -> str:
        return gspread.utils.rowcol_to_a1(1, col[name] + 1)[:-1]

    updates = [{"range": f"{letter('Approved')}{i}", "values": [["TRUE"]]} for i in picked]
    updates.append({"range": f"{letter('Category')}{picked[0]}", "values": [["Design"]]})
    updates.append({"range": f"{letter('Rate Override')}{picked[1]}", "values": [["175"]]})
    time_ws.batch_update(updates, value_input_option="USER_ENTERED")
    rates = book.worksheet("Rates")
    rates.update([[c, "", "", "", "150"] for c in clients], "A2", value_input_option="USER_ENTERED")
    return {"approved": len(picked), "first": picked[0], "second": picked[1]}


def sheets_calls_since(emu: SheetsEmulator, mark: int) -> list[str]:
    return [f"{c['method']} {c['path'].rsplit('/', 1)[-1]}" for c in emu.calls[mark:] if c["path"].startswith("/v4/")]


def test_refresh_review_preview_create_and_create_again(env, identity, sheets_emulator):
    sid = env.spreadsheet_id
    auth = bearer(identity)

    mark = len(sheets_emulator.calls)
    r = client("refresh").post(
        "/", json={"period": "2026-10"}, headers=bearer(identity, email=SCHEDULER, audience=FUNCTION_URL)
    )
    assert r.status_code == 200, r.get_json()
    refreshed = r.get_json()
    assert refreshed["ok"] and refreshed["caller"] == SCHEDULER and refreshed["period"] == "2026-10"
    assert refreshed["imported"] > 100 and refreshed["new"] == refreshed["imported"]
    # first run (the layout and categories were set up by the env fixture, as setup-sheet does): one
    # batchGet of every tab (the layout checked inside it) and one batchUpdate (values + compare-and-set)
    assert sheets_calls_since(sheets_emulator, mark) == [
        "GET values:batchGet",
        "POST " + sid + ":batchUpdate",
    ]
    time_rows = sheets_emulator.values(sid, "Time")
    assert len(time_rows) == refreshed["new"] + 1

    edits = person_edits(env.api_base_url, env)

    mark = len(sheets_emulator.calls)
    r = client("preview").post("/", json={"period": "2026-10"}, headers=auth)
    assert r.status_code == 200, r.get_json()
    previewed = r.get_json()
    assert sorted(i["client"] for i in previewed["invoices"]) == ["Vertex Robotics", "Xenon Labs"]
    assert sheets_calls_since(sheets_emulator, mark) == [
        "GET values:batchGet",
        "POST " + sid + ":batchUpdate",
    ]
    preview_tab = sheets_emulator.values(sid, "Preview")
    assert {row[0] for row in preview_tab[1:] if row} >= {"Vertex Robotics", "Xenon Labs"}
    rate = preview_tab[0].index("Rate")
    assert 175 in {row[rate] for row in preview_tab[1:] if len(row) > rate}  # the person's rate override

    mark = len(sheets_emulator.calls)
    r = client("create_invoices").post("/", json={"period": "2026-10"}, headers=auth)
    assert r.status_code == 200, r.get_json()
    created = r.get_json()
    assert created["created"] == 2 and created["existing"] == 0
    # one read, one write: the same two calls as refresh and preview
    assert sheets_calls_since(sheets_emulator, mark) == ["GET values:batchGet", "POST " + sid + ":batchUpdate"]
    numbers = {i["client"]: i["number"] for i in created["invoices"]}
    assert all(numbers.values())
    assert set(created["totals"]) == {"USD"}

    # the sheet shows the invoice numbers on every approved row, and the Invoices tab lists them
    header = load_contract().tab("Time").headers
    rows = sheets_emulator.values(sid, "Time")
    ci, ii, ai = rows[0].index("Client"), rows[0].index("Invoice"), rows[0].index("Approved")
    approved = [r for r in rows[1:] if len(r) > ai and r[ai] is True]
    assert len(approved) == edits["approved"]
    cats = sheets_emulator.values(sid, "Categories")
    non_billable = {c[0] for c in cats[1:] if len(c) > 2 and c[2] is False}
    cat = rows[0].index("Category")
    billed = [r for r in approved if r[cat] not in non_billable]
    assert len(billed) > 10 and all(r[ii] == numbers[r[ci]] for r in billed)
    assert all(r[ii] == "" for r in approved if r[cat] in non_billable)
    assert all(len(r) <= ii or r[ii] == "" for r in rows[1:] if not (len(r) > ai and r[ai] is True))
    invoices_tab = sheets_emulator.values(sid, "Invoices")
    assert sorted(r[0] for r in invoices_tab[1:]) == sorted(numbers.values())
    assert rows[0][: len(header)] == header  # the person's edits did not disturb the layout
    assert rows[edits["first"] - 1][cat] == "Design"  # nor did any run overwrite them
    assert rows[edits["second"] - 1][rows[0].index("Rate Override")] == 175

    # a second create creates nothing and adds no invoice row
    r = client("create_invoices").post("/", json={"period": "2026-10"}, headers=auth)
    assert r.status_code == 200, r.get_json()
    again = r.get_json()
    assert again["created"] == 0
    assert len(sheets_emulator.values(sid, "Invoices")) == len(invoices_tab)


def test_overlapping_create_invoices_runs_the_second_is_told_to_wait(env, identity, sheets_emulator):
    auth = bearer(identity)
    assert client("refresh").post("/", json={"period": "2026-10"}, headers=auth).status_code == 200
    sheets_emulator.delay = 0.8  # every Sheets call of the first run now takes a while
    results: dict[str, object] = {}

    def first() -> None:
        results["first"] = client("create_invoices").post("/", json={"period": "2026-10"}, headers=auth)

    t = threading.Thread(target=first)
    t.start()
    time.sleep(0.3)  # the first run holds the instance's lock while it talks to the sheet
    second = client("create_invoices").post("/", json={"period": "2026-10"}, headers=auth)
    t.join(timeout=30)
    sheets_emulator.delay = 0.0
    assert second.status_code == 409
    body = second.get_json()
    assert body["error"]["status"] == "LOCKED" and "wait for it to finish" in body["error"]["message"]
    assert second.headers["Retry-After"] == "60"
    assert results["first"].status_code == 200  # type: ignore[attr-defined]
    # with the first run done, the lock is free again
    again = client("create_invoices").post("/", json={"period": "2026-10", "dry_run": True}, headers=auth)
    assert again.status_code == 200


def test_sheets_outage_is_a_503_with_retry_after(env, identity, sheets_emulator):
    sheets_emulator.fail_next(503, times=20)
    try:
        r = client("preview").post("/", json={"period": "2026-10"}, headers=bearer(identity))
    finally:
        sheets_emulator._faults.clear()
    assert r.status_code == 503 and r.headers["Retry-After"] == "60"
    assert "run it again in a minute" in r.get_json()["error"]["message"]


def test_a_sheet_not_shared_with_the_service_account_is_explained(env, identity, sheets_emulator):
    sheets_emulator.fail_next(403)
    r = client("preview").post("/", json={"period": "2026-10"}, headers=bearer(identity))
    assert r.status_code == 500
    error = r.get_json()["error"]
    assert error["status"] == "FAILED_PRECONDITION"
    assert "share the spreadsheet with the service account as an Editor" in error["message"]


def test_a_typo_in_the_sheet_is_a_422_naming_the_cell(env, identity, sheets_emulator):
    auth = bearer(identity)
    assert client("refresh").post("/", json={"period": "2026-10"}, headers=auth).status_code == 200
    book = gspread.Client(auth=None, session=PersonSession(env.api_base_url, env.credentials_file)).open_by_key(
        env.spreadsheet_id
    )
    ws = book.worksheet("Time")
    header = ws.row_values(1)
    rate = gspread.utils.rowcol_to_a1(2, header.index("Rate Override") + 1)
    approved = gspread.utils.rowcol_to_a1(2, header.index("Approved") + 1)
    ws.batch_update(
        [{"range": rate, "values": [["12,5O"]]}, {"range": approved, "values": [["TRUE"]]}],
        value_input_option="USER_ENTERED",
    )
    before = sheets_emulator.values(env.spreadsheet_id, "Preview")

    r = client("preview").post("/", json={"period": "2026-10"}, headers=auth)

    assert r.status_code == 422, r.get_json()
    error = r.get_json()["error"]
    assert error["status"] == "INVALID_INPUT"
    assert any(d.startswith(f"Time!{rate}") and "12,5O" in d for d in error["details"]), error
    assert sheets_emulator.values(env.spreadsheet_id, "Preview") == before  # nothing was written


def test_the_nightly_refresh_pulls_from_the_configured_tracker(env, identity, sheets_emulator, monkeypatch):
    """What Cloud Scheduler does: POST {"period": "current"}-style calls with TIME_SOURCE=toggl set."""
    from tests.emulators.toggl import TogglEmulator

    emu = TogglEmulator()
    emu.start()
    try:
        monkeypatch.delenv("INVOICING_SOURCE_CSV")
        for key, value in emu.env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("TIME_SOURCE", "toggl")
        r = client("refresh").post(
            "/", json={"period": "2026-10"}, headers=bearer(identity, email=SCHEDULER, audience=FUNCTION_URL)
        )
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        assert body["new"] == body["imported"] > 0 and body["sources"][0].startswith("Toggl")
    finally:
        emu.stop()


def test_the_scheduled_refresh_pulls_jira_and_asana_then_only_what_changed(env, identity, sheets_emulator, monkeypatch):
    """Cloud Scheduler's nightly POST with TIME_SOURCE=jira,asana: both land, each keeps its watermark in the
    Sync tab, and the next night asks each only for what changed."""
    from functions.ports import CellBlock
    from tests.emulators.asana import AsanaEmulator
    from tests.emulators.jira import JiraEmulator

    jira, asana = JiraEmulator(), AsanaEmulator()
    jira.start()
    asana.start()
    try:
        monkeypatch.delenv("INVOICING_SOURCE_CSV")
        for key, value in {**jira.env(), **asana.env()}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("TIME_SOURCE", "jira,asana")
        store = build_sheet(Settings())
        header = store.read(["Clients"])["Clients"][0]
        rows = [[{"Client": c, "Currency": "USD"}.get(str(h)) for h in header] for c in ("Acme Web", "Globex Platform")]
        store.write([CellBlock("Clients", 2, 1, rows)])
        scheduler = bearer(identity, email=SCHEDULER, audience=FUNCTION_URL)

        r = client("refresh").post("/", json={"period": "2026-10"}, headers=scheduler)
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        assert body["new"] == 70 and [s.split(" ")[0] for s in body["sources"]] == ["Jira", "Asana"]
        sync_tab = store.read(["Sync"])["Sync"]
        assert sorted(row[0] for row in sync_tab[1:]) == ["asana", "jira"]

        jira.calls.clear()
        asana.calls.clear()
        r = client("refresh").post("/", json={"period": "2026-10"}, headers=scheduler)
        assert r.status_code == 200 and r.get_json()["new"] == 0
        assert len(jira.calls) == 2 and len(asana.calls) == 2  # the id feeds; one modified_since per project
    finally:
        jira.stop()
        asana.stop()


# ------------------------------------------------------------------ a mistyped setting


@pytest.mark.parametrize(
    "name, value, function, sentence",
    [
        (
            "ACCOUNTING",
            "quickbook",
            "create_invoices",
            'ACCOUNTING is "quickbook"; use one of: ledger, quickbooks, stripe, xero (did you mean "quickbooks"?).',
        ),
        ("SHEET", "gogle", "preview", 'SHEET is "gogle"; use one of: xlsx, google (did you mean "google"?).'),
        (
            "TIME_SOURCE",
            "harvst",
            "refresh",
            'TIME_SOURCE is "harvst"; use one of: csv, harvest, toggl, jira, asana (did you mean "harvest"?).',
        ),
        ("AI_ENABLED", "maybe", "preview", 'AI_ENABLED is "maybe"; use one of: true, false.'),
        ("AI_BATCH_SIZE", "abc", "refresh", 'AI_BATCH_SIZE is "abc"; use a whole number from 1 to 200.'),
    ],
)
def test_a_mistyped_setting_is_a_500_with_one_sentence(
    env, identity, sheets_emulator, monkeypatch, name, value, function, sentence
):
    monkeypatch.setenv(name, value)
    if name == "AI_BATCH_SIZE":
        monkeypatch.setenv("AI_ENABLED", "true")
    sheets_emulator.reset_calls()
    r = client(function).post("/", json={"period": "2026-10"}, headers=bearer(identity))
    assert r.status_code == 500
    assert r.get_json() == {"ok": False, "error": {"status": "FAILED_PRECONDITION", "message": sentence}}
    assert sheets_emulator.calls == []  # stopped before the sheet was touched
