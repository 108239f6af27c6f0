"""The Google Sheet (emulated, driven by gspread and google-auth): at the sheet read and the sheet write of
refresh and create-invoices a 429, a 500, a write that landed but answered 500, or an access token that
expires as the call arrives; then the job again until it goes through: nothing lost, nothing twice, the
person's edits (made in the sheet before the fault) kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from functions import pipeline
from functions.config import Settings, bootstrap, csv_source
from functions.models import Period
from functions.sheet.gsheets import GoogleSheet
from tests.faults import matrix
from tests.faults.world import CLIENTS, TimeTab, count, ledger_invoices, review, write_export
from tests.seeding import seed_categories

OCT = Period.parse("2026-10")
NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
CALLS = {"sheet read": "values:batchGet", "sheet write": ":batchUpdate"}
KINDS = {"429": "429", "500": "500", "drop": "drop", "token expired": "expire"}


def run(job, gsettings, work: Path, export: Path, tries: int = 4) -> list[str]:
    """The job, again until it goes through (each run a new process would be: a new sheet client)."""
    failures: list[str] = []
    for _ in range(tries):
        services = bootstrap(
            Settings(workdir=work, ai_enabled=False),
            sheet=GoogleSheet.from_settings(gsettings),
            source=csv_source([export]),
            clock=lambda: NOW,
        )
        try:
            job(services, OCT)
            return failures
        except Exception as exc:  # whatever it was, the person reads it and runs the job again
            failures.append(f"{type(exc).__name__}: {exc}")
    raise AssertionError(f"the job never went through: {failures}")


def tab(sheets_emulator, sid: str, name: str) -> list[list[Any]]:
    return sheets_emulator.values(sid, name)


@pytest.fixture
def month(gsettings, sheets_emulator, tmp_path):
    sheets_emulator.at_call.clear()
    sid = gsettings.spreadsheet_id
    seed_categories(GoogleSheet.from_settings(gsettings))
    export = write_export(tmp_path / "toggl.csv")
    run(pipeline.refresh, gsettings, tmp_path, export)
    ss = sheets_emulator.spreadsheets[sid]
    grids = {t: tab(sheets_emulator, sid, t) for t in ("Clients", "Time")}
    for name, r, header, value in review(grids):  # the person, in the sheet's UI
        ss.sheet(name).cells[(r - 1, list(grids[name][0]).index(header))] = value
    time_tab = TimeTab.from_grid(tab(sheets_emulator, sid, "Time"))
    edited = str(time_tab.rows[0]["Entry ID"])
    return export, edited, set(time_tab.ids())


GS = matrix.cases("google-sheets")


@pytest.mark.parametrize("case", GS, ids=matrix.ids(GS))
def test_a_fault_at_each_sheet_call_then_a_rerun_keeps_everything(
    case, month, gsettings, sheets_emulator, tmp_path, recorded
):
    export, edited, ticked = month
    expected = set(ticked)
    call = CALLS["sheet write" if case.step.startswith("sheet write") else "sheet read"]
    sheets_emulator.fail_at(KINDS[case.fault], call)
    if case.job == "refresh":
        write_export(export, extra=1)  # a late entry arrives
        failures = run(pipeline.refresh, gsettings, tmp_path, export)
        run(pipeline.create_invoices, gsettings, tmp_path, export)
    else:
        failures = run(pipeline.create_invoices, gsettings, tmp_path, export)
    assert [f for f in sheets_emulator.at_call if f[2]] == [], "the fault was never reached"
    time_tab = TimeTab.from_grid(tab(sheets_emulator, gsettings.spreadsheet_id, "Time"))
    if case.job == "refresh":
        expected |= set(time_tab.ids()) - ticked
        assert len(expected) == 7
    invoices = ledger_invoices(tmp_path / "ledger.sqlite")
    counts = count(time_tab, invoices, expected, ticked, edited)
    recorded(case, counts)
    assert sorted(c for c, _ in invoices) == sorted(CLIENTS)
    assert counts.bad() == 0, (counts, failures)
