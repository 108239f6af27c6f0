"""The rate card: which hourly rate applies to a time row, with precedence and effective dates.

Precedence, most specific first: the row's Rate Override > client+person > client+role > client+category >
client default (a Rates row with only Client, else the Clients tab's Default Rate) > the rate the time
tracker carried (when in the client's currency) > person default > role default. Among rows of one level,
only those whose effective dates contain the entry's date count, and the one starting latest wins, so a
rate change on the 15th splits the month.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from ..models import Frozen, TimeRow


class RateRow(Frozen):
    client: str = ""
    person: str = ""
    role: str = ""
    category: str = ""
    rate: Decimal
    effective_from: date | None = None
    effective_to: date | None = None
    location: str = ""

    def covers(self, day: date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day <= self.effective_to
        )

    @property
    def level(self) -> str:
        if self.client:
            if self.person:
                return "client+person"
            if self.role:
                return "client+role"
            if self.category:
                return "client+category"
            return "client default"
        if self.person:
            return "person default"
        return "role default"


def _k(text: str) -> str:
    return text.strip().casefold()


class RateCard:
    """An index of rate rows for fast lookups (100,000 entries must not scan the whole card each)."""

    def __init__(self, rows: Iterable[RateRow], client_defaults: dict[str, Decimal] | None = None):
        self._by: dict[tuple[str, str, str], list[RateRow]] = defaultdict(list)
        for r in rows:
            if r.client and r.person:
                key = ("cp", _k(r.client), _k(r.person))
            elif r.client and r.role:
                key = ("cr", _k(r.client), _k(r.role))
            elif r.client and r.category:
                key = ("cc", _k(r.client), _k(r.category))
            elif r.client:
                key = ("cd", _k(r.client), "")
            elif r.person:
                key = ("pd", _k(r.person), "")
            else:
                key = ("rd", _k(r.role), "")
            self._by[key].append(r)
        self._client_defaults = {_k(c): v for c, v in (client_defaults or {}).items()}

    def _pick(self, key: tuple[str, str, str], day: date) -> RateRow | None:
        best: RateRow | None = None
        for r in self._by.get(key, ()):
            if r.covers(day) and (best is None or (r.effective_from or date.min) > (best.effective_from or date.min)):
                best = r
        return best

    def resolve(self, row: TimeRow, client: str, category: str, currency: str) -> tuple[Decimal, str] | None:
        """(rate, where it came from) for a row, or None when nothing applies."""
        e = row.entry
        if row.rate_override is not None:
            return row.rate_override, "rate override"
        c = _k(client)
        for key in (("cp", c, _k(e.person)), ("cr", c, _k(e.role)), ("cc", c, _k(category))):
            if key[2]:
                hit = self._pick(key, e.date)
                if hit:
                    return hit.rate, f"{hit.level} ({hit.location})" if hit.location else hit.level
        hit = self._pick(("cd", c, ""), e.date)
        if hit:
            return hit.rate, f"client default ({hit.location})" if hit.location else "client default"
        if c in self._client_defaults:
            return self._client_defaults[c], "client default rate"
        if e.rate is not None and (not e.currency or e.currency.upper() == currency.upper()):
            return e.rate, "time tracker rate"
        for key in (("pd", _k(e.person), ""), ("rd", _k(e.role), "")):
            if key[1]:
                hit = self._pick(key, e.date)
                if hit:
                    return hit.rate, f"{hit.level} ({hit.location})" if hit.location else hit.level
        return None
