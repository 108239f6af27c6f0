"""The settings tabs (Categories, Clients, Rates, Rules) -> the billing engine's RuleBook, parsed and checked
in one pass.

`parse_book(tables)` reads each tab by header (extra or reordered columns are fine), skips blank rows, and
collects every problem as an InputError naming the tab and cell (`Rates!C7: "12,5O" is not an amount`)
instead of stopping at the first. The caller stops the run when the list is not empty.

    >>> book, errors = parse_book({"Clients": [["Client", "Currency"], ["Acme", "USD"]]})
    >>> book.client("acme").currency, errors
    ('USD', [])
"""

from __future__ import annotations

import re
from datetime import date

from ..billing.book import DETAILS, TASK_NOTES, ClientSettings, RuleBook
from ..billing.rates import RateRow
from ..billing.rollup import DEFAULT_TEMPLATE, describe
from ..billing.rounding import NO_ROUNDING, parse_rounding
from ..billing.terms import DEFAULT_TERMS, parse_terms
from ..errors import InputError, Location
from ..models import Category
from ..values import is_blank
from .rules_tab import parse_rules
from .tab_reader import Cell, TabReader, known_name, reading_order


def parse_book(tables: dict[str, list[list[Cell]]]) -> tuple[RuleBook, list[InputError]]:
    """Parse the config tabs (tab name -> rows, header first). Returns the book and every problem found."""
    errors: list[InputError] = []
    categories = _categories(TabReader("Categories", tables.get("Categories"), errors))
    clients = _clients(TabReader("Clients", tables.get("Clients"), errors))
    known_clients = {c.name.casefold(): c.name for c in clients}
    known_categories = {c.name.casefold(): c.name for c in categories}
    rates = _rates(TabReader("Rates", tables.get("Rates"), errors), known_clients, known_categories)
    rules = parse_rules(TabReader("Rules", tables.get("Rules"), errors), known_clients, known_categories)
    for cap in rules["caps"]:
        client = next((c for c in clients if c.name == cap.client), None)
        if not cap.project and client and client.minimum_fee is not None and client.minimum_fee > cap.amount:
            tab, cell = cap.location.split("!")
            errors.append(
                InputError(
                    f'the cap for "{cap.client}" ({cap.amount}) is below its Minimum Fee '
                    f"({client.minimum_fee}) at {client.location}; they cannot both hold",
                    Location(tab=tab, cell=cell),
                )
            )
    book = RuleBook(categories=tuple(categories), clients=tuple(clients), rates=tuple(rates), **rules)
    return book, sorted(errors, key=reading_order)


def _categories(t: TabReader) -> list[Category]:
    out: list[Category] = []
    for row, r, name in t.named_rows("category", "category"):
        out.append(
            Category(
                name=name,
                meaning=t.text(r, "meaning"),
                billable=t.boolean(r, row, "billable", True),
                line_item=t.text(r, "line_item"),
                keywords=t.text(r, "keywords"),
            )
        )
    return out


def _clients(t: TabReader) -> list[ClientSettings]:
    out: list[ClientSettings] = []
    for row, r, name in t.named_rows("client", "client"):
        currency = t.text(r, "currency").upper() or "USD"
        if not (len(currency) == 3 and currency.isalpha()):
            t.error("currency", row, f'"{t.text(r, "currency")}" is not a currency code (write USD, EUR, GBP ...)')
            currency = "USD"
        try:
            terms, days = parse_terms(t.text(r, "terms"))
        except ValueError as exc:
            t.error("terms", row, str(exc))
            terms, days = DEFAULT_TERMS
        try:
            rounding = parse_rounding(t.text(r, "rounding"), t.text(r, "round_per"), t.text(r, "minimum_entry"))
        except ValueError as exc:
            bad = (
                "round_per"
                if "entry or line" in str(exc)
                else "minimum_entry"
                if "minute" in str(exc) and "rounding" not in str(exc)
                else "rounding"
            )
            t.error(bad, row, str(exc))
            rounding = NO_ROUNDING
        template = t.text(r, "description")
        if template:
            try:
                describe(template, line_item="X", count=1, hours="1", period="Oct 2026")
            except Exception:
                t.error(
                    "description",
                    row,
                    f'"{template}" is not a usable description template; use fields in braces like {DEFAULT_TEMPLATE}',
                )
                template = ""
        out.append(
            ClientSettings(
                name=name,
                customer=t.text(r, "customer"),
                currency=currency,
                terms=terms,
                due_days=days,
                default_rate=t.money(r, row, "default_rate"),
                tax_code=t.text(r, "tax_code"),
                tax_exempt=t.boolean(r, row, "tax_exempt", False),
                memo=t.text(r, "memo"),
                active=t.boolean(r, row, "active", True),
                detail=t.choice(r, row, "detail", DETAILS, "line item"),
                description=template,
                task_notes=t.choice(r, row, "task_notes", TASK_NOTES, "none"),
                rounding=rounding,
                minimum_fee=t.money(r, row, "minimum_fee"),
                bill_without_time=None
                if is_blank(t.hm.get(r, "bill_without_time"))
                else t.boolean(r, row, "bill_without_time", False),
                language=_language(t, row, r),
                location=t.loc("client", row),
            )
        )
    return out


