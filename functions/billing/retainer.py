"""Retainers: a monthly fee that includes N hours; hours beyond are billed at the overage rate (or the rate
card), and unused included hours may roll into the next month up to a cap.

Rollover is computed from the Time tab itself (the engine is given every row): the hours billed to the
client in the previous month are compared with that month's allowance, so nothing needs to be carried by
hand. Rollover reaches back one month only: hours not used by the end of the next month expire.
"""

from __future__ import annotations

from decimal import Decimal

from ..models import Frozen
from ..money import ZERO


class Retainer(Frozen):
    """A Rules `retainer` row."""

    client: str
    fee: Decimal
    included_hours: Decimal
    overage_rate: Decimal | None = None  # None: overage hours take the rate card
    rollover_cap: Decimal | None = None  # None: unused hours expire at month end
    line_item: str = "Retainer"
    item: str = ""
    description: str = ""
    location: str = ""


def rollover(retainer: Retainer, previous_used: Decimal) -> Decimal:
    """Hours carried into this month: the previous month's unused allowance, capped."""
    if not retainer.rollover_cap:
        return ZERO
    unused = max(ZERO, retainer.included_hours - previous_used)
    return min(unused, retainer.rollover_cap)
