"""Expenses and pass-through items: a fixed line on a client's invoice for a month, optionally marked up.

>>> e = Expense(client="A", description="Hosting", amount=Decimal("200"), markup=Decimal("10"))
>>> e.billed
Decimal('220')
"""

from __future__ import annotations

from decimal import Decimal

from ..models import Frozen, Period
from ..money import ZERO


class Expense(Frozen):
    client: str
    description: str
    amount: Decimal
    markup: Decimal = ZERO  # percent
    period: Period | None = None
    line_item: str = "Expenses"
    item: str = ""
    tax_code: str = ""
    location: str = ""

    @property
    def billed(self) -> Decimal:
        return self.amount * (Decimal(100) + self.markup) / Decimal(100)

    def due_in(self, period: Period) -> bool:
        return self.period is None or self.period == period
