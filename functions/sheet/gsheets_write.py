"""One write to a Google Sheet as one atomic `spreadsheets:batchUpdate` that is also a compare-and-set.

The Sheets API has no lock and no conditional write, but a `spreadsheets:batchUpdate` is all or nothing
(if one request fails, none is applied), `deleteSheet` of an id that is gone fails ("No grid with id"),
and `addSheet` with a title that exists fails ("A sheet with the name ... already exists"). So every write
the adapter sends carries, besides the values (`updateCells`, and `appendDimension` where rows are added):

  - `deleteSheet` of the version marker the run read (a hidden 1x1 tab `_invoicing_v41`, its id in the
    state cell), and `addSheet` of the next one (`_invoicing_v42`, a fresh random id);
  - the new state written into the state cell (Runs!Z1): version, marker id, the layout key, and the id
    and grid size of every tab, which is what lets a run write without a `spreadsheets.get`.

Of two runs that read the same version, only the first write applies; the other's whole batch fails on
the marker and nothing of it lands: the sheet never holds a write made from a stale read (no lost update,
no interleaving), and the loser is told to run again. The marker's id is never reused, so a third run
that moved the version on in between cannot make a stale write pass (no ABA).

Values go as `userEnteredValue` with `stringValue` / `numberValue` / `boolValue`: a string is always
literal text (as RAW input: "=SUM(A1)" from a time tracker stays text), a date its serial number.

    >>> cell_data("=1+1"), cell_data(True), cell_data(None)
    ({'userEnteredValue': {'stringValue': '=1+1'}}, {'userEnteredValue': {'boolValue': True}}, {})
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..ports import Cell, CellBlock
from .contract import Contract, column_letter

STATE_TAB = "Runs"
STATE_ROW, STATE_COL = 1, 26  # Runs!Z1, right of the Runs columns (1-based)
MARKER_PREFIX = "_invoicing_v"
MARKER_TITLE = re.compile(r"^_invoicing_v(\d+)$")
LAYOUT_REVISION = 1  # bump when gsheets_layout.py plans something new, so every sheet is looked at once
CELL_LIMIT = 10_000_000  # Google Sheets' cells per spreadsheet, all tabs together
NEAR_LIMIT = 0.8  # from here on, every run says how full the spreadsheet is and what to do


def state_range() -> str:
    return f"'{STATE_TAB}'!{column_letter(STATE_COL)}{STATE_ROW}"


def layout_key(contract: Contract) -> str:
    """A short digest of the tab contract: a sheet last laid out under another contract is looked at again."""
    shape = [[t.name, [[c.header, c.type, c.hidden, c.width] for c in t.columns]] for t in contract.tabs]
    return hashlib.sha256(json.dumps([LAYOUT_REVISION, shape]).encode()).hexdigest()[:12]


@dataclass
class SheetState:
    """What the state cell holds: the version marker, the layout key, and each tab's id and grid."""

    version: int = 0
    marker: int | None = None  # the sheetId of `_invoicing_v<version>`; None before the first write
    layout: str = ""
    tabs: dict[str, list[int]] = field(default_factory=dict)  # title -> [sheetId, rowCount, columnCount]

    @classmethod
    def parse(cls, raw: Any) -> SheetState | None:
        if not isinstance(raw, str) or not raw.startswith("{"):
            return None
        try:
            data = json.loads(raw)
            tabs = {str(k): [int(x) for x in v][:3] for k, v in data.get("tabs", {}).items()}
            marker = data.get("marker")
            return cls(
                version=int(data["v"]),
                marker=int(marker) if marker is not None else None,
                layout=str(data.get("layout", "")),
                tabs={k: v for k, v in tabs.items() if len(v) == 3},
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # a person typed over it: the next run looks at the spreadsheet itself

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any], layout: str = "") -> SheetState:
        """From a `spreadsheets.get`: every tab's id and grid, and the newest version marker there is."""
        state = cls(layout=layout)
        for s in meta.get("sheets", []):
            p = s["properties"]
            m = MARKER_TITLE.match(p["title"])
            if m:
                if int(m.group(1)) >= state.version:
                    state.version, state.marker = int(m.group(1)), int(p["sheetId"])
                continue
            g = p.get("gridProperties", {})
            state.tabs[p["title"]] = [int(p["sheetId"]), int(g.get("rowCount", 1000)), int(g.get("columnCount", 26))]
        return state

    def dump(self) -> str:
        return json.dumps(
            {"v": self.version, "marker": self.marker, "layout": self.layout, "tabs": self.tabs},
            separators=(",", ":"),
        )

    def cells(self) -> int:
        """Cells in the spreadsheet's grids (the markers' one cell each aside), as Google counts them."""
        return sum(rows * cols for _, rows, cols in self.tabs.values())


