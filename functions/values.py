"""Typed values from text: the one place that reads a CSV field or a spreadsheet cell as a Decimal, date, bool
or text, with one rule for each, wherever the value comes from.

A CSV export gives stripped strings; the local workbook gives native values (float, bool, datetime); Google
Sheets gives strings or numbers. Every parser accepts all of these and raises `BadValue` (a ValueError)
with a sentence naming the value given; the caller adds where it was (`Rates!C7: ...`, `h.csv:3 (column
Date): ...`). A blank value (None, or only spaces) is "no value": None, or the default the caller names.

Dates (`parse_date`):

- ISO `2026-10-05` (also `2026/10/05`, and `2026-10-05 09:30:00` / `2026-10-05T09:30:00`, time dropped);
- US `10/05/2026`, month first. Day-first `13/10/2026` is refused with a sentence saying so, since
  `03/10/2026` cannot be told apart from March 10 — unless the caller knows the order from a whole file
  (`slash_date_order`: the CSV reader looks at every date of an export before reading one) and passes
  `day_first=True`;
- a date or datetime object (a workbook cell);
- a spreadsheet serial number (int or float, not bool, between 20000 and 80000, i.e. 1954 to 2119) counted
  from `EXCEL_EPOCH`; digits in a string are not a serial number.

Yes/no (`parse_bool`), case-insensitive: TRUE / yes / y / 1 / x / ✓ / ✔ and FALSE / no / n / 0; also a
bool, or the number 0 or 1.

Amounts (`parse_decimal`): anything `money.D` reads (`1,234.50`, `$95`, `(30.00)`), never via a binary float.

Free text (`clean_text`): control characters other than tab and line breaks (NUL, BEL, VT, FF, ESC ...)
cannot be stored in an .xlsx cell and mean nothing in a note, so they are removed; text longer than a cell
holds (`CELL_TEXT_LIMIT`, Excel's and Google Sheets' 32,767 characters) is cut with a marker at
its end. Both say what they did, for the row's flags.

    >>> parse_date("10/03/2026"), parse_date(46298), parse_bool("Yes"), parse_bool(""), parse_decimal("1,234.50")
    (datetime.date(2026, 10, 3), datetime.date(2026, 10, 3), True, False, Decimal('1234.50'))
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from .money import D, NotAnAmount

# Day 0 of spreadsheet serial dates (Excel's, and Google Sheets' by design): 1899-12-30, which makes
# 1900-03-01 day 61 despite Excel's phantom 1900-02-29.
EXCEL_EPOCH = date(1899, 12, 30)
_SERIAL_RANGE = (20000, 80000)  # exclusive bounds, so 1954-10-04 to 2119-01-10

_TRUE = frozenset({"true", "yes", "y", "1", "x", "✓", "✔"})
_FALSE = frozenset({"false", "no", "n", "0"})

_ISO_DATE = re.compile(r"^(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?:([ T])(\d{1,2}):(\d{2}):(\d{2}))?$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


# Bounds of what a sheet may say (sheet_templates/tabs/*.json notes say them to people): beyond them a value
# is a typo or a paste gone wrong, never something to bill. A Time entry is one day's work at most.
MAX_ENTRY_HOURS = Decimal(24)
MAX_RATE = Decimal(100_000)  # per hour, in any currency
MAX_AMOUNT = Decimal(1_000_000_000)  # a fee, cap or minimum on a settings tab

CELL_TEXT_LIMIT = 32_767
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_NAMES = {0: "NUL", 7: "BEL", 8: "BS", 11: "VT", 12: "FF", 27: "ESC", 127: "DEL"}


def clean_text(value: str, limit: int = CELL_TEXT_LIMIT) -> tuple[str, str]:
    """(text a cell can hold, what was done to it or ""): control characters removed, over-long text cut.

    >>> clean_text("a\\x00b\\x07c")
    ('abc', 'removed 2 control characters (BEL, NUL)')
    """
    done = []
    found = _CONTROL.findall(value)
    if found:
        names = sorted({_CONTROL_NAMES.get(ord(ch), f"0x{ord(ch):02X}") for ch in found})
        value = _CONTROL.sub("", value)
        done.append(f"removed {len(found)} control character{'s' if len(found) > 1 else ''} ({', '.join(names)})")
    if len(value) > limit:
        marker = f" … [cut: {len(value):,} characters, a cell holds {limit:,}]"
        done.append(f"cut from {len(value):,} to {limit:,} characters")
        value = value[: limit - len(marker)] + marker
    return value, "; ".join(done)


def slash_date_order(values: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """("day-first" | "month-first" | "", evidence) for a file's slash dates, from all of them at once.

    `values` is (where, text) for every date cell. A first field above 12 (`13/10/2026`) can only be a day, a
    second field above 12 (`10/13/2026`) only a month's day; a file with neither is "" (read month-first, the
    trackers' US default). A file with both cannot be read: BadValue names one of each.

    >>> slash_date_order([("line 2", "05/10/2026"), ("line 3", "13/10/2026")])
    ('day-first', 'line 3: 13/10/2026')
    """
    day_first = month_first = ""
    for where, value in values:
        m = _US_DATE.match(value.strip())
        if not m:
            continue
        first, second = int(m.group(1)), int(m.group(2))
        if first > 12 and not day_first:
            day_first = f"{where}: {value.strip()}"
        elif second > 12 and not month_first:
            month_first = f"{where}: {value.strip()}"
    if day_first and month_first:
        raise BadValue(
            f"has dates day-first ({day_first}) and month-first ({month_first}); export it again with one "
            "date format (YYYY-MM-DD is safest)"
        )
    if day_first:
        return "day-first", day_first
    return ("month-first", month_first) if month_first else ("", "")


class BadValue(ValueError):
    """A value cannot be read; the message says why and names the value, without saying where it was."""


def is_blank(value: object) -> bool:
    """None, or a string of nothing but whitespace."""
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: object) -> str:
    """A value as text: None -> "", numbers without a trailing .0, dates as ISO, bools as TRUE/FALSE."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def parse_bool(value: object, default: bool = False) -> bool:
    """Yes or no (see the module docstring); `default` for a blank value."""
    if is_blank(value):
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    s = str(value).strip().casefold()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise BadValue(f'"{value}" is not TRUE or FALSE')


