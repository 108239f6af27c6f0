"""The Dashboard's tables, computed from records (functions/dashboard.py): pure, no sheet involved."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from functions.dashboard import ROWS, InvoiceRecord, RunRecord, build
from functions.models import Period, TimeEntry, TimeRow
from functions.sheet.contract import load_contract

OCT = Period.parse("2026-10")


def row(n: int, client: str, day: date, hours: str, **review: object) -> TimeRow:
    entry = TimeEntry(source="csv", source_id=str(n), date=day, client=client, person="Ana", hours=hours)
    return TimeRow(row=n + 1, entry=entry, **review)  # type: ignore[arg-type]


def test_billed_per_client_compares_the_period_with_the_one_before_largest_first():
    invoices = [
        InvoiceRecord("Acme", "2026-10", Decimal("100.50")),
        InvoiceRecord("Acme", "2026-09", Decimal("80")),
        InvoiceRecord("Zed", "2026-10", Decimal("300")),
        InvoiceRecord("Old", "2026-09", Decimal("5")),
        InvoiceRecord("Older", "2026-08", Decimal("999")),  # neither month: not shown
    ]
    assert build(OCT, [], invoices, [])["client"] == [
        ["Zed", Decimal("300"), Decimal("0")],
        ["Acme", Decimal("100.50"), Decimal("80")],
        ["Old", Decimal("0"), Decimal("5")],
    ]


def test_hours_by_category_take_the_reviewers_category_else_the_suggestion_in_the_period_only():
    rows = [
        row(1, "Acme", date(2026, 10, 1), "2.5", category="Design"),
        row(2, "Acme", date(2026, 10, 2), "1", suggested_category="Design"),
        row(3, "Acme", date(2026, 10, 3), "0.333333"),
        row(4, "Acme", date(2026, 9, 30), "8", category="QA"),  # last month
    ]
    assert build(OCT, rows, [], [])["category"] == [["Design", Decimal("3.50")], ["(no category)", Decimal("0.33")]]


def test_suggestions_kept_per_month_and_source_oldest_first():
    rows = [
        row(1, "A", date(2026, 9, 1), "1", approved=True, category="QA", suggested_category="QA", suggested_by="rule"),
        row(
            2, "A", date(2026, 10, 1), "1", approved=True, category="QA", suggested_category="QA", suggested_by="model"
        ),
        row(
            3, "A", date(2026, 10, 2), "1", approved=True, category="Dev", suggested_category="QA", suggested_by="model"
        ),
        row(
            4, "A", date(2026, 10, 3), "1", approved=True, category="QA", suggested_category="QA", suggested_by="model"
        ),
        row(
            5, "A", date(2026, 10, 4), "1", category="QA", suggested_category="QA", suggested_by="model"
        ),  # not approved
    ]
    assert build(OCT, rows, [], [])["kept_label"] == [
        ["2026-09 rule", Decimal("100.00")],
        ["2026-10 model", Decimal("66.67")],
    ]


def test_unbilled_approved_time_is_approved_billable_and_not_invoiced_of_any_month():
    rows = [
        row(1, "Acme", date(2026, 8, 1), "2", approved=True),
        row(2, "Acme", date(2026, 10, 1), "1.25", approved=True),
        row(3, "Acme", date(2026, 10, 2), "5", approved=True, invoice="INV-0001"),
        row(4, "Zed", date(2026, 10, 2), "9"),  # not approved
        row(5, "", date(2026, 10, 2), "4", approved=True),  # internal time, no client
    ]
    assert build(OCT, rows, [], [])["unbilled_client"] == [["Acme", Decimal("3.25")]]


def test_runs_and_ai_per_month_from_the_runs_rows_newest_kept_oldest_first():
    runs = [
        RunRecord(f"2026-{m:02d}-03T02:00:00+00:00", "refresh", Decimal("1.5"), m, Decimal("0.01"))
        for m in range(1, 13)
    ] + [
        RunRecord("2026-12-04T02:00:00+00:00", "preview", Decimal("2"), 3, Decimal("0.02")),
        RunRecord("?", "x", Decimal(0), 9, Decimal(1)),
    ]
    tables = build(OCT, [], [], runs, limit=3)
    assert tables["run_label"] == [
        ["2026-12-03 02:00 refresh", Decimal("1.5")],
        ["2026-12-04 02:00 preview", Decimal("2")],
        ["? x", Decimal("0")],
    ]
    assert tables["ai_month"] == [
        ["2026-10", 10, Decimal("0.01")],
        ["2026-11", 11, Decimal("0.01")],
        ["2026-12", 15, Decimal("0.03")],
    ]


def test_every_chart_of_the_contract_has_a_table_as_wide_as_its_columns_and_no_longer_than_its_rows():
    runs = [RunRecord("2026-10-03T02:00:00+00:00", "refresh", Decimal("1"), 1, Decimal("0.5"))] * 50
    invoices = [InvoiceRecord(f"C{i}", "2026-10", Decimal(i)) for i in range(50)]
    rows = [
        row(
            i,
            f"C{i}",
            date(2026, 10, 1),
            "1",
            category=f"K{i}",
            approved=True,
            suggested_category="K1",
            suggested_by="rule",
        )
        for i in range(50)
    ]
    tables = build(OCT, rows, invoices, runs)
    tab = load_contract().tab("Dashboard")
    assert {c.domain for c in tab.charts} == set(tables)
    for chart in tab.charts:
        assert chart.rows == ROWS and 0 < len(tables[chart.domain]) <= ROWS
        assert {len(r) for r in tables[chart.domain]} == {1 + len(chart.series)}
    assert tables["client"][0] == ["C49", Decimal(49), Decimal(0)]  # the largest kept


def test_approved_time_in_a_non_billable_category_is_never_unbilled_time():
    rows = [
        row(1, "Acme", date(2026, 10, 1), "2", approved=True, category="Design"),
        row(2, "Acme", date(2026, 10, 2), "3", approved=True, category="Internal"),  # never billed
        row(3, "Acme", date(2026, 10, 3), "1", approved=True, suggested_category="training"),  # kept suggestion
    ]
    got = build(OCT, rows, [], [], non_billable=["Internal", "Training"])["unbilled_client"]
    assert got == [["Acme", Decimal("2")]]
