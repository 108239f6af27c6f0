"""Tiered pricing: a client's hourly time in the month is priced by bands (first 40 h at 150, beyond at
120). Hours fill the bands in date order; an entry that crosses a boundary is split across the two lines
(its ref is on both, and its parts add up to its billed hours).
"""

from __future__ import annotations

from decimal import Decimal

from ..models import Frozen


class Tier(Frozen):
    """A Rules `tier` row: up to `up_to` hours in the month (None = everything beyond) at `rate`."""

    client: str
    up_to: Decimal | None = None
    rate: Decimal
    location: str = ""


def bands(tiers: list[Tier]) -> list[tuple[Decimal | None, Decimal, str, str]]:
    """(capacity in hours or None for the rest, rate, label, where) per band, lowest first.

    >>> [b[:3] for b in bands([Tier(client="A", up_to=Decimal(40), rate=Decimal(150)),
    ...                         Tier(client="A", rate=Decimal(120))])]
    [(Decimal('40'), Decimal('150'), 'first 40 h'), (None, Decimal('120'), 'beyond 40 h')]
    """
    ordered = sorted(tiers, key=lambda t: (t.up_to is None, t.up_to or Decimal(0)))
    out: list[tuple[Decimal | None, Decimal, str, str]] = []
    start = Decimal(0)
    for t in ordered:
        if t.up_to is None:
            out.append((None, t.rate, f"beyond {_h(start)} h", t.location))
            break
        label = f"first {_h(t.up_to)} h" if start == 0 else f"{_h(start)}–{_h(t.up_to)} h"
        out.append((t.up_to - start, t.rate, label, t.location))
        start = t.up_to
    return out


def _h(d: Decimal) -> str:
    return f"{d:f}".rstrip("0").rstrip(".") if "." in f"{d:f}" else f"{d:f}"
