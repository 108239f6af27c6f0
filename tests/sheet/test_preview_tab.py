"""The Preview tab: lines, totals, status, warnings, non-billable time and changes since the last preview."""

from __future__ import annotations

from decimal import Decimal

from functions.billing.engine import compute_invoices
from functions.sheet.contract import load_contract
from functions.sheet.preview_tab import preview_rows
from tests.billing.helpers import ISSUE, OCT, book, located, row

HEADER = load_contract().tab("Preview").headers
COL = {h: i for i, h in enumerate(HEADER)}
CLIENTS = [
    ["Client", "Currency", "Default Rate", "Terms", "Memo", "Active"],
    ["Acme", "USD", "100", "Net 15", "Thanks", ""],
    ["Bolt", "EUR", "", "", "", ""],
    ["Dormant", "USD", "100", "", "", "FALSE"],
]


def rows_of(preview: list[list[object]], client: str, line: str | None = None) -> list[list[object]]:
    return [r for r in preview if r[COL["Client"]] == client and (line is None or r[COL["Line"]] == line)]


def test_one_client_block_lines_total_warnings_and_non_billable():
    b = book(CLIENTS)
    rows = [
        row(hours="2", notes="a"),
        row(hours="13", notes="b"),
        row(hours="1", category="Internal"),
        row(hours="1.5", billable=False),
    ]
    preview = preview_rows(located(compute_invoices(rows, b, OCT, ISSUE)), None)
    acme = rows_of(preview, "Acme")
    assert [r[COL["Line"]] for r in acme] == ["1", "Total", "Warning", "Non-billable"]
    line, total, warning, non_billable = acme
    assert (line[COL["Hours"]], line[COL["Quantity"]], line[COL["Rate"]], line[COL["Amount"]]) == (
        Decimal("15"),
        Decimal("15"),
        Decimal("100"),
        Decimal("1500.00"),
    )
    assert line[COL["Kind"]] == "hours" and line[COL["Entries"]] == 2 and "client default" in line[COL["Notes"]]
    assert total[COL["Amount"]] == Decimal("1500.00") and total[COL["Currency"]] == "USD"
    assert total[COL["Description"]] == "Due 2026-11-16 (Net 15)" and total[COL["Notes"]] == "Thanks"
    assert "13 h in one entry" in warning[COL["Notes"]] and warning[COL["Notes"]].startswith("Time!H")
    assert non_billable[COL["Hours"]] == Decimal("2.5") and non_billable[COL["Entries"]] == 2
    assert "not billable in the time tracker" in non_billable[COL["Notes"]]
    assert 'category "Internal" is not billable' in non_billable[COL["Notes"]]


def test_held_inactive_and_invoiced_clients_say_so():
    b = book(CLIENTS)
    rows = [row("Bolt", "2", person="Gus", role="Strategist"), row("Dormant", "1"), row("Acme", "3", invoice="INV-12")]
    result = compute_invoices(rows, b, OCT, ISSUE)
    preview = preview_rows(result, None)
    bolt = rows_of(preview, "Bolt")
    # A held client still shows what it would be billed, so the fix is easy to judge.
    assert [r[COL["Line"]] for r in bolt] == ["Held", "Error"]
    assert all(r[COL["Status"]] == "held" for r in bolt)
    assert "missing rate" in bolt[0][COL["Notes"]]
    dormant = rows_of(preview, "Dormant")
    assert dormant[0][COL["Line"]] == "1" and dormant[-1][COL["Line"]] == "Held"
    assert "inactive" in dormant[-1][COL["Notes"]]
    assert result.drafts == ()
    (acme,) = rows_of(preview, "Acme")
    assert (acme[COL["Line"]], acme[COL["Status"]]) == ("Invoiced", "invoiced")
    assert "INV-12" in acme[COL["Notes"]]


def test_changes_since_the_last_preview():
    b = book(CLIENTS)
    first = preview_rows(compute_invoices([row(hours="2"), row(hours="1", category="Design")], b, OCT, ISSUE), None)
    assert {r[COL["Changed"]] for r in rows_of(first, "Acme") if r[COL["Line"]] in ("1", "2", "Total")} == {"new"}
    same = preview_rows(
        compute_invoices([row(hours="2"), row(hours="1", category="Design")], b, OCT, ISSUE), [HEADER, *first]
    )
    assert all(r[COL["Changed"]] == "" for r in same)
    more = preview_rows(
        compute_invoices(
            [
                row(hours="2"),
                row(hours="3", category="Design"),
                row(hours="1", category="QA"),
                row(hours="1", notes="x"),
            ],
            b,
            OCT,
            ISSUE,
        ),
        [HEADER, *first],
    )
    changed = {r[COL["Description"]]: r[COL["Changed"]] for r in rows_of(more, "Acme")}
    assert changed["Design — 1 task, Oct 2026"] == "was 1 h, 100.00 USD"
    # Same line (line item, kind, rate) although its description changed with the task count.
    assert changed["Development — 2 tasks, Oct 2026"] == "was 2 h, 200.00 USD"
    assert changed["Quality Assurance — 1 task, Oct 2026"] == "new line"
    assert changed["Due 2026-11-16 (Net 15)"] == "total was 300.00 USD"


def test_previous_preview_is_read_by_header_even_when_reordered():
    b = book(CLIENTS)
    first = preview_rows(compute_invoices([row(hours="2")], b, OCT, ISSUE), None)
    order = list(reversed(range(len(HEADER))))
    shuffled = [[HEADER[i] for i in order]] + [[r[i] for i in order] for r in first]
    again = preview_rows(compute_invoices([row(hours="2")], b, OCT, ISSUE), shuffled)
    assert all(r[COL["Changed"]] == "" for r in again)


def test_a_client_gone_since_the_last_preview_is_listed():
    b = book(CLIENTS)
    first = preview_rows(
        compute_invoices([row(hours="2"), row("Bolt", "1", rate="80", currency="EUR")], b, OCT, ISSUE), None
    )
    later = preview_rows(compute_invoices([row(hours="2")], b, OCT, ISSUE), [HEADER, *first])
    (gone,) = rows_of(later, "Bolt")
    assert gone[COL["Line"]] == "Removed" and gone[COL["Changed"]] == "gone since the last preview"
