"""The rate card: which hourly rate applies to a time row, with precedence and effective dates.

Precedence, most specific first: the row's Rate Override > client+person+category > client+person >
client+role+category > client+role > client+category > client default (a Rates row with only Client, else the
Clients tab's Default Rate) > the rate the time tracker carried (when in the client's currency) > person
default > role default. Among rows of one level, only those whose effective dates contain the entry's date
count, and the one starting latest wins, so a rate change on the 15th splits the month.

A row names a person or a role, not both, and a category rate belongs to one client: the Rates tab parser
refuses any other combination at its cell (`LEVELS` lists the ones priced here).
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
        return level_of(bool(self.client), bool(self.person), bool(self.role), bool(self.category))


# (client, person, role, category) filled -> the level's name, most specific first; nothing else is priced
LEVELS: dict[tuple[bool, bool, bool, bool], str] = {
    (True, True, False, True): "client+person+category",
    (True, True, False, False): "client+person",
    (True, False, True, True): "client+role+category",
    (True, False, True, False): "client+role",
    (True, False, False, True): "client+category",
    (True, False, False, False): "client default",
    (False, True, False, False): "person default",
    (False, False, True, False): "role default",
}


def level_of(client: bool, person: bool, role: bool, category: bool) -> str:
    """The level a Rates row with these columns filled prices at; ValueError for a combination never priced."""
    try:
        return LEVELS[(client, person, role, category)]
    except KeyError:
        raise ValueError("no rate level has these columns filled") from None


def _k(text: str) -> str:
    return text.strip().casefold()


class RateCard:
    """An index of rate rows for fast lookups (100,000 entries must not scan the whole card each)."""

    def __init__(self, rows: Iterable[RateRow], client_defaults: dict[str, Decimal] | None = None):
        # one bucket per level and who: (level, client, person or role, category), blanks as ""
        self._by: dict[tuple[str, str, str, str], list[RateRow]] = defaultdict(list)
        for r in rows:
            self._by[(r.level, _k(r.client), _k(r.person or r.role), _k(r.category))].append(r)
        self._client_defaults = {_k(c): v for c, v in (client_defaults or {}).items()}
        self._plans: dict[tuple[str, str, str, str], _Plan] = {}

    def resolve(self, row: TimeRow, client: str, category: str, currency: str) -> tuple[Decimal, str] | None:
        """(rate, where it came from) for a row, or None when nothing applies."""
        e = row.entry
        if row.rate_override is not None:
            return row.rate_override, "rate override"
        who = (client, e.person, e.role, category)
        plan = self._plans.get(who)
        if plan is None:
            plan = self._plans[who] = self._plan(*who)
        first, default, last = plan
        day = e.date
        for bucket in first:
            hit = _latest(bucket, day)
            if hit:
                return hit.rate, _source(hit)
        if default is not None:
            return default, "client default rate"
        if e.rate is not None and (not e.currency or e.currency.upper() == currency.upper()):
            return e.rate, "time tracker rate"
        for bucket in last:
            hit = _latest(bucket, day)
            if hit:
                return hit.rate, _source(hit)
        return None

    def _plan(self, client: str, person: str, role: str, category: str) -> _Plan:
        """What `resolve` tries for one (client, person, role, category), in precedence order: the rate rows of
        each level that applies and has any (dates are checked per entry), the client default, then the person
        and role defaults. Made once per distinct combination, not per row."""
        c, person, role, cat = _k(client), _k(person), _k(role), _k(category)
        # each level's key, and whether the entry has every part the level names (an entry without a role
        # never takes a role's rate)
        first = tuple(
            self._by[key]
            for key, applies in (
                (("client+person+category", c, person, cat), person and cat),
                (("client+person", c, person, ""), person),
                (("client+role+category", c, role, cat), role and cat),
                (("client+role", c, role, ""), role),
                (("client+category", c, "", cat), cat),
                (("client default", c, "", ""), c),
            )
            if applies and self._by.get(key)
        )
        last = tuple(
            self._by[key]
            for key, applies in ((("person default", "", person, ""), person), (("role default", "", role, ""), role))
            if applies and self._by.get(key)
        )
        return first, self._client_defaults.get(c), last


_Plan = tuple[tuple[list[RateRow], ...], Decimal | None, tuple[list[RateRow], ...]]


def _latest(bucket: list[RateRow], day: date) -> RateRow | None:
    """The row of one level whose dates contain `day` and that starts latest (the first of equals)."""
    best: RateRow | None = None
    for r in bucket:
        if r.covers(day) and (best is None or (r.effective_from or date.min) > (best.effective_from or date.min)):
            best = r
    return best


def _source(hit: RateRow) -> str:
    return f"{hit.level} ({hit.location})" if hit.location else hit.level
