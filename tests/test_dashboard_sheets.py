"""The Dashboard tab in the local workbook and the Google Sheet: charts made once with the tab, values every run."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from functions import pipeline
from functions.accounting.ledger import Ledger
from functions.config import Settings, bootstrap
from functions.models import Period, TimeEntry
from functions.sheet.contract import load_contract
from functions.sheet.workbook import LocalWorkbook
from tests.emulators.sheets import ApiError, SheetsEmulator
from tests.fakes import ListSource
from tests.seeding import seed_categories

OCT = Period.parse("2026-10")
TAB = load_contract().tab("Dashboard")


def entries(n: int = 3) -> list[TimeEntry]:
    return [
        TimeEntry(
            source="csv",
            source_id=f"e{i}",
            date=date(2026, 10, 1 + i),
            client='=HYPERLINK("x")' if i == 0 else "Acme",
            person="Ana Ruiz",
            notes="checkout work",
            hours=Decimal("1.5"),
        )
        for i in range(n)
    ]


def services_for(sheet, tmp_path, n: int = 3):
    return bootstrap(
        Settings(workdir=tmp_path),
        sheet=seed_categories(sheet),
        source=ListSource(entries(n)),
        accounting=Ledger(tmp_path / "ledger.sqlite", tmp_path / "invoices"),
        clock=lambda: datetime(2026, 11, 3, tzinfo=UTC),
    )


def test_the_workbook_gets_native_charts_over_the_dashboard_tables_and_runs_only_change_values(tmp_path):
    book = LocalWorkbook(tmp_path / "invoicing.xlsx")
    services = services_for(book, tmp_path)
    pipeline.refresh(services, OCT)
    wb = load_workbook(tmp_path / "invoicing.xlsx")
    ws = wb["Dashboard"]
    assert [c.value for c in ws[1]][: len(TAB.columns)] == TAB.headers
    assert len(ws._charts) == len(TAB.charts)
    refs = [[s.val.numRef.f for s in chart.series] for chart in ws._charts]
    assert refs[0] == ["'Dashboard'!$B$2:$B$21", "'Dashboard'!$C$2:$C$21"]  # billed this period and last
    cats = ws._charts[1].series[0].cat
    assert (cats.strRef or cats.numRef).f == "'Dashboard'!$D$2:$D$21"  # hours by category, by category
    by_header = {c.value: c.column for c in ws[1]}
    category = [ws.cell(row=r, column=by_header["Category"]).value for r in range(2, 4)]
    assert category[0] and ws.cell(row=2, column=by_header["Hours This Period"]).value == 4.5
    # the client name that looks like a formula is a value in the dashboard, never a formula
    run_col = by_header["Run"]
    assert str(ws.cell(row=2, column=run_col).value).endswith("refresh")

    pipeline.refresh(services, OCT)  # the second run splices values; the charts stay as they were
    ws = load_workbook(tmp_path / "invoicing.xlsx")["Dashboard"]
    assert len(ws._charts) == len(TAB.charts)
    assert str(ws.cell(row=3, column=run_col).value).endswith("refresh")
    assert all(not str(c.value or "").startswith("=") for r in ws.iter_rows() for c in r)


def test_google_lays_out_the_charts_once_and_a_run_costs_no_extra_call(
    gsheet, sheets_emulator: SheetsEmulator, tmp_path
):
    services = services_for(gsheet, tmp_path)
    sid = gsheet.spreadsheet_id
    dash = sheets_emulator.spreadsheets[sid].sheet("Dashboard")
    assert [c["spec"]["title"] for c in dash.charts] == [c.title for c in TAB.charts]
    assert len({c["chartId"] for c in dash.charts}) == len(TAB.charts)
    for chart in dash.charts:
        basic = chart["spec"]["basicChart"]
        sources = [basic["domains"][0]["domain"], *(s["series"] for s in basic["series"])]
        assert {src["sourceRange"]["sources"][0]["sheetId"] for src in sources} == {dash.props["sheetId"]}
        assert {src["sourceRange"]["sources"][0]["endRowIndex"] for src in sources} == {21}

    sheets_emulator.reset_calls()
    pipeline.refresh(services, OCT)
    calls = [f"{c['method']} {c['path'].rsplit('/', 1)[-1]}" for c in sheets_emulator.sheets_calls()]
    assert not [c for c in calls if c.endswith(sid)]  # no spreadsheets.get: the layout is current
    writes = [c for c in calls if c.endswith(":batchUpdate")]
    values = sheets_emulator.values(sid, "Dashboard")
    header = values[0]
    assert values[1][header.index("Hours This Period")] == 4.5
    assert "Suggestions Kept (%)" in header
    assert values[1][header.index("Run")].endswith("refresh")
    assert len(sheets_emulator.spreadsheets[sid].sheet("Dashboard").charts) == len(TAB.charts)
    # the dashboard rode in the run's one read and one write: a run still costs its two Sheets calls
    assert len(calls) == 2 and len(writes) == 1 and calls[0].endswith("values:batchGet")

    assert gsheet.ensure_layout(setup=True) == []  # setup finds every chart there: none is added twice


def test_the_emulator_answers_a_charts_id_and_refuses_a_chart_over_a_missing_sheet(sheets_emulator, new_sheet_id):
    ss = sheets_emulator.spreadsheets[new_sheet_id]
    sheet_id = ss.sheets[0].props["sheetId"]

    def chart(source_sheet: int) -> dict:
        grid = {
            "sheetId": source_sheet,
            "startRowIndex": 0,
            "endRowIndex": 5,
            "startColumnIndex": 0,
            "endColumnIndex": 1,
        }
        return {
            "spec": {
                "title": "t",
                "basicChart": {
                    "chartType": "COLUMN",
                    "domains": [{"domain": {"sourceRange": {"sources": [grid]}}}],
                    "series": [],
                },
            },
            "position": {"overlayPosition": {"anchorCell": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0}}},
        }

    reply = sheets_emulator._batch_update(ss, {"requests": [{"addChart": {"chart": chart(sheet_id)}}]})
    chart_id = reply["replies"][0]["addChart"]["chart"]["chartId"]
    assert isinstance(chart_id, int)
    with pytest.raises(ApiError, match="No grid with id: 999"):
        sheets_emulator._batch_update(
            sheets_emulator.spreadsheets[new_sheet_id], {"requests": [{"addChart": {"chart": chart(999)}}]}
        )
    assert [c["chartId"] for c in sheets_emulator.spreadsheets[new_sheet_id].sheets[0].charts] == [chart_id]
    spec = chart(999)["spec"]
    with pytest.raises(ApiError, match="No grid with id"):
        sheets_emulator._batch_update(
            sheets_emulator.spreadsheets[new_sheet_id],
            {"requests": [{"updateChartSpec": {"chartId": chart_id, "spec": spec}}]},
        )
