"""Each run records what it cost in its Runs row — peak memory and API calls per service — so `python main.py
cost` prices a month from the product's own figures. Counted at the one HTTP layer every adapter sends through."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from functions import pipeline
from functions.accounting.ledger import Ledger
from functions.config import Settings, bootstrap
from functions.models import Period, TimeEntry
from functions.transport import calls_since, calls_so_far, count_call
from tests.emulators.sheets import SheetsEmulator
from tests.fakes import ListSource
from tests.seeding import seed_categories

OCT = Period.parse("2026-10")


def test_a_refresh_against_google_sheets_records_its_calls_and_memory(
    gsheet, sheets_emulator: SheetsEmulator, tmp_path
):
    entries = [
        TimeEntry(
            source="csv",
            source_id=f"e{i}",
            date=date(2026, 10, 1 + i),
            client="Acme",
            person="Ana Ruiz",
            notes="checkout work",
            hours=Decimal("1.5"),
        )
        for i in range(3)
    ]
    services = bootstrap(
        Settings(workdir=tmp_path),
        sheet=seed_categories(gsheet),
        source=ListSource(entries),
        accounting=Ledger(tmp_path / "ledger.sqlite", tmp_path / "invoices"),
        clock=lambda: datetime(2026, 11, 3, tzinfo=UTC),
    )
    sheets_emulator.reset_calls()
    summary = pipeline.refresh(services, OCT)
    sent = len(sheets_emulator.sheets_calls())
    counted = summary.api_calls["Google Sheets"]
    # The Runs row is part of the run's last write, so it counts every call before that write: the write itself
    # and the release of the sheet's lease come after it (one write, the lease's read and clear).
    assert list(summary.api_calls) == ["Google Sheets"] and 0 < counted <= sent <= counted + 3
    runs = gsheet.read(["Runs"])["Runs"]
    row = dict(zip([str(h) for h in runs[0]], runs[-1], strict=False))
    assert row["API Calls"] == f"Google Sheets {counted}"
    assert float(row["Peak Memory (MB)"]) > 10


def test_calls_are_counted_per_service_and_reported_as_a_difference():
    before = calls_so_far()
    count_call("Harvest")
    count_call("Harvest")
    count_call("QuickBooks")
    assert calls_since(before) == {"Harvest": 2, "QuickBooks": 1}
