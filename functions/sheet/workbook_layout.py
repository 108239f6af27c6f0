"""The layout of the workbook's tabs from the tab contract (openpyxl): header colours and notes, widths that
fit the header beside its filter button, validations (the Category dropdown, Approved as TRUE/FALSE),
the pipeline's columns shaded, flagged rows tinted, a filter and a print setup on every tab.

Only a layout change (a new workbook, an upgrade's column, setup-sheet) loads this; a run's reads and writes
of cells do not need openpyxl at all (see workbook.py and xlsx_patch.py).
"""

from __future__ import annotations

from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .contract import Column, Contract, HeaderMap, Tab

HEADER_FILL = {
    "source": "DCE6F1",  # blue-grey: filled by refresh
    "review": "FFF2CC",  # yellow: yours to edit
    "output": "E7E6E6",  # grey: written by the pipeline
    "config": "FFF2CC",
    "report": "E7E6E6",
}
OWNED_FILL = "F5F5F5"  # body of the pipeline's columns
FLAG_FILL = "FCE4D6"  # a row with flags
MAX_ROWS = 1_048_576


def style_tab(ws: Worksheet, tab: Tab, hm: HeaderMap, contract: Contract) -> None:
    ws.freeze_panes = ws.cell(row=tab.freeze_rows + 1, column=tab.freeze_cols + 1).coordinate
    ws.conditional_formatting = type(ws.conditional_formatting)()
    ws.data_validations.dataValidation = []
    last = get_column_letter(max(hm.width, 1))
    for col in tab.columns:
        i = hm.index[col.key] + 1
        letter = get_column_letter(i)
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL[col.owner])
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        note = col.note or contract.owners.get(col.owner, "")
        cell.comment = Comment(f"{note}\n({contract.owners.get(col.owner, '')})".strip(), "invoicing")
        dim = ws.column_dimensions[letter]
        dim.width = header_width(col)
        dim.hidden = col.hidden
        body = f"{letter}2:{letter}{MAX_ROWS}"
        if col.owner in ("source", "output") and tab.kind == "data":
            ws.conditional_formatting.add(
                body, FormulaRule(formula=["TRUE"], fill=PatternFill("solid", bgColor=OWNED_FILL))
            )
        validation = _validation(col)
        if validation is not None:
            validation.add(body)
            ws.add_data_validation(validation)
    if tab.name == "Time" and "flags" in hm.index:
        flags = get_column_letter(hm.index["flags"] + 1)
        ws.conditional_formatting.add(
            f"A2:{last}{MAX_ROWS}",
            FormulaRule(formula=[f"LEN(${flags}2)>0"], fill=PatternFill("solid", bgColor=FLAG_FILL)),
        )
    ws.auto_filter.ref = f"A1:{last}1"  # every tab: filter Time by date, Invoices and Runs by period
    print_setup(ws, tab, last)
    if tab.charts:
        add_charts(ws, tab, hm)


CHART_CLASSES = {"COLUMN": "col", "BAR": "bar"}


def add_charts(ws: Worksheet, tab: Tab, hm: HeaderMap) -> None:
    """The tab's native charts (a report tab such as Dashboard), each over its columns' rows 2..rows+1, placed
    in a grid below the tables. Charts are layout: made with the tab, then a run only changes the values."""
    from openpyxl.chart import BarChart, LineChart, Reference

    ws._charts = []  # a layout change lays them out again rather than adding a second set
    top = max(c.rows for c in tab.charts) + 3
    for n, spec in enumerate(tab.charts):
        if spec.domain not in hm.index or any(k not in hm.index for k in spec.series):
            continue
        chart: BarChart | LineChart
        if spec.type == "LINE":
            chart = LineChart()
        else:
            chart = BarChart()
            chart.type = CHART_CLASSES[spec.type]
        chart.title = spec.title
        chart.width, chart.height = 16.0, 7.5
        for key in spec.series:
            col = hm.index[key] + 1
            chart.add_data(Reference(ws, min_col=col, min_row=1, max_row=spec.rows + 1), titles_from_data=True)
        domain = hm.index[spec.domain] + 1
        chart.set_categories(Reference(ws, min_col=domain, min_row=2, max_row=spec.rows + 1))
        anchor = f"{get_column_letter(1 + (n % 2) * 4)}{top + (n // 2) * 16}"
        ws.add_chart(chart, anchor)


def _validation(col: Column) -> DataValidation | None:
    if col.type == "category":
        return DataValidation(
            type="list",
            formula1="Categories!$A$2:$A$500",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            error="Pick a category from the Categories tab.",
        )
    if col.type == "bool" and col.owner in ("review", "config"):
        return DataValidation(
            type="list", formula1='"TRUE,FALSE"', allow_blank=True, showErrorMessage=True, error="TRUE or FALSE"
        )
    if col.choices:
        return DataValidation(type="list", formula1='"' + ",".join(col.choices) + '"', allow_blank=True)
    return None


def header_width(col: Column) -> float:
    """The contract's width, widened so the header sits beside the filter button, not under it."""
    return float(max(col.width, len(col.header) + 4))


def print_setup(ws: Worksheet, tab: Tab, last: str) -> None:
    """Printed, a tab is landscape, its own columns only, its header row repeated on every page: one page
    wide, or two for the Time tab's many columns (one would print them too small to read)."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 2 if tab.name == "Time" else 1
    ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.print_area = f"A1:{last}{MAX_ROWS}"
    ws.print_options.gridLines = True
