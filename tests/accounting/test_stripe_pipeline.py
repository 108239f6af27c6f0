"""Stripe and Xero through the real pipeline: the sample month, a lost answer after the target committed and a
crash before the sheet write-back. The end state is exactly one invoice per client, every approved billable row
marked with its number, and a third run that creates nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from functions import pipeline
from functions.config import Settings, bootstrap
from functions.demo import SAMPLE, review_as_person, sample_labels
from functions.models import Period
from functions.sources.csv_exports import CsvSource
from tests.accounting import test_stripe, test_xero
from tests.emulators.stripe import StripeEmulator
from tests.emulators.xero import XeroEmulator
from tests.test_pipeline import FailingWriteSheet, time_rows

OCT = Period.parse("2026-10")


def stripe_target(tmp_path):
    emu = StripeEmulator(hang_seconds=0.6)
    emu.add_tax_rate("TAX", "8.875")  # the sample's tax codes (a US sales tax, and none)
    emu.add_tax_rate("NON", "0")
    emu.start()
    return emu, test_stripe.make(emu), lambda: emu.live(), ("drop", "/v1/invoices", "POST")


def xero_target(tmp_path):
    emu = XeroEmulator(hang_seconds=0.6)
    emu.tax_rates += [  # the sample's tax codes, as a US organisation's TaxTypes
        {"Name": "Sales Tax", "TaxType": "TAX", "EffectiveRate": Decimal("8.875"), "Status": "ACTIVE"},
        {"Name": "Tax Exempt (US)", "TaxType": "NON", "EffectiveRate": Decimal("0"), "Status": "ACTIVE"},
    ]
    emu.currencies.append("CAD")  # one sample client is billed in CAD
    emu.start()
    return emu, test_xero.make(emu, tmp_path), lambda: emu.live(), ("drop", "/Invoices", "PUT")


@pytest.mark.slow
@pytest.mark.parametrize("target", [stripe_target, xero_target], ids=["stripe", "xero"])
def test_sample_month_survives_a_lost_answer_and_a_crash_before_write_back(tmp_path, target):
    emu, acct, live, (fault, path, method) = target(tmp_path)
    try:
        sheet = FailingWriteSheet()
        services = bootstrap(
            Settings(workdir=tmp_path),
            sheet=sheet,
            accounting=acct,
            source=CsvSource(sorted((SAMPLE / "exports").glob("*.csv"))),
            clock=lambda: datetime(2026, 11, 2, tzinfo=UTC),
        )
        pipeline.refresh(services, OCT, config_dir=SAMPLE / "config")
        review_as_person(services, OCT, sample_labels())

        emu.fail_next(fault, path=path, method=method)  # the target commits, the answer is lost
        sheet.fail_next = True  # and then the sheet write-back fails
        try:
            pipeline.create_invoices(services, OCT, create_missing=True)
        except ConnectionError:
            pass
        created = len(live())
        assert created == 25
        assert all(sheet.get("Time", r, "Invoice") in ("", None) for r in time_rows(sheet).values())

        healed = pipeline.create_invoices(services, OCT)  # the person clicks again
        assert healed.existing == 25 and healed.created == 0 and len(live()) == 25
        numbers = {i.client: i.number for i in healed.invoices}
        client_col = sheet.col("Time", "Client")
        marked = 0
        for r in time_rows(sheet).values():
            if sheet.get("Time", r, "Approved") is True and "duplicate" not in str(sheet.get("Time", r, "Flags")):
                assert sheet.get("Time", r, "Invoice") == numbers[sheet.tabs["Time"][r - 1][client_col]]
                marked += 1
        assert marked > 1000

        third = pipeline.create_invoices(services, OCT)
        assert third.created == 0 and third.invoices == [] and len(live()) == 25
    finally:
        emu.stop()
