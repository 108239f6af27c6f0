"""Every emulator on the shared lifecycle: starts on a free port, answers there, stops and frees the port;
and `python -m tests.emulators.<name>` runs each one by hand."""

from __future__ import annotations

import base64
import json
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.emulators._server import LocalServer, serve
from tests.emulators.anthropic import AnthropicEmulator
from tests.emulators.google_certs import SERVICE_ACCOUNT, GoogleIdentity
from tests.emulators.harvest import HarvestEmulator
from tests.emulators.quickbooks import QuickBooksEmulator
from tests.emulators.sheets import SheetsEmulator
from tests.emulators.toggl import TogglEmulator

ROOT = Path(__file__).resolve().parents[2]


# Each check drives an emulator through the settings it prints for the adapter (its env()), so they are true.


def _harvest(env: dict[str, str]) -> None:
    r = requests.get(
        f"{env['HARVEST_BASE_URL']}/users/me",
        timeout=5,
        headers={
            "Authorization": f"Bearer {env['HARVEST_TOKEN']}",
            "Harvest-Account-Id": env["HARVEST_ACCOUNT_ID"],
            "User-Agent": env["HARVEST_USER_AGENT"],
        },
    )
    assert r.status_code == 200 and r.json()["is_active"] is True


def _toggl(env: dict[str, str]) -> None:
    auth = base64.b64encode(f"{env['TOGGL_API_TOKEN']}:api_token".encode()).decode()
    r = requests.get(
        f"{env['TOGGL_BASE_URL']}/api/v9/workspaces/{env['TOGGL_WORKSPACE_ID']}",
        timeout=5,
        headers={"Authorization": f"Basic {auth}"},
    )
    assert r.status_code == 200 and r.json()["id"] == int(env["TOGGL_WORKSPACE_ID"])


def _quickbooks(env: dict[str, str]) -> None:
    base = env["QBO_BASE_URL"]
    doc = requests.get(f"{base}/.well-known/openid_sandbox_configuration/", timeout=5).json()
    assert doc["token_endpoint"] == f"{base}/oauth2/v1/tokens/bearer"
    r = requests.post(
        doc["token_endpoint"],
        auth=(env["QBO_CLIENT_ID"], env["QBO_CLIENT_SECRET"]),
        timeout=5,
        data={"grant_type": "refresh_token", "refresh_token": "never-issued"},
    )
    assert r.status_code == 400 and r.json() == {"error": "invalid_grant"}  # the client is known, the grant not


def _sheets(env: dict[str, str]) -> None:
    base, sid = env["GOOGLE_SHEETS_API_BASE_URL"], env["GOOGLE_SHEET_ID"]
    r = requests.get(f"{base}/v4/spreadsheets/{sid}", timeout=5)
    assert r.status_code == 401 and r.json()["error"]["status"] == "UNAUTHENTICATED"

    def token_for(email: str) -> str:
        claims = base64.urlsafe_b64encode(json.dumps({"iss": email}).encode()).decode().rstrip("=")
        grant = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": f"e30.{claims}.sig"}
        return requests.post(f"{base}/token", timeout=5, data=grant).json()["access_token"]

    def get(token: str) -> requests.Response:
        return requests.get(f"{base}/v4/spreadsheets/{sid}", timeout=5, headers={"Authorization": f"Bearer {token}"})

    r = get(token_for(SERVICE_ACCOUNT))  # the spreadsheet is shared with the tests' service account
    assert r.status_code == 200 and r.json()["spreadsheetId"] == sid
    assert get(token_for("someone@else.example")).json()["error"]["status"] == "PERMISSION_DENIED"


def _anthropic(env: dict[str, str]) -> None:
    r = requests.post(
        f"{env['ANTHROPIC_BASE_URL']}/v1/messages",
        timeout=5,
        json={"model": "claude-haiku-4-5", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]},
        headers={"x-api-key": env["ANTHROPIC_API_KEY"], "anthropic-version": "2023-06-01"},
    )
    assert r.status_code == 200 and r.json()["type"] == "message" and r.headers["request-id"].startswith("req_")


CHECKS: dict[type[LocalServer], Callable[[dict[str, str]], None]] = {
    HarvestEmulator: _harvest,
    TogglEmulator: _toggl,
    QuickBooksEmulator: _quickbooks,
    SheetsEmulator: _sheets,
    AnthropicEmulator: _anthropic,
}


def _identity(emu: GoogleIdentity) -> None:
    assert requests.get(emu.certs_url, timeout=5).json() == {emu.kid: emu.cert_pem}
    assert emu.cert_fetches == 1


def _probe(emu: LocalServer) -> None:
    if isinstance(emu, GoogleIdentity):
        return _identity(emu)
    if isinstance(emu, SheetsEmulator):
        emu.create("probe")
    CHECKS[type(emu)](emu.env())


PROBES = [*CHECKS, GoogleIdentity]


@pytest.mark.parametrize("cls", PROBES, ids=lambda c: c.__name__)
def test_starts_on_a_free_port_answers_and_stops_freeing_it(cls: type[LocalServer]) -> None:
    with cls() as emu, cls() as other:  # port 0: each gets a free port of its own
        port, url = emu.port, emu.base_url
        assert port > 0 and other.port not in (0, port)
        assert url.startswith(f"http://127.0.0.1:{port}")
        _probe(emu)
    with pytest.raises(requests.ConnectionError):  # stopped: nothing answers there
        requests.get(url, timeout=2)
    with pytest.raises(AssertionError, match="start"):
        emu.port  # noqa: B018 - reading it is the test
    again = cls()
    assert again.start(port) == url  # the port was freed: a new one listens on it at once
    try:
        _probe(again)
    finally:
        again.stop()
    again.stop()  # stopping twice is harmless