def _language(t: TabReader, row: int, r: list[Cell]) -> str:
    """A language code or name (de, pt-BR, German): letters, with a region after - or _ ."""
    text = t.text(r, "language")
    if text and not re.fullmatch(r"[^\W\d_]{2,20}(?:[-_][A-Za-z0-9]{2,8})?", text):
        t.error("language", row, f'"{text}" is not a language; write a code like de or pt-BR, or a name like German')
        return ""
    return text


def _rates(t: TabReader, clients: dict[str, str], categories: dict[str, str]) -> list[RateRow]:
    out: list[RateRow] = []
    if not t.require("rate"):
        return out
    for row, r in t.body:
        client = known_name(t, row, "client", t.text(r, "client"), clients, "client")
        category = known_name(t, row, "category", t.text(r, "category"), categories, "category")
        person, role = t.text(r, "person"), t.text(r, "role")
        rate = t.money(r, row, "rate")
        start, end = t.date(r, row, "effective_from"), t.date(r, row, "effective_to")
        if is_blank(t.hm.get(r, "rate")):
            t.error("rate", row, "the rate is missing")
        if not (client or person or role) and client is not None:
            t.error("client", row, "the rate applies to nobody: fill Client, Person or Role")
            continue
        if person and role:
            # never read as one of them: which one the agency meant is theirs to say
            t.error(
                "role",
                row,
                f"a rate is for a Person or a Role, not both ({person}, {role}): "
                "write two rows, one for the person and one for the role",
            )
            continue
        if category and not client:
            t.error("category", row, "a category rate needs a Client")
            continue
        if start and end and end < start:
            t.error("effective_to", row, f"the rate ends ({end}) before it starts ({start})")
            continue
        if client is None or category is None or rate is None:
            continue
        out.append(
            RateRow(
                client=client,
                person=person,
                role=role,
                category=category,
                rate=rate,
                effective_from=start,
                effective_to=end,
                location=t.loc("rate", row),
            )
        )
    _overlaps(t, out)
    return out


def _overlaps(t: TabReader, rates: list[RateRow]) -> None:
    """Two rows for the same who with overlapping dates leave the rate ambiguous: say so."""
    groups: dict[tuple[str, ...], list[RateRow]] = {}
    for r in rates:
        groups.setdefault(
            (r.client.casefold(), r.person.casefold(), r.role.casefold(), r.category.casefold()), []
        ).append(r)
    for rows in groups.values():
        for i, a in enumerate(rows):
            for b in rows[i + 1 :]:
                if (a.effective_from == b.effective_from) and _overlap(a, b):
                    tab, cell = b.location.split("!")
                    t.errors.append(
                        InputError(
                            f"this rate overlaps the one at {a.location} for the same dates; "
                            "give one of them an Effective From",
                            Location(tab=tab, cell=cell),
                        )
                    )


def _overlap(a: RateRow, b: RateRow) -> bool:
    a0, a1 = a.effective_from or date.min, a.effective_to or date.max
    b0, b1 = b.effective_from or date.min, b.effective_to or date.max
    return a0 <= b1 and b0 <= a1
