"""Stripe (emulated, driven by the stripe SDK through the CLI): at every API call of create-invoices a 429, a
500, a lost answer after Stripe committed, a timeout after Stripe committed or an API key refused as expired;
then the command again, until it goes through: one invoice per client, every entry billed once, every edit
kept."""

from __future__ import annotations

import pytest

from tests.emulators.stripe import StripeEmulator
from tests.faults import matrix
from tests.faults.test_local_kill import copy_month, reviewed_month
from tests.faults.test_quickbooks import until_done
from tests.faults.world import CLIENTS, TimeTab, count

# step -> (path fragment, method)
CALLS = {
    "customer lookup": ("/v1/customers", "GET"),
    "invoice lookup (search)": ("/v1/invoices/search", "GET"),
    "invoice creation": ("/v1/invoices", "POST"),
    "invoice lines": ("/add_lines", "POST"),
}
KINDS = {"429": "429", "500": "500", "drop": "drop", "timeout": "timeout", "token expired": "expired"}
HANG = 0.6  # how long a "timeout" answer hangs: past STRIPE_TIMEOUT_SECONDS below


@pytest.fixture
def emu():  # one per test: idempotency keys, rate limits and contacts are not shared
    e = StripeEmulator(hang_seconds=HANG)
    e.start()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return reviewed_month(tmp_path_factory.mktemp("month"))


@pytest.fixture
def month(template, tmp_path, monkeypatch, emu):
    """October refreshed and reviewed in the workbook, the Stripe key set; the emulator emptied of the last
    test's invoices and customers."""
    emu.faults.clear()
    emu.invoices.clear()
    emu.customers.clear()
    emu.hang_seconds = HANG
    work, _export, edited, ticked = copy_month(template, tmp_path, monkeypatch)
    env = {**emu.env(), "STRIPE_TIMEOUT_SECONDS": "0.3", "STRIPE_RETRY_BASE_SECONDS": "0.01"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return work, edited, ticked


def mine(emu: StripeEmulator) -> list[tuple[str, str]]:
    names = {cid: c["name"] for cid, c in emu.customers.items()}
    return [
        (names[i["customer"]], str(i["number"] or i["id"])) for i in emu.live() if names.get(i["customer"]) in CLIENTS
    ]


STRIPE = matrix.cases("stripe")


@pytest.mark.parametrize("case", STRIPE, ids=matrix.ids(STRIPE))
def test_a_fault_at_each_stripe_call_then_a_rerun_loses_nothing(case, month, emu, recorded, capsys):
    work, edited, ticked = month
    path, method = CALLS[case.step]
    emu.fail_next(KINDS[case.fault], path=path, method=method)
    answers = until_done(work, capsys)
    assert not any(f.times for f in emu.faults), "the fault was never reached"
    tab = TimeTab.from_workbook(work / "invoicing.xlsx")
    counts = count(tab, mine(emu), ticked, ticked, edited)
    recorded(case, counts)
    assert sorted(c for c, _ in mine(emu)) == sorted(CLIENTS)
    assert counts.bad() == 0, (counts, answers)
