"""A new row of a merge is laid out in the tab exactly as the dict of its cells reads, whatever the columns' order."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from functions.models import Period, Suggestion, TimeEntry
from functions.sheet.contract import load_contract
from functions.sheet.merge import merge, row_maker
from functions.sheet.tables import OUTPUT_KEYS, REVIEW_KEYS, SOURCE_KEYS, source_cells


def entries() -> list[TimeEntry]:
    return [
        TimeEntry(source="csv", source_id="1", date=date(2026, 10, 1), client="Acme", person="Ana", hours="1.5"),
        TimeEntry(
            source="harvest",
            source_id="h-2",
            date=date(2026, 10, 2),
            client="Büro",
            project="Web",
            task="Design",
            person="Zoë",
            role="Designer",
            email="z@example.com",
            notes="Entwurf\x00",  # cleaned: the row says so in its flags
            hours="14",
            billable=False,
            rate="95",
            currency="EUR",
            url="https://example.com/1",
        ),
        TimeEntry(source="csv", source_id="3", date=date(2026, 10, 3), client="Acme", person="Ana", hours="2"),
    ]


def test_a_new_row_reads_as_its_cells_and_lays_out_as_they_read():
    s = Suggestion(category="Design", source="model", confidence=0.42, line_item="Design work")
    result = merge(
        [], entries(), {"csv:1": s, "harvest:h-2": s}, covers=["csv", "harvest"], period=Period.parse("2026-10")
    )
    rows = result.appends
    assert [r["entry_id"] for r in rows] == ["1", "h-2", "3"]
    first, second, third = rows
    assert first["category"] == "Design" and first["line_item"] == "Design work" and first["approved"] is False
    assert first["confidence"] == Decimal("0.42") and first["suggested_by"] == "model"
    assert third["category"] == "" and third["suggested_by"] == "none" and third["confidence"] is None
    assert second["currency"] == "EUR" and first["currency"] == ""  # no currency: blank, not None
    assert "Notes from the source" in second["flags"] and "Over 12 h" in second["flags"]
    assert first["sync_hash"] == first.entry.sync_hash()
    # every column the refresh owns or sets once, and nothing else
    assert set(first) == set(SOURCE_KEYS) | set(OUTPUT_KEYS) | set(REVIEW_KEYS)
    assert {k: first[k] for k in source_cells(first.entry)} == source_cells(first.entry)
    keys = [c.key for c in load_contract().tab("Time").columns]
    rnd = random.Random(3)
    for layout in (keys, [*keys, ""], rnd.sample(keys, len(keys)), ["", keys[0]], [keys[5]]):
        make = row_maker(layout)
        for r in rows:
            assert make(r) == [r.get(k) for k in layout]
