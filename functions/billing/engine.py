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
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from ..models import Category, InvoiceDraft, InvoiceLine, Issue, Period, TimeRow
from ..money import ZERO, fmt_money, line_amount, round_money
from ..sheet.contract import column_letter, load_contract
from .book import ClientRules, ClientSettings, RuleBook
from .rates import RateCard
from .retainer import rollover
from .rollup import UNCATEGORIZED, Rollup, describe, summarize_notes
from .rounding import tidy_hours
from .tax import line_tax_code
from .terms import due_date
from .tiers import bands

from ..models import LONG_ENTRY_HOURS
SPIKE_RATIO = Decimal("1.5")
LABOUR_KINDS = ("hours", "fixed", "milestone", "retainer", "writeoff", "minimum")
_NO_RATE = "(no rate)"


@dataclass(frozen=True)
class NonBillable:
    """An approved row in the period that is not invoiced, and why (shown in Preview)."""

    ref: str
    where: str
    hours: Decimal
    category: str
    reason: str


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


@dataclass
class _Item:
    """One billable row on its way to a line."""

    row: TimeRow
    line_item: str
    raw: Decimal
    billed: Decimal
    category: str
    rollup: Rollup | None = None


@dataclass
class _Portion:
    """Billed hours of one item at one price (an item is split only at a tier or retainer boundary)."""

    item: _Item
    hours: Decimal
    rate: Decimal
    rate_note: str
    band: str = ""  # tier label, "overage", or "included" (retainer)


def compute_invoices(rows: Sequence[TimeRow], book: RuleBook, period: Period, issue_date: date,
                     previous_totals: Mapping[str, Decimal] | None = None) -> BillingResult:
    """Compute every client's invoice for `period` from the Time rows (all of them; the engine picks)."""
    card = book.rate_card()
    index = _Index(book)
    issues: list[Issue] = []
    held: dict[str, str] = {}
    held_drafts: dict[str, InvoiceDraft] = {}
    drafts: list[InvoiceDraft] = []
    non_billable: dict[str, tuple[NonBillable, ...]] = {}
    invoiced: dict[str, list[str]] = defaultdict(list)

    current: dict[str, list[TimeRow]] = defaultdict(list)
    pending: dict[str, list[TimeRow]] = defaultdict(list)  # in the period, not approved yet
    prev_hours: dict[str, Decimal] = {}  # only clients with rows last month: no rows is not "nothing used"
    prev_period = period.previous()
    names: dict[str, str] = {}
    for r in rows:
        settings = index.client(r.entry.client)
        name = settings.name if settings else r.entry.client.strip()
        key = name.casefold()
        names.setdefault(key, name)
        if prev_period.contains(r.entry.date):
            prev_hours.setdefault(key, ZERO)
            if r.approved and _billable(r, index):
                prev_hours[key] += r.entry.hours
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
        if c.active and (rules.retainers or any(f.due_in(period) for f in rules.fixed_fees)
                         or any(m.due_in(period) for m in rules.milestones)
                         or any(e.due_in(period) for e in rules.expenses)):
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
                held[name] = (f'"{name}" is not in the Clients tab ({len(client_rows)} approved entries, '
                              f"{_h(hours)} h); add it there to invoice it")
                issues.append(Issue(level="error", client=name, where=time_cell(client_rows[0].row, "client"),
                                    message=held[name]))
            else:
                waiting = pending.get(key, [])
                issues.append(Issue(level="warning", client=name, where=time_cell(waiting[0].row, "client"),
                                    message=f'"{name}" is not in the Clients tab ({len(waiting)} entries, none '
                                            "approved yet); add it there before approving its time"))
            continue
        billing = _ClientBilling(settings, index.rules(name), index, card, period, issue_date,
                                 prev_hours.get(key), (previous_totals or {}).get(name))
        if name in invoiced and not client_rows:
            billing.listing_only(pending.get(key, []))  # done for the month: only what is still unseen
            draft = None
        else:
            draft = billing.run(client_rows, pending.get(key, []))
        if name in invoiced and client_rows:
            # One invoice per client and month: fees, retainer and expenses are already on it, so late time is
            # never billed as a second invoice by accident. People decide: next month, or void and redo.
            billing.hold.insert(0, f"already invoiced for {period} ({', '.join(invoiced[name])}); "
                                   f"{len(client_rows)} approved "
                                   f"{'entry' if len(client_rows) == 1 else 'entries'} came in after it — move "
                                   "them to next month or void that invoice to bill them")
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
    return BillingResult(drafts=tuple(drafts), issues=tuple(issues), held=held, non_billable=non_billable,
                         held_drafts=held_drafts, invoiced={k: tuple(v) for k, v in invoiced.items()},
                         period=str(period))


