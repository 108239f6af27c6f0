"""Retainers: a monthly fee that includes N hours; hours beyond are billed at the overage rate (or the rate
card), and unused included hours may roll into the next month up to a cap.

Rollover is computed from the Time tab itself (the engine is given every row): the hours billed against the
retainer in the previous month (each entry rounded as the client rounds, fixed-fee and milestone projects
left out: what that month's invoice showed as used) are compared with the included hours, so nothing needs
to be carried by hand. Rollover reaches back one month only: hours not used by the end of the next month expire.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from ..models import Frozen


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


def rollover(retainer: Retainer, previous_used: Fraction) -> Fraction:
    """Hours carried into this month: the previous month's unused allowance, capped. `previous_used` is the
    hours billed against the retainer last month (after its rounding, without fixed-fee or milestone
    projects), so it is what last month's invoice showed as used."""
    if not retainer.rollover_cap:
        return Fraction(0)
    unused = max(Fraction(0), Fraction(retainer.included_hours) - previous_used)
    return min(unused, Fraction(retainer.rollover_cap))
