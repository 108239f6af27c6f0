"""Rounding billed time: to an increment of minutes, up / nearest / down, per entry or per line, with a
minimum per entry. Raw hours are always kept next to the billed ones.

Billed time is exact: hours are `Fraction`s (10 minutes is 1/6 h, never 0.1667), so three 20-minute entries
are exactly 1 h and 110 minutes at 300/h is exactly 550.00. Only money is rounded, once per line.

    >>> r = parse_rounding("15 up", "entry", "")
    >>> r.entry_hours(Fraction("1.05"))
    Fraction(5, 4)
    >>> parse_rounding("10 up", "entry", "").entry_hours(Fraction(1, 60))
    Fraction(1, 6)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import ceil, floor
from typing import Literal

Mode = Literal["up", "nearest", "down"]
Per = Literal["entry", "line"]
_MODE_NAMES: dict[str, Mode] = {"up": "up", "nearest": "nearest", "down": "down"}
_PER_NAMES: dict[str, Per] = {"entry": "entry", "line": "line"}
_TEXT = re.compile(r"^(\d{1,3})\s*(?:min(?:utes?)?)?\s*(up|nearest|down)?$", re.IGNORECASE)
SIXTY = 60


@dataclass(frozen=True)
class Rounding:
    """A client's rounding. `increment` in minutes (0 = none); `minimum` minutes per entry (0 = none)."""

    increment: int = 0
    mode: Mode = "up"
    per: Per = "entry"
    minimum: int = 0

    def _round(self, hours: Fraction) -> Fraction:
        if not self.increment:
            return hours
        steps = hours * SIXTY / self.increment
        if self.mode == "up":
            whole = ceil(steps)
        elif self.mode == "down":
            whole = floor(steps)
        else:  # nearest: half a step rounds up
            whole = floor(steps + Fraction(1, 2))
        return Fraction(whole * self.increment, SIXTY)

    def entry_hours(self, raw: Fraction) -> Fraction:
        """Billed hours of one entry: rounded when rounding is per entry, then the minimum applied."""
        billed = self._round(raw) if self.per == "entry" else raw
        if self.minimum and raw > 0:
            billed = max(billed, Fraction(self.minimum, SIXTY))
        return billed

    def line_hours(self, hours: Fraction) -> Fraction:
        """Billed hours of a line: rounded only when rounding is per line."""
        return self._round(hours) if self.per == "line" else hours

    def describe(self) -> str:
        if not self.increment and not self.minimum:
            return ""
        parts = []
        if self.increment:
            parts.append(f"rounded {self.mode} to {self.increment} min per {self.per}")
        if self.minimum:
            parts.append(f"minimum {self.minimum} min per entry")
        return ", ".join(parts)


NO_ROUNDING = Rounding()


def parse_rounding(text: str, per: str, minimum: str) -> Rounding:
    """From the Clients columns Rounding (`15 up`), Round Per (`entry`/`line`) and Minimum Entry (`15`)."""
    s = " ".join(text.split())
    increment, mode = 0, _MODE_NAMES["up"]
    if s and s.casefold() not in ("none", "no", "0"):
        m = _TEXT.match(s)
        if not m or not 1 <= int(m.group(1)) <= 240:
            raise ValueError(f'"{text}" is not a rounding (write minutes and a direction, like "15 up", "6 nearest")')
        increment, mode = int(m.group(1)), _MODE_NAMES[(m.group(2) or "up").casefold()]  # _TEXT allows no other
    p = _PER_NAMES.get(per.strip().casefold() or "entry")
    if p is None:
        raise ValueError(f'"{per}" is not entry or line')
    mins = 0
    if minimum.strip():
        try:
            mins = int(Decimal(minimum.strip()))
        except Exception:
            raise ValueError(f'"{minimum}" is not a number of minutes') from None
        if not 0 <= mins <= 480:
            raise ValueError(f'"{minimum}" minutes is not a sensible minimum per entry (0 to 480)')
    return Rounding(increment=increment, mode=mode, per=p, minimum=mins)
