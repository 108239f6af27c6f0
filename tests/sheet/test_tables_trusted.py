"""The Time tab's rows, built without a second validation, are exactly the records validation builds."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from functions.models import TimeEntry, TimeRow
from functions.money import hours_from_seconds
from functions.sheet.contract import HeaderMap, load_contract
from functions.sheet.tables import parse_time_tab, row_values, source_cells, trusted


def test_parsed_rows_equal_their_validated_records_field_by_field():
    tab = load_contract().tab("Time")
    hm = HeaderMap(tab, tab.headers)
    rows = [tab.headers]
    for i, (hours, rate, conf) in enumerate([(1.5, None, 0.9), (0.11666666666666667, 120, None), ("2", "95.5", "85%")]):
        entry = TimeEntry(
            source="csv",
            source_id=f"e{i}",
            date=datetime(2026, 10, 1 + i).date(),
            client="Acme",
            person="Ana",
            notes=f"=note {i}",
            hours=Decimal("1"),
            currency="USD",
        )
        cells = {**source_cells(entry), "hours": hours, "tracker_rate": rate, "confidence": conf, "approved": i == 1}
        cells["date"] = datetime(2026, 10, 1 + i)  # as a workbook hands a date
        rows.append(row_values(hm, cells))
    table = parse_time_tab(rows)
    assert not table.errors and len(table.rows) == 3
    for r in table.rows:
        again = TimeRow.model_validate({**r.model_dump(), "entry": TimeEntry.model_validate(r.entry.model_dump())})
        assert r == again and r.entry == again.entry
        assert r.entry.sync_hash() == again.entry.sync_hash() and hash(r.entry) == hash(again.entry)
        assert {k: type(v) for k, v in dict(r).items()} == {k: type(v) for k, v in dict(again).items()}
    assert table.rows[1].entry.hours == hours_from_seconds(420)  # a timer's 7 minutes, as validation makes it
    assert [r.entry.rate for r in table.rows] == [None, Decimal("120"), Decimal("95.5")]


def test_a_field_the_constructor_does_not_know_goes_through_validation():
    rebuilt = trusted(
        TimeRow,
        {
            "row": 2,
            "entry": {
                "source": "csv",
                "source_id": "a",
                "date": "2026-10-01",
                "client": "Acme",
                "person": "Ana",
                "hours": "1.5",
            },
        },
    )
    assert isinstance(rebuilt.entry, TimeEntry) and rebuilt.entry.hours == Decimal("1.5")
