"""An independent exact-arithmetic check of the billing engine (issue 10, "an independent check").

For random Time rows and random rule books, every invoice line and total of `compute_invoices` must equal a
plain computation written here, apart from the engine, in `fractions.Fraction`:

- each entry's duration is exact as the source gave it: Harvest-style decimal hours (`1.83`) are
  Fraction("1.83"); a Toggl timer's `HH:MM:SS` is seconds / 3600 (the timer rows go through the real Toggl
  CSV importer, so a cut on import shows up here);
- billed time is exact minutes through the client's rounding: increment N minutes up (ceil), nearest
  (half up) or down (floor); per entry (round, then the Minimum Entry) or per line (each entry raised to
  the Minimum Entry, then the line's sum rounded);
- a line groups entries of one line item, one rate and one detail key (person / Monday of the week /
  entry); its amount is round_half_up(billed hours x rate) to the cent, once; its quantity may be shown
  rounded, but must be within 0.00005 h of the exact billed hours and must itself pass the QuickBooks check
  round_half_up(quantity x unit price) == amount;
- caps are negative write-off lines (docs/billing-rules.md, step 7): the amount billed for a capped project
  is min(cap, sum of its lines); then for a capped client min(cap, everything billed); the invoice total
  is the sum of its lines;
- conservation: every approved, billable, in-month entry of a client is in exactly one line of its invoice,
  and no other entry is on any invoice.

The subset of rules drawn: up to 3 USD clients, each with a client default rate and maybe a client + person
rate (rates with at most 2 decimals), a Rounding (none, or 1/5/6/10/15/20/30 minutes up/nearest/down), Round
Per entry or line, a Minimum Entry (none, 10 or 15 min), a Detail level (all four), a cap on project Web
and/or on the client; up to 12 entries on projects Web and App (App rolls up to its own line item "App", so a
line never mixes the capped project with another), from Harvest (hours with 2 decimals) or Toggl (seconds),
some not approved, not billable (unticked or category Internal) or in September. Not drawn: tiers,
retainers, fixed fees, milestones, minimum fees, discounts, expenses, overrides, other currencies (the
accountant examples in test_accountant_examples.py cover retainers).

Nothing from functions/billing/ is used here but `compute_invoices` and the fields of its output.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from functions.billing.engine import compute_invoices
from functions.models import TimeRow

from .helpers import ISSUE, OCT, book, row
from .timer_export import Timed, toggl_rows

CENT = Fraction(1, 100)
HALF = Fraction(1, 2)
TOLERANCE = Fraction(5, 100000)  # a displayed quantity may differ from the exact billed hours by less


def round_half_up(x: Fraction, quantum: Fraction = CENT) -> Fraction:
    """x to a multiple of quantum, halves away from zero (what Decimal's ROUND_HALF_UP does)."""
    n = math.floor(abs(x) / quantum + HALF)
    return (n if x >= 0 else -n) * quantum


def exact(d: Decimal) -> Fraction:
    return Fraction(d)


# ---------------------------------------------------------------------------------------------- the input


@dataclass(frozen=True)
class Contract:
    name: str
    rate: Decimal
    ben_rate: Decimal | None  # client + person rate for Ben Okafor
    increment: int  # minutes, 0 = no rounding
    mode: str  # up | nearest | down
    per: str  # entry | line
    minimum: int  # minutes, 0 = none
    detail: str
    web_cap: Decimal | None
    client_cap: Decimal | None

    def describe(self) -> str:
        bits = [f"{self.name}: {self.rate}/h"]
        if self.ben_rate is not None:
            bits.append(f"Ben Okafor {self.ben_rate}/h")
        bits.append(f"rounding {self.increment} {self.mode} per {self.per}" if self.increment else "no rounding")
        if self.minimum:
            bits.append(f"minimum {self.minimum} min per entry")
        bits.append(f"detail {self.detail}")
        if self.web_cap is not None:
            bits.append(f"cap on project Web {self.web_cap}")
        if self.client_cap is not None:
            bits.append(f"cap on the client {self.client_cap}")
        return ", ".join(bits)


@dataclass(frozen=True)
class Spec:
    client: str
    hours: Decimal | None  # Harvest: decimal hours
    seconds: int | None  # Toggl: a timer duration
    person: str
    day: date
    category: str
    project: str
    approved: bool
    billable: bool

    @property
    def raw(self) -> Fraction:
        return exact(self.hours) if self.hours is not None else Fraction(self.seconds, 3600)

    def describe(self) -> str:
        what = f"harvest {self.hours} h" if self.hours is not None else f"toggl {self.seconds} s"
        extra = ("" if self.approved else ", not approved") + ("" if self.billable else ", unticked")
        return f"{self.client} {what} {self.person} {self.category} {self.project} {self.day}{extra}"


PEOPLE = {"Ana Ruiz": "Developer", "Ben Okafor": "Designer"}
DAYS = [date(2026, 10, 5), date(2026, 10, 1), date(2026, 10, 14), date(2026, 10, 31), date(2026, 9, 30)]
CATEGORY_ITEM = {"Development": "Development", "Design": "Design", "Meetings": "Meetings"}

money = st.one_of(
    st.sampled_from([Decimal("100"), Decimal("300"), Decimal("90"), Decimal("120"), Decimal("150.30")]),
    st.integers(1000, 40000).map(lambda c: Decimal(c) / 100),
)
caps = st.one_of(st.none(), st.integers(100, 300000).map(lambda c: Decimal(c) / 100))


@st.composite
def contract(draw, name: str) -> Contract:
    return Contract(
        name=name,
        rate=draw(money),
        ben_rate=draw(st.one_of(st.none(), money)),
        increment=draw(st.sampled_from([0, 10, 15, 6, 1, 5, 20, 30])),
        mode=draw(st.sampled_from(["up", "nearest", "down"])),
        per=draw(st.sampled_from(["entry", "line"])),
        minimum=draw(st.sampled_from([0, 10, 15])),
        detail=draw(st.sampled_from(["line item", "line item + person", "line item + week", "entry"])),
        web_cap=draw(caps),
        client_cap=draw(caps),
    )


@st.composite
def spec(draw, names: list[str]) -> Spec:
    timer = draw(st.booleans())
    return Spec(
        client=draw(st.sampled_from(names)),
        hours=None if timer else Decimal(draw(st.integers(1, 999))) / 100,
        seconds=draw(st.integers(1, 36000)) if timer else None,
        person=draw(st.sampled_from(list(PEOPLE))),
        day=draw(st.sampled_from(DAYS)),
        category=draw(st.sampled_from(["Development", "Design", "Meetings", "Internal"])),
        project=draw(st.sampled_from(["Web", "App"])),
        approved=draw(st.sampled_from([True, True, True, False])),
        billable=draw(st.sampled_from([True, True, True, False])),
    )


@st.composite
def world(draw) -> tuple[list[Contract], list[Spec]]:
    names = ["Acme", "Bolt", "Crux"][: draw(st.integers(1, 3))]
    contracts = [draw(contract(n)) for n in names]
    specs = draw(st.lists(spec(names), min_size=1, max_size=12))
    return contracts, specs


def build_book(contracts: list[Contract]):
    clients = [["Client", "Currency", "Default Rate", "Rounding", "Round Per", "Minimum Entry", "Detail"]]
    rates = [["Client", "Person", "Rate"]]
    rules = [["Rule", "Client", "Project", "Amount", "Line Item"], ["rollup", "", "App", "", "App"]]
    for c in contracts:
        rounding = f"{c.increment} {c.mode}" if c.increment else ""
        clients.append([c.name, "USD", str(c.rate), rounding, c.per, str(c.minimum or ""), c.detail])
        if c.ben_rate is not None:
            rates.append([c.name, "Ben Okafor", str(c.ben_rate)])
        if c.web_cap is not None:
            rules.append(["cap", c.name, "Web", str(c.web_cap), ""])
        if c.client_cap is not None:
            rules.append(["cap", c.name, "", str(c.client_cap), ""])
    return book(clients, rates, rules=rules)


def build_rows(specs: list[Spec]) -> tuple[list[TimeRow], list[str]]:
    """The Time rows, and each spec's entry ref (in spec order)."""
    harvest: dict[int, TimeRow] = {}
    timed: list[tuple[int, Timed]] = []
    for i, s in enumerate(specs):
        if s.hours is not None:
            harvest[i] = row(
                s.client,
                s.hours,
                person=s.person,
                role=PEOPLE[s.person],
                day=s.day,
                category=s.category,
                approved=s.approved,
                billable=s.billable,
                notes=f"task {i}",
                project=s.project,
                ref=f"h{i}",
            )
        else:
            t = Timed(
                client=s.client,
                seconds=s.seconds,
                person=s.person,
                day=s.day.isoformat(),
                project=s.project,
                notes=f"task {i}",
                billable=s.billable,
                category=s.category,
                approved=s.approved,
                start=f"{i:02d}:00:00",
            )
            timed.append((i, t))
    from_timer = dict(zip([i for i, _ in timed], toggl_rows([t for _, t in timed]), strict=True))
    rows = [harvest[i] if i in harvest else from_timer[i] for i in range(len(specs))]
    return rows, [r.entry.ref for r in rows]


# ---------------------------------------------------------------------------------------------- the oracle


@dataclass
class Line:
    refs: frozenset[str]
    project: str
    rate: Fraction
    raw: Fraction
    billed: Fraction  # hours
    amount: Fraction


@dataclass
class Expected:
    lines: dict[frozenset[str], Line]
    writeoff: Fraction  # the sum of the write-off lines (<= 0)
    total: Fraction


def rounded_minutes(minutes: Fraction, c: Contract) -> Fraction:
    if not c.increment:
        return minutes
    steps = minutes / c.increment
    n = {"up": math.ceil(steps), "down": math.floor(steps), "nearest": math.floor(steps + HALF)}[c.mode]
    return Fraction(n * c.increment)


def oracle(c: Contract, specs: list[Spec], refs: list[str]) -> Expected:
    groups: dict[tuple, list[int]] = defaultdict(list)
    rate_of: dict[int, Fraction] = {}
    for i, s in enumerate(specs):
        if s.client != c.name or not (s.approved and s.billable and s.category != "Internal" and s.day.month == 10):
            continue
        item = "App" if s.project == "App" else CATEGORY_ITEM[s.category]
        rate = exact(c.ben_rate if s.person == "Ben Okafor" and c.ben_rate is not None else c.rate)
        rate_of[i] = rate
        key = {
            "line item": (),
            "line item + person": (s.person,),
            "line item + week": (s.day - timedelta(days=s.day.weekday()),),
            "entry": (refs[i],),
        }[c.detail]
        groups[(item, rate, *key)].append(i)
    lines: dict[frozenset[str], Line] = {}
    for members in groups.values():
        raw_minutes = [specs[i].raw * 60 for i in members]
        if c.per == "entry":
            billed = sum((max(rounded_minutes(m, c), Fraction(c.minimum)) for m in raw_minutes), Fraction(0))
        else:
            billed = rounded_minutes(sum((max(m, Fraction(c.minimum)) for m in raw_minutes), Fraction(0)), c)
        hours = billed / 60
        assert isinstance(hours, Fraction)  # never a float
        rate = rate_of[members[0]]
        refset = frozenset(refs[i] for i in members)
        lines[refset] = Line(
            refset, specs[members[0]].project, rate, sum(raw_minutes) / 60, hours, round_half_up(hours * rate)
        )
    web = sum((ln.amount for ln in lines.values() if ln.project == "Web"), Fraction(0))
    everything = sum((ln.amount for ln in lines.values()), Fraction(0))
    writeoff = Fraction(0)
    if c.web_cap is not None and web > exact(c.web_cap):
        writeoff -= web - exact(c.web_cap)
    if c.client_cap is not None and everything + writeoff > exact(c.client_cap):
        writeoff -= everything + writeoff - exact(c.client_cap)
    return Expected(lines, writeoff, everything + writeoff)


# ---------------------------------------------------------------------------------------------- the check


def compare(c: Contract, exp: Expected, draft) -> list[str]:
    """Every difference between the engine's invoice and the oracle's, one readable sentence each."""
    problems: list[str] = []
    if draft is None:
        if exp.lines and exp.total != 0:
            problems.append(f"no invoice; expected total {float(exp.total):.2f}")
        return problems
    hour_lines = [ln for ln in draft.lines if ln.kind == "hours"]
    writeoffs = [ln for ln in draft.lines if ln.kind == "writeoff"]
    others = [ln for ln in draft.lines if ln.kind not in ("hours", "writeoff")]
    if others:
        problems.append(f"unexpected lines {[(ln.kind, str(ln.amount)) for ln in others]}")
    counts = Counter(ref for ln in draft.lines for ref in ln.entry_refs)
    expected_refs = {ref for refs in exp.lines for ref in refs}
    if set(counts) != expected_refs or any(n != 1 for n in counts.values()):
        problems.append(f"entries on lines {dict(counts)} != each of {sorted(expected_refs)} once")
    for ln in draft.lines:
        if round_half_up(exact(ln.quantity) * exact(ln.unit_price)) != exact(ln.amount):
            problems.append(
                f"{ln.description!r}: quantity {ln.quantity} x {ln.unit_price} does not round to {ln.amount}"
            )
    for ln in hour_lines:
        e = exp.lines.get(frozenset(ln.entry_refs))
        if e is None:
            problems.append(f"{ln.description!r}: line of {sorted(ln.entry_refs)} is not one of the expected lines")
            continue
        where = f"{ln.description!r} ({len(e.refs)} entries, raw {float(e.raw):.6f} h)"
        if abs(exact(ln.quantity) - e.billed) >= TOLERANCE:
            problems.append(f"{where}: quantity {ln.quantity} h, exact billed {e.billed} = {float(e.billed):.6f} h")
        if abs(exact(ln.raw_hours) - e.raw) >= TOLERANCE:
            problems.append(f"{where}: raw hours {ln.raw_hours}, exact {e.raw} = {float(e.raw):.6f} h")
        if exact(ln.unit_price) != e.rate:
            problems.append(f"{where}: rate {ln.unit_price}, expected {float(e.rate):.2f}")
        if exact(ln.amount) != e.amount:
            problems.append(f"{where}: amount {ln.amount}, exact {float(e.amount):.2f}")
    missing = set(exp.lines) - {frozenset(ln.entry_refs) for ln in hour_lines}
    for refs in missing:
        problems.append(f"expected a line of {sorted(refs)} ({float(exp.lines[refs].amount):.2f})")
    written_off = sum((exact(ln.amount) for ln in writeoffs), Fraction(0))
    if written_off != exp.writeoff:
        problems.append(f"write-off {float(written_off):.2f}, expected {float(exp.writeoff):.2f}")
    if exact(draft.total) != sum((exact(ln.amount) for ln in draft.lines), Fraction(0)):
        problems.append(f"total {draft.total} is not the sum of its lines")
    if exact(draft.total) != exp.total:
        problems.append(f"total {draft.total}, expected {float(exp.total):.2f}")
    return problems


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world())
def test_every_line_and_total_equal_the_exact_computation(w):
    contracts, specs = w
    rows, refs = build_rows(specs)
    story = "\n".join(
        [*(c.describe() for c in contracts), *(f"  {refs[i]}: {s.describe()}" for i, s in enumerate(specs))]
    )
    note(story)
    result = compute_invoices(rows, build_book(contracts), OCT, ISSUE)
    assert result.held == {}, result.held
    drafts = {d.client: d for d in result.drafts}
    assert set(drafts) <= {c.name for c in contracts}
    problems = []
    for c in contracts:
        exp = oracle(c, specs, refs)
        problems += [f"{c.name}: {p}" for p in compare(c, exp, drafts.get(c.name))]
    assert not problems, "\n" + story + "\n" + "\n".join(problems)


