"""Fixed fees and milestones: a project billed by fee instead of hours.

A `fixed fee` row bills its amount in its Period (or every month when Period is blank); a `milestone` row
bills its amount once, in the first month billed from its Period on in which it is ticked Complete: ticked
late, it bills in the month it is ticked. Create-invoices writes the invoice that billed it into the row's
Invoice cell, and a milestone with an Invoice is never billed again. The project's hours are never billed
by the hour, but they stay on the invoice for the audit: the first fee line of the month carries them (raw
hours and entry refs), or, in a month with no fee line, a zero-priced line "hours logged".
"""

from __future__ import annotations

from decimal import Decimal

from ..models import Frozen, Period


class FixedFee(Frozen):
    client: str
    project: str
    amount: Decimal
    period: Period | None = None
    line_item: str = ""
    item: str = ""
    tax_code: str = ""
    description: str = ""
    location: str = ""

    def due_in(self, period: Period) -> bool:
        return self.period is None or self.period == period


class Milestone(Frozen):
    client: str
    project: str
    amount: Decimal
    period: Period
    complete: bool = False
    invoice: str = ""  # the invoice that billed it (written by create-invoices): never billed again
    line_item: str = ""
    item: str = ""
    tax_code: str = ""
    description: str = ""
    location: str = ""

    def due_in(self, period: Period) -> bool:
        return (
            self.complete
            and not self.invoice.strip()
            and (self.period.year, self.period.month)
            <= (
                period.year,
                period.month,
            )
        )

    def late_in(self, period: Period) -> bool:
        """Due this month, planned for an earlier one (ticked complete after that month was billed)."""
        return self.due_in(period) and self.period != period
