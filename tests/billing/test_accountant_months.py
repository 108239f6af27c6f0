"""Issue 10, items 7-10, in the client's own terms: a contract sentence and the figure an accountant writes on
the invoice for it (or the reason there is no invoice).

7. a whole-invoice discount is split per tax code, in proportion to each code's base;
8. months with no time (minimum fee, retainer) and a milestone ticked complete later than planned;
9. what is not a bill: a 0.00 invoice, approved non-billable rows, an unconfirmed duplicate;
10. a client whose invoice for the month exists gets no second draft: late time is held for it alone.
"""

from __future__ import annotations

from decimal import Decimal

from functions.billing.engine import compute_invoices
from functions.models import InvoiceDraft, Period

from .helpers import ISSUE, OCT, book, row

NOV = Period(year=2026, month=11)
CLIENTS = ["Client", "Currency", "Default Rate", "Tax Code", "Minimum Fee", "Bill Without Time"]
RULES = ["Rule", "Client", "Project", "Line Item", "Tax Code", "Hours", "Amount", "Percent", "Period", "Complete"]
ROLLUP_SUPPORT_NON = ["rollup", "", "", "Support", "NON", "", "", "", "", ""]
SUPPORT = ["Category", "Meaning", "Billable", "Line Item"]


def _book(clients: list[list[str]], rules: list[list[str]] | None = None):
    from .helpers import CATEGORIES

    cats = [*CATEGORIES, ["Support", "", "TRUE", "Support"]]
    return book([CLIENTS, *clients], rules=[RULES, *rules] if rules else None, categories=cats)


def _only(result) -> InvoiceDraft:
    assert result.held == {}, result.held
    (draft,) = result.drafts
    return draft


def _discounts(draft: InvoiceDraft) -> dict[str, Decimal]:
    return {ln.tax_code: ln.amount for ln in draft.lines if ln.kind == "discount"}


# --- 7. a whole-invoice discount on several tax codes -------------------------------------------------------


def test_ten_percent_off_an_invoice_with_taxed_and_zero_rated_work_is_split_by_tax_code():
    # "10% off the monthly invoice. Development is taxed (TAX), support is zero-rated (NON)."
    # Development 10 h x 100 = 1,000.00 (TAX), support 5 h x 100 = 500.00 (NON): the 150.00 discount is 100.00
    # off the taxed work and 50.00 off the zero-rated; tax is charged on 900.00, what the client really pays.
    b = _book(
        [["Orchard", "USD", "100", "TAX", "", ""]],
        [ROLLUP_SUPPORT_NON, ["discount", "Orchard", "", "", "", "", "", "10%", "", ""]],
    )
    rows = [row("Orchard", "10"), row("Orchard", "5", category="Support", notes="tickets")]
    draft = _only(compute_invoices(rows, b, OCT, ISSUE))
    assert _discounts(draft) == {"TAX": Decimal("-100.00"), "NON": Decimal("-50.00")}
    taxed = sum((ln.amount for ln in draft.lines if ln.tax_code == "TAX"), Decimal(0))
    assert taxed == Decimal("900.00")
    assert draft.total == Decimal("1350.00")


def test_a_fixed_discount_split_by_tax_code_gives_the_rounding_cent_to_the_largest_part():
    # "100.00 off this month." Development 400.00 (TAX), support 100.00 (NON), design 100.00 (EXM): in proportion
    # 66.67 + 16.67 + 16.67 = 100.01, one cent too many, taken from the largest part: 66.66 + 16.67 + 16.67.
    rules = [
        ["rollup", "", "", "Support", "NON", "", "", "", "", ""],
        ["rollup", "", "", "Design", "EXM", "", "", "", "", ""],
        ["discount", "Orchard", "", "", "", "", "100", "", "", ""],
    ]
    b = _book([["Orchard", "USD", "100", "TAX", "", ""]], rules)
    rows = [
        row("Orchard", "4"),
        row("Orchard", "1", category="Support", notes="tickets"),
        row("Orchard", "1", category="Design", notes="mockups"),
    ]
    draft = _only(compute_invoices(rows, b, OCT, ISSUE))
    assert _discounts(draft) == {"TAX": Decimal("-66.66"), "NON": Decimal("-16.67"), "EXM": Decimal("-16.67")}
    assert draft.total == Decimal("500.00")


# --- 8. months with no time ----------------------------------------------------------------------------------


def test_a_minimum_fee_billed_every_month_bills_in_a_month_without_time():
    # "The client pays at least 1,000.00 a month, whether or not work was done." No time in October: 1,000.00.
    b = _book([["Riverside", "USD", "130", "", "1000", "TRUE"]])
    draft = _only(compute_invoices([], b, OCT, ISSUE))
    assert [(ln.kind, ln.amount) for ln in draft.lines] == [("minimum", Decimal("1000.00"))]


def test_a_minimum_fee_by_default_bills_only_a_month_with_time():
    # "A month with work is billed at least 1,000.00." No work in October: no invoice.
    b = _book([["Riverside", "USD", "130", "", "1000", ""]])
    result = compute_invoices([], b, OCT, ISSUE)
    assert result.drafts == () and result.held == {}


def test_a_retainer_billed_only_in_months_with_work_is_not_billed_in_a_quiet_month():
    # "The 6,000.00 retainer is billed for each month in which we work for you." No approved time: no invoice.
    b = _book(
        [["Evergreen", "USD", "", "", "", "FALSE"]], [["retainer", "Evergreen", "", "", "", "60", "6000", "", "", ""]]
    )
    result = compute_invoices([], b, OCT, ISSUE)
    assert result.drafts == () and result.held == {}
    # and by default (blank) a retainer bills every month, with or without time
    b = _book([["Evergreen", "USD", "", "", "", ""]], [["retainer", "Evergreen", "", "", "", "60", "6000", "", "", ""]])
    assert _only(compute_invoices([], b, OCT, ISSUE)).total == Decimal("6000.00")


