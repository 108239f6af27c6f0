"""What a client's invoice document says, once, for both renderers (HTML in documents.py, PDF in pdf.py).

`invoice_view(inv, draft, entries)` turns a created invoice into text: the sender and bill-to blocks, the
lines, subtotal, tax, total, how to pay, and the time detail that reconciles each line ("6.52 h logged,
billed 6.75 h: each entry rounded up to 15 min"). It holds no internal key, rate-card reference or raw note:
those stay in Preview and the accounting system's private note. Amounts are Decimals, formatted by currency.

    >>> fmt_amount(Decimal("1234.5"), "EUR"), fmt_amount(Decimal("-3"), "GBP"), fmt_amount(Decimal("7"), "NOK")
    ('€1,234.50', '-£3.00', '7.00 NOK')
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..models import CreatedInvoice, InvoiceDraft, InvoiceLine, Letterhead, Party, Period, TimeEntry
from ..money import round_money, tidy_hours

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "JPY": "¥", "INR": "₹"}
EXEMPT = "NON"
UNITS = {"hours": "h", "expense": "item"}
_KINDS = {"fixed": "fixed fee", "writeoff": "write-off", "minimum": "minimum fee"}


def fmt_amount(amount: Decimal, currency: str) -> str:
    """`$1,234.50`, `€1,234.50`, `1,234.50 NOK`: rounded by the currency's minor unit, never through a float."""
    q = round_money(amount, currency)
    places = max(0, -int(q.as_tuple().exponent))
    text = f"{abs(q):,.{places}f}"
    sign = "-" if q < 0 else ""
    symbol = SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def fmt_hours(hours: Decimal) -> str:
    """Hours as people read them: at least two decimals, at most four (`6.50`, `1.8333`)."""
    h = tidy_hours(hours)
    return f"{h.quantize(Decimal('0.01')):f}" if h == h.quantize(Decimal("0.01")) else f"{h:f}"


def fmt_date(d: date) -> str:
    return f"{d.day} {d.strftime('%b')} {d.year}"