# -- run by hand: python -m tests.emulators.<name> --------------------------------------------------------

BY_HAND = {  # module -> (emulator, the settings it prints)
    "sheets": (SheetsEmulator, {"SHEET", "GOOGLE_SHEETS_API_BASE_URL", "GOOGLE_SHEET_ID"}),
    "anthropic": (AnthropicEmulator, {"AI_ENABLED", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"}),
    "quickbooks": (
        QuickBooksEmulator,
        {"ACCOUNTING", "QBO_BASE_URL", "QBO_REALM_ID", "QBO_CLIENT_ID", "QBO_CLIENT_SECRET", "QBO_REDIRECT_URI"},
    ),
    "harvest": (
        HarvestEmulator,
        {"TIME_SOURCE", "HARVEST_BASE_URL", "HARVEST_ACCOUNT_ID", "HARVEST_TOKEN", "HARVEST_USER_AGENT"},
    ),
    "toggl": (TogglEmulator, {"TIME_SOURCE", "TOGGL_BASE_URL", "TOGGL_WORKSPACE_ID", "TOGGL_API_TOKEN"}),
}


def _printed(proc: subprocess.Popen) -> list[str]:
    assert proc.stdout is not None
    lines = [proc.stdout.readline()]
    while lines[-1] and lines[-1] != "Ctrl+C stops it.\n":
        lines.append(proc.stdout.readline())
    return lines


def test_each_emulator_module_runs_it_by_hand_prints_true_settings_and_stops_on_ctrl_c() -> None:
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", f"tests.emulators.{name}", "--port", "0"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in BY_HAND
    }
    try:
        for name, proc in procs.items():
            cls, names = BY_HAND[name]
            lines = _printed(proc)
            assert lines[-1] == "Ctrl+C stops it.\n", (name, lines, proc.stderr.read() if proc.stderr else "")
            assert lines[0].startswith(f"{cls.title} emulator on http://127.0.0.1:"), lines[0]
            assert lines[0].rstrip().endswith("Point the adapter at it with:"), lines[0]
            url = lines[0].split(" on ", 1)[1].split(" ", 1)[0]
            env = dict(
                shlex.split(line.removeprefix("  export "))[0].split("=", 1)
                for line in lines
                if line.startswith("  export ")
            )
            assert set(env) == names, name
            assert any(value.startswith(url) for value in env.values()), (name, url, env)
            CHECKS[cls](env)  # the printed settings reach it and it answers as the API would
        for name, proc in procs.items():
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=10) == 0, name  # Ctrl+C: a clean stop
            assert proc.stderr is not None and proc.stderr.read() == "", name  # ... without a traceback
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait()


@pytest.mark.parametrize("module", list(BY_HAND))
def test_help_names_port_and_the_emulators_own_options(module: str, capsys: pytest.CaptureFixture[str]) -> None:
    cls, _ = BY_HAND[module]
    with pytest.raises(SystemExit) as done:
        serve(cls, ["--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0
    assert f"Run the {cls.title} emulator on 127.0.0.1" in out and "Ctrl+C" in out
    assert f"(default: {cls.default_port})" in out
    options = {
        "sheets": "--key-dir",
        "anthropic": "--api-key",
        "quickbooks": "--empty",
        "harvest": "--period",
        "toggl": "--entries",
    }
    assert options[module] in out


def test_the_default_ports_differ_so_all_run_at_once() -> None:
    ports = [cls.default_port for cls, _ in BY_HAND.values()]
    assert len(set(ports)) == len(ports) and 0 not in ports


def test_a_taken_port_is_named_with_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    with TogglEmulator() as busy, pytest.raises(SystemExit) as done:
        port = busy.port
        serve(TogglEmulator, ["--port", str(port)])
    assert done.value.code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_sheets_with_a_key_dir_prints_a_key_file_the_adapter_signs_in_with(tmp_path: Path) -> None:
    with SheetsEmulator(key_dir=tmp_path / "keys") as emu:
        env = emu.env()
        assert emu.key_file == tmp_path / "keys" / "service-account.json"
        assert env["GOOGLE_SHEETS_CREDENTIALS_FILE"] == str(emu.key_file)
        info = json.loads(emu.key_file.read_text(encoding="utf-8"))
        assert info["type"] == "service_account" and info["token_uri"] == emu.base_url + "/token"


@pytest.mark.parametrize("emulator", [SheetsEmulator, QuickBooksEmulator, AnthropicEmulator])
def test_one_latency_switch_holds_every_emulators_requests(emulator, monkeypatch):
    import time

    from tests.emulators._server import latency_from_env

    monkeypatch.setenv("EMULATOR_LATENCY_MS", "40")
    assert latency_from_env() == 40.0
    emu = emulator()
    emu.start()
    try:
        started = time.perf_counter()
        requests.get(emu.base_url + "/nowhere", timeout=5)  # whatever it answers, it answers late
        assert time.perf_counter() - started >= 0.04
    finally:
        emu.stop()
    monkeypatch.setenv("EMULATOR_LATENCY_MS", "fast")
    with pytest.raises(ValueError, match="EMULATOR_LATENCY_MS"):
        latency_from_env()
