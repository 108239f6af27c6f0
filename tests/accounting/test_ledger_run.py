"""A create run is one ledger transaction: a run that fails part-way records no invoice, and its retry
records each invoice exactly once, numbered without gaps."""

from __future__ import annotations

import pytest

from functions.accounting.ledger import Ledger
from functions.errors import ConflictError
from tests.accounting.test_ledger import ENTRIES, draft


def test_a_run_that_fails_part_way_records_nothing_and_its_retry_records_each_once(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite", tmp_path / "invoices")
    acme, globex = draft(), draft(client="Globex", refs=("csv:x",))
    clash = draft(hours="12")  # Acme's month again with other contents, in the same run
    with pytest.raises(ConflictError):
        ledger.create_invoices([acme, globex, clash], ENTRIES)
    assert ledger.all_invoices() == []
    assert not list((tmp_path / "invoices").glob("*.html"))
    created = ledger.create_invoices([acme, globex], ENTRIES)
    assert [(c.number, c.status) for c in created] == [("INV-0001", "created"), ("INV-0002", "created")]
    again = ledger.create_invoices([acme, globex], ENTRIES)
    assert [(c.number, c.status) for c in again] == [("INV-0001", "existing"), ("INV-0002", "existing")]
    assert [r["number"] for r in ledger.all_invoices()] == ["INV-0001", "INV-0002"]
    assert all(c.url.startswith("invoices/") and (tmp_path / c.url).is_file() for c in created)
