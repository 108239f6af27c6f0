"""Test doubles for outside systems (never for the project's own code).

`MemorySheet` is a SheetStore kept in memory: a dict of tabs, each a list of rows. It lets property tests
run the real refresh many times fast; the workbook and Google Sheets adapters have their own tests.
`ListSource` is a TimeSource that returns the entries it was given, as a tracker API would.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from functions.models import Period, TimeEntry
from functions.ports import CellBlock, ImportResult, Progress, no_progress
from functions.sheet.contract import load_contract


class MemorySheet:
    def __init__(self) -> None:
        self.tabs: dict[str, list[list[object]]] = {}
        self.writes = 0
        self.reads = 0

    def describe(self) -> str:
        return "memory"

    def ensure_layout(self, setup: bool = False) -> list[str]:
        changes = []
        for tab in load_contract().tabs:
            if tab.name not in self.tabs:
                self.tabs[tab.name] = [list(tab.headers)]
                changes.append(f"added the tab {tab.name}")
        return changes

    def read(self, tabs: Sequence[str]) -> dict[str, list[list[object]]]:
        self.reads += 1
        return {name: copy.deepcopy(self.tabs.get(name, [])) for name in tabs}

    def write(self, blocks: Sequence[CellBlock]) -> None:
        self.writes += 1
        for b in blocks:
            rows = self.tabs.setdefault(b.tab, [])
            for r_off, values in enumerate(b.values):
                r = b.row - 1 + r_off
                while len(rows) <= r:
                    rows.append([])
                row = rows[r]
                for c_off, v in enumerate(values):
                    c = b.col - 1 + c_off
                    while len(row) <= c:
                        row.append(None)
                    row[c] = v

    # helpers for tests: act as a person would in the sheet
    def col(self, tab: str, header: str) -> int:
        return self.tabs[tab][0].index(header)

    def set(self, tab: str, row: int, header: str, value: object) -> None:
        self.write([CellBlock(tab, row, self.col(tab, header) + 1, [[value]])])

    def get(self, tab: str, row: int, header: str) -> object:
        r = self.tabs[tab][row - 1]
        c = self.col(tab, header)
        return r[c] if c < len(r) else None


class ListSource:
    def __init__(self, entries: Sequence[TimeEntry], name: str = "csv"):
        self.entries = list(entries)
        self.name = name

    def fetch(self, period: Period, progress: Progress = no_progress) -> ImportResult:
        keep = tuple(e for e in self.entries if period.contains(e.date))
        return ImportResult(entries=keep, covers=(self.name,), descriptions=(f"{self.name}: {len(keep)} entries",))
