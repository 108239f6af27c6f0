"""Small builders for billing tests: Time rows and config tabs written inline, as a person would type them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import count

from functions.billing.book import RuleBook
from functions.billing.engine import BillingResult
from functions.models import Period, TimeEntry, TimeRow
from functions.sheet.config_tabs import parse_book
from functions.sheet.contract import HeaderMap, load_contract

OCT = Period(year=2026, month=10)
ISSUE = date(2026, 11, 1)
_ids = count(1)

CATEGORIES = [
    ["Category", "Meaning", "Billable", "Line Item"],
    ["Development", "", "TRUE", "Development"],
    ["Design", "", "TRUE", ""],
    ["Maintenance", "", "TRUE", "Maintenance"],
    ["QA", "", "TRUE", "Quality Assurance"],
    ["Meetings", "", "TRUE", ""],
    ["Internal", "", "FALSE", ""],
]


def row(
    client: str = "Acme",
    hours: str | Decimal = "1",
    *,
    person: str = "Ana Ruiz",
    role: str = "Developer",
    day: str | date = "2026-10-05",
    category: str = "Development",
    approved: bool = True,
    billable: bool = True,
    notes: str = "work",
    project: str = "Web",
    task: str = "",
    rate: str | None = None,
    currency: str | None = None,
    override: str | None = None,
    line_item: str = "",
    invoice: str = "",
    source: str = "harvest",
    ref: str | None = None,
) -> TimeRow:
    n = next(_ids)
    entry = TimeEntry(
        source=source,
        source_id=ref or f"e{n}",
        date=day,
        client=client,
        project=project,
        task=task,
        person=person,
        role=role,
        notes=notes,
        hours=hours,
        billable=billable,
        rate=rate,
        currency=currency,
    )
    return TimeRow(
        row=n + 1,
        entry=entry,
        category=category,
        line_item=line_item,
        rate_override=None if override is None else Decimal(override),
        approved=approved,
        invoice=invoice,
    )


def book(
    clients: list[list[object]],
    rates: list[list[object]] | None = None,
    rules: list[list[object]] | None = None,
    categories: list[list[object]] | None = None,
) -> RuleBook:
    tables = {"Clients": clients, "Categories": categories or CATEGORIES}
    if rates is not None:
        tables["Rates"] = rates
    if rules is not None:
        tables["Rules"] = rules
    parsed, errors = parse_book(tables)
    assert errors == [], [str(e) for e in errors]
    return parsed


def located(result: BillingResult) -> BillingResult:
    """The result with its Time-row issues named as cells of a Time tab in the contract's column order (what the
    sheet session does with the tab's real header)."""
    tab = load_contract().tab("Time")
    hm = HeaderMap(tab, tab.headers)
    return result.located(lambda row, key: hm.cell(key, row))
