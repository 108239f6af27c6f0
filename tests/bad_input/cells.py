"""Cells of the workbook a run wrote, and the check that none of them became a formula."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

CellState = dict[tuple[str, str], tuple[object, str]]


def cells(path: Path) -> CellState:
    """(tab, cell) -> (value, openpyxl data type) of every non-empty cell of the workbook."""
    wb = load_workbook(path)
    return {
        (ws.title, c.coordinate): (c.value, c.data_type)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    }


def written(before: CellState, after: CellState) -> CellState:
    """The cells whose value or type the run changed or added."""
    return {k: v for k, v in after.items() if before.get(k) != v}


def formulas(state: CellState) -> list[str]:
    return [f"{tab}!{ref} = {value!r}" for (tab, ref), (value, kind) in state.items() if kind == "f"]
