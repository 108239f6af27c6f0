"""The layout of a Google Sheet, planned from the tab contract: tabs, header rows, formats, dropdowns, protections.

Pure: `plan_layout(contract, metadata, header_rows)` reads the spreadsheet as it is and returns the
`batchUpdate` requests (and header cells) that bring it to the contract; `GoogleSheet.ensure_layout`
(gsheets.py) sends them. Every request is idempotent, and values are never moved: a missing column is
added after the last header, and people's extra columns stay where they are.

    >>> from .contract import load_contract
    >>> plan = plan_layout(load_contract(), {"sheets": []}, {})
    >>> plan.changes[0].startswith("added the ")
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..ports import CellBlock
from .contract import Column, Contract, HeaderMap, Tab, column_letter

# Colours people see: pipeline-owned columns are tinted so nobody mistakes them for their own.
PIPELINE_TINT = {"red": 0.91, "green": 0.94, "blue": 0.98}
HEADER_TINT = {"red": 0.85, "green": 0.87, "blue": 0.9}
FLAG_TINT = {"red": 1.0, "green": 0.95, "blue": 0.8}
NUMBER_FORMATS: dict[str, dict[str, str]] = {
    "date": {"type": "DATE", "pattern": "yyyy-mm-dd"},
    "hours": {"type": "NUMBER", "pattern": "0.00##"},  # 2 to 4 decimals, as the lines show hours
    "money": {"type": "NUMBER", "pattern": "#,##0.00"},
    "percent": {"type": "PERCENT", "pattern": "0.0%"},
}  # "number" columns (counts, seconds, confidence) keep Sheets' automatic format: 42 and 0.85, where a pattern
# such as 0.## shows a count as "42." (the workbook's General, likewise)
PROTECTION_TAG = "invoicing:"  # prefix of the description of every protected range this adapter adds
FLAG_RULE_TAG = "LEN("


def _column_requests(sheet_id: int, index: int, col: Column, owned: bool) -> list[dict]:
    """The formatting of one contract column at 0-based `index`: all idempotent, safe to send again."""
    body_rows = {"sheetId": sheet_id, "startRowIndex": 1, "startColumnIndex": index, "endColumnIndex": index + 1}
    reqs: list[dict] = []
    fmt: dict[str, Any] = {}
    if col.type in NUMBER_FORMATS:
        fmt["numberFormat"] = NUMBER_FORMATS[col.type]
    if owned:
        fmt["backgroundColor"] = PIPELINE_TINT
    # a field named but not given is cleared: a count column laid out with an older 0.## pattern goes back to automatic
    fields = sorted({*fmt, "numberFormat"} if col.type == "number" else fmt)
    if fields:
        reqs.append(
            {
                "repeatCell": {
                    "range": body_rows,
                    "cell": {"userEnteredFormat": fmt},
                    "fields": "userEnteredFormat(" + ",".join(fields) + ")",
                }
            }
        )
    if col.type == "bool":
        reqs.append({"setDataValidation": {"range": body_rows, "rule": {"condition": {"type": "BOOLEAN"}}}})
    elif col.type == "category":
        reqs.append(
            {
                "setDataValidation": {
                    "range": body_rows,
                    "rule": {
                        "condition": {"type": "ONE_OF_RANGE", "values": [{"userEnteredValue": "=Categories!$A$2:$A"}]},
                        "inputMessage": "Choose a category from the Categories tab.",
                        "strict": False,
                        "showCustomUi": True,
                    },
                }
            }
        )
    elif col.choices:
        reqs.append(
            {
                "setDataValidation": {
                    "range": body_rows,
                    "rule": {
                        "condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": c} for c in col.choices]},
                        "strict": False,
                        "showCustomUi": True,
                    },
                }
            }
        )
    reqs.append(
        {
            "updateDimensionProperties": {
                "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": index, "endIndex": index + 1},
                "properties": {"pixelSize": col.width * 7 + 5, "hiddenByUser": col.hidden},
                "fields": "pixelSize,hiddenByUser",
            }
        }
    )
    return reqs


def _runs(indexes: Sequence[int]) -> list[tuple[int, int]]:
    """[0,1,2,5,6] -> [(0,3),(5,7)]: contiguous column runs, end-exclusive."""
    out: list[tuple[int, int]] = []
    for i in sorted(indexes):
        if out and out[-1][1] == i:
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return out


class LayoutPlan:
    """What `ensure_layout` must send: structure/format requests, header cells, and sentences for people."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.headers: list[CellBlock] = []
        self.changes: list[str] = []


