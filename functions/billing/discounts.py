"""Discounts: percent or fixed, on a whole invoice or on one line item, each shown as its own negative line.

Line-item discounts apply first, to that line item's lines; invoice discounts then apply to everything
except expenses (pass-through costs are not discounted). A discount never takes a total below zero.
"""

from __future__ import annotations

from decimal import Decimal

from ..models import Frozen, Period


class Discount(Frozen):
    client: str
    line_item: str = ""  # blank: the whole invoice
    percent: Decimal | None = None
    amount: Decimal | None = None
    period: Period | None = None
    description: str = ""
    location: str = ""

    def due_in(self, period: Period) -> bool:
        return self.period is None or self.period == period
