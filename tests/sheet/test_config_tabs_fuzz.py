"""parse_book never raises, whatever people type: every problem comes back as an InputError with a cell."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from functions.sheet.config_tabs import parse_book
from functions.sheet.contract import load_contract
from tests.billing.helpers import CATEGORIES

cell = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.dates(),
    st.datetimes(),
    st.sampled_from(
        [
            "",
            "TRUE",
            "nope",
            "1,234.50",
            "12,5O",
            "Net 30",
            "net 999",
            "15 up",
            "line",
            "{x}",
            "{0}",
            "{line_item.attr}",
            "{",
            "/(/",
            "a|b",
            "2026-10",
            "2026-13",
            "10%",
            "-5",
            "Acme",
            "Maintanence",
            "tier",
            "retainer",
            "cap",
            "fixed fee",
            "milestone",
            "expense",
            "discount",
            "rollup",
            "categorize",
            "notes",
            "entry",
            "line item + week",
            "summary",
            "(30.00)",
            "¥",
            "∞",
        ]
    ),
    st.text(max_size=12),
)


def tab(name: str, rows: list[list[object]]) -> list[list[object]]:
    return [load_contract().tab(name).headers, *rows]


@settings(max_examples=200, deadline=None)
@given(
    clients=st.lists(st.lists(cell, min_size=16, max_size=16), max_size=4),
    rates=st.lists(st.lists(cell, min_size=8, max_size=8), max_size=4),
    rules=st.lists(st.lists(cell, min_size=18, max_size=18), max_size=6),
)
def test_parse_book_never_raises(clients, rates, rules):
    if clients:
        clients[0][0] = "Acme"
    book, errors = parse_book(
        {
            "Clients": tab("Clients", clients),
            "Rates": tab("Rates", rates),
            "Rules": tab("Rules", rules),
            "Categories": CATEGORIES,
        }
    )
    for e in errors:
        assert e.location is not None and e.location.tab in ("Clients", "Rates", "Rules")
        assert str(e).startswith(f"{e.location.tab}!")
    assert len(book.clients) <= len(clients)
    assert all(isinstance(r.rate, Decimal) for r in book.rates)


def test_non_finite_numbers_are_refused_with_their_cell():
    header = load_contract().tab("Rates").headers
    rows = [["Acme", "", "", "", value, "", "", ""] for value in (float("nan"), float("inf"), "NaN", "-Infinity")]
    rules = tab(
        "Rules", [["discount", "Acme", "", "", "", "", "", "", "", "", "", "", float("nan"), "", "", "", "", ""]]
    )
    book, errors = parse_book(
        {"Clients": [["Client"], ["Acme"]], "Rates": [header, *rows], "Rules": rules, "Categories": CATEGORIES}
    )
    assert [str(e) for e in errors] == [
        'Rates!E2: "nan" is not a number',
        'Rates!E3: "inf" is not a number',
        'Rates!E4: "NaN" is not an amount',
        'Rates!E5: "-Infinity" is not an amount',
        'Rules!M2: "nan" is not a percent (write 10% or 10)',
    ]
    assert book.rates == () and book.discounts == ()