def parse_decimal(value: object, what: str = "an amount") -> Decimal | None:
    """None for a blank value; a Decimal otherwise; BadValue naming the value when it is not a number."""
    if is_blank(value):
        return None
    try:
        return D(value.strip() if isinstance(value, str) else value)
    except NotAnAmount:
        raise BadValue(f'"{value}" is not {what}') from None


def parse_date(value: object, day_first: bool = False) -> date | None:
    """None for a blank value; a date from any form the module docstring lists; BadValue otherwise.

    `day_first=True` reads `05/10/2026` as 5 October: for a file whose date order was told from all its rows
    (`slash_date_order`), never guessed from one value."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = _SERIAL_RANGE
        if low < value < high:
            return EXCEL_EPOCH + timedelta(days=int(value))
    s = str(value).strip()
    try:
        m = _ISO_DATE.match(s)
        if m:
            if m.group(5):
                time(int(m.group(6)), int(m.group(7)), int(m.group(8)))  # a time that cannot be is refused
            return date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
        m = _US_DATE.match(s)
        if m:
            month, day = int(m.group(1)), int(m.group(2))
            if day_first:
                return date(int(m.group(3)), day, month)
            if month > 12 and day <= 12:
                raise BadValue(
                    f'"{value}" is not a date: it looks day-first (DD/MM/YYYY), which cannot be told apart from '
                    f"MM/DD/YYYY; write it as YYYY-MM-DD or MM/DD/YYYY"
                )
            return date(int(m.group(3)), month, day)
    except BadValue:
        raise
    except ValueError:
        raise BadValue(f'"{value}" is not a date on the calendar') from None
    raise BadValue(f'"{value}" is not a date; write it as YYYY-MM-DD or MM/DD/YYYY')


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """Text for a CSV file a person may open in a spreadsheet: a leading `'` keeps `=cmd|...` or `@SUM(...)`
    from running as a formula (the usual CSV-injection defence). Sheets we write need none of this: they
    store text as text.

    >>> csv_safe("=SUM(A1)"), csv_safe("fixed header")
    ("'=SUM(A1)", 'fixed header')
    """
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value
