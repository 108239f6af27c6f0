"""Engine behaviour the worked examples do not show: edge cases, warnings, purity."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from functions.billing.engine import compute_invoices
from functions.billing.rounding import parse_rounding
from functions.sheet.config_tabs import parse_book

from .helpers import CATEGORIES, ISSUE, OCT, book, located, row


@pytest.mark.parametrize(
    "text,per,minimum,raw,billed",
    [
        ("15 up", "entry", "", "0.01", "0.25"),
        ("15 up", "entry", "", "1", "1"),
        ("15 nearest", "entry", "", "1.12", "1"),
        ("15 nearest", "entry", "", "1.13", "1.25"),
        ("30 down", "entry", "", "1.49", "1"),
        ("6 up", "entry", "", "0.11", "0.2"),
        ("", "entry", "30", "0.1", "0.5"),
        ("15 up", "line", "", "1.01", "1.01"),  # per line: entries are not rounded
        ("15 down", "entry", "15", "0.2", "0.25"),  # rounded to 0, then the minimum
    ],
)
def test_entry_rounding(text: str, per: str, minimum: str, raw: str, billed: str):
    assert parse_rounding(text, per, minimum).entry_hours(Fraction(raw)) == Fraction(billed)


@pytest.mark.parametrize("text", ["15 sideways", "0 up", "up", "999 up"])
def test_bad_rounding_is_refused(text: str):
    with pytest.raises(ValueError):
        parse_rounding(text, "entry", "")


def test_same_input_same_output_and_input_untouched():
    b = book([["Client", "Currency", "Default Rate", "Rounding"], ["Acme", "USD", "100", "15 up"]])
    rows = [row(hours="1.1"), row(hours="2", category="Design")]
    before = [r.model_copy() for r in rows]
    assert compute_invoices(rows, b, OCT, ISSUE) == compute_invoices(rows, b, OCT, ISSUE)
    assert rows == before


def test_retainer_without_last_months_rows_rolls_nothing_over_and_says_so():
    b = book(
        [["Client", "Currency"], ["Nimbus", "USD"]],
        rules=[
            ["Rule", "Client", "Hours", "Rate", "Amount", "Rollover Cap"],
            ["retainer", "Nimbus", "10", "150", "1000", "5"],
        ],
    )
    result = compute_invoices([row("Nimbus", "12")], b, OCT, ISSUE)
    (draft,) = result.drafts
    assert [(line.kind, line.amount) for line in draft.lines] == [
        ("retainer", Decimal("1000.00")),
        ("hours", Decimal("300.00")),
    ]
    assert any("no time of Sep 2026" in i.message for i in result.issues)


def test_retainer_client_without_time_still_gets_its_fee():
    b = book(
        [["Client", "Currency"], ["Nimbus", "USD"]],
        rules=[["Rule", "Client", "Hours", "Amount"], ["retainer", "Nimbus", "10", "1000"]],
    )
    (draft,) = compute_invoices([], b, OCT, ISSUE).drafts
    assert draft.total == Decimal("1000.00") and draft.lines[0].entry_refs == ()


def test_unknown_category_is_billed_under_its_name_with_a_warning():
    b = book([["Client", "Currency", "Default Rate"], ["Acme", "USD", "100"]])
    result = compute_invoices([row(category="Research")], b, OCT, ISSUE)
    assert result.drafts[0].lines[0].line_item == "Research"
    assert any('unknown category "Research"' in i.message for i in result.issues)


def test_tracker_rate_in_another_currency_is_not_used():
    b = book([["Client", "Currency"], ["Fjord", "EUR"]], rates=[["Client", "Role", "Rate"], ["", "Developer", "99"]])
    (draft,) = compute_invoices([row("Fjord", "1", rate="150", currency="USD")], b, OCT, ISSUE).drafts
    assert draft.lines[0].unit_price == Decimal("99")


def test_discount_with_nothing_to_discount_is_a_warning():
    b = book(
        [["Client", "Currency", "Default Rate"], ["Acme", "USD", "100"]],
        rules=[["Rule", "Client", "Line Item", "Percent"], ["discount", "Acme", "Design", "10%"]],
    )
    result = compute_invoices([row()], b, OCT, ISSUE)
    assert [line.kind for line in result.drafts[0].lines] == ["hours"]
    assert any("found nothing to discount" in i.message for i in result.issues)


def test_total_up_more_than_half_on_last_invoice_is_a_warning():
    b = book([["Client", "Currency", "Default Rate"], ["Acme", "USD", "100"]])
    result = compute_invoices([row(hours="10")], b, OCT, ISSUE, previous_totals={"Acme": Decimal("500")})
    assert any("up more than 50% on the last invoice" in i.message for i in result.issues)
    calm = compute_invoices([row(hours="10")], b, OCT, ISSUE, previous_totals={"Acme": Decimal("900")})
    assert not any("last invoice" in i.message for i in calm.issues)


def test_zero_decimal_currency_rounds_to_whole_units():
    b = book([["Client", "Currency", "Default Rate"], ["Dart", "JPY", "15000"]])
    (draft,) = compute_invoices([row("Dart", "0.33")], b, OCT, ISSUE).drafts
    assert draft.total == Decimal("4950")


def test_a_cap_below_the_minimum_fee_is_refused():
    _, errors = parse_book(
        {
            "Clients": [["Client", "Currency", "Default Rate", "Minimum Fee"], ["Acme", "USD", "100", "300"]],
            "Rules": [["Rule", "Client", "Amount"], ["cap", "Acme", "200"]],
            "Categories": CATEGORIES,
        }
    )
    assert [str(e) for e in errors] == [
        'Rules!A2: the cap for "Acme" (200) is below its Minimum Fee (300) at Clients!A2; they cannot both hold'
    ]


def test_minimum_fee_tops_up_work_after_the_cap():
    b = book(
        [["Client", "Currency", "Default Rate", "Minimum Fee"], ["Acme", "USD", "100", "300"]],
        rules=[["Rule", "Client", "Amount"], ["cap", "Acme", "400"]],
    )
    (draft,) = compute_invoices([row(hours="5")], b, OCT, ISSUE).drafts
    assert [(line.kind, line.amount) for line in draft.lines] == [
        ("hours", Decimal("500.00")),
        ("writeoff", Decimal("-100.00")),
    ]
    (small,) = compute_invoices([row(hours="2")], b, OCT, ISSUE).drafts
    assert [(line.kind, line.amount) for line in small.lines] == [
        ("hours", Decimal("200.00")),
        ("minimum", Decimal("100.00")),
    ]


def test_unapproved_rows_are_not_billed_but_not_unseen_either():
    b = book([["Client", "Currency", "Default Rate"], ["Acme", "USD", "100"], ["Bolt", "USD", "100"]])
    rows = [
        row(hours="2"),
        row(hours="1.5", approved=False),
        row(hours="1", approved=False, category="Internal"),
        row("Bolt", "3", approved=False),
    ]
    result = compute_invoices(rows, b, OCT, ISSUE)
    assert [d.client for d in result.drafts] == ["Acme"]
    assert result.drafts[0].total == Decimal("200.00")
    assert [n.hours for n in result.non_billable["Acme"]] == [Decimal("1")]
    waiting = [str(i) for i in located(result).issues if "not approved yet" in i.message]
    assert waiting == [
        f"Time!M{rows[1].row}: 1 billable entry is not approved yet (1.5 h) and not on this invoice",
        f"Time!M{rows[3].row}: 1 billable entry is not approved yet (3 h) and not on this invoice",
    ]
    assert result.held == {}


def test_unknown_client_with_only_unapproved_time_is_a_warning_not_a_hold():
    b = book([["Client", "Currency", "Default Rate"], ["Acme", "USD", "100"]])
    result = compute_invoices([row("Newco", "2", approved=False), row()], b, OCT, ISSUE)
    assert result.held == {} and [d.client for d in result.drafts] == ["Acme"]
    assert any(i.client == "Newco" and "none approved yet" in i.message for i in result.issues)


def test_a_client_already_invoiced_this_month_is_not_invoiced_twice():
    b = book(
        [["Client", "Currency", "Default Rate"], ["Acme", "USD", "100"], ["Nimbus", "USD", "100"]],
        rules=[["Rule", "Client", "Hours", "Amount"], ["retainer", "Nimbus", "10", "1000"]],
    )
    done = [
        row(hours="2", invoice="INV-1"),
        row("Nimbus", "3", invoice="INV-2"),
        row(hours="1", category="Internal", approved=False),
    ]
    result = compute_invoices(done, b, OCT, ISSUE)
    assert result.drafts == () and result.held == {}
    assert result.invoiced == {"Acme": ("INV-1",), "Nimbus": ("INV-2",)}
    assert [n.hours for n in result.non_billable["Acme"]] == [Decimal("1")]  # still listed in Preview
    late = compute_invoices([*done, row(hours="4")], b, OCT, ISSUE)
    assert late.drafts == () and "already invoiced for 2026-10 (INV-1)" in late.held["Acme"]
    assert late.held_drafts["Acme"].total == Decimal("400.00")
