"""What is particular to spreadsheet cells (every other typed value is read by `functions.values`).

>>> parse_float("85%"), parse_float(0.7), parse_float(None)
(0.85, 0.7, None)
"""

from __future__ import annotations

from ..values import is_blank


def parse_float(value: object) -> float | None:
    """A confidence cell: a number, or a percent as Google Sheets shows one (`85%`)."""
    if is_blank(value):
        return None
    try:
        return float(str(value).strip().rstrip("%")) / (100 if str(value).strip().endswith("%") else 1)
    except ValueError:
        raise ValueError(f'"{value}" is not a number') from None
