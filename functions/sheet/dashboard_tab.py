"""The Dashboard tab's cells: what the dashboard reads from the Invoices and Runs tabs, and the changed cells
that put its tables (functions/dashboard.py) under the columns its charts read (sheet_templates/tabs/Dashboard.json).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal

from ..ports import Cell
from ..values import parse_decimal, text
from .contract import HeaderMap, load_contract

CLAUDE_CALLS = re.compile(r"\bClaude (\d+)")


def amount(value: Cell) -> Decimal:
    """A cell's number, 0 when it is blank or not a number (the dashboard shows, it never bills)."""
    try:
        return parse_decimal(value) or Decimal("0")
    except ValueError:
        return Decimal("0")


def invoice_records(rows: Sequence[Sequence[Cell]]) -> list[tuple[str, str, Decimal]]:
    """(client, period, total) of every invoice an Invoices tab lists, voided ones left out."""
    if len(rows) < 2:
        return []
    hm = HeaderMap(load_contract().tab("Invoices"), rows[0])
    return [
        (text(hm.get(r, "client")), text(hm.get(r, "period")), amount(hm.get(r, "total")))
        for r in rows[1:]
        if text(hm.get(r, "number")) and not text(hm.get(r, "status")).startswith("void")
    ]


def run_records(rows: Sequence[Sequence[Cell]]) -> list[tuple[str, str, Decimal, int, Decimal]]:
    """(started, command, seconds, Claude calls from the API Calls text, AI cost) of every row of a Runs tab."""
    if len(rows) < 2:
        return []
    hm = HeaderMap(load_contract().tab("Runs"), rows[0])
    out = []
    for r in rows[1:]:
        started = text(hm.get(r, "started"))
        if not started:
            continue
        calls = CLAUDE_CALLS.search(text(hm.get(r, "api_calls")))
        out.append(
            (
                started,
                text(hm.get(r, "command")),
                amount(hm.get(r, "seconds")),
                int(calls.group(1)) if calls else 0,
                amount(hm.get(r, "ai_cost")),
            )
        )
    return out


def dashboard_changes(
    current: Sequence[Sequence[Cell]], tables: Mapping[str, Sequence[Sequence[Cell]]]
) -> dict[tuple[int, int], Cell]:
    """{(row, col): value} (1-based) that turn the Dashboard tab as it is into `tables`, keyed by each chart's
    domain column and padded with blanks to the chart's rows. Empty when the tab is not there."""
    from .session import canonical  # the one comparison of old and new cell values

    if not current:
        return {}
    tab = load_contract().tab("Dashboard")
    hm = HeaderMap(tab, current[0])
    changes: dict[tuple[int, int], Cell] = {}
    for chart in tab.charts:
        keys = [chart.domain, *chart.series]
        if any(k not in hm.index for k in keys):
            continue
        rows = list(tables.get(chart.domain, ()))[: chart.rows]
        for n in range(chart.rows):
            values = list(rows[n]) if n < len(rows) else []
            old_row = current[n + 1] if n + 1 < len(current) else []
            for k, key in enumerate(keys):
                col = hm.index[key]
                new = values[k] if k < len(values) else None
                old = old_row[col] if col < len(old_row) else None
                if canonical(old) != canonical(new):
                    changes[(n + 2, col + 1)] = new
    return changes
