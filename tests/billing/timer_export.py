"""Time rows that come from a timer (Toggl Track's detailed CSV export), for billing tests.

A timer gives a duration in seconds (`HH:MM:SS`). These rows go through the real import path
(`functions.sources.csv_exports.parse_export`), so whatever the importer does to the duration is what the
billing engine sees: the tests built on them check the invoice against the seconds the source gave.
"""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

from functions.models import TimeRow
from functions.sample.export_writers import TOGGL_HEADER
from functions.sources.csv_exports import parse_export


@dataclass(frozen=True)
class Timed:
    """One timer entry as Toggl exports it, plus the review columns of its Time row."""

    client: str
    seconds: int
    person: str = "Ana Ruiz"
    day: str = "2026-10-05"
    project: str = "Web"
    notes: str = "work"
    billable: bool = True
    category: str = "Development"
    approved: bool = True
    start: str = "09:00:00"


def duration(seconds: int) -> str:
    """`HH:MM:SS`, as Toggl writes a duration."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def toggl_rows(timed: list[Timed], first_row: int = 1000) -> list[TimeRow]:
    """The Time rows of these timer entries, read through the Toggl CSV importer (file order kept)."""
    if not timed:
        return []
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(TOGGL_HEADER)
    for t in timed:
        w.writerow(
            [
                t.person,
                "",
                t.client,
                t.project,
                "",
                t.notes,
                "Yes" if t.billable else "No",
                t.day,
                t.start,
                t.day,
                "",
                duration(t.seconds),
                "",
                "",
            ]
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "toggl.csv"
        path.write_text(out.getvalue(), encoding="utf-8")
        parsed = parse_export(path)
    assert len(parsed.entries) == len(timed)
    return [
        TimeRow(row=first_row + i, entry=e, category=t.category, approved=t.approved)
        for i, (e, t) in enumerate(zip(parsed.entries, timed, strict=True))
    ]
