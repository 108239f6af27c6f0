"""One client's invoice, the parts after hourly pricing: fee lines (fixed fees, milestones), not-to-exceed caps,
the minimum monthly fee, expenses, discounts, and the checks that warn a person (long entries, duplicates,
spikes). `ClientSteps` holds the client's state; `client.ClientBilling` adds the hourly steps and the run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from ..models import LONG_ENTRY_HOURS, InvoiceLine, Issue, IssueLevel, Period, TimeRow
from ..money import ZERO, exact_sum, fmt_money, line_amount, round_money, tidy_hours
from .book import BookIndex, ClientRules, ClientSettings
from .caps import Cap
from .fixed import FixedFee, Milestone
from .rates import RateCard
from .rollup import Rollup
from .tax import line_tax_code, split_by_tax

SPIKE_RATIO = Decimal("1.5")
LABOUR_KINDS = ("hours", "fixed", "milestone", "retainer", "writeoff", "minimum")


@dataclass(frozen=True)
class NonBillable:
    """An approved row in the period that is not invoiced, and why (shown in Preview)."""

    ref: str
    row: int  # the Time row
    hours: Decimal
    category: str
    reason: str


@dataclass(slots=True)
class Item:
    """One billable row on its way to a line."""

    row: TimeRow
    line_item: str
    raw: Fraction  # exact hours as tracked
    billed: Fraction  # exact hours billed, after the client's per-entry rounding and minimum
    category: str
    ref: str  # the entry's ref, made once: grouping and audits read it for every row
    rollup: Rollup | None = None


@dataclass(slots=True)
class Portion:
    """Billed hours of one item at one price (an item is split only at a tier or retainer boundary)."""

    item: Item
    hours: Fraction  # exact billed hours
    rate: Decimal
    rate_note: str
    band: str = ""  # tier label, "overage", or "included" (retainer)


def hours_text(hours: Decimal | Fraction) -> str:
    """Hours as a person reads them: `1.5`, `13`."""
    return f"{tidy_hours(hours):f}"


class ClientSteps:
    """A client's invoice being built: its settings and rules, the lines so far, its issues and holds."""

    def __init__(
        self,
        settings: ClientSettings,
        rules: ClientRules,
        book: BookIndex,
        card: RateCard,
        period: Period,
        issue_date: date,
        prev_hours: Decimal | None,
        prev_total: Decimal | None,
        prev_used: Fraction | None = None,
    ):
        self.c, self.rules, self.book, self.card = settings, rules, book, card
        self.period, self.issue_date = period, issue_date
        # Last month: the hours tracked (for the spike check) and the hours billed against a retainer (for its
        # rollover: what last month's invoice showed as used). None when the Time tab has no row of last month.
        self.prev_hours, self.prev_total, self.prev_used = prev_hours, prev_total, prev_used
        self.currency = settings.currency
        self.issues: list[Issue] = []
        self.hold: list[str] = []
        self.non_billable: list[NonBillable] = []
        self.lines: list[InvoiceLine] = []
        self.matched_rollups: set[str] = set()
        self.fees_by_project: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.hours_by_project: dict[str, Decimal] = defaultdict(lambda: ZERO)  # billed amounts of capped projects
        self.allowance = self.carried = Fraction(0)
        self.has_time = False
        self.milestones: list[str] = []  # the Rules rows of the milestones on this invoice

    @property
    def capped_projects(self) -> set[str]:
        """Projects with their own cap: their hour lines never mix with other projects' time."""
        return {cap.project.casefold() for cap in self.rules.caps if cap.project}

    # -- helpers ------------------------------------------------------------------------------------------------
    def warn(
        self, message: str, where: str = "", level: IssueLevel = "warning", row: int | None = None, field: str = ""
    ) -> None:
        """An issue of this client: at a config cell (`where`), or at a Time row's field."""
        self.issues.append(
            Issue(
                level=level,
                message=message,
                client=self.c.name,
                where=where,
                row=row,
                field=field,
            )
        )

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

    # -- steps 6 to 10, and the checks ----------------------------------------------------------------------
    def _fee_lines(self, fee_items: list[Item]) -> None:
        by_project: dict[str, list[Item]] = defaultdict(list)
        for i in fee_items:
            by_project[i.row.entry.project.casefold()].append(i)
        projects: dict[str, str] = {}
        for f in self.rules.fees:
            projects.setdefault(f.project.casefold(), f.project)
        for key, project in projects.items():
            items = by_project.get(key, [])
            raw = tidy_hours(exact_sum(i.raw for i in items))
            refs = tuple(i.row.entry.ref for i in items)
            due = [f for f in self.rules.fixed_fees if f.project.casefold() == key and f.due_in(self.period)]
            due_m = [m for m in self.rules.milestones if m.project.casefold() == key and m.due_in(self.period)]
            first = True
            fees: list[FixedFee | Milestone] = [*due, *due_m]
            for f in fees:
                kind = "fixed" if f in due else "milestone"
                text = f.description or (
                    f"{project} — fixed fee, {self.period.label()}" if kind == "fixed" else f"{project} — milestone"
                )
                item, tax = self.item_for(f.line_item or project)
                notes = [f"{kind} {f.location}: {self.money(f.amount)}"]
                if isinstance(f, Milestone):
                    self.milestones.append(f.location)
                    if f.late_in(self.period):
                        notes.append(f"planned for {f.period}, ticked complete after that month was invoiced")
                        self.warn(
                            f"the milestone planned for {f.period} bills this month (ticked complete late: its "
                            "Invoice cell is blank); if an invoice made before that column existed billed it, "
                            "write that invoice's number in the Invoice cell",
                            f.location,
                        )
                if first and items:
                    notes.append(f"{hours_text(raw)} h logged on {project} this month (not billed by the hour)")
                self.lines.append(
                    InvoiceLine(
                        description=text,
                        line_item=f.line_item or project,
                        item=f.item or item,
                        kind=kind,
                        quantity=Decimal(1),
                        unit_price=f.amount,
                        amount=line_amount(Decimal(1), f.amount, self.currency),
                        raw_hours=raw if first else ZERO,
                        tax_code=f.tax_code or tax,
                        entry_refs=refs if first else (),
                        detail=tuple(notes),
                    )
                )
                self.fees_by_project[key] += self.lines[-1].amount
                first = False
            if first and items:
                self.lines.append(
                    InvoiceLine(
                        description=f"{project} — {hours_text(raw)} h logged, {self.period.label()} "
                        "(fixed fee, not billed by the hour)",
                        line_item=project,
                        kind="fixed",
                        quantity=raw,
                        unit_price=ZERO,
                        amount=ZERO,
                        raw_hours=raw,
                        entry_refs=refs,
                        detail=("hours shown for the audit",),
                    )
                )

    def _caps(self) -> None:
        """A cap is a promise: what the capped project (or client) is billed, after every line's rounding, is
        exactly the cap when the work is worth more. The write-off is the billed lines' sum less the cap."""
        for cap in self.rules.caps:
            if cap.project:
                key = cap.project.casefold()
                value = self.hours_by_project.get(key, ZERO) + self.fees_by_project.get(key, ZERO)
                self._writeoff(cap, value, cap.project)
        for cap in self.rules.caps:
            if not cap.project:
                value = sum((line.amount for line in self.lines if line.kind in LABOUR_KINDS), ZERO)
                self._writeoff(cap, value, "this month's work")

    def _writeoff(self, cap: Cap, value: Decimal, what: str) -> None:
        excess = value - cap.amount
        if excess <= ZERO:
            return
        self.lines.append(
            InvoiceLine(
                description=f"Not-to-exceed adjustment: {what} capped at {self.money(cap.amount)} "
                f"(value delivered {self.money(value)})",
                line_item="Write-off",
                kind="writeoff",
                quantity=Decimal(1),
                unit_price=-excess,
                amount=line_amount(Decimal(1), -excess, self.currency),
                detail=(f"cap {cap.location}",),
            )
        )

    def _minimum(self, has_time: bool) -> None:
        if self.c.minimum_fee is None or not (has_time or self.c.minimum_without_time):
            return
        labour = sum((line.amount for line in self.lines if line.kind in LABOUR_KINDS), ZERO)
        if labour < self.c.minimum_fee:
            diff = self.c.minimum_fee - labour
            self.lines.append(
                InvoiceLine(
                    description=f"Minimum monthly fee {self.money(self.c.minimum_fee)} (work this month "
                    f"{self.money(labour)})",
                    line_item="Minimum fee",
                    kind="minimum",
                    quantity=Decimal(1),
                    unit_price=diff,
                    amount=line_amount(Decimal(1), diff, self.currency),
                    detail=(f"minimum fee {self.c.location}",),
                )
            )

    def _expenses(self) -> None:
        for x in self.rules.expenses:
            if not x.due_in(self.period):
                continue
            price = round_money(x.billed, self.currency)
            notes = [f"expense {x.location}: cost {self.money(x.amount)}"]
            if x.markup:
                notes.append(f"markup {x.markup.normalize():f}%")
            item, tax = self.item_for(x.line_item)
            self.lines.append(
                InvoiceLine(
                    description=x.description,
                    line_item=x.line_item,
                    item=x.item or item,
                    kind="expense",
                    quantity=Decimal(1),
                    unit_price=price,
                    amount=line_amount(Decimal(1), price, self.currency),
                    tax_code=x.tax_code or tax,
                    detail=tuple(notes),
                )
            )

    def _discounts(self) -> None:
        if not self.lines:
            return  # nothing billed this month: a discount has nothing to say
        due = [d for d in self.rules.discounts if d.due_in(self.period)]
        for d in [d for d in due if d.line_item] + [d for d in due if not d.line_item]:
            if d.line_item:
                base = sum(
                    (
                        line.amount
                        for line in self.lines
                        if line.kind not in ("expense", "discount")
                        and line.line_item.casefold() == d.line_item.casefold()
                    ),
                    ZERO,
                )
                scope = d.line_item
            else:
                base = sum((line.amount for line in self.lines if line.kind != "expense"), ZERO)
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
            # A line-item discount reduces that line item's tax base, so it carries the line item's tax code; a
            # whole-invoice discount is split per tax code in proportion to each code's base (`split_by_tax`).
            if d.line_item:
                _, tax = self.item_for(d.line_item)
                parts = [(tax, off)]
            else:
                parts = split_by_tax(off, self._base_by_tax(), self.currency)
            for tax, part in parts:
                text = d.description or f"Discount: {label}"
                notes = [f"discount {d.location}"]
                if len(parts) > 1:
                    text = f"{text} — lines taxed {tax or 'without a code'}"
                    notes.append(f"{self.money(part)} of {self.money(off)}, in proportion to the {tax} base")
                self.lines.append(
                    InvoiceLine(
                        description=text,
                        line_item=d.line_item or "Discount",
                        kind="discount",
                        quantity=Decimal(1),
                        unit_price=-part,
                        tax_code=tax,
                        amount=line_amount(Decimal(1), -part, self.currency),
                        detail=tuple(notes),
                    )
                )

    def _base_by_tax(self) -> dict[str, Decimal]:
        """The discountable amount (everything but expenses) per effective tax code, in order of first line."""
        out: dict[str, Decimal] = {}
        for line in self.lines:
            if line.kind == "expense":
                continue
            code = line_tax_code(exempt=self.c.tax_exempt, line_code=line.tax_code, client_code=self.c.tax_code)
            out[code] = out.get(code, ZERO) + line.amount
        return out

    def _warnings(self, rows: list[TimeRow], items: list[Item]) -> None:
        for r in rows:
            if r.entry.hours > LONG_ENTRY_HOURS:
                self.warn(
                    f"{r.entry.ref} is {hours_text(r.entry.hours)} h in one entry "
                    f"(over {LONG_ENTRY_HOURS} h); check it",
                    row=r.row,
                    field="hours",
                )
        for rule in self.rules.rollups:
            if rule.client and rule.has_criteria and rule.location not in self.matched_rollups and items:
                self.warn("this rollup rule matched no entry of the client this month", rule.location, level="info")
        hours = exact_sum(i.raw for i in items)
        if self.prev_hours and hours > Fraction(self.prev_hours) * Fraction(SPIKE_RATIO):
            pct = float((hours / Fraction(self.prev_hours) - 1) * 100)
            self.warn(
                f"{float(hours):.1f} h billable this month, "  # a comparison for people: a tenth is enough
                f"up {pct:.0f}% on last month ({float(self.prev_hours):.1f} h)"
            )
        if self.prev_total and self.prev_total > ZERO:
            total = sum((line.amount for line in self.lines), ZERO)
            if total > self.prev_total * SPIKE_RATIO:
                self.warn(
                    f"total {self.money(total)} is up more than 50% on the last invoice ({self.money(self.prev_total)})"
                )
