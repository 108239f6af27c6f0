"""Reading one settings tab by its header: typed values out, every problem kept as an InputError naming the
cell (`Rates!C7: "12,5O" is not an amount`), so a person sees all of them at once.

    >>> errors = []
    >>> t = TabReader("Clients", [["Currency", "Client"], ["EUR", "Acme"]], errors)
    >>> [(row, t.text(r, "client")) for row, r in t.body], t.loc("client", 2)
    ([(2, 'Acme')], 'Clients!B2')
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from ..errors import InputError, Location
from ..models import Period
from ..values import MAX_AMOUNT, MAX_ENTRY_HOURS, MAX_RATE, is_blank, parse_bool, parse_date, parse_decimal, text
from .contract import HeaderMap, column_letter, load_contract

Cell = Any
MAX_SETTING_HOURS = MAX_ENTRY_HOURS * 31 * 100  # a month of round-the-clock work for 100 people


class TabReader:
    """One tab being read: its header map, and an error list every parser appends to."""

    def __init__(self, name: str, rows: list[list[Cell]] | None, errors: list[InputError]):
        self.name = name
        self.tab = load_contract().tab(name)
        rows = rows or []
        self.hm = HeaderMap(self.tab, list(rows[0]) if rows else [])
        self.body = [(i + 2, list(r)) for i, r in enumerate(rows[1:]) if any(not is_blank(v) for v in r)]
        self.errors = errors
        self.present = bool(rows)

    def where(self, key: str, row: int) -> str:
        i = self.hm.index.get(key)
        return f"{column_letter(i + 1) if i is not None else 'A'}{row}"

    def loc(self, key: str, row: int) -> str:
        return f"{self.name}!{self.where(key, row)}"

    def error(self, key: str, row: int, message: str) -> None:
        self.errors.append(InputError(message, Location(tab=self.name, cell=self.where(key, row))))

    def require(self, *keys: str) -> bool:
        missing = [self.tab.column(k).header for k in keys if k not in self.hm.index]
        if self.present and missing:
            for header in missing:
                self.errors.append(
                    InputError(
                        f'the column "{header}" is missing from the header row', Location(tab=self.name, cell="1:1")
                    )
                )
            return False
        return self.present

    def named_rows(self, key: str, what: str) -> Iterator[tuple[int, list[Cell], str]]:
        """(row number, row, name) of each row whose `key` column names a new thing; a row without a name, or
        with a name already used above (case aside), is reported at its cell and skipped."""
        if not self.require(key):
            return
        seen: set[str] = set()
        for row, r in self.body:
            name = self.text(r, key)
            if not name:
                self.error(key, row, f"the {what} has no name")
            elif name.casefold() in seen:
                self.error(key, row, f'the {what} "{name}" is listed twice')
            else:
                seen.add(name.casefold())
                yield row, r, name

    def text(self, r: list[Cell], key: str) -> str:
        return text(self.hm.get(r, key))

    def _parse(self, r: list[Cell], row: int, key: str, fn: Callable[[object], Any], default: Any = None) -> Any:
        try:
            value = fn(self.hm.get(r, key))
        except ValueError as exc:
            self.error(key, row, str(exc))
            return default
        if isinstance(value, Decimal) and not value.is_finite():
            # A workbook can hold NaN or infinity (a formula gone wrong); no amount or hours is either.
            self.error(key, row, f'"{text(self.hm.get(r, key))}" is not a number')
            return default
        return default if value is None else value

    def money(self, r: list[Cell], row: int, key: str, *, negative_ok: bool = False) -> Decimal | None:
        value = self._parse(r, row, key, parse_decimal)
        if value is not None and value < 0 and not negative_ok:
            self.error(key, row, f'"{text(self.hm.get(r, key))}" is negative; write the amount as a positive number')
            return None
        # the documented bounds (values.MAX_RATE, MAX_AMOUNT): a 30-digit paste is a typo, not a price
        limit, what = (MAX_RATE, "a rate") if key in ("rate", "default_rate") else (MAX_AMOUNT, "an amount")
        if value is not None and abs(value) > limit:
            self.error(key, row, f'"{text(self.hm.get(r, key))}" is more than {what} can be here (at most {limit:,})')
            return None
        return value

    def hours(self, r: list[Cell], row: int, key: str) -> Decimal | None:
        value = self._parse(r, row, key, lambda v: parse_decimal(v, "a number of hours"))
        if value is not None and value < 0:
            self.error(key, row, f'"{text(self.hm.get(r, key))}" is negative; hours cannot be negative')
            return None
        if value is not None and value > MAX_SETTING_HOURS:
            self.error(
                key,
                row,
                f'"{text(self.hm.get(r, key))}" is more hours than can be here (at most {MAX_SETTING_HOURS:,})',
            )
            return None
        return value

    def percent(self, r: list[Cell], row: int, key: str) -> Decimal | None:
        """Percent points: `10%` and a plain 10 are both 10 (0.5 is 0.5 %). A cell formatted as a percent
        stores the fraction (a typed 100% is 1); the sheet adapters hand it as its text, "100%"
        (functions/sheet/percent_cells.py), so its format, not its size, says how it is read."""
        raw = self.hm.get(r, key)
        if is_blank(raw):
            return None
        s = text(raw).replace(" ", "").replace("\u00a0", "")
        try:
            value = parse_decimal(s[:-1] if s.endswith("%") else raw, "a percent")
            if value is not None and not value.is_finite():
                raise ValueError(s)
        except ValueError:
            self.error(key, row, f'"{s}" is not a percent (write 10% or 10)')
            return None
        if value is None or not Decimal(0) <= value <= Decimal(1000):
            self.error(key, row, f'"{s}" is not a sensible percent (0 to 1000)')
            return None
        return value

    def boolean(self, r: list[Cell], row: int, key: str, default: bool) -> bool:
        return self._parse(r, row, key, lambda v: parse_bool(v, default), default)

    def date(self, r: list[Cell], row: int, key: str):
        return self._parse(r, row, key, parse_date)

    def period(self, r: list[Cell], row: int, key: str) -> Period | None:
        raw = self.hm.get(r, key)
        if is_blank(raw):
            return None
        try:
            if hasattr(raw, "year") and hasattr(raw, "month"):  # a sheet turned "2026-10" into a date
                return Period(year=raw.year, month=raw.month)
            return Period.parse(text(raw))
        except ValueError as exc:
            self.error(key, row, str(exc))
            return None

    def choice(self, r: list[Cell], row: int, key: str, options: Sequence[str], default: str) -> str:
        s = " ".join(self.text(r, key).split()).casefold().replace("lineitem", "line item")
        s = s.replace("+", " + ").replace("  ", " ").strip() if s else s
        s = " ".join(s.split())
        if not s:
            return default
        if s in options:
            return s
        # A short list of choices: a looser match still points at the one meant.
        hint = did_you_mean(s, options, cutoff=0.5)
        self.error(key, row, f'"{self.text(r, key)}" is not one of: {", ".join(options)}{hint}')
        return default


def did_you_mean(word: str, options: Sequence[str], cutoff: float = 0.6) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=cutoff)
    return f' — did you mean "{close[0]}"?' if close else ""


# --- the tabs ----------------------------------------------------------------------------------------------------


def known_name(t: TabReader, row: int, key: str, value: str, known: dict[str, str], what: str) -> str | None:
    """The canonical name, or None after recording `unknown client "Acm" — did you mean "Acme"?`."""
    if not value:
        return ""
    hit = known.get(value.casefold())
    if hit is None:
        t.error(key, row, f'unknown {what} "{value}"{did_you_mean(value, list(known.values()))}')
    return hit


_TAB_ORDER = {"Categories": 0, "Clients": 1, "Rates": 2, "Rules": 3}
_CELL = re.compile(r"^([A-Z]*)(\d*)")


def reading_order(error: InputError) -> tuple[int, int, int]:
    """Tab by tab, then row by row, left to right: the order a person fixes them in."""
    loc = error.location
    if loc is None:
        return (9, 0, 0)
    m = _CELL.match(loc.cell or "")
    letters, digits = (m.group(1), m.group(2)) if m else ("", "")
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return (_TAB_ORDER.get(loc.tab or "", 9), int(digits or 0), col)
