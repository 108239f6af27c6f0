"""The Dashboard tab's small tables, computed from the records a run already holds (pure: values in, values out).

Every run (refresh, preview, create-invoices) rewrites the tab with these tables as plain values; the tab's
native charts (sheet_templates/tabs/Dashboard.json) point at them. Nothing here reads a cell or writes one,
and no formula ever sees a client's name or a note: the sums are done here, in Decimal.

    >>> from datetime import date
    >>> from .models import Period, TimeEntry, TimeRow
    >>> e = TimeEntry(source="csv", source_id="1", date=date(2026, 10, 2), client="Acme", person="Ana",
    ...               hours="1.5")
    >>> tables = build(Period.parse("2026-10"), [TimeRow(row=2, entry=e, category="Design")], [], [])
    >>> tables["category"]
    [['Design', Decimal('1.50')]]

Each table is keyed by its chart's domain column and holds at most `ROWS` rows: the largest clients and
categories, the newest months and runs (shown oldest first, so the charts read left to right in time).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import NamedTuple

from .categorize.chain import accuracy_by_month
from .models import Period, Suggestion, TimeEntry, TimeRow
from .money import hours_shown

ROWS = 20  # rows of each table; the charts' ranges are this long (sheet_templates/tabs/Dashboard.json)
NO_CATEGORY = "(no category)"
SHARE = Decimal("0.01")  # percent, to the hundredth

Value = str | Decimal | int
Table = list[list[Value]]


class InvoiceRecord(NamedTuple):
    """An invoice the Invoices tab lists (a voided one is left out by the caller)."""

    client: str
    period: str
    total: Decimal


class RunRecord(NamedTuple):
    """A row of the Runs tab, as the dashboard needs it."""

    started: str  # ISO text, "2026-11-03T02:00:00+00:00"
    command: str
    seconds: Decimal
    ai_calls: int
    ai_cost: Decimal


def build(
    period: Period,
    rows: Sequence[TimeRow],
    invoices: Iterable[InvoiceRecord],
    runs: Sequence[RunRecord],
    limit: int = ROWS,
    non_billable: Iterable[str] = (),
    new: Iterable[tuple[TimeEntry, Suggestion | None]] = (),
) -> dict[str, Table]:
    """The six tables of the Dashboard tab, each keyed by its chart's domain column. `new` are the rows a refresh
    is appending after `rows` (`appended`): not approved yet, so only the hours by category count them."""
    return {
        "client": billed_per_client(period, invoices, limit),
        "category": hours_by_category(period, rows, limit, new),
        "kept_label": suggestions_kept(rows, limit),
        "unbilled_client": unbilled_approved(rows, limit, non_billable),
        "run_label": run_durations(runs, limit),
        "ai_month": ai_per_month(runs, limit),
    }


def billed_per_client(period: Period, invoices: Iterable[InvoiceRecord], limit: int = ROWS) -> Table:
    """[client, billed this period, billed the period before], largest first."""
    this, last = str(period), str(period.previous())
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal("0"), Decimal("0")])
    for inv in invoices:
        if inv.period == this:
            totals[inv.client][0] += inv.total
        elif inv.period == last:
            totals[inv.client][1] += inv.total
    order = sorted(totals.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0].casefold()))
    return [[client, now, before] for client, (now, before) in order[:limit]]


def hours_by_category(
    period: Period, rows: Iterable[TimeRow], limit: int = ROWS, new: Iterable[tuple[TimeEntry, Suggestion | None]] = ()
) -> Table:
    """[category, hours] of the period's rows (the reviewer's category, else the suggestion), most hours first;
    then of the `new` rows being appended, by their suggestion."""
    hours: dict[str, Decimal] = defaultdict(Decimal)
    year, month = period.year, period.month
    named: dict[tuple[str, str], str] = {}  # (category, suggested) -> the category counted: once per distinct pair
    for r in rows:
        e = r.entry
        day = e.date
        if day.month == month and day.year == year:
            pair = (r.category, r.suggested_category)
            name = named.get(pair)
            if name is None:
                name = named[pair] = r.effective_category or r.suggested_category.strip() or NO_CATEGORY
            hours[name] += e.hours
    for e, s in new:
        if period.contains(e.date):
            hours[(s.category.strip() if s else "") or NO_CATEGORY] += e.hours
    order = sorted(hours.items(), key=lambda kv: (-kv[1], kv[0].casefold()))
    return [[category, hours_shown(h)] for category, h in order[:limit]]


def suggestions_kept(rows: Iterable[TimeRow], limit: int = ROWS) -> Table:
    """["2026-10 memory", percent kept] per month of work and suggestion source, the newest `limit`, oldest first."""
    out: Table = []
    for month, sources in accuracy_by_month(rows, months=limit).items():  # newest month first
        for source, (kept, made) in sources.items():
            out.append([f"{month} {source}", (Decimal(100 * kept) / Decimal(made)).quantize(SHARE)])
    return list(reversed(out[:limit]))


def unbilled_approved(rows: Iterable[TimeRow], limit: int = ROWS, non_billable: Iterable[str] = ()) -> Table:
    """[client, hours] of approved billable rows of any month that no invoice bills yet, most hours first. A row
    in a category the Categories tab marks non-billable (`non_billable`, any case) is never billed: not counted."""
    never = {c.casefold() for c in non_billable}
    hours: dict[str, Decimal] = defaultdict(Decimal)
    billed: dict[tuple[str, str], bool] = {}  # (category, suggested) -> billable: once per distinct pair
    for r in rows:
        e = r.entry
        if not (r.approved and e.billable) or r.invoiced or not e.client.strip():
            continue
        pair = (r.category, r.suggested_category)
        ok = billed.get(pair)
        if ok is None:
            ok = billed[pair] = (r.effective_category or r.suggested_category).strip().casefold() not in never
        if ok:
            hours[e.client] += e.hours
    order = sorted(hours.items(), key=lambda kv: (-kv[1], kv[0].casefold()))
    return [[client, hours_shown(h)] for client, h in order[:limit]]


def run_durations(runs: Sequence[RunRecord], limit: int = ROWS) -> Table:
    """["2026-11-03 02:00 refresh", seconds] of the newest `limit` runs, oldest first."""
    return [[f"{r.started[:16].replace('T', ' ')} {r.command}", r.seconds] for r in runs[-limit:]]


def ai_per_month(runs: Iterable[RunRecord], limit: int = ROWS) -> Table:
    """[month the runs started, Claude calls, their cost in USD], the newest `limit` months, oldest first."""
    calls: dict[str, int] = defaultdict(int)
    cost: dict[str, Decimal] = defaultdict(Decimal)
    for r in runs:
        month = r.started[:7]
        if len(month) == 7 and month[4] == "-":
            calls[month] += r.ai_calls
            cost[month] += r.ai_cost
    months = sorted(calls)[-limit:]
    return [[m, calls[m], cost[m]] for m in months]


def appended(
    incoming: Sequence[TimeEntry], known: Mapping[str, TimeRow], suggestions: Mapping[str, Suggestion]
) -> list[tuple[TimeEntry, Suggestion | None]]:
    """The entries a refresh appends (not in `known`), each with its suggestion, for `build(new=...)`. Pairs,
    not rows: as TimeRow records the 100,000 rows of a first refresh cost 90 MB and a third of a second."""
    get = suggestions.get
    return [(e, get(e.ref)) for e in incoming if e.ref not in known]
