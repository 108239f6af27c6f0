"""Reading and writing single cell values, the same way for the local workbook and Google Sheets.

A workbook gives native values (float, bool, datetime); Google Sheets gives strings ("TRUE", "1,234.50",
"2026-10-15") or numbers. These parsers accept both and raise ValueError with a sentence the caller
prefixes with the cell (`Rates!C7: "12,5O" is not an amount`).

    >>> parse_bool("TRUE"), parse_bool(None), parse_date("10/03/2026")
    (True, False, datetime.date(2026, 10, 3))
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from ..money import D, NotAnAmount

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """Text for a CSV file a person may open in a spreadsheet: a leading `'` keeps `=cmd|...` or `@SUM(...)`
    from running as a formula (the usual CSV-injection defence). Sheets we write need none of this: they
    store text as text."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value
_EXCEL_EPOCH = date(1899, 12, 30)


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: object) -> str:
    """A cell as text: None -> "", numbers without a trailing .0, dates as ISO."""
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
    if is_blank(value):
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    s = str(value).strip().casefold()
    if s in ("true", "yes", "y", "1", "x", "✓", "✔"):
        return True
    if s in ("false", "no", "n", "0"):
        return False
    raise ValueError(f'"{value}" is not TRUE or FALSE')


def parse_decimal(value: object, what: str = "an amount") -> Decimal | None:
    """None for a blank cell; a Decimal otherwise; ValueError naming the value when it is not a number."""
    if is_blank(value):
        return None
    try:
        return D(value.strip() if isinstance(value, str) else value)
    except NotAnAmount:
        raise ValueError(f'"{value}" is not {what}') from None


def parse_date(value: object) -> date | None:
    """ISO `2026-10-03`, US `10/03/2026`, a datetime, or a spreadsheet serial number."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 20000 < value < 80000:
        return _EXCEL_EPOCH + timedelta(days=int(value))
    s = str(value).strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    raise ValueError(f'"{value}" is not a date (write it as 2026-10-31)')


def parse_float(value: object) -> float | None:
    if is_blank(value):
        return None
    try:
        return float(str(value).strip().rstrip("%")) / (100 if str(value).strip().endswith("%") else 1)
    except ValueError:
        raise ValueError(f'"{value}" is not a number') from None
