"""Correcting an invoice in QuickBooks Online (emulated, driven by python-quickbooks): a void, never a delete; the
corrected invoice with QuickBooks' next number and "Replaces invoice N"; lost answers, a stale SyncToken, a
crash between void and creation and one before the write-back each end with one live invoice; paid is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from quickbooks.objects.base import LinkedTxn, Ref
from quickbooks.objects.payment import Payment, PaymentLine

from functions import pipeline
from functions.config import Settings, bootstrap
from functions.errors import ConflictError, PartialCreateError
from functions.reissue import reissue
from tests.accounting.test_qbo_adapter import make_adapter
from tests.emulators.quickbooks import QuickBooksEmulator
from tests.fakes import ListSource, MemorySheet
from tests.seeding import seed_categories
from tests.test_pipeline import NOW, OCT, FailingWriteSheet, approve_all, configure_clients, entries, time_rows


@pytest.fixture
def emu():
    e = QuickBooksEmulator(hang_seconds=0.6)
    e.start()
    yield e
    e.stop()


def invoiced(tmp_path, emu, sheet=None):
    sheet = sheet or MemorySheet()
    seed_categories(sheet)
    qbo = make_adapter(emu, tmp_path)
    services = bootstrap(
        Settings(workdir=tmp_path),
        sheet=sheet,
        accounting=qbo,
        source=ListSource(entries() + entries(3, client="Bluefin")),
        clock=lambda: NOW,
    )
    pipeline.refresh(services, OCT)
    configure_clients(sheet, {"Acme": "100", "Bluefin": "150"})
    approve_all(sheet)
    first = pipeline.create_invoices(services, OCT, create_missing=True)
    assert {i.client: i.number for i in first.invoices} == {"Acme": "1001", "Bluefin": "1002"}
    rows = time_rows(sheet)
    sheet.set("Time", rows["A5"], "Approved", False)  # the client disputes one entry
    sheet.set("Time", rows["A0"], "Rate Override", "80")  # and the rate of another
    return services, sheet, qbo


def acme(emu) -> list[dict]:
    return [i for i in emu.all("Invoice") if i["CustomerRef"]["name"] == "Acme"]


def live(emu) -> list[dict]:
    return [i for i in acme(emu) if not str(i.get("PrivateNote", "")).startswith("Voided")]


def assert_reissued(emu, sheet, number="1003"):
    invoices = {i["DocNumber"]: i for i in acme(emu)}
    assert sorted(invoices) == ["1001", number]  # nothing deleted, nothing twice
    old, new = invoices["1001"], invoices[number]
    assert old["PrivateNote"].startswith("Voided") and (old["TotalAmt"], old["Balance"]) == (0, 0)
    assert all(line["Amount"] == 0 for line in old["Line"])
    assert [i["DocNumber"] for i in live(emu)] == [number]
    assert new["CustomerMemo"]["value"].startswith("Replaces invoice 1001.")
    assert new["TotalAmt"] == Decimal("720.00") and new["Balance"] == Decimal("720.00")
    cells = {ref: sheet.get("Time", r, "Invoice") for ref, r in time_rows(sheet).items() if ref.startswith("A")}
    assert cells.pop("A5") in ("", None) and set(cells.values()) == {number}


def test_reissue_in_quickbooks_voids_creates_the_next_number_and_moves_the_rows(tmp_path, emu):
    services, sheet, qbo = invoiced(tmp_path, emu)
    token_before = next(i for i in acme(emu) if i["DocNumber"] == "1001")["SyncToken"]

    plan = reissue(services, "Acme", OCT, dry_run=True)
    assert plan.outcome == "preview" and plan.replaces == "1001" and plan.invoices[0].total == Decimal("720.00")
    assert [i["DocNumber"] for i in live(emu)] == ["1001"]  # the preview voided nothing

    done = reissue(services, "Acme", OCT)
    assert done.outcome == "reissued" and done.voided == ["1001"] and [i.number for i in done.invoices] == ["1003"]
    assert_reissued(emu, sheet)
    old = next(i for i in acme(emu) if i["DocNumber"] == "1001")
    assert int(old["SyncToken"]) == int(token_before) + 1
    records = {r.number: r for r in qbo.invoices_for(pipeline_draft(services))}
    assert records["1001"].status == "void" and records["1001"].replaced_by == "1003"
    assert records["1003"].live and records["1003"].replaces == "1001"

    again = reissue(services, "Acme", OCT)
    assert again.outcome == "up to date"
    assert len(acme(emu)) == 2 and len(emu.all("Invoice")) == 3


def pipeline_draft(services):
    """The corrected draft as the reissue computes it (to ask the adapter about the client's invoices)."""
    from functions.reissue import _bill_again
    from functions.sheet.session import CONFIG_TABS, SheetSession

    sheet = SheetSession(services.sheet, ["Time", *CONFIG_TABS, "Invoices"])
    name, _numbers, result, _rows, _w = _bill_again(services, "Acme", OCT, sheet)
    return next(d for d in result.drafts if d.client == name)


def test_a_lost_answer_to_the_void_is_replayed_not_voided_twice(tmp_path, emu):
    services, sheet, _ = invoiced(tmp_path, emu)
    emu.fail_next("drop", path="/invoice", operation="void")  # QuickBooks voids it, the answer never arrives
    done = reissue(services, "Acme", OCT)
    assert done.outcome == "reissued"
    assert_reissued(emu, sheet)
    old = next(i for i in acme(emu) if i["DocNumber"] == "1001")
    assert old["PrivateNote"].count("Voided") == 1 and old["SyncToken"] == "1"
    assert [f.times for f in emu.faults] == [0]  # the answer was indeed lost once


def test_an_invoice_changed_in_quickbooks_meanwhile_is_voided_at_its_new_sync_token(tmp_path, emu):
    services, sheet, _ = invoiced(tmp_path, emu)
    emu.fail_next("edit", path="/invoice", operation="void")  # someone saves it just before our void: 5010
    done = reissue(services, "Acme", OCT)
    assert done.outcome == "reissued"
    assert_reissued(emu, sheet)
    voids = [p for m, p in emu.calls if m == "POST" and p.endswith("/invoice")]
    assert len(voids) == 2  # the stale void (5010), then the void at the new SyncToken; the creation is a batch


def test_a_crash_between_the_void_and_the_creation_heals_on_the_next_run(tmp_path, emu):
    services, sheet, _ = invoiced(tmp_path, emu)
    emu.fail_next("validation", path="/batch#create")  # the creation fails after the void went through
    with pytest.raises(PartialCreateError):
        reissue(services, "Acme", OCT)
    assert live(emu) == [] and len(acme(emu)) == 1  # voided, not replaced yet, never two live
    healed = reissue(services, "Acme", OCT)
    assert healed.outcome == "reissued" and healed.voided == [] and healed.replaces == "1001"
    assert_reissued(emu, sheet)


def test_a_lost_answer_to_the_creation_creates_it_once(tmp_path, emu):
    services, sheet, _ = invoiced(tmp_path, emu)
    emu.fail_next("drop", path="/batch#create")  # QuickBooks creates the corrected invoice; the answer is lost
    done = reissue(services, "Acme", OCT)
    assert done.outcome == "reissued" and [f.times for f in emu.faults] == [0]
    assert_reissued(emu, sheet)


def test_a_crash_before_the_sheet_write_back_heals_on_the_next_run(tmp_path, emu):
    sheet = FailingWriteSheet()
    services, _, _ = invoiced(tmp_path, emu, sheet=sheet)
    sheet.fail_next = True
    with pytest.raises(ConnectionError):
        reissue(services, "Acme", OCT)
    assert [i["DocNumber"] for i in live(emu)] == ["1003"]
    healed = reissue(services, "Acme", OCT)
    assert healed.outcome == "completed" and healed.created == 0 and healed.replaces == "1001"
    assert_reissued(emu, sheet)


def pay(qbo, emu, number: str, amount: str) -> None:
    """The client pays (part of) the invoice: a Payment applied to it, as QuickBooks' Receive payment does."""
    inv = next(i for i in emu.all("Invoice") if i["DocNumber"] == number)
    p = Payment()
    p.CustomerRef = Ref()
    p.CustomerRef.value = inv["CustomerRef"]["value"]
    p.TotalAmt = Decimal(amount)
    line = PaymentLine()
    line.Amount = Decimal(amount)
    txn = LinkedTxn()
    txn.TxnId, txn.TxnType = inv["Id"], "Invoice"
    line.LinkedTxn = [txn]
    p.Line = [line]
    p.save(qb=qbo.qb)


@pytest.mark.parametrize("amount", ["900.00", "100.00"])
def test_a_paid_invoice_is_refused_with_the_credit_memo_advice(tmp_path, emu, amount):
    services, sheet, qbo = invoiced(tmp_path, emu)
    pay(qbo, emu, "1001", amount)
    before = [dict(i) for i in acme(emu)]
    with pytest.raises(ConflictError, match=r"1001 .*cannot be reissued: it is paid .*credit memo"):
        reissue(services, "Acme", OCT)
    assert acme(emu) == before  # nothing voided, nothing created
    cells = {sheet.get("Time", r, "Invoice") for ref, r in time_rows(sheet).items() if ref.startswith("A")}
    assert cells == {"1001"}


def test_the_emulator_refuses_to_void_an_invoice_with_a_payment_applied(tmp_path, emu):
    from quickbooks.objects.invoice import Invoice

    _, _, qbo = invoiced(tmp_path, emu)
    pay(qbo, emu, "1001", "50.00")
    inv = Invoice.get(next(i["Id"] for i in emu.all("Invoice") if i["DocNumber"] == "1001"), qb=qbo.qb)
    assert inv.Balance == Decimal("850.00") and inv.LinkedTxn[0].TxnType == "Payment"
    with pytest.raises(Exception, match="payment applied"):
        inv.void(qb=qbo.qb)
