"""End to end: the lead's refresh pulls a month from the Harvest emulator, then picks up an edit in place."""

from __future__ import annotations

from datetime import UTC, datetime
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

    # Harvest has no feed of deletions: an incremental refresh cannot see one, and says nothing about the row;
    # a full one covers the source, so the entry deleted in Harvest is flagged, not silently kept.
    emu.delete_entry(int(target))
    third = pipeline.refresh(services, OCT)
    assert third.gone == 0 and "changed since" in third.sources[0]
    fourth = pipeline.refresh(services, OCT, full=True)
    assert (fourth.imported, fourth.gone) == (47, 1)
    assert time_rows(sheet) == rows  # the row stays for people to see; refresh flags it
    fifth = pipeline.refresh(services, OCT)  # incremental again: the flag stays
    assert "No longer in the source" in sheet.get("Time", rows[target], "Flags")
    assert fifth.gone == 0


def test_a_resync_asks_harvest_only_what_changed_in_two_calls(emu, tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    sheet = seed_categories(MemorySheet())
    clock = Clock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    services = bootstrap(Settings(workdir=tmp_path), source=make_source(emu), sheet=sheet, clock=clock)
    first = pipeline.refresh(services, OCT)
    assert first.new == 48 and emu.count() == 4  # users/me, company, time_entries, users
    marks = sheet.tabs["Sync"]
    assert marks[1][:4] == ["harvest-api", "2026-10", "2026-11-02T09:00:00Z", "2026-11-02T09:00:00Z"]

    # Everything in the emulator was updated "now" (real time); age it so only the edit is newer than the mark.
    for e in emu.entries.values():
        e["updated_at"] = "2026-11-01T08:00:00Z"
    target = next(iter(time_rows(sheet)))
    emu.edit_entry(int(target), notes="Checkout flow fixes, second pass")
    emu.entries[int(target)]["updated_at"] = "2026-11-02T10:30:00Z"
    clock.now = datetime(2026, 11, 2, 11, 0, tzinfo=UTC)
    emu.calls.clear()
    second = pipeline.refresh(services, OCT)
    assert [p for _, p, _ in emu.calls] == ["/v2/users/me", "/v2/time_entries"]
    assert emu.calls[1][2]["updated_since"] == "2026-11-02T08:50:00Z"  # the mark less the 10-minute overlap
    assert (second.imported, second.updated, second.unchanged, second.gone) == (1, 1, 47, 0)
    assert sheet.get("Time", time_rows(sheet)[target], "Notes") == "Checkout flow fixes, second pass"

    emu.calls.clear()
    clock.now = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
    third = pipeline.refresh(services, OCT)
    assert len(emu.calls) == 2 and third.imported == 0 and third.new == 0

    # A day after the last full sync, the month is pulled in full again (deletions show up then); the web
    # address and the people (read less than PEOPLE_MAX_AGE ago by the source's own clock) come from the cache.
    emu.calls.clear()
    clock.now = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
    pipeline.refresh(services, OCT)
    assert [p for _, p, _ in emu.calls] == ["/v2/users/me", "/v2/time_entries"]
    assert "updated_since" not in emu.calls[1][2]


def test_a_new_month_starts_from_the_accounts_cache_in_two_calls_and_full_reads_everything(emu, tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    emu.add_random_entries(30, "2026-11")
    sheet = seed_categories(MemorySheet())
    clock = Clock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    services = bootstrap(Settings(workdir=tmp_path), source=make_source(emu), sheet=sheet, clock=clock)
    pipeline.refresh(services, OCT)
    assert emu.count() == 4  # first contact: users/me, company, time_entries, users

    emu.calls.clear()
    november = pipeline.refresh(services, Period.parse("2026-11"))
    assert [p for _, p, _ in emu.calls] == ["/v2/users/me", "/v2/time_entries"]  # a full pull of a new month
    in_november = sum(e["spent_date"].startswith("2026-11") for e in emu.entries.values())
    assert "updated_since" not in emu.calls[1][2] and november.new == in_november >= 30
    link, day = sheet.col("Time", "Link"), sheet.col("Time", "Date")
    links = [str(row[link]) for row in sheet.tabs["Time"][1:] if str(row[day]).startswith("2026-11")]
    harvest_links = [x for x in links if "/time/day/2026/11/" in x]  # the others link an entry's GitHub issue
    assert len(links) == in_november and harvest_links
    assert all(x.startswith(f"https://{emu.subdomain}.harvestapp.com/") for x in harvest_links)

    emu.calls.clear()
    pipeline.refresh(services, Period.parse("2026-11"), full=True)  # --full: every cache is read again
    assert [p for _, p, _ in emu.calls] == ["/v2/users/me", "/v2/company", "/v2/time_entries", "/v2/users"]


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_a_change_held_on_an_approved_row_is_applied_once_it_is_unticked(emu, tmp_path, monkeypatch):
    """An incremental sync would not send the entry again (it has not changed since), so that refresh is full."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    sheet = seed_categories(MemorySheet())
    clock = Clock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    services = bootstrap(Settings(workdir=tmp_path), source=make_source(emu), sheet=sheet, clock=clock)
    pipeline.refresh(services, OCT)
    for e in emu.entries.values():
        e["updated_at"] = "2026-11-01T08:00:00Z"
    rows = time_rows(sheet)
    target = next(iter(rows))
    sheet.tabs["Time"][rows[target] - 1][sheet.col("Time", "Approved")] = True
    emu.edit_entry(int(target), notes="Edited after approval")
    emu.entries[int(target)]["updated_at"] = "2026-11-02T10:00:00Z"
    clock.now = datetime(2026, 11, 2, 11, 0, tzinfo=UTC)
    held = pipeline.refresh(services, OCT)
    assert held.held_changes == 1 and "Changed in the source after approval" in sheet.get("Time", rows[target], "Flags")

    sheet.tabs["Time"][rows[target] - 1][sheet.col("Time", "Approved")] = False
    clock.now = datetime(2026, 11, 2, 13, 0, tzinfo=UTC)  # the edit is now older than the overlap window
    emu.calls.clear()
    applied = pipeline.refresh(services, OCT)
    pulls = [q for _, p, q in emu.calls if p == "/v2/time_entries"]
    assert pulls and all("updated_since" not in q for q in pulls) and applied.updated == 1  # a full pull
    assert sheet.get("Time", rows[target], "Notes") == "Edited after approval"