def plural(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


@dataclass(frozen=True)
class LineView:
    no: int
    description: str
    quantity: str
    unit: str
    rate: str
    amount: str


@dataclass(frozen=True)
class DetailRow:
    date: str
    person: str
    work: str  # project and task, never the raw note
    hours: str


@dataclass(frozen=True)
class DetailView:
    no: int
    description: str
    reconcile: str  # "6.52 h logged, billed 6.75 h: each entry rounded up to 15 min"
    rows: tuple[DetailRow, ...]
    count: str  # "3 entries"
    hours: str


@dataclass(frozen=True)
class InvoiceView:
    number: str
    client: str
    period: str
    issue_date: str
    due_date: str
    terms: str
    sender: Party
    sender_note: str  # what to set, when the agency has no name
    logo: bytes
    bill_to: Party
    memo: str
    lines: tuple[LineView, ...]
    subtotal: str
    taxes: tuple[tuple[str, str], ...]  # (label, amount or "")
    total_label: str
    total: str
    payment: str
    pay_link: str
    footer: str
    details: tuple[DetailView, ...]
    replaces: str = ""  # "INV-0007" when this invoice corrects an earlier one
    facts: tuple[tuple[str, str], ...] = field(default=())  # (label, value) beside the bill-to block


def party_lines(
    p: Party, esc: Callable[[str], str], lines: Callable[[str], str], contact_prefix: str = "", compact: bool = False
) -> list[str]:
    """A party's block as lines of markup, for the HTML and the PDF alike: `esc` escapes outside text for the
    format and `lines` keeps an address's lines; `compact` (the sender, top right) runs the address and the
    ways to reach it on. The name comes first, unmarked: each format makes it bold its own way."""
    parts = [esc(p.name)] if p.name else []
    if p.contact:
        parts.append(esc(contact_prefix + p.contact))
    if p.address:
        parts.append(" · ".join(esc(x) for x in p.address.splitlines()) if compact else lines(p.address))
    reach = [esc(x) for x in (p.email, p.phone) if x]
    parts += [" · ".join(reach)] if compact and reach else reach
    if p.tax_id:
        parts.append(f"Tax ID {esc(p.tax_id)}")
    return parts


def invoice_view(
    inv: CreatedInvoice,
    draft: InvoiceDraft,
    entries: Mapping[str, TimeEntry],
    agency: str = "",
    tax_by: str = "the accounting system",
) -> InvoiceView:
    """The document's text. `agency` names the sender when the draft has no letterhead (AGENCY_NAME);
    `tax_by` names who computes the tax the documents do not know the rate of ("QuickBooks")."""
    head = draft.letterhead or Letterhead(agency=Party(name=agency))
    if not head.agency.name and agency:
        head = head.model_copy(update={"agency": head.agency.model_copy(update={"name": agency}), "unset": ""})
    if not head.agency.name and not head.unset:
        head = head.model_copy(update={"unset": "Set AGENCY_NAME or the Agency tab's Name to show who this is from."})
    bill_to = (
        head.bill_to if head.bill_to.name else head.bill_to.model_copy(update={"name": draft.customer or draft.client})
    )
    cur = draft.currency
    lines = tuple(
        LineView(
            no=no,
            description=line.shown_description,
            quantity=fmt_hours(line.quantity) if line.kind == "hours" else f"{line.quantity.normalize():f}",
            unit=UNITS.get(line.kind, ""),
            rate=fmt_amount(line.unit_price, cur),
            amount=fmt_amount(line.amount, cur),
        )
        for no, line in enumerate(draft.lines, start=1)
    )
    subtotal = sum((line.amount for line in draft.lines), Decimal(0))
    taxes, tax, complete = _taxes(draft, dict(head.tax_rates), tax_by)
    replaces = str(getattr(draft, "replaces", "") or getattr(inv, "replaces", "") or "")
    facts = [
        ("Invoice number", inv.number),
        ("Issue date", fmt_date(draft.issue_date)),
        ("Due date", fmt_date(draft.due_date)),
        ("Terms", draft.terms),
        ("Period", _period(draft.period)),
        ("Replaces", f"invoice {replaces}" if replaces else ""),
    ]
    return InvoiceView(
        number=inv.number,
        client=draft.client,
        period=_period(draft.period),
        issue_date=fmt_date(draft.issue_date),
        due_date=fmt_date(draft.due_date),
        terms=draft.terms,
        sender=head.agency,
        sender_note=head.unset,
        logo=head.logo,
        bill_to=bill_to,
        memo=draft.memo,
        lines=lines,
        subtotal=fmt_amount(subtotal, cur),
        taxes=taxes,
        total_label="Total due" if complete else "Total before tax",
        total=fmt_amount(subtotal + tax, cur),
        payment=head.payment,
        pay_link=head.pay_link,
        footer=head.footer,
        details=_details(draft, entries, head.rounding),
        replaces=replaces,
        facts=tuple((k, v) for k, v in facts if v),
    )


def _period(period: str) -> str:
    try:
        return Period.parse(period).label()
    except ValueError:
        return period


def _taxes(
    draft: InvoiceDraft, rates: Mapping[str, Decimal], tax_by: str
) -> tuple[tuple[tuple[str, str], ...], Decimal, bool]:
    """(label, amount) rows, the tax the document adds, and whether the total is complete. A code with a known
    rate is computed on its lines (rounded once per code); a code without one says who computes it."""
    bases: dict[str, Decimal] = defaultdict(Decimal)
    for line in draft.lines:
        bases[line.tax_code or draft.tax_code] += line.amount
    rows: list[tuple[str, str]] = []
    tax, complete = Decimal(0), True
    for code, base in bases.items():
        if not code:
            continue
        if code == EXEMPT:
            rows.append(
                (
                    "Tax: exempt" if len(bases) == 1 else f"Not taxable ({fmt_amount(base, draft.currency)})",
                    fmt_amount(Decimal(0), draft.currency),
                )
            )
        elif code in rates:
            amount = round_money(base * rates[code], draft.currency)
            tax += amount
            pct = f"{(rates[code] * 100).normalize():f}%"
            label = f"Tax {pct}" if code.upper() == "TAX" else f"Tax {code} {pct}"
            rows.append((f"{label} on {fmt_amount(base, draft.currency)}", fmt_amount(amount, draft.currency)))
        else:
            complete = False
            rows.append((f"Tax ({code}): calculated by {tax_by}", ""))
    return tuple(rows), tax, complete


def _reconcile(line: InvoiceLine, logged: Decimal, rounding: str) -> str:
    if line.kind != "hours":
        kind = _KINDS.get(line.kind, line.kind)
        return f"{fmt_hours(logged)} h logged; this line is billed as a {kind}, not by the hour"
    billed, shown = fmt_hours(line.quantity), fmt_hours(logged)
    if billed == shown:  # equal as people read them (a timer's 0.45166… h is 0.4517 both ways)
        return f"{shown} h logged and billed"
    why = f": {rounding}" if rounding else ""
    return f"{shown} h logged, billed {billed} h{why}"


def _details(draft: InvoiceDraft, entries: Mapping[str, TimeEntry], rounding: str) -> tuple[DetailView, ...]:
    out = []
    # a month repeats the same days, hours and work thousands of times: each is formatted once (equal
    # Decimals format alike: 1.5 and 1.50 both read 1.50)
    dates: dict[date, str] = {}
    hours: dict[Decimal, str] = {}
    works: dict[tuple[str, str], str] = {}
    for no, line in enumerate(draft.lines, start=1):
        items = sorted((entries[r] for r in line.entry_refs if r in entries), key=lambda t: (t.date, t.person))
        if not items:
            continue
        logged = line.raw_hours or sum((t.hours for t in items), Decimal(0))
        rows = []
        for t in items:
            d = dates.get(t.date) or dates.setdefault(t.date, fmt_date(t.date))
            h = hours.get(t.hours) or hours.setdefault(t.hours, fmt_hours(t.hours))
            key = (t.project, t.task)
            w = works.get(key)
            if w is None:
                w = works[key] = " — ".join(x for x in key if x)
            rows.append(DetailRow(date=d, person=t.person, work=w, hours=h))
        out.append(
            DetailView(
                no=no,
                description=line.shown_description,
                reconcile=_reconcile(line, logged, rounding),
                rows=tuple(rows),
                count=plural(len(items), "entry", "entries"),
                hours=fmt_hours(sum((t.hours for t in items), Decimal(0))),
            )
        )
    return tuple(out)