def plan_layout(contract: Contract, metadata: Mapping[str, Any], header_rows: Mapping[str, list[Any]]) -> LayoutPlan:
    """Pure: from the spreadsheet as it is (metadata + header rows), the requests that bring it to the contract.

    Values are never moved: a missing column is added after the last header; people's extra columns stay.
    """
    plan = LayoutPlan()
    sheets = {s["properties"]["title"]: s for s in metadata.get("sheets", [])}
    used_ids = {s["properties"]["sheetId"] for s in metadata.get("sheets", [])}
    next_index = len(sheets)
    for tab in contract.tabs:
        existing = sheets.get(tab.name)
        if existing is None:
            sheet_id = _free_id(used_ids, tab.name)
            used_ids.add(sheet_id)
            plan.requests.append(
                {
                    "addSheet": {
                        "properties": {
                            "sheetId": sheet_id,
                            "title": tab.name,
                            "index": next_index,
                            "gridProperties": {
                                "rowCount": 1000,
                                "columnCount": max(26, len(tab.columns)),
                                "frozenRowCount": tab.freeze_rows,
                                "frozenColumnCount": tab.freeze_cols,
                            },
                        }
                    }
                }
            )
            next_index += 1
            plan.headers.append(CellBlock(tab.name, 1, 1, [tab.headers]))
            plan.changes.append(f"added the {tab.name} tab with {len(tab.columns)} columns")
            _format_tab(
                plan,
                tab,
                sheet_id,
                {c.key: i for i, c in enumerate(tab.columns)},
                len(tab.columns),
                protected=[],
                conditional=[],
            )
            plan.requests += chart_requests(tab, sheet_id, {c.key: i for i, c in enumerate(tab.columns)}, [])
            continue
        props = existing["properties"]
        sheet_id = props["sheetId"]
        header = list(header_rows.get(tab.name, []))
        hm = HeaderMap(tab, header)
        changed = False
        if hm.missing:
            width = len(header)
            new = [c.header for c in hm.missing]
            need = width + len(new)
            if props.get("gridProperties", {}).get("columnCount", 26) < need:
                plan.requests.append(
                    {
                        "updateSheetProperties": {
                            "properties": {"sheetId": sheet_id, "gridProperties": {"columnCount": need}},
                            "fields": "gridProperties.columnCount",
                        }
                    }
                )
            plan.headers.append(CellBlock(tab.name, 1, width + 1, [new]))
            plan.changes.append(f"added {len(new)} column(s) to {tab.name}: {', '.join(new)}")
            for offset, col in enumerate(hm.missing):
                hm.index[col.key] = width + offset
            header = header + new
            changed = True
        grid = props.get("gridProperties", {})
        if grid.get("frozenRowCount", 0) != tab.freeze_rows or grid.get("frozenColumnCount", 0) != tab.freeze_cols:
            plan.requests.append(
                {
                    "updateSheetProperties": {
                        "properties": {
                            "sheetId": sheet_id,
                            "gridProperties": {"frozenRowCount": tab.freeze_rows, "frozenColumnCount": tab.freeze_cols},
                        },
                        "fields": "gridProperties.frozenRowCount,gridProperties.frozenColumnCount",
                    }
                }
            )
            plan.changes.append(f"froze the header row of {tab.name}")
        protected = [
            p for p in existing.get("protectedRanges", []) if str(p.get("description", "")).startswith(PROTECTION_TAG)
        ]
        conditional = existing.get("conditionalFormats", [])
        before = len(plan.requests)
        _format_tab(plan, tab, sheet_id, dict(hm.index), len(header), protected, conditional, formats=changed)
        if len(plan.requests) > before and not changed:
            plan.changes.append(f"restored the protections and highlighting of {tab.name}")
        charts = chart_requests(tab, sheet_id, dict(hm.index), existing.get("charts", []))
        if charts:
            plan.requests += charts
            plan.changes.append(f"added {len(charts)} chart(s) to {tab.name}")
    return plan


def _free_id(used: set[int], name: str) -> int:
    # a stable id per tab name makes a half-applied layout recognisable; fall forward on a clash
    candidate = 1000 + sum(ord(c) for c in name) * 7 % 100000
    while candidate in used:
        candidate += 1
    return candidate


