"""Reading and writing single cell values, the same way for the local workbook and Google Sheets.

A workbook gives native values (float, bool, datetime); Google Sheets gives strings ("TRUE", "1,234.50",
"2026-10-15") or numbers. The readers (`parse_date`, `parse_bool`, `parse_decimal`, `text`, `is_blank`) are
`functions.values`, the one rule for every typed value, re-exported here; they raise ValueError with a
sentence the caller prefixes with the cell (`Rates!C7: "12,5O" is not an amount`).

    >>> parse_bool("TRUE"), parse_bool(None), parse_date("10/03/2026")
    (True, False, datetime.date(2026, 10, 3))
"""

from __future__ import annotations

from ..values import is_blank, parse_bool, parse_date, parse_decimal, text

__all__ = [
    "FORMULA_PREFIXES",
    "csv_safe",
    "is_blank",
    "parse_bool",
    "parse_date",
    "parse_decimal",
    "parse_float",
    "text",
]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """Text for a CSV file a person may open in a spreadsheet: a leading `'` keeps `=cmd|...` or `@SUM(...)`
    from running as a formula (the usual CSV-injection defence). Sheets we write need none of this: they
    store text as text."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def parse_float(value: object) -> float | None:
    if is_blank(value):
        return None
    try:
        return float(str(value).strip().rstrip("%")) / (100 if str(value).strip().endswith("%") else 1)
    except ValueError:
        raise ValueError(f'"{value}" is not a number') from None
