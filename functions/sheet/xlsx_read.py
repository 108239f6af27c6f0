"""Read every tab of an .xlsx file fast (python-calamine, a native reader), as the values openpyxl hands.

The values are the ones a spreadsheet program last computed and saved (like openpyxl's `data_only`): text,
numbers (a whole number as int), booleans, dates as datetimes; an empty cell is None. Rows start at A1, so
a row's index is its column.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from ..errors import ConfigError


def read_tabs(path: Path, merged: dict[str, list[str]] | None = None) -> dict[str, list[list[Any]]]:
    """{tab: rows} for every tab, trailing empty rows dropped; `merged`, when given, gets each tab's merged
    ranges ("T2:T3"), from the same parse."""
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # a corrupt or foreign file: say which and why
        raise ConfigError(f"Cannot open the workbook {path}: {exc}") from exc
    try:
        out = {}
        for name in wb.sheet_names:
            sheet = wb.get_sheet_by_name(name)
            out[name] = _rows(sheet)
            if merged is not None:
                merged[name] = [f"{_ref(*a)}:{_ref(*b)}" for a, b in sheet.merged_cell_ranges or []]
        return out
    finally:
        wb.close()


def _ref(row: int, col: int) -> str:
    """A 0-based (row, column) as A1 notation."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


def _rows(sheet: Any) -> list[list[Any]]:
    raw = sheet.to_python(skip_empty_area=False)
    start_row, start_col = sheet.start or (0, 0)
    pad = [None] * start_col
    rows: list[list[Any]] = [[] for _ in range(start_row)]
    # A short text repeated down a column (a client, a person, a category) is held once, not once a row.
    seen: dict[str, str] = {}
    same = seen.setdefault
    for r in raw:
        # text (most cells) passes as it is; only empty cells, numbers and dates need a look
        row = [(same(v, v) if len(v) <= 40 else v) if type(v) is str and v else _value(v) for v in r]
        rows.append(pad + row if pad else row)
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return rows


def _value(v: Any) -> Any:
    if v == "" and isinstance(v, str):
        return None
    if type(v) is float and v.is_integer() and abs(v) < 2**53:
        return int(v)
    if type(v) is date:
        return datetime(v.year, v.month, v.day)
    return v