class _Index:
    """Case-insensitive lookups into the book, built once per run (the book itself stays a plain value)."""

    def __init__(self, book: RuleBook):
        self._clients = {c.name.casefold(): c for c in book.clients}
        self._categories = {c.name.casefold(): c for c in book.categories}
        self._rules: dict[str, ClientRules] = {}
        self.book = book

    def client(self, name: str) -> ClientSettings | None:
        return self._clients.get(name.strip().casefold())

    def category(self, name: str) -> Category | None:
        return self._categories.get(name.strip().casefold())

    def rules(self, client: str) -> ClientRules:
        key = client.strip().casefold()
        if key not in self._rules:
            self._rules[key] = self.book.for_client(client)
        return self._rules[key]


_TIME_KEYS: dict[str, int] = {}


def time_cell(row: int, key: str) -> str:
    """`Time!J12`: the cell of a Time column in the contract's column order."""
    if not _TIME_KEYS:
        _TIME_KEYS.update({k: i for i, k in enumerate(load_contract().tab("Time").keys())})
    return f"Time!{column_letter(_TIME_KEYS[key] + 1)}{row}"


def _billable(r: TimeRow, book: _Index) -> bool:
    cat = book.category(r.category) if r.category.strip() else None
    return r.entry.billable and (cat.billable if cat else True)


def _h(hours: Decimal) -> str:
    return f"{tidy_hours(hours):f}"


def _week(d: date, period: Period) -> str:
    """The Monday of the entry's week, or the 1st when the week began in the previous month."""
    return max(d - timedelta(days=d.weekday()), period.start).isoformat()


def _distinct_descriptions(lines: list[InvoiceLine]) -> list[InvoiceLine]:
    """Two hour lines that read the same (same line item, different rates) get their rate in the text, so the
    client can tell them apart and Preview can match them with the last run."""
    seen = Counter(l.description for l in lines if l.kind == "hours")
    return [l.model_copy(update={"description": f"{l.description} at {l.unit_price}/h"})
            if l.kind == "hours" and seen[l.description] > 1 else l for l in lines]


