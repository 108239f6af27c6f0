"""QuickBooks Online (emulated, python-quickbooks unmodified) passes the shared Accounting contract
(tests/accounting/contract.py), as the ledger, Stripe and Xero do."""

from __future__ import annotations

import pytest

from functions.accounting.quickbooks import QuickBooksAccounting
from tests.accounting.contract import AccountingContract
from tests.accounting.test_qbo_adapter import make_adapter


class QuickBooksTarget:
    def __init__(self, emu, tmp_path):
        self.emu, self.tmp_path = emu, tmp_path

    def make(self) -> QuickBooksAccounting:
        return make_adapter(self.emu, self.tmp_path)

    def live_count(self) -> int:
        return sum(1 for i in self.emu.all("Invoice") if not str(i.get("PrivateNote", "")).startswith("Voided"))

    def lose_next_create_answer(self) -> None:
        self.emu.fail_next("drop", path="/batch")

    def pay(self, external_id: str) -> None:
        from tests.test_reissue_qbo import pay

        inv = next(i for i in self.emu.all("Invoice") if i["Id"] == external_id)
        pay(self.make(), self.emu, inv["DocNumber"], "100.00")


class TestQuickBooksContract(AccountingContract):
    @pytest.fixture
    def target(self, emu, tmp_path):
        return QuickBooksTarget(emu, tmp_path)
