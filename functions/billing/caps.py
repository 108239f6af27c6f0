"""Not-to-exceed caps: a client's (or one project's) billed time is capped at an amount; the excess stays
visible as a negative write-off line, so the client sees the value delivered and the total equals the cap.
"""

from __future__ import annotations

from decimal import Decimal

from ..models import Frozen


class Cap(Frozen):
    """A Rules `cap` row: `project` blank caps all of the client's time, fees and retainer for the month."""

    client: str
    project: str = ""
    amount: Decimal
    location: str = ""
