"""A reissue whose process is killed (SIGKILL) after QuickBooks voided the old invoice, before the corrected one was
created or the workbook written: the same command run again finishes it, with one live invoice at every moment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from functions.accounting.qbo_tokens import FileTokenStore, TokenSet, utcnow
from functions.cli import main
from tests.emulators.quickbooks import QuickBooksEmulator
from tests.test_cli import run, with_categories
from tests.test_reissue_entry_points import EXPORT_HEADER, as_person, cells, entry

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def emu():
    e = QuickBooksEmulator(hang_seconds=30)
    e.start()
    yield e
    e.stop()


def umbra(emu) -> list[dict]:
    return [i for i in emu.all("Invoice") if i["CustomerRef"]["name"] == "Umbra Games"]


def live(emu) -> list[str]:
    return [i["DocNumber"] for i in umbra(emu) if not i["PrivateNote"].startswith("Voided")]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_reissue_killed_after_the_void_finishes_on_the_next_run(tmp_path, emu, monkeypatch, capsys):
    tokens = emu.oauth.issue()
    FileTokenStore(tmp_path / "tokens.json").save(
        TokenSet(
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            realm_id=emu.realm_id,
            access_expires_at=(utcnow() + timedelta(hours=1)).isoformat(),
        )
    )
    env = {**emu.env(), "QBO_TOKEN_STORE": f"file:{tmp_path / 'tokens.json'}", "AI_ENABLED": "false"}
    env |= {"QBO_RETRY_BASE_SECONDS": "0.01", "QBO_TIMEOUT_SECONDS": "60"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)  # no stray .env
    work = tmp_path / "w"
    export = tmp_path / "toggl.csv"
    export.write_text(EXPORT_HEADER + entry(5, "hero banner") + entry(6, "level editor") + entry(7, "wpi"), "utf-8")
    with_categories(capsys, work)
    assert run(capsys, "refresh", "--csv", str(export), "--period", "2026-10", "--workdir", str(work))[0] == 0
    book = work / "invoicing.xlsx"

    def approve(wb, dispute=False):
        clients = wb["Clients"]
        col = {c.value: i + 1 for i, c in enumerate(clients[1])}
        clients.cell(2, col["Default Rate"], 100)
        time_ws = wb["Time"]
        approved = [c.value for c in time_ws[1]].index("Approved") + 1
        for r in range(2, time_ws.max_row + 1):
            time_ws.cell(r, approved, not (dispute and r == 4))

    as_person(book, approve)
    code, out, _ = run(
        capsys, "create-invoices", "--period", "2026-10", "--workdir", str(work), "--create-missing", "--json"
    )
    assert code == 0 and json.loads(out)["invoices"][0]["number"] == "1001", out
    as_person(book, lambda wb: approve(wb, dispute=True))  # the client disputes the third entry

    emu.fail_next("timeout", path="/invoice", operation="void")  # QuickBooks voids it; the answer takes forever
    argv = ["create-invoices", "--reissue", "Umbra Games", "--period", "2026-10", "--workdir", str(work)]
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), *argv], cwd=tmp_path, env={**os.environ})
    try:
        deadline = time.monotonic() + 60
        while not any(i["PrivateNote"].startswith("Voided") for i in umbra(emu)):
            assert proc.poll() is None, "the reissue ended before it voided"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.kill()  # the process dies between the void and the creation
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert live(emu) == [] and len(umbra(emu)) == 1
    assert cells(load_workbook(book)["Time"], "Invoice") == ["1001"] * 3  # the workbook was not written

    code, out, err = run(capsys, "create-invoices", *argv[1:], "--json")
    healed = json.loads(out)
    assert code == 0 and healed["outcome"] == "reissued" and healed["replaces"] == "1001", err
    assert live(emu) == ["1002"] and len(umbra(emu)) == 2
    assert cells(load_workbook(book)["Time"], "Invoice") == ["1002", "1002", None]
    assert main(argv + ["--json"]) == 0 and json.loads(capsys.readouterr().out)["outcome"] == "up to date"
