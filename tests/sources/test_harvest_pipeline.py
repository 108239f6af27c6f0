"""End to end: the lead's refresh pulls a month from the Harvest emulator, then picks up an edit in place."""

from __future__ import annotations

from decimal import Decimal

import pytest

from functions import pipeline
from functions.config import Settings, bootstrap
from functions.models import Period
from tests.emulators.harvest import HarvestEmulator
from tests.fakes import MemorySheet
from tests.seeding import seed_categories
from tests.sources.test_harvest import make_source

OCT = Period.parse("2026-10")


@pytest.fixture
def emu():
    e = HarvestEmulator()
    e.start()
    yield e
    e.stop()


def time_rows(sheet: MemorySheet) -> dict[str, int]:
    """Entry ID -> row number of the Time tab."""
    c = sheet.col("Time", "Entry ID")
    return {str(row[c]): i for i, row in enumerate(sheet.tabs["Time"][1:], start=2) if len(row) > c and row[c]}


def test_refresh_pulls_the_month_then_updates_an_edited_entry_in_place(emu, tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)  # the offline categorizer chain
    sheet = seed_categories(MemorySheet())
    services = bootstrap(Settings(workdir=tmp_path), source=make_source(emu), sheet=sheet)

    first = pipeline.refresh(services, OCT)
    assert (first.imported, first.new, first.updated) == (48, 48, 0)
    assert first.sources == ["Harvest API (account 1234567): 48 entries in 2026-10"]
    rows = time_rows(sheet)
    assert len(rows) == 48 and set(rows) == {
        str(e["id"]) for e in emu.entries.values() if e["spent_date"].startswith("2026-10")
    }

    target = next(iter(rows))
    old_hours = emu.entries[int(target)]["hours"]
    new_hours = old_hours + Decimal("2.25")
    emu.edit_entry(int(target), hours=new_hours)
    second = pipeline.refresh(services, OCT)

    assert (second.imported, second.new, second.updated, second.unchanged) == (48, 0, 1, 47)
    assert time_rows(sheet) == rows  # same rows, nothing appended
    assert Decimal(str(sheet.get("Time", rows[target], "Hours"))) == new_hours
    assert sheet.get("Time", rows[target], "Source") == "harvest-api"

    # A completed fetch covers the source, so an entry deleted in Harvest is flagged, not silently kept.
    emu.delete_entry(int(target))
    third = pipeline.refresh(services, OCT)
    assert (third.imported, third.gone) == (47, 1)
    assert time_rows(sheet) == rows  # the row stays for people to see; refresh flags it
