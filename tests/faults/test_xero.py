"""Xero (emulated, driven by xero-python through the CLI): at every API call of create-invoices a 429, a 500,
a lost answer after Xero committed, a timeout after Xero committed or an access token that expires as the call
arrives; then the command again, until it goes through: one invoice per client, every entry billed once, every
edit kept."""

from __future__ import annotations

from datetime import timedelta

import pytest

from functions.accounting.qbo_tokens import FileTokenStore, TokenSet, utcnow
from tests.emulators.xero import XeroEmulator
from tests.faults import matrix
from tests.faults.test_local_kill import copy_month, reviewed_month
from tests.faults.test_quickbooks import until_done
from tests.faults.world import CLIENTS, TimeTab, count

# step -> (path fragment, method)
CALLS = {
    "contact lookup": ("/Contacts", "GET"),
    "invoice lookup": ("/Invoices", "GET"),
    "invoice creation (batch PUT)": ("/Invoices", "PUT"),
    "attachment upload": ("/Attachments", ""),
}
KINDS = {"429": "429", "500": "500", "drop": "drop", "timeout": "timeout", "token expired": "expired"}
HANG = 0.6  # how long a "timeout" answer hangs: past XERO_TIMEOUT_SECONDS below


@pytest.fixture
def emu():  # one per test: idempotency keys, rate limits and contacts are not shared
    e = XeroEmulator(hang_seconds=HANG, per_minute=100_000, per_day=100_000)  # the limits: not what is tested
    e.start()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return reviewed_month(tmp_path_factory.mktemp("month"))


@pytest.fixture
def month(template, tmp_path, monkeypatch, emu):
    """October refreshed and reviewed in the workbook, Xero connected; the emulator emptied of the last test's
    invoices and contacts."""
    emu.faults.clear()
    emu.invoices.clear()
    emu.attachments.clear()
    emu.contacts.clear()
    emu.hang_seconds = HANG
    grant = emu.issue()
    store = FileTokenStore(tmp_path / "xero-tokens.json")
    expires = (utcnow() + timedelta(minutes=30)).isoformat()
    store.save(TokenSet(grant["access_token"], grant["refresh_token"], "", expires, environment="xero"))
    work, _export, edited, ticked = copy_month(template, tmp_path, monkeypatch)
    env = {
        **emu.env(),
        "XERO_TOKEN_STORE": f"file:{store.path}",
        "XERO_TIMEOUT_SECONDS": "0.3",
        "XERO_RETRY_BASE_SECONDS": "0.01",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return work, edited, ticked


def mine(emu: XeroEmulator) -> list[tuple[str, str]]:
    return [(i["Contact"]["Name"], str(i["InvoiceNumber"])) for i in emu.live() if i["Contact"]["Name"] in CLIENTS]


XERO = matrix.cases("xero")


@pytest.mark.parametrize("case", XERO, ids=matrix.ids(XERO))
def test_a_fault_at_each_xero_call_then_a_rerun_loses_nothing(case, month, emu, recorded, capsys):
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
    ours = {i["InvoiceID"] for i in emu.live() if i["Contact"]["Name"] in CLIENTS}
    assert all(emu.attachments.get(i) for i in ours), emu.attachments
