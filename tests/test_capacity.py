"""The pre-check that refuses, before anything is read or written, a month too big for FUNCTION_MEMORY."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from functions.capacity import TooBigForFunction, check, estimate_mib, smallest_fitting, time_rows
from functions.cli import main
from functions.sheet.workbook import LocalWorkbook
from tests.test_cloud import bearer, client, env  # noqa: F401  (env is a fixture)

SAMPLE = Path(__file__).resolve().parents[1] / "functions" / "sample"


@pytest.mark.parametrize(
    "rows, memory, fits",
    [(0, "256Mi", True), (17_430, "512Mi", True), (100_000, "512Mi", False), (100_000, "2Gi", True)],
)
def test_the_estimate_against_the_configured_memory(rows, memory, fits):
    if fits:
        check(rows, memory, "refresh")
        return
    with pytest.raises(TooBigForFunction) as info:
        check(rows, memory, "refresh")
    text = str(info.value)
    assert "100,000 rows" in text and "512Mi" in text and "FUNCTION_MEMORY=2Gi" in text
    assert "nothing was changed" in text and "docs/RUNBOOK.md#month-too-big-for-the-function" in text


def test_the_size_to_set_is_the_smallest_that_fits():
    assert smallest_fitting(estimate_mib(1_000)) == "256Mi"
    assert smallest_fitting(estimate_mib(100_000)) == "2Gi"
    assert smallest_fitting(64 * 1024) is None
    with pytest.raises(TooBigForFunction, match="no Cloud Function is that big"):
        check(10_000_000, "32Gi", "refresh")


def test_the_cli_refuses_before_touching_the_workbook_or_the_ledger(tmp_path, capsys, monkeypatch):
    work = ["--workdir", str(tmp_path), "--json"]
    assert main(["setup-sheet", "--categories", str(SAMPLE / "config" / "Categories.csv"), *work]) == 0
    assert (
        main(["refresh", "--csv", str(SAMPLE / "exports" / "october_clockify.csv"), "--period", "2026-10", *work]) == 0
    )
    capsys.readouterr()
    workbook = next(tmp_path.glob("*.xlsx"))
    rows = load_workbook(workbook, read_only=True)["Time"].max_row - 1
    assert time_rows(LocalWorkbook(workbook)) == rows > 100
    before = workbook.read_bytes()

    monkeypatch.setenv("FUNCTION_MEMORY", "64Mi")
    for command in (["create-invoices", "--period", "2026-10"], ["preview", "--period", "2026-10"]):
        assert main([*command, *work]) == 1
        answer = json.loads(capsys.readouterr().out)
        assert answer["ok"] is False and f"The Time tab holds {rows:,} rows" in answer["error"]
        assert "FUNCTION_MEMORY=256Mi" in answer["error"]
    assert workbook.read_bytes() == before and not list(tmp_path.glob("*.sqlite*"))

    monkeypatch.setenv("FUNCTION_MEMORY", "512Mi")
    assert main(["preview", "--period", "2026-10", *work]) == 0


def test_the_function_answers_before_it_starts_and_writes_nothing(env, identity, sheets_emulator, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FUNCTION_MEMORY", "512Mi")
    r = client("refresh").post("/", json={"period": "2026-10"}, headers=bearer(identity))
    assert r.status_code == 200, r.get_json()

    # the Time tab grows to 100,000 rows (a big agency's month): the next run is refused before any write
    ss = sheets_emulator.spreadsheets[env.spreadsheet_id]
    ss.sheet("Time").grid["rowCount"] = 100_001
    # as the run that grew it left the state cell (Runs!Z1): the next run learns the size from its one read
    state = json.loads(ss.sheet("Runs").cells[(0, 25)])
    state["tabs"]["Time"][1] = 100_001
    ss.sheet("Runs").cells[(0, 25)] = json.dumps(state)
    before = sheets_emulator.values(env.spreadsheet_id, "Time")
    mark = len(sheets_emulator.calls)
    r = client("create_invoices").post("/", json={"period": "2026-10"}, headers=bearer(identity))
    assert r.status_code == 500
    error = r.get_json()["error"]
    assert error["status"] == "FAILED_PRECONDITION"
    assert "100,000 rows" in error["message"] and "FUNCTION_MEMORY=2Gi" in error["message"]
    calls = [(c["method"], c["path"]) for c in sheets_emulator.calls[mark:] if c["path"].startswith("/v4/")]
    assert len(calls) == 1 and calls[0][0] == "GET" and "values:batchGet" in calls[0][1]  # the run's one read
    assert sheets_emulator.values(env.spreadsheet_id, "Time") == before
