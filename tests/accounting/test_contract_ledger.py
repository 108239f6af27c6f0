"""The local ledger passes the shared Accounting contract (tests/accounting/contract.py), as Stripe and Xero do."""

from __future__ import annotations

import pytest

from functions.accounting.ledger import Ledger
from tests.accounting.contract import AccountingContract


class LedgerTarget:
    def __init__(self, tmp_path):
        self.tmp_path = tmp_path

    def make(self) -> Ledger:
        return Ledger(self.tmp_path / "ledger.sqlite", self.tmp_path / "invoices")

    def live_count(self) -> int:
        return sum(1 for row in self.make().all_invoices() if row["voided_at"] is None)

    def lose_next_create_answer(self) -> None:
        pytest.skip("the ledger commits in-process: there is no answer to lose")

    def pay(self, external_id: str) -> None:
        pytest.skip("the ledger records no payments")


class TestLedgerContract(AccountingContract):
    @pytest.fixture
    def target(self, tmp_path):
        return LedgerTarget(tmp_path)
