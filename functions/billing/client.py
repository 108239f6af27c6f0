"""One client's invoice: the run of the engine's steps (see `engine`), and the hourly ones — line items,
billed hours per entry, rates (card, tiers or retainer), and hour lines by the client's detail level.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from ..models import Category, InvoiceDraft, InvoiceLine, Period, TimeRow
from ..money import ZERO, exact_line, exact_sum, hours_fraction, line_amount, tidy_hours
from .lines import ClientSteps, Item, NonBillable, Portion, hours_text
from .retainer import Retainer, rollover
from .rollup import UNCATEGORIZED, describe, summarize_notes
from .tax import line_tax_code
from .terms import due_date
from .tiers import bands

_NO_RATE = "(no rate)"

Price = Callable[[Item], tuple[Decimal, str] | None]  # an item's (rate, note), None when it has no rate
Band = tuple[Fraction | None, Price, str]  # (capacity in hours or None for the rest, price, label)


def _tracked(p: Portion) -> Fraction:
    """The tracked hours behind a portion: all of its item's when the item is not split across bands."""
    if p.hours is p.item.billed or p.hours == p.item.billed or not p.item.billed:
        return p.item.raw
    return p.item.raw * p.hours / p.item.billed


def _same_price(rate: Decimal, note: str) -> Price:
    """A band's price when every item in it pays the same."""
    return lambda _item: (rate, note)


def _week(d: date, period: Period) -> str:
    """The Monday of the entry's week, or the 1st when the week began in the previous month."""
    return max(d - timedelta(days=d.weekday()), period.start).isoformat()


def _distinct_descriptions(lines: list[InvoiceLine]) -> list[InvoiceLine]:
    """Two hour lines that read the same (same line item, different rates) get their rate in the text, so the
    client can tell them apart and Preview can match them with the last run."""
    seen = Counter(line.description for line in lines if line.kind == "hours")
    return [
        line.model_copy(update={"description": f"{line.description} at {line.unit_price}/h"})
        if line.kind == "hours" and seen[line.description] > 1
        else line
        for line in lines
    ]


def _not_billable(billable_in_tracker: bool, cat: Category | None) -> str:
    """Why a row is not billed at all, or "" when it is billable."""
    if not billable_in_tracker:
        return "not billable in the time tracker"
    if cat is not None and not cat.billable:
        return f'category "{cat.name}" is not billable'
    return ""


