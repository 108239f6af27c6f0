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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from operator import attrgetter

from ..models import InvoiceDraft, Issue, Period, TimeRow
from ..money import ZERO, exact_sum, fmt_money, hours_fraction
from .book import BookIndex, ClientSettings, RuleBook
from .client import ClientBilling
from .duplicates import duplicate_reason, duplicates
from .lines import NonBillable, hours_text

__all__ = ["BillingResult", "NonBillable", "compute_invoices"]


@dataclass(frozen=True)
class BillingResult:
    drafts: tuple[InvoiceDraft, ...]
    issues: tuple[Issue, ...]
    held: dict[str, str]  # client -> why it is not invoiced this run
    non_billable: dict[str, tuple[NonBillable, ...]]
    held_drafts: dict[str, InvoiceDraft] = field(default_factory=dict)  # what a held or not-billed client would get
    invoiced: dict[str, tuple[str, ...]] = field(default_factory=dict)  # client -> invoice numbers already made
    period: str = ""
    not_billed: dict[str, str] = field(default_factory=dict)  # client -> why no invoice is created (0.00 total)
    duplicates: dict[str, tuple[NonBillable, ...]] = field(default_factory=dict)  # approved rows held out
    milestones: dict[str, tuple[str, ...]] = field(default_factory=dict)  # client -> Rules rows its draft bills

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
    invoices: Iterable[tuple[str, str, str]] = (),
) -> BillingResult:
    """Compute every client's invoice for `period` from the Time rows (all of them; the engine picks).

    `invoices` are the invoices already made, as (client, period, number) — the sheet's Invoices tab — so a
    client whose invoice for the month exists (even one with no entries: a fee-only invoice) gets no second one.
    """
    card = book.rate_card()
    index = BookIndex(book)
    issues: list[Issue] = []
    held: dict[str, str] = {}
    held_drafts: dict[str, InvoiceDraft] = {}
    not_billed: dict[str, str] = {}
    drafts: list[InvoiceDraft] = []
    non_billable: dict[str, tuple[NonBillable, ...]] = {}
    invoiced: dict[str, tuple[str, ...]] = {}
    milestones: dict[str, tuple[str, ...]] = {}
    held_out: dict[str, list[NonBillable]] = defaultdict(list)

    def client_name(raw: str) -> str:
        settings = index.client(raw)
        return settings.name if settings else raw.strip()

    names: dict[str, str] = {}  # client key -> its name as the Clients tab (or the first row) spells it
    # Invoices made, per client and month: the Invoices tab's and those written on Time rows.
    made: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for client, month, number in [
        *invoices,
        *((r.entry.client, str(Period.of(r.entry.date)), r.invoice) for r in rows if r.invoice and r.invoiced),
    ]:
        names.setdefault(client_name(client).casefold(), client_name(client))
        numbers = made[client_name(client).casefold()][str(month).strip()]
        if number.strip() and number.strip() not in numbers:
            numbers.append(number.strip())
    dupes = duplicates((r.entry, r.comment) for r in sorted(rows, key=attrgetter("row")))
    # per distinct client text and category, not per row: 100,000 rows name a few dozen of each
    clients_by_text: dict[str, tuple[ClientSettings | None, str, str]] = {}  # -> (settings, name, key)
    billable_category: dict[str, bool] = {}

    def billable(r: TimeRow) -> bool:
        if not r.entry.billable:
            return False
        ok = billable_category.get(r.category)
        if ok is None:
            ok = billable_category[r.category] = _billable_category(r.category, index)
        return ok

    def late(r: TimeRow, key: str) -> bool:
        """Approved billable time of an earlier month already invoiced for the client: it bills on this invoice."""
        d = r.entry.date
        return (
            d < period.start
            and r.approved
            and not r.invoiced
            and r.entry.ref not in dupes
            and billable(r)
            and bool(made[key].get(str(Period.of(d))))
        )

    current: dict[str, list[TimeRow]] = defaultdict(list)
    carried: dict[str, list[TimeRow]] = defaultdict(list)  # late time of earlier months, on this invoice
    pending: dict[str, list[TimeRow]] = defaultdict(list)  # in the period, not approved yet
    prev_hours: dict[str, Decimal] = {}  # only clients with rows last month: no rows is not "nothing used"
    prev_used: dict[str, list[Fraction]] = {}  # hours billed against a retainer last month, as that invoice did
    prev_period = period.previous()
    start, in_year, in_month = period.start, period.year, period.month
    for r in rows:
        e = r.entry
        text = e.client
        known = clients_by_text.get(text)
        if known is None:
            settings = index.client(text)
            name = settings.name if settings else text.strip()
            known = clients_by_text[text] = (settings, name, name.casefold())
            names.setdefault(known[2], name)
        settings, name, key = known
        d = e.date
        earlier = d < start
        is_late = earlier and late(r, key)
        if earlier and prev_period.contains(d):
            prev_hours.setdefault(key, ZERO)
            prev_used.setdefault(key, [])
            if r.approved and billable(r):
                prev_hours[key] += r.entry.hours
                if not is_late:  # late time was not on last month's invoice: it draws on this month's
                    prev_used[key].append(_retainer_use(r, settings, index))
        if is_late:
            current[key].append(r)
            carried[key].append(r)
            continue
        if d.month != in_month or d.year != in_year or (r.invoice and r.invoiced):  # not in the period, or invoiced
            continue
        if r.approved and dupes and r.entry.ref in dupes and billable(r):
            held_out[key].append(
                NonBillable(
                    ref=r.entry.ref,
                    row=r.row,
                    hours=r.entry.hours,
                    category=r.effective_category,
                    reason=duplicate_reason(dupes[r.entry.ref]),
                )
            )
            issues.append(
                Issue(
                    level="warning",
                    client=name,
                    row=r.row,
                    field="comment",
                    message=f"{r.entry.ref} {duplicate_reason(dupes[r.entry.ref])}",
                )
            )
            current.setdefault(key, [])
        elif r.approved:
            current[key].append(r)
        else:
            pending[key].append(r)
            current.setdefault(key, [])

    # Clients billed this month even without time: retainers, minimum fees (as Bill Without Time says), fees,
    # milestones and expenses due.
    for c in book.clients:
        rules = index.rules(c.name)
        if c.active and (
            (rules.retainers and c.retainer_without_time)
            or (c.minimum_fee is not None and c.minimum_without_time)
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
        # by (date, ref): by ref, then stably by date, which compares no tuples (a third faster at 100,000)
        client_rows = sorted(current[key], key=_REF)
        client_rows.sort(key=_DATE)
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
            elif pending.get(key):
                waiting = pending[key]
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
            exact_sum(prev_used[key]) if key in prev_used else None,
        )
        already = tuple(made[key].get(str(period), ()))
        billable_rows = [r for r in client_rows if billable(r)]
        if already:
            invoiced[name] = already
        if already and not billable_rows:
            # Done for the month: only what is still unseen is listed; approved non-billable rows hold nothing.
            billing.listing_only([*pending.get(key, []), *client_rows])
            draft = None
        else:
            draft = billing.run(client_rows, pending.get(key, []))
        if already and billable_rows:
            # One invoice per client and month: its fees, retainer and expenses are already billed, and a second
            # draft would differ from the invoice that exists. The late time waits for this client alone.
            n = len(billable_rows)
            billing.hold.insert(
                0,
                f"already invoiced for {period} ({', '.join(already)}); {n} approved billable "
                f"{'entry' if n == 1 else 'entries'} came in after it — they bill on next month's invoice "
                f"(leave them approved); to bill them on {period} instead, {', '.join(already)} has to be "
                "reissued",
            )
        if already and any(m.due_in(period) for m in index.rules(name).milestones):
            billing.warn(
                f"a milestone was ticked complete after the {period} invoice ({', '.join(already)}); it bills on "
                "the next invoice",
                level="info",
            )
        if carried.get(key) and draft is not None:
            months = sorted({str(Period.of(r.entry.date)) for r in carried[key]})
            n = len(carried[key])
            billing.warn(
                f"{n} {'entry' if n == 1 else 'entries'} of {', '.join(months)}, approved after that month was "
                f"invoiced, {'is' if n == 1 else 'are'} billed on this invoice",
                level="info",
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
        elif draft.total == ZERO:
            not_billed[name] = (
                f"the invoice would total {fmt_money(ZERO, draft.currency)} ({_zero_reason(draft)}), so none is created"
            )
            held_drafts[name] = draft
        else:
            drafts.append(draft)
            if billing.milestones:
                milestones[name] = tuple(billing.milestones)
    for key, by_month in made.items():
        if by_month.get(str(period)):
            invoiced.setdefault(names[key], tuple(by_month[str(period)]))
    return BillingResult(
        drafts=tuple(drafts),
        issues=tuple(issues),
        held=held,
        non_billable=non_billable,
        held_drafts=held_drafts,
        invoiced=invoiced,
        period=str(period),
        not_billed=not_billed,
        duplicates={names[k]: tuple(v) for k, v in held_out.items() if v},
        milestones=milestones,
    )


_REF = attrgetter("entry.ref")
_DATE = attrgetter("entry.date")


def _zero_reason(draft: InvoiceDraft) -> str:
    kinds = {line.kind for line in draft.lines}
    if kinds <= {"fixed"}:
        return "only hours of a fixed-fee project whose fee bills in another month"
    others = sorted(kinds - {"hours"})
    return f"nothing left to bill after {', '.join(others)}" if others else "every line is 0.00"


def _retainer_use(r: TimeRow, settings: ClientSettings | None, book: BookIndex) -> Fraction:
    """The hours a billable row drew on its client's retainer: billed as the client rounds each entry, nothing
    for a fixed-fee or milestone project (billed outside hourly billing)."""
    if settings is None:
        return Fraction(0)
    if r.entry.project.casefold() in {f.project.casefold() for f in book.rules(settings.name).fees}:
        return Fraction(0)
    return settings.rounding.entry_hours(hours_fraction(r.entry.hours))


def _billable_category(category: str, book: BookIndex) -> bool:
    cat = book.category(category) if category.strip() else None
    return cat.billable if cat else True
