"""The time source's API (the Harvest API v2 emulator, through the product's Harvest client): a 429, a 500,
a page that never answers, or the token refused, at the time-entries call of a refresh of a reviewed month;
then refresh again until it goes through, and create-invoices: nothing lost, nothing twice, edits kept."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from functions import pipeline
from functions.config import Settings, bootstrap
from functions.models import Period
from tests.emulators.harvest import HarvestEmulator
from tests.faults import matrix
from tests.faults.world import TimeTab, count, edit_workbook, ledger_invoices
from tests.seeding import seed_categories
from tests.sources.test_harvest import make_source

OCT = Period.parse("2026-10")
NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
KINDS = {"429": "429", "500": "500", "timeout": "timeout", "token refused": "401"}


@pytest.fixture(scope="module")
def emu():
    e = HarvestEmulator(entries=6)
    e.hang_seconds = 0.8  # past the client's read timeout (0.4 s)
    e.start()
    yield e
    e.stop()


def services(emu: HarvestEmulator, work: Path):
    return bootstrap(Settings(workdir=work, ai_enabled=False), source=make_source(emu), clock=lambda: NOW)


def until_done(job, emu: HarvestEmulator, work: Path, tries: int = 4) -> list[str]:
    failures: list[str] = []
    for _ in range(tries):
        try:
            job(services(emu, work), OCT)
            return failures
        except Exception as exc:  # whatever it was, the person reads it and runs the job again
            failures.append(f"{type(exc).__name__}: {exc}")
    raise AssertionError(f"the job never went through: {failures}")


@pytest.fixture(scope="module")
def template(emu, tmp_path_factory):
    work = tmp_path_factory.mktemp("month") / "w"
    seed_categories(services(emu, work).sheet)
    until_done(pipeline.refresh, emu, work)
    edited = edit_workbook(work / "invoicing.xlsx")
    return work, edited, set(TimeTab.from_workbook(work / "invoicing.xlsx").ids())


HARVEST = matrix.cases("harvest")


@pytest.mark.parametrize("case", HARVEST, ids=matrix.ids(HARVEST))
def test_a_fault_at_the_time_source_then_a_rerun_keeps_everything(case, emu, template, tmp_path, recorded):
    src, edited, ticked = template
    work = tmp_path / "w"
    shutil.copytree(src, work)
    emu.faults.clear()
    emu.fail_next(KINDS[case.fault], path="time_entries")
    failures = until_done(pipeline.refresh, emu, work)
    assert not any(f.times for f in emu.faults), "the fault was never reached"
    until_done(pipeline.create_invoices, emu, work)
    tab = TimeTab.from_workbook(work / "invoicing.xlsx")
    invoices = ledger_invoices(work / "ledger.sqlite")
    counts = count(tab, invoices, ticked, ticked, edited)
    recorded(case, counts)
    assert invoices and counts.bad() == 0, (counts, failures)
