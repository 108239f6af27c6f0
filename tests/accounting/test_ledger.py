"""The local ledger: exactly once per client and period, conflicts refused, gapless numbers, readable documents."""

from __future__ import annotations

import os
import sqlite3
from datetime import date
from decimal import Decimal

import pytest

from functions.accounting.ledger import Ledger
from functions.errors import ConflictError
from functions.models import InvoiceDraft, InvoiceLine, TimeEntry
from functions.money import line_amount


def draft(client="Acme Retail", hours="10", rate="150", refs=("csv:a", "csv:b"), notes_period="2026-10"):
    q, p = Decimal(hours), Decimal(rate)
    line = InvoiceLine(
        description="Development — Oct 2026",
        line_item="Development",
        quantity=q,
        unit_price=p,
        amount=line_amount(q, p),
        raw_hours=q,
        entry_refs=refs,
    )
    return InvoiceDraft(
        client=client,
        customer=client,
        period=notes_period,
        currency="USD",
        issue_date=date(2026, 11, 2),
        due_date=date(2026, 12, 2),
        terms="Net 30",
        lines=(line,),
    )


ENTRIES = {
    "csv:a": TimeEntry(
        source="csv",
        source_id="a",
        date=date(2026, 10, 1),
        client="Acme Retail",
        person="Ana",
        notes="<script>alert(1)</script> checkout",
        hours=Decimal("4"),
    ),
    "csv:b": TimeEntry(
        source="csv",
        source_id="b",
        date=date(2026, 10, 2),
        client="Acme Retail",
        person="Ben",
        notes="=SUM(A1)",
        hours=Decimal("6"),
    ),
}


@pytest.fixture
def ledger(tmp_path):
    return Ledger(tmp_path / "ledger.sqlite", tmp_path / "invoices", agency="Northwind")


def test_creates_once_and_returns_the_existing_invoice_on_a_retry(ledger):
    [first] = ledger.create_invoices([draft()], ENTRIES)
    assert first.status == "created" and first.number == "INV-0001" and first.total == Decimal("1500.00")
    [again] = ledger.create_invoices([draft()], ENTRIES)
    assert again.status == "existing" and again.number == "INV-0001"
    assert len(ledger.all_invoices()) == 1
    assert again.entry_refs == ("csv:a", "csv:b")


def test_changed_contents_for_the_same_client_and_period_is_a_conflict_and_creates_nothing(ledger):
    ledger.create_invoices([draft()], ENTRIES)
    other = draft(client="Bluefin Logistics")
    with pytest.raises(ConflictError, match="Acme Retail already has invoice INV-0001 for 2026-10"):
        ledger.create_invoices([other, draft(hours="12")], ENTRIES)
    assert [r["client"] for r in ledger.all_invoices()] == ["Acme Retail"]  # Bluefin was not created either


def test_numbers_are_a_gapless_sequence_across_periods(ledger):
    made = ledger.create_invoices([draft(), draft(client="B"), draft(notes_period="2026-11")], ENTRIES)
    assert [m.number for m in made] == ["INV-0001", "INV-0002", "INV-0003"]


def test_total_is_the_sum_of_the_stored_lines(ledger):
    d = draft()
    ledger.create_invoices([d], ENTRIES)
    with sqlite3.connect(ledger.path) as db:
        amounts = [Decimal(a) for (a,) in db.execute("SELECT amount FROM lines")]
        (total,) = db.execute("SELECT total FROM invoices").fetchone()
    assert sum(amounts) == Decimal(total) == d.total


def test_document_is_readable_escaped_and_rebuilt_if_missing(ledger):
    [inv] = ledger.create_invoices([draft()], ENTRIES)
    html = open(inv.document, encoding="utf-8").read()
    assert "Invoice INV-0001" in html and "$1,500.00" in html and "Net 30" in html
    assert "<script>" not in html and "=SUM(A1)" not in html  # raw notes stay off the client's copy
    assert "Ben" in html and "2 entries" in html  # the time detail is there
    assert os.path.exists(inv.document.replace(".html", ".pdf"))  # and the PDF beside it
    os.remove(inv.document)  # a crash between the commit and the document
    [again] = ledger.create_invoices([draft()], ENTRIES)
    assert again.status == "existing" and os.path.exists(again.document)


def test_the_client_copy_shows_no_internal_audit_notes(ledger):
    d = draft()
    line = d.lines[0].model_copy(update={"detail": ("rate 150 from client+person (Rates!E20)",)})
    [inv] = ledger.create_invoices([d.model_copy(update={"lines": (line,)})], ENTRIES)
    html = open(inv.document, encoding="utf-8").read()
    assert "Rates!E20" not in html and "Development — Oct 2026" in html


def test_the_time_detail_shows_a_timers_hours_to_four_places(ledger):
    """A Toggl entry of 0:42:05 is 2525 s, kept exactly; the document shows it as a person reads it."""
    from functions.money import hours_from_seconds

    timer = ENTRIES["csv:a"].model_copy(update={"hours": hours_from_seconds(2525)})
    [inv] = ledger.create_invoices([draft()], {**ENTRIES, "csv:a": timer})
    html = open(inv.document, encoding="utf-8").read()
    assert ">0.7014<" in html and "0.70138888" not in html
