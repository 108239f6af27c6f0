"""Tax codes: which code each line carries for the accounting system.

A tax-exempt client's lines are all `NON` (QuickBooks' non-taxable code). Otherwise a line takes its line
item's code (a Rules rollup, fixed fee, milestone or expense row's Tax Code), else the client's Tax Code.
The engine does not compute tax: the accounting system does, from these codes. So that tax is charged on
what the client really pays, a whole-invoice discount is split per tax code (`split_by_tax`).

    >>> split_by_tax(Decimal("100"), {"TAX": Decimal("100"), "NON": Decimal("100"), "EXM": Decimal("100")}, "USD")
    [('TAX', Decimal('33.34')), ('NON', Decimal('33.33')), ('EXM', Decimal('33.33'))]
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ..money import round_money

EXEMPT_CODE = "NON"


def line_tax_code(*, exempt: bool, line_code: str, client_code: str) -> str:
    if exempt:
        return EXEMPT_CODE
    return line_code or client_code


def split_by_tax(off: Decimal, bases: Mapping[str, Decimal], currency: str) -> list[tuple[str, Decimal]]:
    """A discount of `off` as (tax code, part) in proportion to each code's positive base, each part rounded
    once; the cents the rounding leaves over (or takes) go to the largest part (the first, on a tie), so the
    parts add up to `off` exactly. One code (or none positive): one part, the whole discount."""
    positive = {code: base for code, base in bases.items() if base > 0}
    if len(positive) <= 1:
        return [(next(iter(positive), next(iter(bases), "")), off)]
    total = sum(positive.values(), Decimal(0))
    parts = {code: round_money(off * base / total, currency) for code, base in positive.items()}
    largest = max(positive, key=lambda code: positive[code])  # max keeps the first on a tie
    parts[largest] += off - sum(parts.values(), Decimal(0))
    return [(code, part) for code, part in parts.items() if part]
