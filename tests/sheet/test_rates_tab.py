"""Rates rows the engine cannot price are located errors, never read as some other, supported row (issue 10
item 6): a row names a person *or* a role, and a category rate belongs to one client."""

from __future__ import annotations

from functions.sheet.config_tabs import parse_book
from tests.billing.helpers import CATEGORIES

HEADER = ["Client", "Person", "Role", "Category", "Rate"]


def errors_of(*rows: list[str]) -> list[str]:
    book, errors = parse_book(
        {"Clients": [["Client", "Currency"], ["Acme", "USD"]], "Rates": [HEADER, *rows], "Categories": CATEGORIES}
    )
    return [str(e) for e in errors]


def test_a_row_for_a_person_and_a_role_is_refused_at_its_role_cell():
    assert errors_of(
        ["Acme", "Ana Ruiz", "Designer", "", "150"], ["Acme", "Ana Ruiz", "Designer", "Meetings", "90"]
    ) == [
        "Rates!C2: a rate is for a Person or a Role, not both (Ana Ruiz, Designer): "
        "write two rows, one for the person and one for the role",
        "Rates!C3: a rate is for a Person or a Role, not both (Ana Ruiz, Designer): "
        "write two rows, one for the person and one for the role",
    ]


def test_a_category_rate_without_a_client_is_refused_at_its_category_cell():
    assert errors_of(["", "", "Designer", "Meetings", "90"], ["", "Ana Ruiz", "", "Meetings", "90"]) == [
        "Rates!D2: a category rate needs a Client",
        "Rates!D3: a category rate needs a Client",
    ]


def test_every_combination_the_engine_prices_is_accepted():
    rows = [
        ["Acme", "Ana Ruiz", "", "Meetings", "200"],
        ["Acme", "Ana Ruiz", "", "", "150"],
        ["Acme", "", "Designer", "Meetings", "90"],
        ["Acme", "", "Designer", "", "120"],
        ["Acme", "", "", "Meetings", "110"],
        ["Acme", "", "", "", "100"],
        ["", "Ana Ruiz", "", "", "95"],
        ["", "", "Designer", "", "80"],
    ]
    assert errors_of(*rows) == []
    book, _ = parse_book(
        {"Clients": [["Client", "Currency"], ["Acme", "USD"]], "Rates": [HEADER, *rows], "Categories": CATEGORIES}
    )
    assert [r.level for r in book.rates] == [
        "client+person+category",
        "client+person",
        "client+role+category",
        "client+role",
        "client+category",
        "client default",
        "person default",
        "role default",
    ]
