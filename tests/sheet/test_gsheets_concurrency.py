"""Two runs on one Google Sheet at once: of two writes made from the same read, exactly one lands, the other is
refused whole and says so; a crashed run holds nothing. The guard costs no call (gsheets_write.py): every write
is one atomic spreadsheets:batchUpdate that deletes the version marker its run read and adds the next one."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from functions import pipeline
from functions.accounting.ledger import Ledger
from functions.config import Settings, bootstrap
from functions.errors import LockedError
from functions.models import Period, TimeEntry
from functions.ports import CellBlock
from functions.sheet.gsheets import ConcurrentChange, GoogleSheet
from tests.fakes import ListSource
from tests.seeding import seed_categories

OCT = Period.parse("2026-10")


def clients(sheet: GoogleSheet) -> list[str]:
    return [r[0] for r in sheet.read(["Clients"])["Clients"][1:] if r]


def test_of_two_writes_from_one_read_only_the_first_lands(gsettings, sheets_emulator):
    one, two = GoogleSheet.from_settings(gsettings), GoogleSheet.from_settings(gsettings)
    one.ensure_layout()
    two.ensure_layout()  # both read the same version
    one.write([CellBlock("Clients", 2, 1, [["Acme"]])])
    with pytest.raises(LockedError, match="Another run wrote to this sheet") as exc:
        two.write([CellBlock("Clients", 2, 1, [["Beta"]]), CellBlock("Clients", 3, 1, [["Gamma"]])])
    assert isinstance(exc.value, ConcurrentChange)
    assert "nothing of this one was written" in str(exc.value)
    assert clients(one) == ["Acme"]  # nothing of the refused batch landed, not even its other block
    # run again from a fresh read: it lands
    two.ensure_layout()
    two.write([CellBlock("Clients", 3, 1, [["Gamma"]])])
    assert clients(one) == ["Acme", "Gamma"]


def test_a_write_from_a_stale_read_is_refused_even_after_the_version_moved_on_twice(gsettings, sheets_emulator):
    a, b, c = (GoogleSheet.from_settings(gsettings) for _ in range(3))
    a.ensure_layout()
    b.ensure_layout()
    a.write([CellBlock("Clients", 2, 1, [["A"]])])
    c.ensure_layout()
    c.write([CellBlock("Clients", 3, 1, [["C"]])])
    # b read before both: its marker was deleted by a's write and a newer one added by c's (no ABA)
    with pytest.raises(ConcurrentChange):
        b.write([CellBlock("Clients", 2, 1, [["B"]])])
    assert clients(a) == ["A", "C"]
    markers = [s.title for s in sheets_emulator.spreadsheets[gsettings.spreadsheet_id].sheets if s.title[0] == "_"]
    assert len(markers) == 1 and markers[0].startswith("_invoicing_v")  # one marker, hidden
    assert sheets_emulator.spreadsheets[gsettings.spreadsheet_id].sheet(markers[0]).props["hidden"] is True


def test_a_run_that_died_holds_nothing(gsettings, sheets_emulator):
    crashed = GoogleSheet.from_settings(gsettings)
    crashed.ensure_layout()
    with pytest.raises(RuntimeError):
        with crashed.lease("refresh", "crashed"):
            raise RuntimeError("the instance died")
    nxt = GoogleSheet.from_settings(gsettings)
    with nxt.lease("preview", "ops"):
        nxt.ensure_layout()
        nxt.write([CellBlock("Clients", 2, 1, [["Acme"]])])
    assert clients(nxt) == ["Acme"]


class GatedSource(ListSource):
    """Stops a refresh after its read, until the test lets it go on."""

    def __init__(self, entries):
        super().__init__(entries)
        self.started, self.go = threading.Event(), threading.Event()

    def fetch(self, period, progress=None):
        self.started.set()
        self.go.wait(10)
        return super().fetch(period)


def entries(n: int) -> list[TimeEntry]:
    return [
        TimeEntry(
            source="csv",
            source_id=f"A{i}",
            date=date(2026, 10, 1 + i),
            client="Acme",
            person="Ana Ruiz",
            notes="checkout work",
            hours=Decimal("1.5"),
        )
        for i in range(n)
    ]


def test_refresh_and_create_at_the_same_time_lose_nothing(gsettings, sheets_emulator, tmp_path):
    """A refresh that read before a create-invoices wrote is refused whole; run again, it keeps every mark."""
    ledger = Ledger(tmp_path / "ledger.sqlite", tmp_path / "invoices")

    def services(source):
        return bootstrap(
            Settings(workdir=tmp_path),
            sheet=GoogleSheet.from_settings(gsettings),
            source=source,
            accounting=ledger,
            clock=lambda: datetime(2026, 11, 3, tzinfo=UTC),
        )

    seed_categories(GoogleSheet.from_settings(gsettings))
    pipeline.refresh(services(ListSource(entries(4))), OCT)
    sheet = GoogleSheet.from_settings(gsettings)
    rows = sheet.read(["Time"])["Time"]
    approved, category = rows[0].index("Approved"), rows[0].index("Category")
    sheet.write([CellBlock("Time", r, approved + 1, [[True]]) for r in range(2, len(rows) + 1)])
    sheet.write([CellBlock("Time", r, category + 1, [["Development"]]) for r in range(2, len(rows) + 1)])
    sheet.write([CellBlock("Rates", 2, 1, [["Acme", None, None, None, 150]])])

    gated = GatedSource(entries(6))  # two new entries arrive
    result: dict[str, object] = {}

    def run_refresh():
        try:
            result["refresh"] = pipeline.refresh(services(gated), OCT)
        except Exception as exc:  # asserted below
            result["refresh"] = exc

    t = threading.Thread(target=run_refresh)
    t.start()
    assert gated.started.wait(10)
    try:
        created = pipeline.create_invoices(services(None), OCT)
    finally:
        gated.go.set()
    t.join(20)
    assert created.created == 1, (created.held, created.warnings)
    assert isinstance(result["refresh"], ConcurrentChange)  # it read before create wrote: refused whole
    pipeline.refresh(services(ListSource(entries(6))), OCT)  # run again
    time_tab = sheet.read(["Time"])["Time"]
    ids = [r[time_tab[0].index("Entry ID")] for r in time_tab[1:]]
    invoiced = [r[time_tab[0].index("Invoice")] for r in time_tab[1:]]
    assert sorted(ids) == [f"A{i}" for i in range(6)]
    assert invoiced[:4] == [created.invoices[0].number] * 4
    runs = [r[1] for r in sheet.read(["Runs"])["Runs"][1:]]
    assert runs.count("refresh") == 2 and "create-invoices" in runs