def cell_data(value: Any) -> dict[str, Any]:
    """One value (already JSON-ready, see gsheets.to_api) as a CellData; "" or None clears the cell."""
    if value is None or value == "":
        return {}
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, (int, float)):
        return {"userEnteredValue": {"numberValue": value}}
    return {"userEnteredValue": {"stringValue": str(value)}}


class StaleLayout(Exception):
    """The state cell names no id for a tab being written: the spreadsheet must be looked at first."""


def plan_write(
    blocks: Iterable[tuple[CellBlock, list[list[Any]]]],
    state: SheetState,
    rng: random.Random | None = None,
    trims: Mapping[str, int] | None = None,
) -> tuple[list[dict[str, Any]], SheetState]:
    """The requests of one compare-and-set write of `blocks` (each with its JSON-ready values) on `state`,
    and the state after it; `trims` (tab -> rows) shrinks grids after the values are written (what is
    below goes). Pure, apart from drawing the next marker's id."""
    rng = rng or random.SystemRandom()
    after = SheetState(version=state.version + 1, layout=state.layout, tabs={k: list(v) for k, v in state.tabs.items()})
    used = {v[0] for v in after.tabs.values()} | ({state.marker} if state.marker is not None else set())
    after.marker = next(i for i in iter(lambda: rng.randrange(10**8, 2 * 10**9), None) if i not in used)
    requests: list[dict[str, Any]] = []
    if state.marker is not None:
        requests.append({"deleteSheet": {"sheetId": state.marker}})
    requests.append(
        {
            "addSheet": {
                "properties": {
                    "sheetId": after.marker,
                    "title": f"{MARKER_PREFIX}{after.version}",
                    "hidden": True,
                    "gridProperties": {"rowCount": 1, "columnCount": 1},
                }
            }
        }
    )
    grows: list[dict[str, Any]] = []
    cells: list[dict[str, Any]] = []
    for block, values in [*blocks, (CellBlock(STATE_TAB, STATE_ROW, STATE_COL, [[""]]), [])]:
        if block.tab not in after.tabs:
            raise StaleLayout(block.tab)
        sheet_id, rows, cols = after.tabs[block.tab]
        if not values:  # the state cell: its value is known only now, after every block grew the grid
            continue
        need_rows = block.row - 1 + len(values)
        need_cols = block.col - 1 + max(len(r) for r in values)
        for dimension, have, need in (("ROWS", rows, need_rows), ("COLUMNS", cols, need_cols)):
            if need > have:
                grows.append({"appendDimension": {"sheetId": sheet_id, "dimension": dimension, "length": need - have}})
        after.tabs[block.tab] = [sheet_id, max(rows, need_rows), max(cols, need_cols)]
        cells.append(
            {
                "updateCells": {
                    "start": {"sheetId": sheet_id, "rowIndex": block.row - 1, "columnIndex": block.col - 1},
                    "rows": [{"values": [cell_data(v) for v in row]} for row in values],
                    "fields": "userEnteredValue",
                }
            }
        )
    for tab, rows in (trims or {}).items():
        if tab not in after.tabs:
            raise StaleLayout(tab)
        sheet_id, _, cols = after.tabs[tab]
        cells.append(
            {
                "updateSheetProperties": {
                    "properties": {"sheetId": sheet_id, "gridProperties": {"rowCount": rows}},
                    "fields": "gridProperties.rowCount",
                }
            }
        )
        after.tabs[tab] = [sheet_id, rows, cols]
    state_cell = {
        "updateCells": {
            "start": {"sheetId": after.tabs[STATE_TAB][0], "rowIndex": STATE_ROW - 1, "columnIndex": STATE_COL - 1},
            "rows": [{"values": [cell_data(after.dump())]}],
            "fields": "userEnteredValue",
        }
    }
    return [*requests, *grows, *cells, state_cell], after


