"""Parsing and validating the config tabs: by header, native or text cells, every problem with its cell."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from functions.billing.rounding import Rounding
from functions.errors import InputError, InputErrors
from functions.sheet.config_tabs import parse_book
from tests.billing.helpers import CATEGORIES


def messages(errors: list[InputError]) -> list[str]:
    return [str(e) for e in errors]


def test_native_workbook_values_and_google_strings_read_the_same():
    xlsx = {
        "Clients": [
            ["Client", "Currency", "Default Rate", "Tax Exempt", "Minimum Fee", "Active"],
            ["Acme", "usd", 1234.5, True, 500, None],
        ],
        "Rates": [
            ["Client", "Person", "Rate", "Effective From", "Effective To"],
            ["Acme", "Ana Ruiz", 150.0, datetime(2026, 10, 15), date(2026, 12, 31)],
        ],
        "Rules": [
            ["Rule", "Client", "Amount", "Percent", "Period", "Description"],
            # a percent-formatted cell holding 0.1 is handed by the workbook adapter as what it shows
            ["expense", "Acme", 99.95, "10%", datetime(2026, 10, 1), "Hosting"],
        ],
        "Categories": CATEGORIES,
    }
    sheets = {
        "Clients": [
            ["Client", "Currency", "Default Rate", "Tax Exempt", "Minimum Fee", "Active"],
            ["Acme", "USD", "1,234.50", "TRUE", "$500", ""],
        ],
        "Rates": [
            ["Client", "Person", "Rate", "Effective From", "Effective To"],
            ["Acme", "Ana Ruiz", "150", "2026-10-15", "12/31/2026"],
        ],
        "Rules": [
            ["Rule", "Client", "Amount", "Percent", "Period", "Description"],
            ["Expense", "Acme", "99.95", "10%", "2026-10", "Hosting"],
        ],
        "Categories": CATEGORIES,
    }
    a, errors_a = parse_book(xlsx)
    b, errors_b = parse_book(sheets)
    assert errors_a == errors_b == []
    for book in (a, b):
        (client,) = book.clients
        assert (client.currency, client.default_rate, client.tax_exempt, client.minimum_fee, client.active) == (
            "USD",
            Decimal("1234.5"),
            True,
            Decimal("500"),
            True,
        )
        (rate,) = book.rates
        assert (rate.rate, rate.effective_from, rate.effective_to) == (
            Decimal("150"),
            date(2026, 10, 15),
            date(2026, 12, 31),
        )
        (expense,) = book.expenses
        assert (expense.amount, expense.markup, str(expense.period)) == (Decimal("99.95"), Decimal("10"), "2026-10")


def test_columns_are_read_by_header_in_any_order_with_extra_columns_and_blank_rows():
    tables = {
        "Clients": [
            ["My notes", "Rounding", "client", "CURRENCY", "Round Per", "Minimum Entry"],
            ["anything", "15 up", "Acme", "EUR", "line", "10"],
            [None, "", None, None, None, None],
            ["", "", "", "", "", ""],
        ],
        "Categories": CATEGORIES,
    }
    book, errors = parse_book(tables)
    assert errors == []
    (client,) = book.clients
    assert client.name == "Acme" and client.currency == "EUR"
    assert client.rounding == Rounding(increment=15, mode="up", per="line", minimum=10)


def test_all_problems_are_reported_at_once_with_cells():
    tables = {
        "Clients": [
            ["Client", "Currency", "Default Rate", "Minimum Fee", "Tax Exempt", "Description"],
            ["Acme", "USD", "-5", "lots", "maybe", "{line_item} {0}"],
            ["acme", "USD", "", "", "", ""],
        ],
        "Rates": [
            ["Client", "Person", "Role", "Category", "Rate", "Effective From", "Effective To"],
            ["", "", "", "", "100", "", ""],
            ["Acme", "Ana", "", "", "", "", ""],
            ["Acme", "", "", "Desing", "90", "", ""],
            ["Acme", "Ben", "", "", "90", "2026-10-20", "2026-10-01"],
        ],
        "Categories": CATEGORIES,
    }
    _, errors = parse_book(tables)
    assert messages(errors) == [
        'Clients!C2: "-5" is negative; write the amount as a positive number',
        'Clients!D2: "lots" is not an amount',
        'Clients!E2: "maybe" is not TRUE or FALSE',
        'Clients!F2: "{line_item} {0}" is not a usable description template; use fields in braces like '
        "{line_item} — {tasks}, {period}",
        'Clients!A3: the client "acme" is listed twice',
        "Rates!A2: the rate applies to nobody: fill Client, Person or Role",
        "Rates!E3: the rate is missing",
        'Rates!D4: unknown category "Desing" — did you mean "Design"?',
        "Rates!G5: the rate ends (2026-10-01) before it starts (2026-10-20)",
    ]
    assert all(e.location is not None and e.location.tab in ("Clients", "Rates") for e in errors)
    # The pipeline stops on these; InputErrors says so in one sentence plus a line per problem.
    assert str(InputErrors(errors, what="settings tabs")).startswith("Found 9 problems in the settings tabs")


def test_overlapping_rates_for_the_same_who_are_ambiguous():
    tables = {
        "Clients": [["Client"], ["Acme"]],
        "Rates": [["Client", "Person", "Rate"], ["Acme", "Ana", "100"], ["Acme", "Ana", "110"]],
        "Categories": CATEGORIES,
    }
    _, errors = parse_book(tables)
    assert messages(errors) == [
        "Rates!C3: this rate overlaps the one at Rates!C2 for the same dates; give one of them an Effective From"
    ]


def test_rules_cross_checks():
    header = ["Rule", "Client", "Project", "Hours", "Rate", "Amount", "Percent"]
    tables = {
        "Clients": [["Client"], ["Acme"]],
        "Rules": [
            header,
            ["tier", "Acme", "", "40", "150", "", ""],
            ["tier", "Acme", "", "80", "120", "", ""],
            ["retainer", "Acme", "", "10", "", "1000", ""],
            ["retainer", "Acme", "", "20", "", "2000", ""],
            ["cap", "Acme", "", "", "", "", ""],
            ["discount", "Acme", "", "", "", "", "150%"],
            ["fixed fee", "", "Site", "", "", "100", ""],
            ["", "Acme", "", "", "", "", ""],
        ],
        "Categories": CATEGORIES,
    }
    _, errors = parse_book(tables)
    assert messages(errors) == [
        'Rules!A2: "Acme" has both tiers and a retainer; use one of them',
        'Rules!A3: the last tier of "Acme" needs a blank Hours (everything beyond)',
        'Rules!A5: "Acme" already has a retainer at Rules!A4; keep one',
        "Rules!F6: a cap needs the not-to-exceed Amount",
        "Rules!G7: a discount of 150% is more than the whole invoice",
        "Rules!B8: a fixed fee rule needs a Client",
        "Rules!A9: the rule has no kind; write one of: categorize, rollup, tier, retainer, cap, fixed fee, "
        "milestone, expense, discount",
    ]


def test_categorize_rules_become_category_rules_for_the_categorizer():
    tables = {
        "Clients": [["Client"], ["Acme"]],
        "Rules": [
            ["Rule", "Client", "Field", "Pattern", "Category", "Line Item"],
            ["categorize", "", "notes", "bug fix|hotfix", "Maintenance", ""],
            ["categorize", "acme", "task", "/^design/", "Design", "UX"],
        ],
        "Categories": CATEGORIES,
    }
    book, errors = parse_book(tables)
    assert errors == []
    first, second = book.category_rules
    assert (first.category, first.field, first.pattern, first.client, first.location) == (
        "Maintenance",
        "notes",
        "bug fix|hotfix",
        "",
        "Rules!A2",
    )
    assert (second.client, second.line_item, second.location) == ("Acme", "UX", "Rules!A3")


def test_missing_required_header_is_reported_and_missing_tabs_are_empty():
    book, errors = parse_book({"Clients": [["Customer"], ["Acme Corp"]], "Categories": CATEGORIES})
    assert messages(errors) == ['Clients!1:1: the column "Client" is missing from the header row']
    assert book.clients == () and book.rates == () and book.category_rules == ()


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Net 15", ("Net 15", 15)),
        ("net30", ("Net 30", 30)),
        ("Due on receipt", ("Due on receipt", 0)),
        ("", ("Net 30", 30)),
        ("NET 45", ("Net 45", 45)),
    ],
)
def test_terms(text: str, expected: tuple[str, int]):
    book, errors = parse_book({"Clients": [["Client", "Terms"], ["Acme", text]], "Categories": CATEGORIES})
    assert errors == []
    assert (book.clients[0].terms, book.clients[0].due_days) == expected
