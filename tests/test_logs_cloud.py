"""The Cloud Functions' logs on a whole month: refresh (Harvest, Claude), review, preview and create (QuickBooks),
through the functions-framework app against the emulators, with known secret values everywhere.

Every line is a JSON object Cloud Logging understands, carries the run id, the job, the caller and the request's
trace, the stages are logged with counts and seconds, and no secret, token or prompt text appears in any line.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import functions_framework
import pytest

from functions.accounting.qbo_tokens import FileTokenStore, TokenSet
from functions.cli import main
from tests.emulators.anthropic import AnthropicEmulator
from tests.emulators.google_certs import GoogleIdentity
from tests.emulators.harvest import HarvestEmulator
from tests.emulators.quickbooks import QuickBooksEmulator
from tests.emulators.up import ROOT, seed_settings

FUNCTION_URL = "https://europe-west1-acme.cloudfunctions.net/invoicing"
OPS = "ops@agency.example"
PROJECT = "acme-invoicing"
TRACE_ID = "105445aa7843bc8bf206b12000100000"
HARVEST_TOKEN = "hv-known-2119.pt.SECRETVALUE-harvest"
ANTHROPIC_KEY = "sk-ant-api03-KNOWNSECRETVALUE-anthropic"
QBO_CLIENT_SECRET = "qbo-KNOWN-client-secret-4f1d"


@pytest.fixture
def month(monkeypatch, tmp_path, identity: GoogleIdentity, gsettings, sa_file):
    harvest = HarvestEmulator(token=HARVEST_TOKEN)
    claude = AnthropicEmulator(api_key=ANTHROPIC_KEY)
    qbo = QuickBooksEmulator(client_secret=QBO_CLIENT_SECRET)
    servers = [harvest, claude, qbo]
    for server in servers:
        server.start()
    try:
        tokens = tmp_path / "qbo-tokens.json"
        issued = qbo.oauth.issue()
        FileTokenStore(tokens).save(
            TokenSet(
                access_token=issued["access_token"],
                refresh_token=issued["refresh_token"],
                realm_id=qbo.realm_id,
                access_expires_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            )
        )
        env = {
            **harvest.env(),
            **claude.env(),
            **qbo.env(),
            "QBO_TOKEN_STORE": f"file:{tokens}",
            "INVOICING_ALLOWED_CALLERS": OPS,
            "INVOICING_AUDIENCES": FUNCTION_URL,
            "INVOICING_ID_TOKEN_CERTS_URL": identity.certs_url,
            "SHEET": "google",
            "WORKDIR": str(tmp_path / "work"),
            "GOOGLE_SHEET_ID": gsettings.spreadsheet_id,
            "GOOGLE_SHEETS_CREDENTIALS_FILE": str(gsettings.credentials_file),
            "GOOGLE_SHEETS_API_BASE_URL": gsettings.api_base_url,
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "LOG_LEVEL": "DEBUG",
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(tmp_path)
        from functions.settings import Settings

        seed_settings(Settings())
        yield {"qbo": qbo, "tokens": tokens, "issued": issued, "sa_file": sa_file}
    finally:
        for server in servers:
            server.stop()
        root = logging.getLogger()
        for h in [h for h in root.handlers if h.get_name() == "invoicing"]:
            root.removeHandler(h)
        root.setLevel(logging.WARNING)


def call(function: str, identity: GoogleIdentity, token: str, span: int) -> dict:
    app = functions_framework.create_app(target=function, source=str(ROOT / "main.py")).test_client()
    headers = {"Authorization": f"Bearer {token}", "X-Cloud-Trace-Context": f"{TRACE_ID}/{span};o=1"}
    r = app.post("/", json={"period": "2026-10"}, headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_a_month_through_the_functions_logs_json_lines_with_stages_and_no_secret(month, identity, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    token = identity.token(OPS, FUNCTION_URL)

    refreshed = call("refresh", identity, token, 1)
    assert refreshed["imported"] > 0 and refreshed["suggestions"].get("ai", 0) > 0  # Claude was asked
    refresh_log = capsys.readouterr().err

    assert main(["review", "--period", "2026-10", "--approve-all", "--json"]) == 0  # the person, in the sheet
    capsys.readouterr()
    month["qbo"].oauth.expire_access_tokens()  # QuickBooks' access token runs out: the run refreshes it
    month["qbo"].oauth.age_refresh_tokens()  # and a day has passed: the refresh token rotates

    previewed = call("preview", identity, token, 2)
    created = call("create_invoices", identity, token, 3)
    assert created["created"] == len(previewed["invoices"]) > 0
    later_log = capsys.readouterr().err

    lines = [json.loads(line) for line in (refresh_log + later_log).splitlines() if line.strip()]
    ours = [line for line in lines if line.get("job")]
    assert {line["job"] for line in ours} == {"refresh", "preview", "create_invoices"}
    for line in ours:
        assert line["severity"] in ("DEBUG", "INFO", "WARNING", "ERROR") and line["message"]
        assert line["logging.googleapis.com/trace"] == f"projects/{PROJECT}/traces/{TRACE_ID}"
        assert line["run_id"] and line["caller"] == OPS or "refused" in line["message"]
    messages = [line["message"] for line in ours]
    assert any(m.startswith("refresh: step 3/5 started: suggesting categories") for m in messages)
    assert any(m.startswith("refresh: Claude: 1 of 1 request(s) answered") for m in messages), messages
    assert any(m.startswith("preview: step 3/3 ended after ") for m in messages), messages
    counted = f"({created['created']}/{created['created']})"
    assert any(m.startswith("create_invoices: ") and m.endswith(counted) for m in messages), messages
    done = {line["job"]: line for line in ours if line["message"].endswith(" s") and " done in " in line["message"]}
    assert done["refresh"]["imported"] == refreshed["imported"] and done["refresh"]["seconds"] >= 0
    assert done["create_invoices"]["created"] == created["created"]
    assert sorted(done["create_invoices"]["clients"]) == sorted(i["client"] for i in created["invoices"])
    ended = [line for line in ours if "ended after" in line["message"]]
    assert ended and all(isinstance(line["seconds"], float) for line in ended)

    # no secret, token or prompt text in any line, neither what reaches Cloud Logging nor what the code logged
    rotated = TokenSet.from_json(month["tokens"].read_text(encoding="utf-8"), "tokens")
    assert rotated.refresh_token != month["issued"]["refresh_token"]  # the run did refresh and rotate
    private_key = json.loads(month["sa_file"].read_text(encoding="utf-8"))["private_key"]
    secrets = {
        "Harvest token": HARVEST_TOKEN,
        "Anthropic key": ANTHROPIC_KEY,
        "QuickBooks client secret": QBO_CLIENT_SECRET,
        "QuickBooks access token": month["issued"]["access_token"],
        "QuickBooks refresh token": month["issued"]["refresh_token"],
        "rotated access token": rotated.access_token,
        "rotated refresh token": rotated.refresh_token,
        "the caller's ID token": token,
        "the service account's key": private_key.splitlines()[1],
        "prompt text": "You categorize time entries",
        "an entry's notes (sent in the prompt)": "Wireframes for onboarding",
    }
    everything = refresh_log + later_log + caplog.text
    for what, value in secrets.items():
        assert value not in everything, what
