"""QuickBooks Online (emulated, driven by python-quickbooks through the CLI): at every API call of
create-invoices a 429, a 500, a lost answer, a timeout after QuickBooks committed, an access token that
expires as the call arrives, or the process killed (SIGKILL) mid-call; then the command again, until it
goes through: one invoice per client, every entry billed once, every edit kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from functions.accounting.qbo_tokens import FileTokenStore, TokenSet, utcnow
from functions.cli import main as cli
from tests.emulators.quickbooks import QuickBooksEmulator
from tests.faults import matrix
from tests.faults.test_local_kill import PERIOD, ROOT, copy_month, killed_at, reviewed_month
from tests.faults.world import CLIENTS, TimeTab, count, qbo_invoices

PATHS = {
    "customer and invoice lookup (batch query)": "/batch#query",
    "invoice creation (batch create)": "/batch#create",
    "attachment upload": "/upload",
}
KINDS = {"429": "429", "500": "500", "drop": "drop", "timeout": "timeout", "token expired": "expire"}
HANG = 1.0  # how long a "timeout" answer hangs: past QBO_TIMEOUT_SECONDS below


@pytest.fixture(scope="module")
def emu():
    e = QuickBooksEmulator(hang_seconds=HANG)
    e.start()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return reviewed_month(tmp_path_factory.mktemp("month"))


@pytest.fixture
def month(template, tmp_path, monkeypatch, emu):
    """October refreshed and reviewed in the workbook, the QuickBooks connection made (one emulator for the
    module: each test has its own clients' invoices, the emulator's state is emptied of them first)."""
    emu.faults.clear()
    for entity in ("Invoice", "Attachable"):
        emu.db[entity].clear()
    emu.replay.clear()  # requestids derive from client and period: the same in every test
    emu.hang_seconds = HANG
    tokens = emu.oauth.issue()
    store = tmp_path / "tokens.json"
    expires = (utcnow() + timedelta(hours=1)).isoformat()
    FileTokenStore(store).save(TokenSet(tokens["access_token"], tokens["refresh_token"], emu.realm_id, expires))
    env = {**emu.env(), "QBO_TOKEN_STORE": f"file:{store}", "QBO_RETRY_BASE_SECONDS": "0.01"}
    work, _export, edited, ticked = copy_month(template, tmp_path, monkeypatch)
    for k, v in (env | {"QBO_TIMEOUT_SECONDS": "0.5"}).items():
        monkeypatch.setenv(k, v)
    return work, edited, ticked


def create(work: Path) -> list[str]:
    return ["create-invoices", *PERIOD, "--workdir", str(work), "--create-missing", "--json"]


def until_done(work: Path, capsys, runs: int = 4) -> list[dict]:
    """The person clicks Create invoices again until it goes through; returns each run's JSON answer."""
    answers = []
    for _ in range(runs):
        code = cli(create(work))
        out = capsys.readouterr().out
        answers.append(json.loads(out) if out.strip().startswith("{") else {"ok": False, "out": out})
        if code == 0:
            return answers
    raise AssertionError(f"create-invoices never went through: {answers}")


def kill_mid_call(emu: QuickBooksEmulator, path: str, work: Path, tmp_path: Path) -> None:
    """The run is killed while QuickBooks holds its call: a lookup before it is answered, a creation or an
    upload after QuickBooks committed it."""
    emu.hang_seconds = 30
    emu.fail_next("stall" if path == "/batch#query" else "timeout", path=path)
    env = {**os.environ, "QBO_TIMEOUT_SECONDS": "60"}
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), *create(work)], cwd=tmp_path, env=env)
    try:
        deadline = time.monotonic() + 60
        while any(f.times for f in emu.faults):  # the call has not reached QuickBooks yet
            assert proc.poll() is None, "the run ended before the call"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.1)  # past the commit of a creation or upload (it is committed before the hang)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    emu.hang_seconds = HANG


def mine(emu: QuickBooksEmulator) -> list[tuple[str, str]]:
    return [(c, n) for c, n in qbo_invoices(emu) if c in CLIENTS]


QBO = matrix.cases("quickbooks")


@pytest.mark.parametrize("case", QBO, ids=matrix.ids(QBO))
def test_a_fault_at_each_quickbooks_call_then_a_rerun_loses_nothing(case, month, emu, tmp_path, recorded, capsys):
    work, edited, ticked = month
    if case.step in PATHS and case.fault == matrix.KILL:
        kill_mid_call(emu, PATHS[case.step], work, tmp_path)
    elif case.fault == matrix.KILL:  # the workbook save after the invoices were created
        killed_at("open:.xlsx", create(work), tmp_path, dict(os.environ))
        assert len(mine(emu)) == 2
    else:
        emu.fail_next(KINDS[case.fault], path=PATHS[case.step])
    refreshes = emu.oauth.refresh_calls
    answers = until_done(work, capsys)
    if case.fault == "token expired":
        assert emu.oauth.refresh_calls > refreshes  # the run refreshed the token and went on
    assert not any(f.times for f in emu.faults), "the fault was never reached"
    tab = TimeTab.from_workbook(work / "invoicing.xlsx")
    counts = count(tab, mine(emu), ticked, ticked, edited)
    recorded(case, counts)
    assert sorted(c for c, _ in mine(emu)) == sorted(CLIENTS)
    assert counts.bad() == 0, (counts, answers)
    ours = {i["Id"] for i in emu.all("Invoice") if i["CustomerRef"]["name"] in CLIENTS}
    attached = [a for a in emu.all("Attachable") if a["AttachableRef"][0]["EntityRef"]["value"] in ours]
    assert len(attached) == 4, attached  # a time detail and a PDF each, none twice