class ClientBilling(ClientSteps):
    """The steps of the engine's docstring for one client; collects its lines, issues and holds."""

    def run(self, rows: list[TimeRow], pending: Sequence[TimeRow] = ()) -> InvoiceDraft | None:
        items = self._items(rows)
        self.has_time = bool(items)  # approved billable time this month (Bill Without Time decides the rest)
        self._pending(pending)
        fee_projects = {f.project.casefold() for f in self.rules.fees}
        fee_items = [i for i in items if i.row.entry.project.casefold() in fee_projects] if fee_projects else []
        hourly = [i for i in items if i.row.entry.project.casefold() not in fee_projects] if fee_projects else items
        portions = self._price(hourly)
        self._hour_lines(portions)
        self._fee_lines(fee_items)
        self._caps()
        self._minimum(self.has_time)
        self._expenses()
        self._discounts()
        self._warnings(rows, items)
        if not self.lines:
            return None
        lines = [self._finish(line) for line in _distinct_descriptions(self.lines)]
        memo = self.c.memo.replace("{period}", self.period.label())
        return InvoiceDraft(
            client=self.c.name,
            customer=self.c.accounting_customer,
            period=str(self.period),
            currency=self.currency,
            issue_date=self.issue_date,
            due_date=due_date(self.issue_date, self.c.due_days),
            terms=self.c.terms,
            memo=memo,
            tax_code="NON" if self.c.tax_exempt else self.c.tax_code,
            lines=tuple(lines),
        )

    def _finish(self, line: InvoiceLine) -> InvoiceLine:
        return line.model_copy(
            update={
                "tax_code": line_tax_code(
                    exempt=self.c.tax_exempt, line_code=line.tax_code, client_code=self.c.tax_code
                )
            }
        )

    def _items(self, rows: list[TimeRow]) -> list[Item]:
        items: list[Item] = []
        # a month repeats few categories and hour values: each is looked up (or rounded) once per client
        cats: dict[str, Category | None] = {}
        billed_of: dict[Decimal, tuple[Fraction, Fraction]] = {}
        rollups = self.rules.rollups
        for r in rows:
            e = r.entry
            category = r.effective_category
            if category in cats:
                cat: Category | None = cats[category]
            else:
                cat = cats[category] = self.book.category(category) if category else None
            if category and cat is None:
                self.warn(
                    f'unknown category "{category}" (not in the Categories tab); billed as its own line item',
                    row=r.row,
                    field="category",
                )
            reason = "" if e.billable and (cat is None or cat.billable) else _not_billable(e.billable, cat)
            if reason:
                self.non_billable.append(
                    NonBillable(ref=e.ref, row=r.row, hours=e.hours, category=category, reason=reason)
                )
                continue
            rollup = None
            line_item = r.line_item.strip()
            if not line_item:
                rollup = next((x for x in rollups if x.matches(r, category)), None) if rollups else None
                if rollup:
                    line_item = rollup.line_item
                    self.matched_rollups.add(rollup.location)
                elif cat:
                    line_item = cat.line_item or cat.name
                else:
                    line_item = category or UNCATEGORIZED
            if not category:
                self.warn(
                    f"{e.ref} ({e.person}, {e.date}, {hours_text(e.hours)} h) has no category; billed under "
                    f'"{line_item}" — pick a category before creating invoices',
                    row=r.row,
                    field="category",
                )
            if e.hours <= ZERO:
                self.warn(f"{e.ref} has {hours_text(e.hours)} hours", row=r.row, field="hours")
            # keyed by value: 1.5 and 1.50 are one key, and their exact fractions are the same
            hours = billed_of.get(e.hours)
            if hours is None:
                raw = hours_fraction(e.hours)
                hours = billed_of[e.hours] = (raw, self.c.rounding.entry_hours(raw))
            raw, billed = hours
            items.append(Item(r, line_item, raw, billed, category, e.ref, rollup))
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
            reason = _not_billable(r.entry.billable, cat)
            if reason:
                self.non_billable.append(
                    NonBillable(
                        ref=r.entry.ref, row=r.row, hours=r.entry.hours, category=r.effective_category, reason=reason
                    )
                )
            else:
                waiting.append(r)
        if waiting:
            hours = sum((r.entry.hours for r in waiting), ZERO)
            self.warn(
                f"{len(waiting)} billable entr{'y is' if len(waiting) == 1 else 'ies are'} not approved yet "
                f"({hours_text(hours)} h) and not on this invoice",
                row=waiting[0].row,
                field="approved",
            )

    def _rate(self, item: Item) -> tuple[Decimal, str] | None:
        return self.card.resolve(item.row, self.c.name, item.category, self.currency)

    def _price(self, items: list[Item]) -> list[Portion]:
        tiers = list(self.rules.tiers)
        retainer = self.rules.retainers[0] if self.rules.retainers else None
        missing: list[Item] = []
        portions: list[Portion] = []
        if tiers:
            portions = self._fill(
                items,
                [
                    (None if cap is None else Fraction(cap), _same_price(rate, f"tier {label} ({where})"), label)
                    for cap, rate, label, where in bands(tiers)
                ],
            )
        elif retainer:
            if self.prev_used is None:
                carried = Fraction(0)
                if retainer.rollover_cap:
                    self.warn(
                        f"no time of {self.period.previous().label()} in the Time tab, so no unused retainer "
                        "hours were rolled over",
                        retainer.location,
                        level="info",
                    )
            else:
                carried = rollover(retainer, self.prev_used)
            allowance = Fraction(retainer.included_hours) + carried
            self.allowance, self.carried = allowance, carried

            def overage(i: Item) -> tuple[Decimal, str] | None:
                if retainer.overage_rate is not None:
                    return retainer.overage_rate, f"retainer overage rate ({retainer.location})"
                return self._rate(i)

            portions = self._fill(
                items,
                [(allowance, _same_price(ZERO, "included in the retainer"), "included"), (None, overage, "overage")],
            )
        else:
            resolve, name, currency = self.card.resolve, self.c.name, self.currency
            for i in items:
                found = resolve(i.row, name, i.category, currency)  # `_rate`, without a call per item
                if found is None:
                    missing.append(i)
                    continue
                portions.append(Portion(i, i.billed, found[0], found[1]))
        missing += list({id(p.item): p.item for p in portions if p.rate_note == _NO_RATE}.values())
        portions = [p for p in portions if p.rate_note != _NO_RATE]
        if missing:
            who = sorted(
                {f"{i.row.entry.person}" + (f" ({i.row.entry.role})" if i.row.entry.role else "") for i in missing}
            )
            msg = (
                f"no rate for {len(missing)} entr{'y' if len(missing) == 1 else 'ies'} of {', '.join(who)}; "
                "add a rate in the Rates tab, a Default Rate in the Clients tab, or a Rate Override"
            )
            self.warn(msg, row=missing[0].row.row, field="rate_override", level="error")
            self.hold.append(f"missing rate ({', '.join(who)})")
        return portions

    def _fill(self, items: list[Item], ladder: list[Band]) -> list[Portion]:
        """Pour items, in date order, into bands of (capacity or None, price function, label)."""
        out: list[Portion] = []
        band, room = 0, ladder[0][0]
        for i in items:
            left = i.billed
            while True:
                _, price, label = ladder[band]
                if room is not None and room <= 0:
                    if band + 1 < len(ladder):
                        band, room = band + 1, ladder[band + 1][0]
                        continue
                    room = None  # the last band takes the rest, whatever its size
                take = left if room is None else min(left, room)
                found = price(i)
                rate, note = found if found is not None else (ZERO, _NO_RATE)
                out.append(Portion(item=i, hours=take, rate=rate, rate_note=note, band=label))
                left -= take
                if room is not None:
                    room -= take
                if left <= 0:
                    break
        return out

    def _hour_lines(self, portions: list[Portion]) -> None:
        detail = self.c.detail
        groups: dict[tuple[str, Decimal, str, str, str], list[Portion]] = {}
        included: list[Portion] = []
        if detail not in ("line item", "line item + person", "line item + week", "entry"):
            raise KeyError(detail)
        weeks: dict[date, str] = {}  # each day's week once: a month has 31 days and 100,000 entries
        folded: dict[str, str] = {}  # line item or project -> casefolded, once per distinct text
        capped = self.capped_projects
        for p in portions:
            if p.band == "included":
                included.append(p)
                continue
            e = p.item.row.entry
            if detail == "line item":
                extra = ""
            elif detail == "line item + person":
                extra = e.person
            elif detail == "line item + week":
                extra = weeks.get(e.date) or weeks.setdefault(e.date, _week(e.date, self.period))
            else:
                extra = p.item.ref
            project = ""
            if capped:
                fold = folded.get(e.project) or folded.setdefault(e.project, e.project.casefold())
                project = fold if fold in capped else ""
            line_item = p.item.line_item
            fold = folded.get(line_item) or folded.setdefault(line_item, line_item.casefold())
            key = (fold, p.rate, p.band, extra, project)
            groups.setdefault(key, []).append(p)
        retainer = self.rules.retainers[0] if self.rules.retainers else None
        if retainer and (self.has_time or self.c.retainer_without_time):
            self._retainer_line(retainer, included)
        elif retainer:
            self.warn(
                f"no approved time this month, so the retainer is not billed (Bill Without Time is FALSE at "
                f"{self.c.location})",
                retainer.location,
                level="info",
            )
        split_refs = {ref for ref, n in Counter(p.item.ref for p in portions).items() if n > 1}
        bands_order = {p.band: n for n, p in reversed(list(enumerate(portions)))}
        ordered = sorted(
            groups.items(), key=lambda kv: (bands_order.get(kv[0][2], 0), kv[0][0], kv[0][4], kv[0][3], -kv[0][1])
        )
        for (_, rate, band, extra, project), group in ordered:
            first = group[0].item
            # Exact throughout: the tracked hours of the portions, the billed hours after the line's rounding,
            # and the amount rounded once from those (`exact_line`); `qty` is what the line shows.
            raw = exact_sum(_tracked(p) for p in group)
            billed = self.c.rounding.line_hours(exact_sum(p.hours for p in group))
            qty, amount = exact_line(billed, rate, self.currency)
            if project:
                self.hours_by_project[project] += amount
            refs = tuple(dict.fromkeys(p.item.ref for p in group))
            e = first.row.entry
            text = describe(
                self.c.description,
                line_item=first.line_item,
                count=len(refs),
                hours=hours_text(billed),
                period=self.period.label(),
                person=e.person if detail == "line item + person" else "",
                week=f"week of {extra}" if detail == "line item + week" else "",
                notes=summarize_notes((p.item.row.entry.notes for p in group), self.c.task_notes),
            )
            if detail == "entry":
                text = describe(
                    self.c.description or "{line_item} — {person}, {date}: {notes}",
                    line_item=first.line_item,
                    count=1,
                    hours=hours_text(billed),
                    period=self.period.label(),
                    person=e.person,
                    notes=e.notes.strip() or e.task,
                ).replace("{date}", e.date.isoformat())
            elif detail == "line item + person" and "{person}" not in (self.c.description or ""):
                text = f"{text} — {e.person}"
            elif detail == "line item + week" and "{week}" not in (self.c.description or ""):
                text = f"{text} — week of {extra}"
            if project:
                text = f"{text} — {e.project}"  # a capped project's time is a line of its own
            if band and band != "overage":
                text = f"{text} ({band})"
            elif band == "overage":
                text = f"{text} (beyond retainer)"
            notes = [f"rate {rate} from {group[0].rate_note}"]
            if self.c.rounding.describe():
                notes.append(
                    f"{hours_text(raw)} h tracked, {hours_text(billed)} h billed ({self.c.rounding.describe()})"
                )
            splits = [r for r in refs if r in split_refs]
            if splits:
                notes.append(
                    f"split across lines at a {'tier' if self.rules.tiers else 'retainer'} boundary: "
                    + ", ".join(splits)
                )
            item, tax = self.item_for(first.line_item, first.rollup)
            self.lines.append(
                InvoiceLine(
                    description=text,
                    line_item=first.line_item,
                    item=item,
                    kind="hours",
                    quantity=qty,
                    unit_price=rate,
                    amount=amount,
                    raw_hours=tidy_hours(raw),
                    service_date=min(p.item.row.entry.date for p in group),
                    tax_code=tax,
                    entry_refs=refs,
                    detail=tuple(notes),
                )
            )

    def _retainer_line(self, retainer: Retainer, included: list[Portion]) -> None:
        used = exact_sum(p.hours for p in included)
        raw = tidy_hours(exact_sum(_tracked(p) for p in included))
        allowance, carried = self.allowance, self.carried
        text = retainer.description or f"Monthly retainer, {self.period.label()}"
        text = (
            f"{text} — {hours_text(retainer.included_hours)} h included"
            + (f" + {hours_text(carried)} h rolled over" if carried else "")
            + f", {hours_text(used)} h used"
        )
        notes = [
            f"retainer {retainer.location}: {self.money(retainer.fee)} includes {hours_text(retainer.included_hours)} h"
        ]
        if carried and retainer.rollover_cap:  # hours are carried only under a cap (see `rollover`)
            notes.append(
                f"{hours_text(carried)} h unused last month rolled over (cap {hours_text(retainer.rollover_cap)} h)"
            )
        if used < allowance and retainer.rollover_cap:
            notes.append(f"{hours_text(allowance - used)} h unused this month")
        item, tax = self.item_for(retainer.line_item)
        self.lines.append(
            InvoiceLine(
                description=text,
                line_item=retainer.line_item,
                item=retainer.item or item,
                kind="retainer",
                quantity=Decimal(1),
                unit_price=retainer.fee,
                amount=line_amount(Decimal(1), retainer.fee, self.currency),
                raw_hours=raw,
                tax_code=tax,
                entry_refs=tuple(dict.fromkeys(p.item.ref for p in included)),
                detail=tuple(notes),
            )
        )
