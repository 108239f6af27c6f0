"""Issue 10, items 1-4, in the client's own terms: a contract sentence and the amount it implies, computed by
hand the way an accountant reads the contract (exact minutes, money rounded once per line, half up).

Each table row is one example: `contract` is the sentence in the client's contract, `arithmetic` the hand
computation, then the sheet (Clients, Rules, Time) and the figures. Every invoice line must also pass the
QuickBooks check: quantity x unit price, rounded half up to the cent, is the line's amount.
Timer entries (Toggl `HH:MM:SS`) go through the real Toggl CSV importer (`timer_export.toggl_rows`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from functions.billing.engine import compute_invoices
from functions.models import InvoiceDraft, TimeRow

from .helpers import ISSUE, OCT, book, row
from .timer_export import Timed, toggl_rows

CLIENTS = ["Client", "Currency", "Default Rate", "Rounding", "Round Per", "Minimum Entry", "Detail"]
RULES = [
    "Rule",
    "Client",
    "Project",
    "Line Item",
    "Hours",
    "Rate",
    "Amount",
    "Rollover Cap",
    "Period",
    "Complete",
    "Invoice",
]


@dataclass(frozen=True)
class Case:
    contract: str
    arithmetic: str
    clients: list[list[str]]  # rows under CLIENTS
    rows: Callable[[], list[TimeRow]]
    total: str
    quantity: Fraction | None = None  # the exact billed hours of the one hour line, when there is one
    rules: list[list[str]] = field(default_factory=list)  # rows under RULES
    billed_for: tuple[str, str] | None = None  # (project, amount billed for it)

    def __str__(self) -> str:
        return self.contract


def invoice(case: Case) -> InvoiceDraft:
    rules = [RULES, *case.rules] if case.rules else None
    result = compute_invoices(case.rows(), book([CLIENTS, *case.clients], rules=rules), OCT, ISSUE)
    assert result.held == {}, result.held
    (draft,) = result.drafts
    return draft


def check(case: Case) -> None:
    draft = invoice(case)
    said = f"\n{case.contract}\n{case.arithmetic}\nlines: " + "; ".join(
        f"{ln.kind} {ln.quantity} x {ln.unit_price} = {ln.amount}" for ln in draft.lines
    )
    for ln in draft.lines:
        qbo = (ln.quantity * ln.unit_price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert qbo == ln.amount, f"QuickBooks rejects {ln.description!r}: {ln.quantity} x {ln.unit_price}{said}"
    assert draft.total == Decimal(case.total), said
    if case.quantity is not None:
        (hours,) = [ln for ln in draft.lines if ln.kind == "hours"]
        assert abs(Fraction(hours.quantity) - case.quantity) < Fraction(5, 100000), said
    if case.billed_for is not None:
        project, amount = case.billed_for
        others = sum(
            (
                ln.amount
                for ln in draft.lines
                if ln.kind == "hours" and all(r.endswith("-other") for r in ln.entry_refs)
            ),
            Decimal(0),
        )
        assert draft.total - others == Decimal(amount), f"billed for {project}: {draft.total - others}{said}"


def harvest(hours: list[str], *, category: str = "Development", project: str = "Web", client: str = "Acme"):
    """Rows a person logged in Harvest, one a day from Oct 1 (distinct notes per category and day: none looks
    like a duplicate, which would be held out of the invoice)."""
    return lambda: [
        row(client, h, category=category, project=project, day=f"2026-10-{i + 1:02d}", notes=f"{category} task {i}")
        for i, h in enumerate(hours)
    ]


def timer(*durations: int, client: str = "Acme") -> Callable[[], list[TimeRow]]:
    return lambda: toggl_rows(
        [Timed(client, s, day=f"2026-10-{i + 1:02d}", notes=f"task {i}") for i, s in enumerate(durations)]
    )


# 1. Billed time is exact --------------------------------------------------------------------------------

EXACT_TIME = [
    Case(
        "We round each entry up to 10 minutes; 110 minutes at 300/h.",
        "1.83 h = 109.8 min -> 110 min = 11/6 h; 11/6 x 300 = 550.00",
        [["Acme", "USD", "300", "10 up", "entry", "", "line item"]],
        harvest(["1.83"]),
        "550.00",
        Fraction(11, 6),
    ),
    Case(
        "Three 20-minute entries at 90/h, each rounded up to 10 minutes.",
        "0.33 h = 19.8 min -> 20 min, three times: 60 min = 1 h; 1 x 90 = 90.00",
        [["Acme", "USD", "90", "10 up", "entry", "", "line item"]],
        harvest(["0.33", "0.33", "0.33"]),
        "90.00",
        Fraction(1),
    ),
    Case(
        "We round each invoice line up to 10 minutes; 1.75 h and 0.08 h of development at 300/h.",
        "1.83 h = 109.8 min on one line -> 110 min = 11/6 h; 11/6 x 300 = 550.00",
        [["Acme", "USD", "300", "10 up", "line", "", "line item"]],
        harvest(["1.75", "0.08"]),
        "550.00",
        Fraction(11, 6),
    ),
    Case(
        "Every entry is billed at least 10 minutes; three 3-minute calls at 300/h.",
        "0.05 h = 3 min -> the 10-minute minimum, three times: 30 min = 1/2 h; 1/2 x 300 = 150.00",
        [["Acme", "USD", "300", "", "entry", "10", "line item"]],
        harvest(["0.05", "0.05", "0.05"]),
        "150.00",
        Fraction(1, 2),
    ),
    Case(
        "We round each entry to the nearest 20 minutes; 0.5 h and 1.2 h at 120/h.",
        "30 min -> 40 (a half step rounds up); 72 min -> 80; 120 min = 2 h; 2 x 120 = 240.00",
        [["Acme", "USD", "120", "20 nearest", "entry", "", "line item"]],
        harvest(["0.5", "1.2"]),
        "240.00",
        Fraction(2),
    ),
    Case(
        "A retainer of 1,000.00 includes 10 hours, beyond at 300/h; each entry rounded up to 10 minutes.",
        "10 h included; 1.83 h -> 110 min = 11/6 h beyond; 1,000.00 + 11/6 x 300 = 1,550.00",
        [["Acme", "USD", "", "10 up", "entry", "", "line item"]],
        harvest(["10", "1.83"]),
        "1550.00",
        rules=[["retainer", "Acme", "", "Retainer", "10", "300", "1000", "", "", ""]],
    ),
]


@pytest.mark.parametrize("case", EXACT_TIME, ids=str)
def test_billed_time_is_exact(case: Case):
    """Issue 10 item 1: billed time is exact minutes through every rounding rule; money is rounded once per
    line, half up, and the quantity shown passes Qty x UnitPrice = Amount."""
    check(case)


# 2. Timer durations are exact ---------------------------------------------------------------------------

TIMER = [
    Case(
        "No rounding, at 120/h; Toggl timed a 7½-minute entry (00:07:30, 450 s).",
        "450 s = 1/8 h; 1/8 x 120 = 15.00 (not 0.13 h = 7.8 min -> 15.60)",
        [["Acme", "USD", "120", "", "entry", "", "line item"]],
        timer(450),
        "15.00",
        Fraction(1, 8),
    ),
    Case(
        "No rounding, at 300/h; Toggl timed 7 minutes (00:07:00).",
        "420 s = 7/60 h; 7/60 x 300 = 35.00 (not 0.12 h -> 36.00)",
        [["Acme", "USD", "300", "", "entry", "", "line item"]],
        timer(420),
        "35.00",
        Fraction(7, 60),
    ),
    Case(
        "No rounding, at 95/h; Toggl timed 1:23:47.",
        "5027 s = 5027/3600 h; x 95 = 132.6569... -> 132.66 (not 1.40 h -> 133.00)",
        [["Acme", "USD", "95", "", "entry", "", "line item"]],
        timer(5027),
        "132.66",
        Fraction(5027, 3600),
    ),
    Case(
        "No rounding, at 90/h; three timed 20-minute meetings (00:20:00 each).",
        "3 x 1200 s = 3600 s = 1 h; 1 x 90 = 90.00",
        [["Acme", "USD", "90", "", "entry", "", "line item"]],
        timer(1200, 1200, 1200),
        "90.00",
        Fraction(1),
    ),
    Case(
        "Each entry rounded up to 6 minutes, at 150/h; Toggl timed 6 minutes 1 second (00:06:01).",
        "361 s = 6.02 min -> up to 12 min = 0.2 h; 0.2 x 150 = 30.00 (not 0.10 h = 6 min -> 15.00)",
        [["Acme", "USD", "150", "6 up", "entry", "", "line item"]],
        timer(361),
        "30.00",
        Fraction(1, 5),
    ),
]


@pytest.mark.parametrize("case", TIMER, ids=str)
def test_timer_durations_are_exact(case: Case):
    """Issue 10 item 2: a timer's seconds are billed as they are; only the client's rounding rounds them."""
    check(case)


def test_a_timer_entry_rounded_down_is_not_rounded_up_on_import():
    """Each entry rounded down to 15 minutes, at 200/h; Toggl timed 14 minutes 59 seconds (00:14:59).

    899 s = 14.98 min -> down to 0 min: 0.00 (not 0.25 h = 15 min -> 50.00). Acme's invoice totals 0.00, or
    is not created at all (issue 10 item 9)."""
    clients = [CLIENTS, ["Acme", "USD", "200", "15 down", "entry", "", "line item"]]
    result = compute_invoices(timer(899)(), book(clients), OCT, ISSUE)
    assert result.held == {}
    assert [d.total for d in result.drafts] in ([], [Decimal("0.00")]), result.drafts


# 3. A not-to-exceed cap is a promise --------------------------------------------------------------------


def eleven_lines(project: str = "Web") -> Callable[[], list[TimeRow]]:
    return harvest(["0.7"] * 11, project=project)


CAPS = [
    Case(
        "Not-to-exceed 1,000.00 on project Web; we round each line up to a quarter hour; billed per entry "
        "(11 lines of 0.7 h at 125/h).",
        "each line 42 min -> 45 min = 0.75 h x 125 = 93.75; 11 lines = 1,031.25 > 1,000.00, so Web is billed "
        "exactly 1,000.00 (the raw value 11 x 0.7 x 125 = 962.50 is under the cap, but the lines are not)",
        [["Acme", "USD", "125", "15 up", "line", "", "entry"]],
        eleven_lines(),
        "1000.00",
        rules=[["cap", "Acme", "Web", "", "", "", "1000", "", "", ""]],
        billed_for=("Web", "1000.00"),
    ),
    Case(
        "Not-to-exceed 1,000.00 on project Web, rounded up to a quarter hour per line, billed per entry "
        "(11 lines of 0.9 h at 125/h).",
        "each line 54 min -> 60 min = 1 h x 125 = 125.00; 11 lines = 1,375.00; Web billed exactly 1,000.00 "
        "(raw value 1,237.50: a write-off of 237.50 would leave 1,137.50)",
        [["Acme", "USD", "125", "15 up", "line", "", "entry"]],
        harvest(["0.9"] * 11),
        "1000.00",
        rules=[["cap", "Acme", "Web", "", "", "", "1000", "", "", ""]],
    ),
    Case(
        "Not-to-exceed 45.00 on project Web; 9 minutes of development and 9 of design at 150.30/h.",
        "each line 0.15 h x 150.30 = 22.545 -> 22.55; 45.10 > 45.00, so Web is billed exactly 45.00",
        [["Acme", "USD", "150.30", "", "entry", "", "line item"]],
        lambda: [*harvest(["0.15"])(), *harvest(["0.15"], category="Design")()],
        "45.00",
        rules=[["cap", "Acme", "Web", "", "", "", "45", "", "", ""]],
    ),
    Case(
        "Not-to-exceed 25.00 on project Web; 6 minutes each of development, design and meetings at 100.04/h.",
        "each line 0.1 h x 100.04 = 10.004 -> 10.00; 30.00 > 25.00, so Web is billed exactly 25.00 (not a cent "
        "less: the cap is measured on the lines billed, 30.00, not on 30.012 rounded to 30.01)",
        [["Acme", "USD", "100.04", "", "entry", "", "line item"]],
        lambda: [
            *harvest(["0.1"])(),
            *harvest(["0.1"], category="Design")(),
            *harvest(["0.1"], category="Meetings")(),
        ],
        "25.00",
        rules=[["cap", "Acme", "Web", "", "", "", "25", "", "", ""]],
    ),
    Case(
        "Not-to-exceed 1,000.00 for the month; each line rounded up to a quarter hour; billed per entry "
        "(11 lines of 0.7 h at 125/h).",
        "11 x 0.75 h x 125 = 1,031.25 > 1,000.00, so the invoice is exactly 1,000.00",
        [["Acme", "USD", "125", "15 up", "line", "", "entry"]],
        eleven_lines(),
        "1000.00",
        rules=[["cap", "Acme", "", "", "", "", "1000", "", "", ""]],
    ),
    Case(
        "Not-to-exceed 1,000.00 on project Web only; 2 h on project App at 125/h are billed in full.",
        "Web: 11 x 0.75 h x 125 = 1,031.25 -> 1,000.00; App: 2 x 125 = 250.00; total 1,250.00",
        [["Acme", "USD", "125", "15 up", "line", "", "entry"]],
        lambda: [
            *eleven_lines()(),
            row("Acme", "2", project="App", day="2026-10-20", notes="app", ref="app-other"),
        ],
        "1250.00",
        rules=[["cap", "Acme", "Web", "", "", "", "1000", "", "", ""]],
        billed_for=("Web", "1000.00"),
    ),
    Case(
        "Not-to-exceed 2,000.00 on project Web, not reached: 11 lines of 0.7 h at 125/h, quarter hour per line.",
        "11 x 0.75 h x 125 = 1,031.25 < 2,000.00: nothing written off",
        [["Acme", "USD", "125", "15 up", "line", "", "entry"]],
        eleven_lines(),
        "1031.25",
        rules=[["cap", "Acme", "Web", "", "", "", "2000", "", "", ""]],
    ),
]


@pytest.mark.parametrize("case", CAPS, ids=str)
def test_a_cap_is_a_promise(case: Case):
    """Issue 10 item 3: when a capped project or client is worth more than the cap, exactly the cap is
    billed for it, whatever rounding, detail level or number of lines."""
    check(case)


# 4. Retainer hours used are the hours billed against the retainer ---------------------------------------


def september(hours: list[str], project: str = "Web") -> list[TimeRow]:
    """Time already invoiced in September (INV-9)."""
    return [
        row("Nimbus", h, project=project, day=f"2026-09-{i + 1:02d}", notes=f"sep {project} {i}", invoice="INV-9")
        for i, h in enumerate(hours)
    ]


def october(hours: list[str], project: str = "Web") -> list[TimeRow]:
    return [
        row("Nimbus", h, project=project, day=f"2026-10-{i + 1:02d}", notes=f"oct {project} {i}")
        for i, h in enumerate(hours)
    ]


RETAINER = ["retainer", "Nimbus", "", "Retainer", "10", "140", "1000", "5", "", ""]

RETAINERS = [
    Case(
        "A retainer of 1,000.00 a month includes 10 hours, unused hours roll over (up to 5), beyond at 140/h; "
        "each entry rounded up to 15 minutes. September: 8 entries of 0.9 h; October: 13 entries of 1 h.",
        "September billed 8 x 1 h = 8 h used (its invoice said 8 h), so 2 h roll over, not 10 - 7.2 = 2.8; "
        "October includes 12 h, 13 h billed: 1 h beyond at 140; 1,000.00 + 140.00 = 1,140.00",
        [["Nimbus", "USD", "", "15 up", "entry", "", "line item"]],
        lambda: [*september(["0.9"] * 8), *october(["1"] * 13)],
        "1140.00",
        rules=[RETAINER],
    ),
    Case(
        "The same retainer (10 h, rollover up to 5, beyond at 140/h); the HIPAA Audit project is a fixed fee of "
        "2,000.00 billed in September. September: 6 h on Web, 5 h on the Audit; October: 13 h on Web.",
        "September used 6 retainer hours (the Audit's 5 h were billed by the fixed fee): 4 h roll over; October "
        "includes 14 h, 13 h used: nothing beyond; 1,000.00",
        [["Nimbus", "USD", "", "", "entry", "", "line item"]],
        lambda: [*september(["3", "3"]), *september(["5"], project="Audit"), *october(["6.5", "6.5"])],
        "1000.00",
        rules=[RETAINER, ["fixed fee", "Nimbus", "Audit", "", "", "", "2000", "", "2026-09", ""]],
    ),
    Case(
        "The same retainer; the Exhibit project bills by milestone (2,000.00, completed in September). "
        "September: 6 h on Web, 5 h on the Exhibit; October: 13 h on Web.",
        "September used 6 retainer hours: 4 h roll over; October includes 14 h, 13 h used; 1,000.00",
        [["Nimbus", "USD", "", "", "entry", "", "line item"]],
        lambda: [*september(["3", "3"]), *september(["5"], project="Exhibit"), *october(["6.5", "6.5"])],
        "1000.00",
        rules=[RETAINER, ["milestone", "Nimbus", "Exhibit", "", "", "", "2000", "", "2026-09", "TRUE", "INV-9"]],
    ),
    Case(
        "The same retainer; the HIPAA Audit is a fixed fee of 2,000.00 billed in October. October: 12 h on "
        "Web, 8 h on the Audit; September: 10 h on Web.",
        "September used all 10 h: nothing rolls over; the Audit's 8 h do not draw on the retainer: 12 h used, "
        "2 h beyond at 140 = 280.00; 1,000.00 + 280.00 + 2,000.00 = 3,280.00",
        [["Nimbus", "USD", "", "", "entry", "", "line item"]],
        lambda: [*september(["5", "5"]), *october(["6", "6"]), *october(["4", "4"], project="Audit")],
        "3280.00",
        rules=[RETAINER, ["fixed fee", "Nimbus", "Audit", "", "", "", "2000", "", "2026-10", ""]],
    ),
]


@pytest.mark.parametrize("case", RETAINERS, ids=str)
def test_retainer_hours_used_are_the_hours_billed_against_it(case: Case):
    """Issue 10 item 4: hours used = hours billed against the retainer (after the client's rounding);
    rollover comes from those; fixed-fee and milestone hours never draw on the retainer."""
    check(case)


# --- item 6: rates for a role or a person in one category ------------------------------------------------------

RATES = ["Client", "Person", "Role", "Category", "Rate", "Effective From", "Effective To"]


@dataclass(frozen=True)
class RateCase:
    contract: str
    arithmetic: str
    rates: list[list[str]]  # rows under RATES; the client Acme bills 100 an hour by default
    rows: Callable[[], list[TimeRow]]
    total: str

    def __str__(self) -> str:
        return self.contract


def acme(person: str, role: str, category: str, hours: str, day: str = "2026-10-05") -> TimeRow:
    return row("Acme", hours, person=person, role=role, category=category, day=day, notes=f"{category} {day}")


RATE_CASES = [
    RateCase(
        "Designers' meetings are billed at 90 an hour, other design work at 120. Ben (designer): 2 h of "
        "meetings and 3 h of design.",
        "2 h x 90 = 180.00; 3 h x 120 = 360.00; 540.00",
        [["Acme", "", "Designer", "", "120"], ["Acme", "", "Designer", "Meetings", "90"]],
        lambda: [acme("Ben Okafor", "Designer", "Meetings", "2"), acme("Ben Okafor", "Designer", "Design", "3")],
        "540.00",
    ),
    RateCase(
        "Ana Ruiz's workshops (Meetings) are billed at 200, her other work at 150; Cleo Diaz is billed at 140 "
        "whatever she does; designers' meetings at 90. Ana, Cleo and Ben (all designers) each spend 1 h in a "
        "meeting; Ana also designs for 2 h.",
        "Ana: 1 h x 200 + 2 h x 150 = 500.00; Cleo: 1 h x 140 (her own rate beats the designers' meeting rate); "
        "Ben: 1 h x 90; 500.00 + 140.00 + 90.00 = 730.00",
        [
            ["Acme", "Ana Ruiz", "", "Meetings", "200"],
            ["Acme", "Ana Ruiz", "", "", "150"],
            ["Acme", "Cleo Diaz", "", "", "140"],
            ["Acme", "", "Designer", "Meetings", "90"],
        ],
        lambda: [
            acme("Ana Ruiz", "Designer", "Meetings", "1"),
            acme("Ana Ruiz", "Designer", "Design", "2"),
            acme("Cleo Diaz", "Designer", "Meetings", "1"),
            acme("Ben Okafor", "Designer", "Meetings", "1"),
        ],
        "730.00",
    ),
    RateCase(
        "Designers are billed at 120; designers' meetings at 90 an hour until 14 October and at 95 from 15 "
        "October; meetings otherwise at 110. Ben (designer) has a 1 h meeting on 6 and on 20 October and "
        "designs for 1 h on 20 October; Finn (developer) has a 1 h meeting on 20 October.",
        "1 h x 90 + 1 h x 95 + 1 h x 120 + 1 h x 110 = 415.00",
        [
            ["Acme", "", "Designer", "", "120"],
            ["Acme", "", "", "Meetings", "110"],
            ["Acme", "", "Designer", "Meetings", "90", "", "2026-10-14"],
            ["Acme", "", "Designer", "Meetings", "95", "2026-10-15", ""],
        ],
        lambda: [
            acme("Ben Okafor", "Designer", "Meetings", "1", "2026-10-06"),
            acme("Ben Okafor", "Designer", "Meetings", "1", "2026-10-20"),
            acme("Ben Okafor", "Designer", "Design", "1", "2026-10-20"),
            acme("Finn Lee", "Developer", "Meetings", "1", "2026-10-20"),
        ],
        "415.00",
    ),
]


@pytest.mark.parametrize("case", RATE_CASES, ids=str)
def test_a_rate_for_a_role_or_person_in_one_category(case: RateCase):
    """Issue 10 item 6: a Rates row with Client + Role (or Person) + Category prices that role's (person's)
    time in that category; it is never read as a plain Client + Role rate."""
    rates = [RATES, *[r + [""] * (len(RATES) - len(r)) for r in case.rates]]
    rulebook = book([["Client", "Currency", "Default Rate"], ["Acme", "USD", "100"]], rates=rates)
    result = compute_invoices(case.rows(), rulebook, OCT, ISSUE)
    assert result.held == {}, result.held
    (draft,) = result.drafts
    said = f"\n{case.contract}\n{case.arithmetic}\nlines: " + "; ".join(
        f"{ln.quantity} x {ln.unit_price} = {ln.amount}" for ln in draft.lines
    )
    assert draft.total == Decimal(case.total), said
