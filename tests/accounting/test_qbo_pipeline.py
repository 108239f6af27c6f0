"""The production accounting path through the real pipeline: the sample month into QuickBooks (emulated),
with a lost answer after QuickBooks committed and a crash before the sheet write-back. The end state is
exactly one invoice per client, and every approved billable row marked with its QuickBooks number."""

from __future__ import annotations

from datetime import UTC, datetime

from functions import pipeline
from functions.config import Settings, bootstrap
from functions.demo import SAMPLE, review_as_person, sample_labels
from functions.models import Period
from functions.sources.csv_exports import CsvSource
from tests.accounting.test_qbo_adapter import make_adapter
from tests.emulators.quickbooks import QuickBooksEmulator
from tests.test_pipeline import FailingWriteSheet, time_rows

OCT = Period.parse("2026-10")


def test_sample_month_into_quickbooks_survives_a_lost_answer_and_a_crash_before_write_back(tmp_path):
    emu = QuickBooksEmulator(hang_seconds=0.6)
    emu.start()
    try:
        sheet = FailingWriteSheet()
        qbo = make_adapter(emu, tmp_path)
        services = bootstrap(
            Settings(workdir=tmp_path),
            sheet=sheet,
            accounting=qbo,
            source=CsvSource(sorted((SAMPLE / "exports").glob("*.csv"))),
            clock=lambda: datetime(2026, 11, 2, tzinfo=UTC),
        )
        pipeline.refresh(services, OCT, config_dir=SAMPLE / "config")
        review_as_person(services, OCT, sample_labels())

        emu.fail_next("drop", path="/batch#create")  # QuickBooks commits, the answer is lost
        sheet.fail_next = True  # and then the sheet write-back fails
        try:
            pipeline.create_invoices(services, OCT)
        except ConnectionError:
            pass
        invoices = emu.all("Invoice")
        assert len(invoices) == 25
        assert all(sheet.get("Time", r, "Invoice") in ("", None) for r in time_rows(sheet).values())

        healed = pipeline.create_invoices(services, OCT)  # the person clicks again
        assert healed.existing == 25 and healed.created == 0
        assert len(emu.all("Invoice")) == 25
        by_customer = {}
        for inv in emu.all("Invoice"):
            by_customer.setdefault(inv["CustomerRef"]["name"], []).append(inv)
        assert all(len(v) == 1 for v in by_customer.values())  # one per client and period

        numbers = {i.client: i.number for i in healed.invoices}
        client_col = sheet.col("Time", "Client")
        marked = 0
        for r in time_rows(sheet).values():
            # every approved row but the sample's duplicate entry, held out until a person confirms it
            if sheet.get("Time", r, "Approved") is True and "duplicate" not in str(sheet.get("Time", r, "Flags")):
                row = sheet.tabs["Time"][r - 1]
                assert sheet.get("Time", r, "Invoice") == numbers[row[client_col]]
                marked += 1
        assert marked > 1000
        assert all(i.link.startswith("https://app.sandbox.qbo.intuit.com/app/invoice?txnId=") for i in healed.invoices)

        third = pipeline.create_invoices(services, OCT)
        assert third.created == 0 and third.invoices == [] and len(emu.all("Invoice")) == 25
    finally:
        emu.stop()
