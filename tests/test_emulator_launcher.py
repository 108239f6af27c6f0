"""`python -m tests.emulators up` as docs/emulators.md has a person use it: start it, take the environment it
prints, and run a month through the CLI against it (refresh from Harvest with Claude, review, preview, create
in QuickBooks, create again)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from functions.cli import main

ROOT = Path(__file__).resolve().parents[1]


def read_until_ready(proc: subprocess.Popen[str]) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("Ctrl+C stops them"):
            return lines
    raise AssertionError("the launcher ended before it was ready:\n" + "\n".join(lines))


def exported(lines: list[str]) -> dict[str, str]:
    env = {}
    for line in lines:
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = shlex.split(value)[0]
    return env


@pytest.fixture
def launched(tmp_path):
    env_file = tmp_path / ".env.emulators"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.emulators",
            "up",
            "--any-port",
            "--env-file",
            str(env_file),
            "--state-dir",
            str(tmp_path / "state"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = read_until_ready(proc)
        yield lines, env_file
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err  # stopped cleanly, as by Ctrl+C
        assert "Traceback" not in err, err


def run(capsys, *argv: str) -> dict:
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    payload = json.loads(out)
    assert code == 0 and payload["ok"] is True, payload
    return payload


def test_one_command_starts_every_emulator_and_a_month_runs_against_what_it_prints(
    launched, tmp_path, monkeypatch, capsys
):
    lines, env_file = launched
    env = exported(lines)
    assert {"SHEET", "GOOGLE_SHEET_ID", "ACCOUNTING", "QBO_TOKEN_STORE", "ANTHROPIC_BASE_URL", "TIME_SOURCE"} <= set(
        env
    )
    assert all("127.0.0.1" in v for k, v in env.items() if k.endswith("BASE_URL"))
    assert "GOOGLE_SHEETS_SPREADSHEET_ID" not in env  # one name for the sheet id
    written = exported(env_file.read_text(encoding="utf-8").splitlines())
    assert written == env  # the --env-file holds the same block

    for name in list(os.environ):
        if name.split("_")[0] in ("SHEET", "GOOGLE", "QBO", "AI", "ANTHROPIC", "HARVEST", "TOGGL", "ACCOUNTING"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WORKDIR", str(tmp_path / "work"))
    monkeypatch.chdir(tmp_path)  # no .env of the repository

    refreshed = run(capsys, "refresh", "--period", "2026-10")
    assert refreshed["imported"] == refreshed["new"] > 0 and refreshed["sources"][0].startswith("Harvest")
    assert refreshed["suggestions"].get("ai", 0) > 0  # Claude (the emulator) was asked

    listed = run(capsys, "review", "--period", "2026-10", "--list")
    assert len(listed["rows"]) == refreshed["imported"] and listed["approved"] == 0
    first = next(r for r in listed["rows"] if r["billable"] and r["category"] != "Design")
    reviewed = run(capsys, "review", "--period", "2026-10", "--category", f"{first['entry']}=Design", "--approve-all")
    assert reviewed["categories_fixed"] == 1 and reviewed["approved"] > 0

    previewed = run(capsys, "preview", "--period", "2026-10")
    assert previewed["invoices"]

    created = run(capsys, "create-invoices", "--period", "2026-10")
    assert created["created"] == len(previewed["invoices"]) and created["existing"] == 0
    assert all(i["number"] for i in created["invoices"])
    again = run(capsys, "create-invoices", "--period", "2026-10")
    assert again["created"] == 0
