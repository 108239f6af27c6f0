"""The columns a CSV export format declares, and how each kind of cell is read (beangulp csvbase style).

A format is a class whose attributes are columns: `date = Date("Date")`, `billable = YesNo("Billable?",
default=True)`. Each column names its header and the parser for its cells. A parser takes the stripped text
of one cell and returns a value or raises `BadValue` with a sentence about the value; the reader adds file,
line and column. Dates, yes/no and amounts follow the one rule of `functions.values`.

    >>> Date("Start date").parse("10/05/2026"), YesNo("Billable", default=True).parse("")
    (datetime.date(2026, 10, 5), True)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from functools import partial
from typing import Any

from ..money import hours_from_seconds
from ..values import MAX_ENTRY_HOURS, BadValue, parse_bool, parse_date, parse_decimal, text


def _text(value: str) -> str:
    # Quoted newlines keep the file's line ending; normalise so a note hashes the same in CRLF and LF files.
    return text(value).replace("\r\n", "\n").replace("\r", "\n")


def parse_required_date(value: str, day_first: bool = False) -> date:
    """A date in any form `functions.values.parse_date` reads; an empty cell is refused."""
    parsed = parse_date(value, day_first=day_first)
    if parsed is None:
        raise BadValue("is empty; a date is needed")
    return parsed


def parse_required_date_day_first(value: str) -> date:
    """`parse_required_date` for an export whose dates were found day-first (`values.slash_date_order`)."""
    return parse_required_date(value, day_first=True)


_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?$")


def parse_clock(value: str) -> time | None:
    """`14:05`, `14:05:09`, `2:05 PM`, `02:05:09 pm`; blank -> None."""
    if not value:
        return None
    m = _CLOCK.match(value)
    if m:
        hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
        meridiem = (m.group(4) or "").upper()
        if meridiem:
            if not 1 <= hour <= 12:
                hour = 99
            else:
                hour = hour % 12 + (12 if meridiem == "PM" else 0)
        if hour < 24 and minute < 60 and second < 60:
            return time(hour, minute, second)
    raise BadValue(f'"{value}" is not a time of day; write it as HH:MM or HH:MM AM/PM')


_DURATION = re.compile(r"^(\d+):(\d{2})(?::(\d{2}))?$")
_DECIMAL_HOURS = re.compile(r"^\d+(\.\d+)?$|^\.\d+$")


def _duration_seconds(value: str) -> int | None:
    m = _DURATION.match(value)
    if not m or int(m.group(2)) >= 60 or int(m.group(3) or 0) >= 60:
        return None
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0)


def parse_hours(value: str) -> Decimal:
    """Decimal hours (`1.5`, `0.25`) or a duration (`1:30`, `01:30:00`), never negative."""
    if not value:
        raise BadValue("is empty; a number of hours is needed")
    if _DECIMAL_HOURS.match(value):
        return _within_a_day(value, Decimal(value))
    seconds = _duration_seconds(value)
    if seconds is not None:
        return _within_a_day(value, hours_from_seconds(seconds))
    raise BadValue(f'"{value}" is not a number of hours')


def _within_a_day(value: str, hours: Decimal) -> Decimal:
    """The Time tab holds at most MAX_ENTRY_HOURS in one entry: refused here, the run stops before writing a row
    that every later preview would refuse."""
    if hours > MAX_ENTRY_HOURS:
        raise BadValue(
            f'"{value}" is more hours than one entry can hold (at most {MAX_ENTRY_HOURS}); fix it in the tracker'
        )
    return hours


def parse_duration(value: str) -> Decimal:
    """A timer duration `HH:MM:SS` (or `HH:MM`), as exact hours (seconds / 3600); only a client's rule rounds."""
    if not value:
        raise BadValue("is empty; a duration is needed")
    seconds = _duration_seconds(value)
    if seconds is None:
        raise BadValue(f'"{value}" is not a duration; write it as HH:MM:SS')
    return _within_a_day(value, hours_from_seconds(seconds))


def parse_money(value: str) -> Decimal | None:
    """An amount or rate; blank -> None."""
    amount = parse_decimal(value)
    if amount is not None and amount < 0:
        raise BadValue(f'"{value}" is negative; a rate or amount cannot be')
    return amount


def parse_rate(value: str) -> Decimal | None:
    """A tracker's hourly rate; blank or zero -> None (Harvest and Clockify show 0 when no rate is set)."""
    rate = parse_money(value)
    return None if rate is None or rate == 0 else rate


_CURRENCY = re.compile(r"(?:^|[\s\-(])([A-Z]{3})\)?$")


def parse_currency(value: str) -> str | None:
    """Harvest writes `Euro - EUR`, `United States Dollar - USD`; a bare `EUR` is fine too. Blank -> None."""
    if not value:
        return None
    m = _CURRENCY.search(value)
    if not m:
        raise BadValue(f'"{value}" does not name a currency (expected something like "Euro - EUR")')
    return m.group(1)


def parse_list(value: str) -> tuple[str, ...]:
    """A comma-separated list (tags, roles), blanks dropped."""
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Column:
    """A column a format reads: its header, how to parse a cell, whether the header must be present.

    A header containing `(*)` matches any currency code in the parentheses, e.g. `Amount (*)` matches
    `Amount (USD)`; the code found is the file's currency.
    """

    header: str
    parse: Callable[[str], Any] = _text
    required: bool = True
    default: Any = None

    def matches(self, header: str) -> tuple[bool, str | None]:
        if "(*)" not in self.header:
            return header.casefold() == self.header.casefold(), None
        prefix = self.header.split("(*)")[0]
        m = re.fullmatch(re.escape(prefix) + r"\(([A-Za-z]{0,3})\)", header, flags=re.IGNORECASE)
        return (True, m.group(1).upper() or None) if m else (False, None)


def Text(header: str, required: bool = True) -> Column:
    return Column(header, _text, required, "")


def Date(header: str, required: bool = True) -> Column:
    return Column(header, parse_required_date, required)


def Clock(header: str, required: bool = True) -> Column:
    return Column(header, parse_clock, required)


def Hours(header: str, required: bool = True) -> Column:
    return Column(header, parse_hours, required)


def Duration(header: str, required: bool = True) -> Column:
    return Column(header, parse_duration, required)


def Money(header: str, required: bool = False) -> Column:
    return Column(header, parse_money, required)


def Rate(header: str, required: bool = False) -> Column:
    return Column(header, parse_rate, required)


def YesNo(header: str, default: bool, required: bool = False) -> Column:
    """Yes or no as `functions.values.parse_bool` reads it; an empty cell (or no column) is `default`."""
    return Column(header, partial(parse_bool, default=default), required, default)


def Currency(header: str, required: bool = False) -> Column:
    return Column(header, parse_currency, required)


def ListOf(header: str, required: bool = False) -> Column:
    return Column(header, parse_list, required, ())