def _milestone(period: str, invoice: str = "") -> list[list[str]]:
    rules = [RULES + ["Invoice", "Description"]]
    rules.append(["milestone", "Harbor", "Exhibit", "", "", "", "6000", "", period, "TRUE", invoice, "Design sign-off"])
    return rules


def test_a_milestone_ticked_complete_a_month_late_bills_in_the_month_it_is_ticked():
    # "Design sign-off, 6,000.00, planned for September." It was ticked complete in October, after September's
    # invoice: it is on October's invoice, 6,000.00.
    b = book([CLIENTS, ["Harbor", "USD", "130", "", "", ""]], rules=_milestone("2026-09"))
    draft = _only(compute_invoices([], b, OCT, ISSUE))
    assert [(ln.kind, ln.amount) for ln in draft.lines] == [("milestone", Decimal("6000.00"))]
    assert any("planned for 2026-09" in d for d in draft.lines[0].detail)


def test_a_milestone_already_invoiced_is_never_billed_again():
    # The sign-off was billed on INV-0007 (the Rules row says so): November's run does not bill it twice.
    b = book([CLIENTS, ["Harbor", "USD", "130", "", "", ""]], rules=_milestone("2026-10", invoice="INV-0007"))
    assert compute_invoices([], b, NOV, ISSUE).drafts == ()
    assert compute_invoices([], b, OCT, ISSUE).drafts == ()


# --- 9. what is not a bill -----------------------------------------------------------------------------------


def test_an_invoice_that_totals_zero_is_not_created_and_says_why():
    # "HIPAA audit, fixed fee 7,500.00, billed in September." October has 4 h logged on it and nothing else to
    # bill: the invoice would total 0.00, so none is created; Preview shows the lines and the reason.
    b = book(
        [CLIENTS, ["Cedar", "USD", "", "", "", ""]],
        rules=[["Rule", "Client", "Project", "Amount", "Period"], ["fixed fee", "Cedar", "HIPAA", "7500", "2026-09"]],
    )
    result = compute_invoices([row("Cedar", "4", project="HIPAA")], b, OCT, ISSUE)
    assert result.drafts == ()
    assert "0.00" in result.not_billed["Cedar"]
    assert result.held_drafts["Cedar"].total == Decimal("0.00")


def test_approved_non_billable_time_after_the_invoice_never_holds_the_client():
    # October is invoiced (INV-1, 2 h at 100). An approved internal hour turns up later: nothing to bill, no hold.
    b = _book([["Acme", "USD", "100", "", "", ""]])
    rows = [row("Acme", "2", invoice="INV-1"), row("Acme", "1", category="Internal", day="2026-10-20")]
    result = compute_invoices(rows, b, OCT, ISSUE)
    assert result.held == {} and result.drafts == ()
    assert [n.hours for n in result.non_billable["Acme"]] == [Decimal("1")]


def test_a_duplicate_entry_is_held_out_until_a_person_confirms_it():
    # Ana logged "code review", 1.5 h on Oct 6, twice. At 100/h the client owes 150.00, not 300.00, until someone
    # confirms in the Comment that there really were two reviews.
    b = _book([["Acme", "USD", "100", "", "", ""]])
    first, twin = (
        row("Acme", "1.5", day="2026-10-06", notes="code review"),
        row("Acme", "1.5", day="2026-10-06", notes="code review"),
    )
    result = compute_invoices([first, twin], b, OCT, ISSUE)
    draft = _only(result)
    assert draft.total == Decimal("150.00")
    assert twin.entry.ref not in draft.entry_refs
    assert [d.ref for d in result.duplicates["Acme"]] == [twin.entry.ref]
    confirmed = twin.model_copy(update={"comment": "confirmed: two reviews that day"})
    assert _only(compute_invoices([first, confirmed], b, OCT, ISSUE)).total == Decimal("300.00")


# --- 10. a fee-only invoice never blocks the month ----------------------------------------------------------


def test_time_approved_after_a_fee_only_invoice_holds_that_client_alone():
    # Evergreen's retainer invoice for October (INV-0001, 6,000.00, no entries) was created before its time was
    # approved. Its 12 h approved since are held with what to do; Acme (2 h at 100 = 200.00) is still invoiced.
    b = _book(
        [["Evergreen", "USD", "", "", "", ""], ["Acme", "USD", "100", "", "", ""]],
        [["retainer", "Evergreen", "", "", "", "60", "6000", "", "", ""]],
    )
    rows = [row("Evergreen", "12"), row("Acme", "2")]
    result = compute_invoices(rows, b, OCT, ISSUE, invoices=[("Evergreen", "2026-10", "INV-0001")])
    assert [d.client for d in result.drafts] == ["Acme"] and result.drafts[0].total == Decimal("200.00")
    why = result.held["Evergreen"]
    assert "already invoiced for 2026-10 (INV-0001)" in why and "next month" in why
    assert result.invoiced["Evergreen"] == ("INV-0001",)
    # with no new time the client is simply done for the month: no draft, no hold
    quiet = compute_invoices([row("Acme", "2")], b, OCT, ISSUE, invoices=[("Evergreen", "2026-10", "INV-0001")])
    assert "Evergreen" not in quiet.held and [d.client for d in quiet.drafts] == ["Acme"]
