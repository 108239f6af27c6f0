"""The basic billing interface: hourly lines, rate precedence, holds, due dates, non-billable rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from functions.billing.engine import compute_invoices
from functions.sheet.contract import load_contract
from functions.sheet.preview_tab import preview_rows

from .helpers import ISSUE, OCT, book, row

CLIENTS = [
    ["Client", "Customer", "Currency", "Terms", "Default Rate", "Tax Code", "Memo"],
    ["Acme", "Acme Corp", "USD", "Net 15", "100", "TAX", "Work for {period}"],
    ["Bolt", "", "EUR", "Due on receipt", "", "", ""],
]
RATES = [
    ["Client", "Person", "Role", "Category", "Rate"],
    ["Acme", "Ana Ruiz", "", "", "150"],
    ["Acme", "", "Designer", "", "120"],
    ["", "", "Developer", "", "90"],
]


def test_rate_precedence_and_one_line_per_line_item_and_rate():
    b = book(CLIENTS, RATES)
    rows = [
        row(hours="2", person="Ana Ruiz"),  # client+person 150
        row(hours="1.5", person="Ben", role="Designer", category="Design"),  # client+role 120
        row(hours="3", person="Cleo", role="Tester"),  # client default 100
        row(hours="1", person="Dan", override="200"),  # override
        row(hours="1", person="Ana Ruiz", notes="more"),
    ]
    res = compute_invoices(rows, b, OCT, ISSUE)
    assert res.held == {}
    (draft,) = res.drafts
    got = sorted((line.line_item, line.unit_price, line.quantity, line.amount) for line in draft.lines)
    assert got == [
        ("Design", Decimal("120"), Decimal("1.5"), Decimal("180.00")),
        ("Development", Decimal("100"), Decimal("3"), Decimal("300.00")),
        ("Development", Decimal("150"), Decimal("3"), Decimal("450.00")),
        ("Development", Decimal("200"), Decimal("1"), Decimal("200.00")),
    ]
    assert draft.total == Decimal("1130.00")
    assert draft.due_date == date(2026, 11, 16) and draft.terms == "Net 15"
    assert draft.customer == "Acme Corp" and draft.memo == "Work for Oct 2026"
    assert sorted(draft.entry_refs) == sorted(r.entry.ref for r in rows)


def test_tracker_rate_beats_role_default_and_missing_rate_holds_client():
    b = book(CLIENTS, RATES)
    rows = [
        row("Bolt", "2", person="Eve", role="Developer", rate="80", currency="EUR"),
        row("Bolt", "1", person="Fay", role="Developer"),  # role default 90
        row("Bolt", "1", person="Gus", role="Strategist"),
    ]  # nothing applies
    res = compute_invoices(rows, b, OCT, ISSUE)
    assert "Bolt" in res.held and "Gus" in res.held["Bolt"]
    assert res.drafts == ()
    held = res.held_drafts["Bolt"]
    assert sorted((line.unit_price, line.quantity) for line in held.lines) == [
        (Decimal("80"), Decimal("2")),
        (Decimal("90"), Decimal("1")),
    ]
    assert held.due_date == ISSUE
    assert any(i.level == "error" and "no rate" in i.message for i in res.issues)


def test_unknown_client_is_held_and_others_still_computed():
    b = book(CLIENTS, RATES)
    res = compute_invoices([row("Nobody"), row("Acme")], b, OCT, ISSUE)
    assert "Nobody" in res.held and "Clients tab" in res.held["Nobody"]
    assert [d.client for d in res.drafts] == ["Acme"]


def test_only_approved_uninvoiced_rows_in_period_are_billed():
    b = book(CLIENTS, RATES)
    rows = [
        row(hours="1"),
        row(hours="2", approved=False),
        row("Bolt", "4", invoice="INV-7"),
        row(hours="8", day="2026-09-30"),
        row(hours="3", billable=False),
        row(hours="5", category="Internal"),
    ]
    res = compute_invoices(rows, b, OCT, ISSUE)
    (draft,) = res.drafts
    assert sum(line.quantity for line in draft.lines) == Decimal("1")
    nb = res.non_billable["Acme"]
    assert sorted(n.hours for n in nb) == [Decimal("3"), Decimal("5")]
    assert res.invoiced == {"Bolt": ("INV-7",)}


def test_row_without_category_is_an_issue():
    b = book(CLIENTS, RATES)
    r = row(category="")
    res = compute_invoices([r], b, OCT, ISSUE)
    (issue,) = [i for i in res.issues if "no category" in i.message]
    # The engine says which row and field; the sheet side names the cell through the tab's real header.
    assert (issue.row, issue.field, issue.where) == (r.row, "category", "")
    assert str(issue.located(lambda n, key: f"Time!Z{n}")).startswith(f"Time!Z{r.row}: ")


def test_preview_rows_follow_the_contract_and_mark_changes():
    b = book(CLIENTS, RATES)
    res = compute_invoices([row(hours="2"), row("Bolt", "1", person="Gus", role="Strategist")], b, OCT, ISSUE)
    header = load_contract().tab("Preview").headers
    first = preview_rows(res, None)
    assert all(len(r) == len(header) for r in first)
    col = {h: i for i, h in enumerate(header)}
    total = [r for r in first if r[col["Client"]] == "Acme" and r[col["Line"]] == "Total"][0]
    assert total[col["Amount"]] == Decimal("300.00") and total[col["Status"]] == "ready"
    assert total[col["Changed"]] == "new"
    held = [r for r in first if r[col["Client"]] == "Bolt" and r[col["Line"]] == "Held"]
    assert held and held[0][col["Status"]] == "held"
    again = preview_rows(res, [header] + first)
    assert all(r[col["Changed"]] == "" for r in again if r[col["Client"]] == "Acme")
    res2 = compute_invoices([row(hours="3")], b, OCT, ISSUE)
    third = preview_rows(res2, [header] + first)
    total2 = [r for r in third if r[col["Client"]] == "Acme" and r[col["Line"]] == "Total"][0]
    assert total2[col["Changed"]] == "total was 300.00 USD"
    assert any(r[col["Client"]] == "Bolt" and r[col["Line"]] == "Removed" for r in third)
