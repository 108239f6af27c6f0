"""The billing engine: approved Time rows + the rule book -> invoice drafts, warnings and holds. Pure: no I/O,
no clock (the issue date is passed in), same input, same output.

Order of work per client (docs/billing-rules.md explains each step with a worked example):

 1. pick rows: in the period, approved, not yet invoiced; split off non-billable ones (listed, never billed)
 2. line item of each row (roll-ups), billed hours of each entry (rounding per entry, minimum per entry)
 3. fixed-fee / milestone projects leave hourly billing (their hours ride on the fee line for the audit)
 4. price the hours: rate card with precedence and effective dates, or the client's tiers, or its retainer
    (included hours, then overage); a missing rate holds the client
 5. group into lines by the client's detail level, never merging two rates; round per line if asked
 6. fee lines: fixed fees and milestones due this month
 7. not-to-exceed caps (per project, then per client) as negative write-off lines
 8. minimum monthly fee
 9. expenses (with markup)
10. discounts: per line item, then per invoice (expenses are never discounted)
11. accounting items and tax codes per line; terms, due date, memo

This module picks the rows of each client; `client.ClientBilling` runs steps 2-5 and 11, `lines.ClientSteps`
steps 6-10 and the checks. The engine sees records only (models, money): an issue about a Time row carries the
row and field, and the sheet side names the cell through the tab's real header (`BillingResult.located`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

from ..models import InvoiceDraft, Issue, Period, TimeRow
from ..money import ZERO, hours_fraction
from .book import BookIndex, ClientSettings, RuleBook
from .client import ClientBilling
from .lines import NonBillable, hours_text

__all__ = ["BillingResult", "NonBillable", "compute_invoices"]


@dataclass(frozen=True)
class BillingResult:
    drafts: tuple[InvoiceDraft, ...]
    issues: tuple[Issue, ...]
    held: dict[str, str]  # client -> why it is not invoiced this run
    non_billable: dict[str, tuple[NonBillable, ...]]
    held_drafts: dict[str, InvoiceDraft] = field(default_factory=dict)  # what a held client would get, for Preview
    invoiced: dict[str, tuple[str, ...]] = field(default_factory=dict)  # client -> invoice numbers already made
    period: str = ""

    def issues_for(self, client: str) -> list[Issue]:
        return [i for i in self.issues if i.client == client]

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == "error"]

    def located(self, cell: Callable[[int, str], str]) -> BillingResult:
        """The result with every Time-row issue named as a cell by `cell(row, field)` (the sheet's real layout)."""
        return replace(self, issues=tuple(i.located(cell) for i in self.issues))


def compute_invoices(
    rows: Sequence[TimeRow],
    book: RuleBook,
    period: Period,
    issue_date: date,
    previous_totals: Mapping[str, Decimal] | None = None,
) -> BillingResult:
    """Compute every client's invoice for `period` from the Time rows (all of them; the engine picks)."""
    card = book.rate_card()
    index = BookIndex(book)
    issues: list[Issue] = []
    held: dict[str, str] = {}
    held_drafts: dict[str, InvoiceDraft] = {}
    drafts: list[InvoiceDraft] = []
    non_billable: dict[str, tuple[NonBillable, ...]] = {}
    invoiced: dict[str, list[str]] = defaultdict(list)

    current: dict[str, list[TimeRow]] = defaultdict(list)
    pending: dict[str, list[TimeRow]] = defaultdict(list)  # in the period, not approved yet
    prev_hours: dict[str, Decimal] = {}  # only clients with rows last month: no rows is not "nothing used"
    prev_used: dict[str, Fraction] = {}  # hours billed against a retainer last month, as that invoice billed them
    prev_period = period.previous()
    names: dict[str, str] = {}
    for r in rows:
        settings = index.client(r.entry.client)
        name = settings.name if settings else r.entry.client.strip()
        key = name.casefold()
        names.setdefault(key, name)
        if prev_period.contains(r.entry.date):
            prev_hours.setdefault(key, ZERO)
            prev_used.setdefault(key, Fraction(0))
            if r.approved and _billable(r, index):
                prev_hours[key] += r.entry.hours
                prev_used[key] += _retainer_use(r, settings, index)
        if not period.contains(r.entry.date):
            continue
        if r.invoiced:
            if r.invoice.strip() not in invoiced[name]:
                invoiced[name].append(r.invoice.strip())
            continue
        if r.approved:
            current[key].append(r)
        else:
            pending[key].append(r)
            current.setdefault(key, [])

    # Clients billed this month even without time: retainers, fees, milestones and expenses due.
    for c in book.clients:
        rules = index.rules(c.name)
        if c.active and (
            rules.retainers
            or any(f.due_in(period) for f in rules.fixed_fees)
            or any(m.due_in(period) for m in rules.milestones)
            or any(e.due_in(period) for e in rules.expenses)
        ):
            key = c.name.casefold()
            names.setdefault(key, c.name)
            current.setdefault(key, [])

    for key in sorted(current, key=lambda k: names[k].casefold()):
        name = names[key]
        settings = index.client(name)
        client_rows = sorted(current[key], key=lambda r: (r.entry.date, r.entry.ref))
        if settings is None:
            if client_rows:
                hours = sum((r.entry.hours for r in client_rows), ZERO)
                held[name] = (
                    f'"{name}" is not in the Clients tab ({len(client_rows)} approved entries, '
                    f"{hours_text(hours)} h); add it there to invoice it"
                )
                issues.append(
                    Issue(level="error", client=name, row=client_rows[0].row, field="client", message=held[name])
                )
            else:
                waiting = pending.get(key, [])
                issues.append(
                    Issue(
                        level="warning",
                        client=name,
                        row=waiting[0].row,
                        field="client",
                        message=f'"{name}" is not in the Clients tab ({len(waiting)} entries, none '
                        "approved yet); add it there before approving its time",
                    )
                )
            continue
        billing = ClientBilling(
            settings,
            index.rules(name),
            index,
            card,
            period,
            issue_date,
            prev_hours.get(key),
            (previous_totals or {}).get(name),
            prev_used.get(key),
        )
        if name in invoiced and not client_rows:
            billing.listing_only(pending.get(key, []))  # done for the month: only what is still unseen
            draft = None
        else:
            draft = billing.run(client_rows, pending.get(key, []))
        if name in invoiced and client_rows:
            # One invoice per client and month: fees, retainer and expenses are already on it, so late time is
            # never billed as a second invoice by accident. People decide: next month, or void and redo.
            billing.hold.insert(
                0,
                f"already invoiced for {period} ({', '.join(invoiced[name])}); "
                f"{len(client_rows)} approved "
                f"{'entry' if len(client_rows) == 1 else 'entries'} came in after it — move "
                "them to next month or void that invoice to bill them",
            )
        issues.extend(billing.issues)
        if billing.non_billable:
            non_billable[name] = tuple(billing.non_billable)
        if not settings.active:
            billing.hold.insert(0, f'"{name}" is marked inactive in the Clients tab')
        if draft is None:
            if billing.hold:
                held[name] = "; ".join(billing.hold)
            continue
        if billing.hold:
            held[name] = "; ".join(billing.hold)
            held_drafts[name] = draft
        else:
            drafts.append(draft)
    return BillingResult(
        drafts=tuple(drafts),
        issues=tuple(issues),
        held=held,
        non_billable=non_billable,
        held_drafts=held_drafts,
        invoiced={k: tuple(v) for k, v in invoiced.items()},
        period=str(period),
    )


def _retainer_use(r: TimeRow, settings: ClientSettings | None, book: BookIndex) -> Fraction:
    """The hours a billable row drew on its client's retainer: billed as the client rounds each entry, nothing
    for a fixed-fee or milestone project (billed outside hourly billing)."""
    if settings is None:
        return Fraction(0)
    if r.entry.project.casefold() in {f.project.casefold() for f in book.rules(settings.name).fees}:
        return Fraction(0)
    return settings.rounding.entry_hours(hours_fraction(r.entry.hours))


def _billable(r: TimeRow, book: BookIndex) -> bool:
    cat = book.category(r.category) if r.category.strip() else None
    return r.entry.billable and (cat.billable if cat else True)
