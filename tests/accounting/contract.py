"""The contract every Accounting adapter passes (the ledger, Stripe, Xero): one set of tests, one harness each.

A test module subclasses `AccountingContract` and provides a `target` fixture: a `Target` that makes a fresh
adapter (as a new process would, over the same system), counts the live invoices the system holds, loses
the answer to the next invoice creation after it was committed, and records a payment. Each test states
one promise of the port (functions/ports.py): create, a re-run creates nothing, a lost answer after commit,
a crash before the write-back, a conflict with different contents, void and reissue, paid is refused.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

import pytest

from functions.errors import ConflictError, Transient
from functions.ports import Accounting
from tests.accounting.test_qbo_adapter import ENTRIES, draft


class Target(Protocol):
    def make(self) -> Accounting: ...

    def live_count(self) -> int: ...

    def lose_next_create_answer(self) -> None:
        """The next invoice creation is committed, and its answer never reaches the client."""
        ...

    def pay(self, external_id: str) -> None: ...


class AccountingContract:
    def test_creates_each_draft_and_a_rerun_creates_nothing(self, target: Target) -> None:
        drafts = [draft(), draft("Bluefin Logistics", hours="3")]
        first = target.make().create_invoices(drafts, ENTRIES)
        assert [i.status for i in first] == ["created", "created"]
        assert [i.total for i in first] == [Decimal("300.00"), Decimal("450.00")]
        again = target.make().create_invoices(drafts, ENTRIES)
        assert [i.status for i in again] == ["existing", "existing"]
        assert [i.external_id for i in again] == [i.external_id for i in first]
        assert target.live_count() == 2

    def test_a_lost_answer_after_commit_ends_with_one_invoice(self, target: Target) -> None:
        target.lose_next_create_answer()
        try:
            [got] = target.make().create_invoices([draft()], ENTRIES)
        except Transient:
            [got] = target.make().create_invoices([draft()], ENTRIES)  # the run is tried again
        assert got.total == Decimal("300.00")
        assert target.live_count() == 1
        [again] = target.make().create_invoices([draft()], ENTRIES)
        assert again.status == "existing" and again.external_id == got.external_id

    def test_a_crash_before_the_write_back_finds_the_same_invoice(self, target: Target) -> None:
        [created] = target.make().create_invoices([draft()], ENTRIES)
        # the process dies before the sheet records the number; the next run starts from nothing
        [found] = target.make().create_invoices([draft(), draft("Bluefin Logistics")], ENTRIES)[:1]
        assert (found.status, found.number, found.external_id) == ("existing", created.number, created.external_id)
        assert target.live_count() == 2

    def test_different_contents_for_the_same_period_are_a_conflict(self, target: Target) -> None:
        target.make().create_invoices([draft()], ENTRIES)
        with pytest.raises(ConflictError, match="Acme Retail"):
            target.make().create_invoices([draft(hours="3")], ENTRIES)
        assert target.live_count() == 1

    def test_void_keeps_the_invoice_and_a_correction_replaces_it(self, target: Target) -> None:
        acct = target.make()
        [old] = acct.create_invoices([draft()], ENTRIES)
        [rec] = acct.invoices_for(draft(hours="3"))
        assert (rec.status, rec.key, rec.total, rec.paid) == ("live", draft().key, Decimal("300.00"), "")
        voided = acct.void_invoice(rec)
        assert voided.status == "void" and voided.number
        assert target.make().void_invoice(voided).status == "void"  # idempotent
        assert target.live_count() == 0
        corrected = draft(hours="3").model_copy(update={"memo": f"Replaces invoice {voided.number}."})
        [new] = target.make().create_invoices([corrected], ENTRIES)
        assert new.status == "created" and new.total == Decimal("450.00") and new.external_id != old.external_id
        linked = target.make().void_invoice(voided, replaced_by=new.number)
        assert linked.replaced_by == new.number
        records = target.make().invoices_for(draft())
        assert [(r.status, r.number) for r in records] == [("void", voided.number), ("live", new.number)]
        assert records[1].replaces == voided.number
        assert target.live_count() == 1

    def test_a_paid_invoice_is_not_voided(self, target: Target) -> None:
        acct = target.make()
        [inv] = acct.create_invoices([draft()], ENTRIES)
        target.pay(inv.external_id)
        [rec] = acct.invoices_for(draft())
        assert rec.paid
        with pytest.raises(ConflictError, match="paid"):
            acct.void_invoice(rec)
        assert target.live_count() == 1