def test_the_oracle_on_a_hand_computed_month():
    """The oracle itself, on figures computed by hand: 10 up per entry at 300/h, 1.83 h -> 110 min -> 550.00,
    and a 450 s timer entry (7.5 min -> 10 min) -> 50.00; a cap of 580 on Web writes off 20.00."""
    c = Contract("Acme", Decimal(300), None, 10, "up", "entry", 0, "line item", Decimal(580), None)
    specs = [
        Spec("Acme", Decimal("1.83"), None, "Ana Ruiz", date(2026, 10, 5), "Development", "Web", True, True),
        Spec("Acme", None, 450, "Ana Ruiz", date(2026, 10, 6), "Development", "Web", True, True),
        Spec("Acme", Decimal("2"), None, "Ana Ruiz", date(2026, 10, 6), "Internal", "Web", True, True),
    ]
    exp = oracle(c, specs, ["a", "b", "c"])
    (line,) = exp.lines.values()
    assert (line.billed, line.amount, line.raw) == (2, 600, Fraction(183, 100) + Fraction(1, 8))
    assert (exp.writeoff, exp.total) == (-20, 580)
    assert round_half_up(Fraction(10005, 1000)) == Fraction(1001, 100)
    assert round_half_up(Fraction(-10005, 1000)) == Fraction(-1001, 100)
