"""Default contents for empty settings tabs: a folder of CSVs (`Categories.csv`, `Clients.csv` ...) read by
header into rows of the tab as it is laid out, with numbers, dates and yes/no as the sheet should hold them.

The embedded default seeds only Categories (`DEFAULT_CONFIG`); the demo seeds every settings tab from the
sample agency's folder.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from ..ports import Cell
from ..values import parse_bool, parse_date, parse_decimal
from .contract import HeaderMap, load_contract
from .tables import row_values

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "sample" / "config"


def seed_rows(tab_name: str, header: Sequence[Cell], path: Path) -> list[list[Cell]]:
    """The rows of `path` (a CSV with a header row) in the column order of `header`; [] when there is none."""
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        seed = list(csv.reader(f))
    if len(seed) < 2:
        return []
    tab = load_contract().tab(tab_name)
    hm = HeaderMap(tab, list(header))
    seed_hm = HeaderMap(tab, list(seed[0]))
    return [
        row_values(hm, {k: seed_value(tab.column(k).type, seed_hm.get(r, k)) for k in seed_hm.index}) for r in seed[1:]
    ]


def seed_value(kind: str, v: object) -> Cell:
    """A CSV cell as the sheet should hold it: numbers as numbers, dates as dates, TRUE/FALSE as booleans."""
    s = "" if v is None else str(v).strip()
    if not s:
        return None
    try:
        if kind in ("money", "hours", "number", "percent"):
            return parse_decimal(s)
        if kind == "date":
            return parse_date(s)
        if kind == "bool":
            return parse_bool(s)
    except ValueError:
        pass  # left as typed: validation reports it with its cell, like anything a person types
    return s
