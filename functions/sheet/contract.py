"""The tab contract: names, columns, owners and types of every tab, loaded from sheet_templates/.

Defined once, as data, so the local workbook and the Google Sheet are built from the same definition and
the pipeline reads and writes columns by their header (a column added by an upgrade never moves values).

    >>> c = load_contract()
    >>> c.tab("Time").column("approved").header
    'Approved'
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..errors import InputError, Location

TEMPLATES = Path(__file__).resolve().parents[2] / "sheet_templates"

Owner = Literal["source", "review", "output", "config", "report"]
ColumnType = Literal["text", "date", "hours", "money", "bool", "category", "number", "percent"]


class Column(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    header: str
    owner: Owner
    type: ColumnType = "text"
    width: int = 14
    hidden: bool = False
    note: str = ""
    choices: tuple[str, ...] = ()

    @property
    def editable_by_people(self) -> bool:
        return self.owner in ("review", "config")


class Chart(BaseModel):
    """A native chart of a report tab: its domain column (the labels) and series columns, rows 2 to rows + 1."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    type: Literal["COLUMN", "BAR", "LINE"] = "COLUMN"
    domain: str
    series: tuple[str, ...]
    rows: int = 20


class Tab(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: Literal["data", "config", "report"]
    description: str = ""
    freeze_rows: int = 1
    freeze_cols: int = 0
    columns: tuple[Column, ...]
    charts: tuple[Chart, ...] = ()

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(f"tab {self.name} has no column {key!r}")

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def keys(self) -> list[str]:
        return [c.key for c in self.columns]


class Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    tabs: tuple[Tab, ...]
    owners: dict[str, str]

    def tab(self, name: str) -> Tab:
        for t in self.tabs:
            if t.name == name:
                return t
        raise KeyError(f"the contract has no tab {name!r}")

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tabs]


@lru_cache(maxsize=1)
def load_contract(root: Path = TEMPLATES) -> Contract:
    index = json.loads((root / "contract.json").read_text(encoding="utf-8"))
    tabs = [json.loads((root / "tabs" / f"{name}.json").read_text(encoding="utf-8")) for name in index["tabs"]]
    return Contract(version=index["version"], tabs=tabs, owners=index["owners"])


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA (for cell names in messages)."""
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


class HeaderMap:
    """Where each contract column sits in a tab as it is now (by header text, tolerant of order and case).

    Columns a person added are kept; contract columns that are missing are reported by `missing`.
    """

    def __init__(self, tab: Tab, header_row: Sequence[object]):
        self.tab = tab
        norm = {str(h).strip().casefold(): i for i, h in enumerate(header_row) if h is not None and str(h).strip()}
        self.index: dict[str, int] = {}
        for col in tab.columns:
            i = norm.get(col.header.casefold())
            if i is not None:
                self.index[col.key] = i
        self.width = len(header_row)

    @property
    def missing(self) -> list[Column]:
        return [c for c in self.tab.columns if c.key not in self.index]

    def get(self, row: Sequence[object], key: str) -> object:
        i = self.index.get(key)
        if i is None or i >= len(row):
            return None
        return row[i]

    def cell(self, key: str, row_number: int) -> str:
        """`Rates!C7` for the column `key` at 1-based row `row_number`."""
        i = self.index.get(key)
        col = column_letter(i + 1) if i is not None else "?"
        return f"{self.tab.name}!{col}{row_number}"


# Tabs whose loss changes what is billed (a retainer billed hourly without Rules) or loses people's work
# (Time): a run stops when one is missing; only `setup-sheet` recreates it, empty, and says so.
PROTECTED_TABS = ("Time", "Clients", "Rates", "Rules", "Categories")
# Columns a run cannot do without: missing, they stop it even when no header is close to them (other
# contract columns that are missing are added at the end, which is how an older layout is upgraded).
REQUIRED_COLUMNS = {
    "Time": (
        "date",
        "client",
        "person",
        "hours",
        "billable",
        "category",
        "line_item",
        "rate_override",
        "approved",
        "invoice",
        "source",
        "entry_id",
    ),
    "Clients": ("client", "currency", "default_rate"),
    "Rates": ("client", "person", "role", "category", "rate"),
    "Rules": ("rule",),
    "Categories": ("category",),
}


def layout_problems(
    contract: Contract, headers: Mapping[str, Sequence[object] | None], setup: bool = False
) -> list[InputError]:
    """What stops a run before it touches the sheet: a protected tab that is gone, a required header that is
    missing, a header renamed (a contract header is missing and an unknown one is close to it).

    `headers` maps each tab the sheet has to its header row (tabs it lacks are absent). A sheet with none of
    the contract's tabs is new: nothing is wrong with it. `setup=True` (setup-sheet) may recreate tabs, but a
    renamed header stops it too, since adding the column again would split the values in two.

        >>> [str(e.location) for e in layout_problems(load_contract(), {"Categories": ["Categry"]}, setup=True)]
        ['Categories!A1']
    """
    present = {t.name for t in contract.tabs if t.name in headers}
    if not present:
        return []
    problems: list[InputError] = []
    for tab in contract.tabs:
        if tab.name not in present:
            if tab.name in PROTECTED_TABS and not setup:
                problems.append(
                    InputError(
                        "the tab is missing, and a run never recreates it: billing without it would be wrong. "
                        "Restore it (the file's or the sheet's version history), or run `python main.py "
                        "setup-sheet` to recreate it empty",
                        Location(tab=tab.name),
                    )
                )
            continue
        row = list(headers[tab.name] or [])
        hm = HeaderMap(tab, row)
        if not row or all(h is None or not str(h).strip() for h in row):
            continue  # an empty tab: setup writes its header
        known = {c.header.casefold() for c in tab.columns}
        unknown = {
            str(h).strip().casefold(): (i, str(h).strip())
            for i, h in enumerate(row)
            if h is not None and str(h).strip() and str(h).strip().casefold() not in known
        }
        for col in hm.missing:
            close = difflib.get_close_matches(col.header.casefold(), list(unknown), n=1, cutoff=0.6)
            if close:
                i, found = unknown[close[0]]
                problems.append(
                    InputError(
                        f'the column "{col.header}" is missing; the closest header is "{found}"; rename it back '
                        f'to "{col.header}" (nothing was appended or rewritten)',
                        Location(tab=tab.name, cell=f"{column_letter(i + 1)}1"),
                    )
                )
            elif col.key in REQUIRED_COLUMNS.get(tab.name, ()):
                problems.append(
                    InputError(
                        f'the column "{col.header}" is missing from the header row and no header is close to '
                        f"it; put it back (undo, or the version history) before running again",
                        Location(tab=tab.name, cell="1:1"),
                    )
                )
    return problems
