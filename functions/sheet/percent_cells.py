"""Percent cells as a person sees them, for both sheet adapters.

A person types `100%` in a Percent cell; the spreadsheet stores 1 and formats the cell as a percent. The
port stays values-only: an adapter hands such a cell (a number, in a percent-typed column of the contract,
whose cell format is a percent) as the text the person meant, `"100%"`, built from the stored number so no
digit is lost to the display format. Every other cell is handed as it is stored, so a plain number in a
cell not formatted as a percent reaches `TabReader.percent` as a number: that many percent (10 is 10 %).

    >>> percent_text(1), percent_text(0.125), percent_text("10%")
    ('100%', '12.5%', '10%')
    >>> is_percent_format("0.0%"), is_percent_format('0.0"%"'), is_percent_format("General")
    (True, False, False)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal

from ..money import D
from ..ports import Cell
from .contract import Contract, HeaderMap

# quoted text and backslash-escaped characters of a number format are shown as they are, never scaled
_LITERAL = re.compile(r'"[^"]*"|\\.')


def is_percent_format(number_format: str | None) -> bool:
    """Whether a spreadsheet number format (`0.0%`, `#,##0%`) shows its number times 100 with a % sign."""
    return "%" in _LITERAL.sub("", number_format or "")


def percent_text(value: Cell) -> Cell:
    """A stored percent number as the text of what it means (1 -> "100%"); anything else as it is."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return value
    scaled = D(value) * 100  # a float through its shortest repr: 0.07 is 7 %, not 7.000000000000001 %
    if not scaled.is_finite():
        return value
    return f"{scaled.normalize():f}%"


def percent_columns(contract: Contract, tab: str, header: Sequence[Cell]) -> list[int]:
    """0-based positions, in the tab as laid out now, of the contract's percent-typed columns of `tab`."""
    if tab not in contract.names:
        return []
    t = contract.tab(tab)
    hm = HeaderMap(t, list(header))
    return [hm.index[c.key] for c in t.columns if c.type == "percent" and c.key in hm.index]


def with_percent_text(
    rows: list[list[Cell]], columns: Sequence[int], shown_as_percent: Callable[[int, int], bool]
) -> list[list[Cell]]:
    """`rows` (header first) with each number of `columns` that `shown_as_percent(row index, column)` says
    is displayed as a percent replaced by its percent text; the rows are changed in place and returned."""
    for i, r in enumerate(rows[1:], start=1):
        for c in columns:
            if c < len(r) and percent_text(r[c]) is not r[c] and shown_as_percent(i, c):
                r[c] = percent_text(r[c])
    return rows
