"""End to end: the lead's refresh pulls a month from the Toggl emulator, and an edit in Toggl updates the row."""

from __future__ import annotations

from decimal import Decimal

from functions.config import Settings, bootstrap
from functions.models import Period
from functions.pipeline import refresh
from functions.sources.toggl import SOURCE, TogglSettings, TogglSource
from tests.emulators.toggl import TogglEmulator
from tests.fakes import MemorySheet
from tests.seeding import seed_categories

OCTOBER = Period.parse("2026-10")


def time_rows(sheet: MemorySheet) -> dict[str, list[object]]:
    """Entry ID -> the row's cells, for the Toggl rows of the Time tab."""
    rows = sheet.tabs["Time"]
    source, entry_id = sheet.col("Time", "Source"), sheet.col("Time", "Entry ID")
    return {str(r[entry_id]): r for r in rows[1:] if len(r) > entry_id and r[source] == SOURCE}


def test_refresh_pulls_the_month_and_an_edit_updates_the_same_row(tmp_path):
    emu = TogglEmulator()
    emu.start()
    try:
        source = TogglSource.from_settings(
            TogglSettings(api_token=emu.token, workspace_id=emu.workspace_id, base_url=emu.base_url)
        )
        sheet = seed_categories(MemorySheet())
        services = bootstrap(Settings(workdir=tmp_path, ai_enabled=False), source=source, sheet=sheet)

        first = refresh(services, OCTOBER)
        assert first.imported == 48 and first.new == 48
        assert first.sources == [f"Toggl Track API (workspace {emu.workspace_id}): 48 entries in 2026-10"]
        rows = time_rows(sheet)
        assert set(rows) == {str(i) for i, e in emu.entries.items() if OCTOBER.contains(e["start"].date())}
        hours_col = sheet.col("Time", "Hours")

        target = sorted(rows)[5]
        row_count = len(sheet.tabs["Time"])
        emu.edit_entry(int(target), seconds=3 * 3600 + 30 * 60)

        second = refresh(services, OCTOBER)
        assert second.new == 0 and second.updated == 1 and second.gone == 0
        assert len(sheet.tabs["Time"]) == row_count  # the same row, not a new one
        after = time_rows(sheet)
        assert set(after) == set(rows)
        assert Decimal(str(after[target][hours_col])) == Decimal("3.5")

        # The fetch was complete (covers the source), so an entry deleted in Toggl is flagged as gone.
        emu.delete_entry(int(sorted(rows)[0]))
        third = refresh(services, OCTOBER)
        assert third.gone == 1 and third.new == 0 and third.imported == 47
    finally:
        emu.stop()
