"""The shortcuts that keep billing linear at 100,000 entries give what the plain rules give: a rate planned once
per (client, person, role, category) still follows each entry's date and currency, and exact sums count shared
hour objects without losing a fraction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from functions.billing.rates import RateCard, RateRow
from functions.money import exact_sum

from .helpers import row


def test_a_planned_rate_still_follows_each_entrys_date():
    card = RateCard(
        [
            RateRow(client="Acme", person="Ana Ruiz", rate=Decimal("100"), effective_to=date(2026, 10, 14)),
            RateRow(client="Acme", person="Ana Ruiz", rate=Decimal("120"), effective_from=date(2026, 10, 15)),
            RateRow(role="Developer", rate=Decimal("80")),
        ],
        {"Globex": Decimal("95")},
    )
    before, after = row(day="2026-10-14"), row(day="2026-10-15")
    assert card.resolve(before, "Acme", "Development", "USD") == (Decimal("100"), "client+person")
    assert card.resolve(after, "Acme", "Development", "USD") == (Decimal("120"), "client+person")
    assert card.resolve(before, " acme ", "Development", "USD") == (Decimal("100"), "client+person")
    # the same person for another client: the client default, then the role default where none is set
    assert card.resolve(before, "Globex", "Development", "USD") == (Decimal("95"), "client default rate")
    assert card.resolve(before, "Initech", "Development", "USD") == (Decimal("80"), "role default")


def test_a_planned_rate_still_reads_each_entrys_own_tracker_rate_and_override():
    card = RateCard([RateRow(person="Ben Ortiz", rate=Decimal("70"))])
    usd = row(person="Ben Ortiz", rate="150", currency="USD")
    eur = row(person="Ben Ortiz", rate="150", currency="EUR")
    other = row(person="Ben Ortiz", rate="150.00", currency="USD")
    assert card.resolve(usd, "Acme", "Development", "USD") == (Decimal("150"), "time tracker rate")
    assert card.resolve(eur, "Acme", "Development", "USD") == (Decimal("70"), "person default")
    found = card.resolve(other, "Acme", "Development", "USD")
    assert found is not None and str(found[0]) == "150.00"  # the entry's own value, as written
    assert card.resolve(row(person="Ben Ortiz", override="99"), "Acme", "", "USD") == (Decimal("99"), "rate override")


fractions = st.fractions(min_value=-1000, max_value=1000, max_denominator=3600)


@given(st.lists(fractions, max_size=40), st.lists(st.integers(min_value=0, max_value=39), max_size=60))
def test_exact_sum_is_the_sum_whatever_objects_repeat(values, picks):
    shared = [values[i % len(values)] for i in picks] if values else []  # the same objects, many times
    many = values + shared
    assert exact_sum(many) == sum(many, Fraction(0))
    assert exact_sum(iter(many)) == sum(many, Fraction(0))