def split_payloads(
    blocks: Sequence[tuple[CellBlock, list[list[Any]]]], max_bytes: int, state: SheetState | None
) -> list[list[tuple[CellBlock, list[list[Any]]]]]:
    """The blocks (with JSON-ready values) as payloads of one write call each, every one under `max_bytes`
    with the marker and state cell around it; a block too big for one is cut between rows."""
    budget = max_bytes - overhead(state)  # for the values; the rest is the marker and state cell
    ranges: list[tuple[tuple[CellBlock, list[list[Any]]], int]] = []
    for b, values in blocks:
        if not any(values):
            continue
        start, size = 0, 0
        for i, row in enumerate(values + [None]):
            # a cell goes as {"userEnteredValue": {"stringValue": ...}}: ~48 bytes around its value
            row_size = len(json.dumps(row)) + 48 * len(row) + 16 if row is not None else 0
            if row is None or (size + row_size > budget and i > start):
                part = values[start:i]
                ranges.append(((CellBlock(b.tab, b.row + start, b.col, part), part), size + 200))
                start, size = i, 0
            size += row_size
    payloads: list[list[tuple[CellBlock, list[list[Any]]]]] = []
    used = budget + 1
    for item, size in ranges:
        if used + size > budget:
            payloads.append([])
            used = 0
        payloads[-1].append(item)
        used += size
    return payloads


def overhead(state: SheetState | None) -> int:
    """Bytes of a write besides its values: the marker's two requests, the state cell, the envelope."""
    state = state or SheetState(tabs={STATE_TAB: [0, 1000, 26]})
    if STATE_TAB not in state.tabs:
        state = SheetState(state.version, state.marker, state.layout, {**state.tabs, STATE_TAB: [0, 1000, 26]})
    return sizes(plan_write([], state)[0]) + 1_000  # room for grown grids and the JSON around it


def planned_state(state: SheetState, requests: Sequence[dict[str, Any]]) -> SheetState:
    """The state once the layout's requests are applied: the tabs they add, the columns they widen."""
    planned = SheetState(state.version, state.marker, state.layout, {k: list(v) for k, v in state.tabs.items()})
    by_id = {v[0]: k for k, v in planned.tabs.items()}
    for req in requests:
        if "addSheet" in req:
            p = req["addSheet"]["properties"]
            g = p.get("gridProperties", {})
            planned.tabs[p["title"]] = [p["sheetId"], g.get("rowCount", 1000), g.get("columnCount", 26)]
            by_id[p["sheetId"]] = p["title"]
        elif "updateSheetProperties" in req:
            p = req["updateSheetProperties"]["properties"]
            cols = p.get("gridProperties", {}).get("columnCount")
            if cols and p.get("sheetId") in by_id:
                planned.tabs[by_id[p["sheetId"]]][2] = cols
    return planned


def conflict(message: str, state: SheetState) -> bool:
    """Whether a refused write was refused for its marker: another run wrote since this one read."""
    if "already exists" in message and MARKER_PREFIX in message:
        return True
    return state.marker is not None and f"No grid with id: {state.marker}" in message


def capacity_note(cells: int) -> str:
    """A sentence when the spreadsheet is near Google's cell limit, else ""."""
    if cells < CELL_LIMIT * NEAR_LIMIT:
        return ""
    return (
        f"The spreadsheet holds {cells:,} cells, {cells / CELL_LIMIT:.0%} of Google's limit of {CELL_LIMIT:,}; "
        "once it is full, writes fail. Move closed, invoiced months to a second spreadsheet: "
        "`python main.py archive --before YYYY-MM --to SPREADSHEET_ID` (docs/RUNBOOK.md#a-sheet-near-its-cell-limit)."
    )


def over_limit(cells: int) -> str:
    return (
        f"This write would take the spreadsheet to {cells:,} cells, over Google's limit of {CELL_LIMIT:,}, "
        "so nothing was written. Move closed, invoiced months to a second spreadsheet first: "
        "`python main.py archive --before YYYY-MM --to SPREADSHEET_ID` (docs/RUNBOOK.md#a-sheet-near-its-cell-limit)."
    )


def sizes(requests: Sequence[dict[str, Any]]) -> int:
    return len(json.dumps({"requests": requests}))  # as requests sends it, with spaces


__all__ = ["Cell", "SheetState", "plan_write", "cell_data", "conflict", "layout_key", "state_range"]
