"""A reviewed October in a real work folder (workbook, SQLite ledger), built once per worker and copied
into each test's tmp folder, so the bad-input cases stay fast."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from functions import pipeline
from tests.fakes import ListSource
from tests.test_spreadsheet_edits import OCT, col, edit, entries, services_for, workbook


@pytest.fixture(scope="session")
def _month_template(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("month")
    pipeline.refresh(services_for(work, ListSource(entries())), OCT)

    def review(wb):
        clients = wb["Clients"]
        clients.cell(row=2, column=col(clients, "Default Rate"), value=100)
        clients.cell(row=2, column=col(clients, "Terms"), value="Net 30")
        time = wb["Time"]
        for r in range(2, time.max_row + 1):
            time.cell(row=r, column=col(time, "Category"), value="Development")
            time.cell(row=r, column=col(time, "Approved"), value=True)

    edit(workbook(work), review)
    pipeline.preview(services_for(work), OCT)  # the Preview tab has its rows
    return work


@pytest.fixture
def month(_month_template: Path, tmp_path: Path) -> Path:
    """A copy of the reviewed month: 4 approved Acme rows (Time rows 2-5), a rate, a filled Preview tab."""
    work = tmp_path / "work"
    shutil.copytree(_month_template, work, ignore=shutil.ignore_patterns("*.lock"))
    return work
