"""Cell values to and from the Google Sheets API, and A1 names (see gsheets.py for why each type goes as it does).

>>> quote_tab("Time"), a1_block("Time", 2, 1, 3, 2)
("'Time'", "'Time'!A2:B4")
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..ports import Cell
from ..values import EXCEL_EPOCH
from .contract import column_letter


def quote_tab(name: str) -> str:
    """`Time` -> `'Time'`; a quote inside a name is doubled, as A1 notation wants."""
    return "'" + name.replace("'", "''") + "'"


def a1_block(tab: str, row: int, col: int, height: int, width: int) -> str:
    return (
        f"{quote_tab(tab)}!{column_letter(col)}{row}:{column_letter(col + max(width, 1) - 1)}{row + max(height, 1) - 1}"
    )


def to_api(value: Cell) -> Any:
    """One cell as JSON for RAW input (see the module docstring for why each type is sent as it is)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written to a sheet")
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} cannot be written to a sheet")
        return value
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return (value - EXCEL_EPOCH).days
    return value if isinstance(value, str) else str(value)


def from_api(value: Any) -> Cell:
    """One cell from UNFORMATTED_VALUE: "" -> None; numbers already Decimal or int; text and bools as they are."""
    if value == "" or value is None:
        return None
    return value


def shows_percent(formatted: list[list[Any]]) -> Callable[[int, int], bool]:
    """Whether a cell's FORMATTED_VALUE shows a percent ("100.0%"; "100,0 %" or "%100" in other locales)."""
    return lambda i, c: i < len(formatted) and c < len(formatted[i]) and "%" in str(formatted[i][c])