class _ClientBilling:
    """The steps of the module docstring for one client; collects its lines, issues and holds."""

    def __init__(self, settings: ClientSettings, rules: ClientRules, book: _Index, card: RateCard, period: Period,
                 issue_date: date, prev_hours: Decimal | None, prev_total: Decimal | None):
        self.c, self.rules, self.book, self.card = settings, rules, book, card
        self.period, self.issue_date = period, issue_date
        self.prev_hours, self.prev_total = prev_hours, prev_total
        self.currency = settings.currency
        self.issues: list[Issue] = []
        self.hold: list[str] = []
        self.non_billable: list[NonBillable] = []
        self.lines: list[InvoiceLine] = []
        self.matched_rollups: set[str] = set()
        self.fees_by_project: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.allowance = self.carried = ZERO

    # -- helpers ------------------------------------------------------------------------------------------------
    def warn(self, message: str, where: str = "", level: str = "warning") -> None:
        self.issues.append(Issue(level=level, message=message, client=self.c.name, where=where))  # type: ignore[arg-type]

    def money(self, amount: Decimal) -> str:
        return fmt_money(amount, self.currency)

    def item_for(self, line_item: str, hint: Rollup | None = None) -> tuple[str, str]:
        """(accounting item, tax code) of a line item: from the rollup row that put the entry there, else from the
        first rollup row naming that line item (the client's own rows before the rows for every client)."""
        if hint and (hint.item or hint.tax_code):
            return hint.item, hint.tax_code
        mine = [r for r in self.rules.rollups if r.line_item.casefold() == line_item.casefold()]
        mine.sort(key=lambda r: not r.client)
        item = next((r.item for r in mine if r.item), "")
        tax = next((r.tax_code for r in mine if r.tax_code), "")
        return item, tax

    # -- the steps ----------------------------------------------------------------------------------------------
    def run(self, rows: list[TimeRow], pending: Sequence[TimeRow] = ()) -> InvoiceDraft | None:
        items = self._items(rows)
        self._pending(pending)
        fee_projects = {f.project.casefold() for f in (*self.rules.fixed_fees, *self.rules.milestones)}
        fee_items = [i for i in items if i.row.entry.project.casefold() in fee_projects]
        hourly = [i for i in items if i.row.entry.project.casefold() not in fee_projects]
        portions = self._price(hourly)
        self._hour_lines(portions)
        self._fee_lines(fee_items)
        self._caps(portions)
        self._minimum(bool(items))
        self._expenses()
        self._discounts()
        self._warnings(rows, items)
        if not self.lines:
            return None
        lines = [self._finish(line) for line in _distinct_descriptions(self.lines)]
        memo = self.c.memo.replace("{period}", self.period.label())
        return InvoiceDraft(client=self.c.name, customer=self.c.accounting_customer, period=str(self.period),
                            currency=self.currency, issue_date=self.issue_date,
                            due_date=due_date(self.issue_date, self.c.due_days), terms=self.c.terms, memo=memo,
                            tax_code="NON" if self.c.tax_exempt else self.c.tax_code, lines=tuple(lines))

    def _finish(self, line: InvoiceLine) -> InvoiceLine:
        return line.model_copy(update={"tax_code": line_tax_code(exempt=self.c.tax_exempt, line_code=line.tax_code,
                                                                 client_code=self.c.tax_code)})

    def _items(self, rows: list[TimeRow]) -> list[_Item]:
        items: list[_Item] = []
        for r in rows:
            e = r.entry
            category = r.effective_category
            cat: Category | None = self.book.category(category) if category else None
            if category and cat is None:
                self.warn(f'unknown category "{category}" (not in the Categories tab); billed as its own line item',
                          time_cell(r.row, "category"))
            if not e.billable or (cat is not None and not cat.billable):
                reason = "not billable in the time tracker" if not e.billable else f'category "{cat.name}" is not billable'
                self.non_billable.append(NonBillable(ref=e.ref, where=time_cell(r.row, "hours"), hours=e.hours,
                                                     category=category, reason=reason))
                continue
            rollup = None
            if r.line_item.strip():
                line_item = r.line_item.strip()
            else:
                rollup = next((x for x in self.rules.rollups if x.matches(r, category)), None)
                if rollup:
                    line_item = rollup.line_item
                    self.matched_rollups.add(rollup.location)
                elif cat:
                    line_item = cat.line_item or cat.name
                else:
                    line_item = category or UNCATEGORIZED
            if not category:
                self.warn(f"{e.ref} ({e.person}, {e.date}, {_h(e.hours)} h) has no category; billed under "
                          f'"{line_item}" — pick a category before creating invoices', time_cell(r.row, "category"))
            if e.hours <= ZERO:
                self.warn(f"{e.ref} has {_h(e.hours)} hours", time_cell(r.row, "hours"))
            billed = self.c.rounding.entry_hours(e.hours)
            items.append(_Item(row=r, line_item=line_item, raw=e.hours, billed=billed, category=category,
                               rollup=rollup))
        return items

    def listing_only(self, pending: Sequence[TimeRow]) -> None:
        """For a client already invoiced this month: list its unapproved rows, bill nothing."""
        self._pending(pending)

    def _pending(self, rows: Sequence[TimeRow]) -> None:
        """Unapproved rows are not billed: non-billable ones are listed as such, billable ones as a warning, so
        that nothing in the month disappears unseen."""
        waiting: list[TimeRow] = []
        for r in rows:
            cat = self.book.category(r.effective_category) if r.effective_category else None
            if not r.entry.billable or (cat is not None and not cat.billable):
                reason = "not billable in the time tracker" if not r.entry.billable else \
                    f'category "{cat.name}" is not billable'  # type: ignore[union-attr]
                self.non_billable.append(NonBillable(ref=r.entry.ref, where=time_cell(r.row, "hours"),
                                                     hours=r.entry.hours, category=r.effective_category,
                                                     reason=reason))
            else:
                waiting.append(r)
        if waiting:
            hours = sum((r.entry.hours for r in waiting), ZERO)
            self.warn(f"{len(waiting)} billable entr{'y is' if len(waiting) == 1 else 'ies are'} not approved yet "
                      f"({_h(hours)} h) and not on this invoice", time_cell(waiting[0].row, "approved"))

    def _rate(self, item: _Item) -> tuple[Decimal, str] | None:
        return self.card.resolve(item.row, self.c.name, item.category, self.currency)

    def _price(self, items: list[_Item]) -> list[_Portion]:
        tiers = list(self.rules.tiers)
        retainer = self.rules.retainers[0] if self.rules.retainers else None
        missing: list[_Item] = []
        portions: list[_Portion] = []
        if tiers:
            portions = self._fill(items, [(cap, lambda i, r=rate, n=f"tier {label} ({where})": (r, n), label)
                                          for cap, rate, label, where in bands(tiers)])
        elif retainer:
            if self.prev_hours is None:
                carried = ZERO
                if retainer.rollover_cap:
                    self.warn(f"no time of {self.period.previous().label()} in the Time tab, so no unused retainer "
                              "hours were rolled over", retainer.location, level="info")
            else:
                carried = rollover(retainer, self.prev_hours)
            allowance = retainer.included_hours + carried
            self.allowance, self.carried = allowance, carried

            def overage(i: _Item) -> tuple[Decimal, str] | None:
                if retainer.overage_rate is not None:
                    return retainer.overage_rate, f"retainer overage rate ({retainer.location})"
                return self._rate(i)

            portions = self._fill(items, [(allowance, lambda i: (ZERO, "included in the retainer"), "included"),
                                          (None, overage, "overage")])
        else:
            for i in items:
                found = self._rate(i)
                if found is None:
                    missing.append(i)
                    continue
                portions.append(_Portion(item=i, hours=i.billed, rate=found[0], rate_note=found[1]))
        missing += list({id(p.item): p.item for p in portions if p.rate_note == _NO_RATE}.values())
        portions = [p for p in portions if p.rate_note != _NO_RATE]
        if missing:
            who = sorted({f"{i.row.entry.person}" + (f" ({i.row.entry.role})" if i.row.entry.role else "")
                          for i in missing})
            msg = (f"no rate for {len(missing)} entr{'y' if len(missing) == 1 else 'ies'} of {', '.join(who)}; "
                   "add a rate in the Rates tab, a Default Rate in the Clients tab, or a Rate Override")
            self.warn(msg, time_cell(missing[0].row.row, "rate_override"), level="error")
            self.hold.append(f"missing rate ({', '.join(who)})")
        return portions

    def _fill(self, items: list[_Item], ladder: list) -> list[_Portion]:  # type: ignore[type-arg]
        """Pour items, in date order, into bands of (capacity or None, price function, label)."""
        out: list[_Portion] = []
        band, room = 0, ladder[0][0]
        for i in items:
            left = i.billed
            while True:
                _, price, label = ladder[band]
                if room is not None and room <= ZERO:
                    if band + 1 < len(ladder):
                        band, room = band + 1, ladder[band + 1][0]
                        continue
                    room = None  # the last band takes the rest, whatever its size
                take = left if room is None else min(left, room)
                found = price(i)
                rate, note = found if found is not None else (ZERO, _NO_RATE)
                out.append(_Portion(item=i, hours=take, rate=rate, rate_note=note, band=label))
                left -= take
                if room is not None:
                    room -= take
                if left <= ZERO:
                    break
        return out

    def _hour_lines(self, portions: list[_Portion]) -> None:
        detail = self.c.detail
        groups: dict[tuple, list[_Portion]] = {}  # type: ignore[type-arg]
        included: list[_Portion] = []
        for p in portions:
            if p.band == "included":
                included.append(p)
                continue
            e = p.item.row.entry
            extra = {"line item": "", "line item + person": e.person, "line item + week": _week(e.date, self.period),
                     "entry": e.ref}[detail]
            key = (p.item.line_item.casefold(), p.rate, p.band, extra)
            groups.setdefault(key, []).append(p)
        retainer = self.rules.retainers[0] if self.rules.retainers else None
        if retainer:
            self._retainer_line(retainer, included)
        split_refs = {ref for ref, n in Counter(p.item.row.entry.ref for p in portions).items() if n > 1}
        bands_order = {p.band: n for n, p in reversed(list(enumerate(portions)))}
        ordered = sorted(groups.items(), key=lambda kv: (bands_order.get(kv[0][2], 0), kv[0][0], kv[0][3], -kv[0][1]))
        for (_, rate, band, extra), group in ordered:
            first = group[0].item
            raw = sum((p.item.raw * (p.hours / p.item.billed) if p.item.billed else p.item.raw for p in group), ZERO)
            raw = tidy_hours(raw)
            billed = sum((p.hours for p in group), ZERO)
            qty = tidy_hours(self.c.rounding.line_hours(billed))
            refs = tuple(dict.fromkeys(p.item.row.entry.ref for p in group))
            e = first.row.entry
            text = describe(self.c.description, line_item=first.line_item, count=len(refs), hours=_h(qty),
                            period=self.period.label(),
                            person=e.person if detail == "line item + person" else "",
                            week=f"week of {extra}" if detail == "line item + week" else "",
                            notes=summarize_notes((p.item.row.entry.notes for p in group), self.c.task_notes))
            if detail == "entry":
                text = describe(self.c.description or "{line_item} — {person}, {date}: {notes}",
                                line_item=first.line_item, count=1, hours=_h(qty), period=self.period.label(),
                                person=e.person, notes=e.notes.strip() or e.task).replace("{date}", e.date.isoformat())
            elif detail == "line item + person" and "{person}" not in (self.c.description or ""):
                text = f"{text} — {e.person}"
            elif detail == "line item + week" and "{week}" not in (self.c.description or ""):
                text = f"{text} — week of {extra}"
            if band and band != "overage":
                text = f"{text} ({band})"
            elif band == "overage":
                text = f"{text} (beyond retainer)"
            notes = [f"rate {rate} from {group[0].rate_note}"]
            if self.c.rounding.describe():
                notes.append(f"{_h(raw)} h tracked, {_h(qty)} h billed ({self.c.rounding.describe()})")
            splits = [r for r in refs if r in split_refs]
            if splits:
                notes.append(f"split across lines at a {'tier' if self.rules.tiers else 'retainer'} boundary: "
                             + ", ".join(splits))
            item, tax = self.item_for(first.line_item, first.rollup)
            self.lines.append(InvoiceLine(
                description=text, line_item=first.line_item, item=item, kind="hours", quantity=qty, unit_price=rate,
                amount=line_amount(qty, rate, self.currency), raw_hours=raw,
                service_date=min(p.item.row.entry.date for p in group), tax_code=tax, entry_refs=refs,
                detail=tuple(notes)))

    def _retainer_line(self, retainer, included: list[_Portion]) -> None:  # type: ignore[no-untyped-def]
        used = sum((p.hours for p in included), ZERO)
        raw = tidy_hours(sum((p.item.raw * (p.hours / p.item.billed) if p.item.billed else p.item.raw
                              for p in included), ZERO))
        allowance, carried = self.allowance, self.carried
        text = retainer.description or f"Monthly retainer, {self.period.label()}"
        text = f"{text} — {_h(retainer.included_hours)} h included" + (
            f" + {_h(carried)} h rolled over" if carried else "") + f", {_h(used)} h used"
        notes = [f"retainer {retainer.location}: {self.money(retainer.fee)} includes {_h(retainer.included_hours)} h"]
        if carried:
            notes.append(f"{_h(carried)} h unused last month rolled over (cap {_h(retainer.rollover_cap)} h)")
        if used < allowance and retainer.rollover_cap:
            notes.append(f"{_h(allowance - used)} h unused this month")
        item, tax = self.item_for(retainer.line_item)
        self.lines.append(InvoiceLine(
            description=text, line_item=retainer.line_item, item=retainer.item or item, kind="retainer",
            quantity=Decimal(1), unit_price=retainer.fee, amount=line_amount(Decimal(1), retainer.fee, self.currency),
            raw_hours=raw, tax_code=tax, entry_refs=tuple(dict.fromkeys(p.item.row.entry.ref for p in included)),
            detail=tuple(notes)))

    def _fee_lines(self, fee_items: list[_Item]) -> None:
        by_project: dict[str, list[_Item]] = defaultdict(list)
        for i in fee_items:
            by_project[i.row.entry.project.casefold()].append(i)
        projects: dict[str, str] = {}
        for f in (*self.rules.fixed_fees, *self.rules.milestones):
            projects.setdefault(f.project.casefold(), f.project)
        for key, project in projects.items():
            items = by_project.get(key, [])
            raw = tidy_hours(sum((i.raw for i in items), ZERO))
            refs = tuple(i.row.entry.ref for i in items)
            due = [f for f in self.rules.fixed_fees if f.project.casefold() == key and f.due_in(self.period)]
            due_m = [m for m in self.rules.milestones if m.project.casefold() == key and m.due_in(self.period)]
            first = True
            for f in [*due, *due_m]:
                kind = "fixed" if f in due else "milestone"
                text = f.description or (f"{project} — fixed fee, {self.period.label()}" if kind == "fixed"
                                         else f"{project} — milestone")
                item, tax = self.item_for(f.line_item or project)
                notes = [f"{kind} {f.location}: {self.money(f.amount)}"]
                if first and items:
                    notes.append(f"{_h(raw)} h logged on {project} this month (not billed by the hour)")
                self.lines.append(InvoiceLine(
                    description=text, line_item=f.line_item or project, item=f.item or item, kind=kind,
                    quantity=Decimal(1), unit_price=f.amount, amount=line_amount(Decimal(1), f.amount, self.currency),
                    raw_hours=raw if first else ZERO, tax_code=f.tax_code or tax, entry_refs=refs if first else (),
                    detail=tuple(notes)))
                self.fees_by_project[key] += self.lines[-1].amount
                first = False
            if first and items:
                self.lines.append(InvoiceLine(
                    description=f"{project} — {_h(raw)} h logged, {self.period.label()} (fixed fee, not billed by "
                                "the hour)", line_item=project, kind="fixed", quantity=raw, unit_price=ZERO,
                    amount=ZERO, raw_hours=raw, entry_refs=refs, detail=("hours shown for the audit",)))

    def _caps(self, portions: list[_Portion]) -> None:
        for cap in self.rules.caps:
            if cap.project:
                key = cap.project.casefold()
                value = round_money(sum((p.hours * p.rate for p in portions
                                         if p.item.row.entry.project.casefold() == key), ZERO), self.currency)
                value += self.fees_by_project.get(key, ZERO)
                self._writeoff(cap, value, cap.project)
        for cap in self.rules.caps:
            if not cap.project:
                value = sum((l.amount for l in self.lines if l.kind in LABOUR_KINDS), ZERO)
                self._writeoff(cap, value, "this month's work")

    def _writeoff(self, cap, value: Decimal, what: str) -> None:  # type: ignore[no-untyped-def]
        excess = value - cap.amount
        if excess <= ZERO:
            return
        self.lines.append(InvoiceLine(
            description=f"Not-to-exceed adjustment: {what} capped at {self.money(cap.amount)} "
                        f"(value delivered {self.money(value)})",
            line_item="Write-off", kind="writeoff", quantity=Decimal(1), unit_price=-excess,
            amount=line_amount(Decimal(1), -excess, self.currency), detail=(f"cap {cap.location}",)))

    def _minimum(self, has_time: bool) -> None:
        if self.c.minimum_fee is None or not has_time:
            return
        labour = sum((l.amount for l in self.lines if l.kind in LABOUR_KINDS), ZERO)
        if labour < self.c.minimum_fee:
            diff = self.c.minimum_fee - labour
            self.lines.append(InvoiceLine(
                description=f"Minimum monthly fee {self.money(self.c.minimum_fee)} (work this month "
                            f"{self.money(labour)})", line_item="Minimum fee", kind="minimum", quantity=Decimal(1),
                unit_price=diff, amount=line_amount(Decimal(1), diff, self.currency),
                detail=(f"minimum fee {self.c.location}",)))

    def _expenses(self) -> None:
        for x in self.rules.expenses:
            if not x.due_in(self.period):
                continue
            price = round_money(x.billed, self.currency)
            notes = [f"expense {x.location}: cost {self.money(x.amount)}"]
            if x.markup:
                notes.append(f"markup {x.markup.normalize():f}%")
            item, tax = self.item_for(x.line_item)
            self.lines.append(InvoiceLine(
                description=x.description, line_item=x.line_item, item=x.item or item, kind="expense",
                quantity=Decimal(1), unit_price=price, amount=line_amount(Decimal(1), price, self.currency),
                tax_code=x.tax_code or tax, detail=tuple(notes)))

    def _discounts(self) -> None:
        if not self.lines:
            return  # nothing billed this month: a discount has nothing to say
        due = [d for d in self.rules.discounts if d.due_in(self.period)]
        for d in [d for d in due if d.line_item] + [d for d in due if not d.line_item]:
            if d.line_item:
                base = sum((l.amount for l in self.lines if l.kind not in ("expense", "discount")
                            and l.line_item.casefold() == d.line_item.casefold()), ZERO)
                scope = d.line_item
            else:
                base = sum((l.amount for l in self.lines if l.kind != "expense"), ZERO)
                scope = "the invoice"
            if base <= ZERO:
                self.warn(f"the discount at {d.location} found nothing to discount ({scope})", d.location)
                continue
            if d.percent is not None:
                off = round_money(base * d.percent / Decimal(100), self.currency)
                label = f"{d.percent.normalize():f}% off {scope}"
            else:
                off = min(d.amount or ZERO, base)
                label = f"{self.money(off)} off {scope}"
            # A line-item discount reduces that line item's tax base, so it carries the line item's tax code.
            _, tax = self.item_for(d.line_item) if d.line_item else ("", "")
            self.lines.append(InvoiceLine(
                description=d.description or f"Discount: {label}", line_item=d.line_item or "Discount",
                kind="discount", quantity=Decimal(1), unit_price=-off, tax_code=tax,
                amount=line_amount(Decimal(1), -off, self.currency), detail=(f"discount {d.location}",)))

    def _warnings(self, rows: list[TimeRow], items: list[_Item]) -> None:
        for r in rows:
            if r.entry.hours > LONG_ENTRY_HOURS:
                self.warn(f"{r.entry.ref} is {_h(r.entry.hours)} h in one entry (over {LONG_ENTRY_HOURS} h); check it",
                          time_cell(r.row, "hours"))
        seen: dict[tuple, TimeRow] = {}  # type: ignore[type-arg]
        for r in rows:
            e = r.entry
            key = (e.date, e.person.casefold(), e.project.casefold(), e.hours, " ".join(e.notes.split()).casefold())
            if key in seen:
                self.warn(f"{e.ref} looks like a duplicate of {seen[key].entry.ref} (same person, date, project, "
                          f"hours and notes)", time_cell(r.row, "notes"))
            else:
                seen[key] = r
        for rule in self.rules.rollups:
            if rule.client and rule.has_criteria and rule.location not in self.matched_rollups and items:
                self.warn("this rollup rule matched no entry of the client this month", rule.location,
                          level="info")
        hours = sum((i.raw for i in items), ZERO)
        if self.prev_hours and hours > self.prev_hours * SPIKE_RATIO:
            pct = (hours / self.prev_hours - 1) * 100
            self.warn(f"{_h(hours)} h billable this month, up {pct:.0f}% on last month ({_h(self.prev_hours)} h)")
        if self.prev_total and self.prev_total > ZERO:
            total = sum((l.amount for l in self.lines), ZERO)
            if total > self.prev_total * SPIKE_RATIO:
                self.warn(f"total {self.money(total)} is up more than 50% on the last invoice "
                          f"({self.money(self.prev_total)})")