def _format_tab(
    plan: LayoutPlan,
    tab: Tab,
    sheet_id: int,
    index: dict[str, int],
    width: int,
    protected: list[dict],
    conditional: list[dict],
    formats: bool = True,
) -> None:
    owned_idx = [index[c.key] for c in tab.columns if c.key in index and not c.editable_by_people]
    if formats:
        plan.requests.append(
            {
                "repeatCell": {
                    "range": {
                        "sheetId": sheet_id,
                        "startRowIndex": 0,
                        "endRowIndex": 1,
                        "startColumnIndex": 0,
                        "endColumnIndex": width,
                    },
                    "cell": {"userEnteredFormat": {"textFormat": {"bold": True}, "backgroundColor": HEADER_TINT}},
                    "fields": "userEnteredFormat(textFormat,backgroundColor)",
                }
            }
        )
        for col in tab.columns:
            if col.key in index:
                plan.requests.extend(_column_requests(sheet_id, index[col.key], col, not col.editable_by_people))
                if col.note:
                    # the header's note is how people learn what a column is for, right where they type
                    i = index[col.key]
                    plan.requests.append(
                        {
                            "updateCells": {
                                "range": {
                                    "sheetId": sheet_id,
                                    "startRowIndex": 0,
                                    "endRowIndex": 1,
                                    "startColumnIndex": i,
                                    "endColumnIndex": i + 1,
                                },
                                "rows": [{"values": [{"note": col.note}]}],
                                "fields": "note",
                            }
                        }
                    )
    covered: set[int] = set()  # column indexes already under one of our protections
    header_protected = False
    for p in protected:
        rng = p.get("range", {})
        if rng.get("endRowIndex") == 1 and "startColumnIndex" not in rng:
            header_protected = True
            continue
        covered.update(range(rng.get("startColumnIndex", 0), rng.get("endColumnIndex", width)))
    if not header_protected:
        plan.requests.append(
            {
                "addProtectedRange": {
                    "protectedRange": {
                        "range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1},
                        "description": f"{PROTECTION_TAG} {tab.name} headers: "
                        "the pipeline finds columns by these names",
                        "warningOnly": True,
                    }
                }
            }
        )
    for start, end in _runs([i for i in owned_idx if i not in covered]):
        names = ", ".join(c.header for c in tab.columns if c.key in index and start <= index[c.key] < end)
        plan.requests.append(
            {
                "addProtectedRange": {
                    "protectedRange": {
                        "range": {"sheetId": sheet_id, "startColumnIndex": start, "endColumnIndex": end},
                        "description": f"{PROTECTION_TAG} {tab.name}: "
                        f"filled by the pipeline ({names}); edits are replaced",
                        "warningOnly": True,
                    }
                }
            }
        )
    if "flags" in index:
        letter = column_letter(index["flags"] + 1)
        formula = f"=LEN(${letter}2)>0"
        if not any(formula in json.dumps(rule) for rule in conditional):
            plan.requests.append(
                {
                    "addConditionalFormatRule": {
                        "index": 0,
                        "rule": {
                            "ranges": [{"sheetId": sheet_id, "startRowIndex": 1}],
                            "booleanRule": {
                                "condition": {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": formula}]},
                                "format": {"backgroundColor": FLAG_TINT},
                            },
                        },
                    }
                }
            )


CHART_WIDTH, CHART_HEIGHT = 600, 300  # pixels


def chart_requests(
    tab: Tab, sheet_id: int, index: Mapping[str, int], existing: Sequence[Mapping[str, Any]]
) -> list[dict]:
    """`addChart` for each of the tab's charts (the contract's `charts`) that the sheet lacks, found by title:
    created once, at layout time; afterwards a run only rewrites the values the charts read."""
    have = {str(c.get("spec", {}).get("title", "")) for c in existing}
    top = max((c.rows for c in tab.charts), default=0) + 2  # below the tables (0-based row index)
    out: list[dict] = []
    for n, chart in enumerate(tab.charts):
        if chart.title in have or chart.domain not in index or any(k not in index for k in chart.series):
            continue

        def source(key: str, rows: int = chart.rows) -> dict:
            col = index[key]
            grid = {
                "sheetId": sheet_id,
                "startRowIndex": 0,
                "endRowIndex": rows + 1,
                "startColumnIndex": col,
                "endColumnIndex": col + 1,
            }
            return {"sourceRange": {"sources": [grid]}}

        spec = {
            "title": chart.title,
            "basicChart": {
                "chartType": chart.type,
                "legendPosition": "BOTTOM_LEGEND",
                "headerCount": 1,
                "domains": [{"domain": source(chart.domain)}],
                "series": [
                    {"series": source(key), "targetAxis": "BOTTOM_AXIS" if chart.type == "BAR" else "LEFT_AXIS"}
                    for key in chart.series
                ],
            },
        }
        position = {
            "overlayPosition": {
                "anchorCell": {"sheetId": sheet_id, "rowIndex": top + (n // 2) * 16, "columnIndex": (n % 2) * 4},
                "widthPixels": CHART_WIDTH,
                "heightPixels": CHART_HEIGHT,
            }
        }
        out.append({"addChart": {"chart": {"spec": spec, "position": position}}})
    return out
