"""Malformed time exports, for each CSV format: every case is refused naming the file and line (the run then
changes nothing in the workbook or the ledger), or read as documented and stored as inert text.

Cases not repeated here (tests/sources/test_csv_exports.py has them): an unquoted comma, a semicolon file, a
bad Billable, a record broken across lines, an empty file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook

from functions import pipeline
from functions.config import Settings, bootstrap, csv_source
from functions.sources.csv_exports import parse_export
from tests.bad_input.snapshot import refuses
from tests.seeding import with_categories
from tests.sources.test_csv_exports import CLOCKIFY_HEADER, HARVEST_HEADER, TOGGL_HEADER, harvest_row
from tests.test_spreadsheet_edits import OCT, services_for, workbook


@dataclass(frozen=True)
class Format:
    name: str
    header: str
    row: str
    date: str  # the column of the entry's date
    hours: str  # the column a bad number goes into
    notes: str
    blank: tuple[str, ...] = ()  # columns blanked so `hours` is the one read


FORMATS = [
    Format("harvest", HARVEST_HEADER, harvest_row(client="Acme"), "Date", "Hours", "Notes"),
    Format(
        "toggl",
        TOGGL_HEADER,
        "Ana Ruiz,ana@x.example,Acme,Site,,checkout API,Yes,2026-10-01,09:00:00,2026-10-01,10:30:00,01:30:00,,150.00",
        "Start date",
        "Duration",
        "Description",
    ),
    Format(
        "clockify",
        CLOCKIFY_HEADER,
        "Site,Acme,checkout API,,Ana Ruiz,Developer,ana@x.example,,Yes,10/01/2026,09:00 AM,10/01/2026,,01:30:00,"
        "1.50,100.00,150.00",
        "Start Date",
        "Duration (decimal)",
        "Description",
        blank=("Duration (h)",),
    ),
]


class Table:
    """A header and rows of cells, as the export would have them, written out with a chosen newline."""

    def __init__(self, fmt: Format):
        self.header = fmt.header.split(",")
        self.rows = [fmt.row.split(",")]
        for b in fmt.blank:
            self.set(b, "")

    def set(self, column: str, value: str, row: int = 0) -> Table:
        self.rows[row][self.header.index(column)] = value
        return self

    def to_bytes(self, newline: str = "\n") -> bytes:
        def cell(v: str) -> str:
            return '"' + v.replace('"', '""') + '"' if any(ch in v for ch in ',"\r\n') else v

        return newline.join(",".join(cell(v) for v in r) for r in [self.header, *self.rows]).encode() + b"\n"


# (case name, how the file is made from the format, the line the error names; None: read, then `check`)
Make = Callable[[Format], bytes]


def renamed(f: Format) -> bytes:
    t = Table(f)
    t.header[t.header.index(f.hours)] = "Time spent"
    if f.blank:  # Clockify reads either duration: rename both
        t.header[t.header.index(f.blank[0])] = "Length"
    return t.to_bytes()


def missing(f: Format) -> bytes:
    t = Table(f)
    i = t.header.index(f.date)
    t.header.pop(i)
    t.rows[0].pop(i)
    return t.to_bytes()


REFUSED: list[tuple[str, Make, int | None]] = [
    ("wrong header", lambda f: b"Day,Customer,Work,Time\n2026-10-01,Acme,dev,1.5\n", 1),
    ("renamed header", renamed, 1),
    ("missing column", missing, 1),
    ("impossible date", lambda f: Table(f).set(f.date, "2026-02-31").to_bytes(), 2),
    ("impossible slash date", lambda f: Table(f).set(f.date, "31/02/2026").to_bytes(), 2),
    ("negative hours", lambda f: Table(f).set(f.hours, "-1.5").to_bytes(), 2),
    ("huge hours", lambda f: Table(f).set(f.hours, "99999999").to_bytes(), 2),
    ("25 hours", lambda f: Table(f).set(f.hours, "25:00:00").to_bytes(), 2),
    ("NaN hours", lambda f: Table(f).set(f.hours, "NaN").to_bytes(), 2),
    ("1e309 hours", lambda f: Table(f).set(f.hours, "1e309").to_bytes(), 2),
    ("infinite hours", lambda f: Table(f).set(f.hours, "-inf").to_bytes(), 2),
    ("decimal comma", lambda f: Table(f).set(f.hours, "1,5").to_bytes(), 2),
    ("non-UTF-8 bytes", lambda f: Table(f).set(f.notes, "café").to_bytes().replace("é".encode(), b"\xe9"), None),
]


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize("case, make, line", REFUSED, ids=[c[0] for c in REFUSED])
def test_a_malformed_export_is_refused_naming_file_and_line(month, tmp_path, fmt, case, make, line):
    export = tmp_path / "exports" / f"{fmt.name}.csv"
    export.parent.mkdir()
    export.write_bytes(make(fmt))
    run = lambda: pipeline.refresh(services_for(month, csv_source([export])), OCT)  # noqa: E731
    refuses(run, month, f"{export.name}:{line}" if line else export.name)


def fresh_refresh(tmp_path: Path, data: bytes, name: str):
    export = tmp_path / "exports" / f"{name}.csv"
    export.parent.mkdir(exist_ok=True)
    export.write_bytes(data)
    work = tmp_path / "fresh"
    services = with_categories(bootstrap(Settings(workdir=work, ai_enabled=False), source=csv_source([export])))
    return export, work, pipeline.refresh(services, OCT)


def time_column(work: Path, header: str) -> list[object]:
    ws = load_workbook(workbook(work))["Time"]
    i = [c.value for c in ws[1]].index(header)
    return [r[i] for r in ws.iter_rows(min_row=2, values_only=True)]


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_a_reordered_header_reads_the_same_entries(tmp_path, fmt):
    plain = Table(fmt)
    order = list(reversed(range(len(plain.header))))
    flipped = Table(fmt)
    flipped.header = [plain.header[i] for i in order]
    flipped.rows = [[plain.rows[0][i] for i in order]]
    (tmp_path / "a.csv").write_bytes(plain.to_bytes())
    (tmp_path / "b.csv").write_bytes(flipped.to_bytes())
    assert parse_export(tmp_path / "a.csv").entries == parse_export(tmp_path / "b.csv").entries


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_day_first_dates_are_read_day_first(tmp_path, fmt):
    t = Table(fmt).set(fmt.date, "13/10/2026")
    t.rows.append(list(t.rows[0]))
    t.set(fmt.date, "02/10/2026", row=1).set(fmt.notes, "second", row=1)
    _, work, summary = fresh_refresh(tmp_path, t.to_bytes(), fmt.name)
    assert sorted(d.day for d in time_column(work, "Date")) == [2, 13]
    assert "day-first" in " ".join(summary.sources)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_cr_only_newlines_read_every_row(tmp_path, fmt):
    t = Table(fmt)
    t.rows.append(list(t.rows[0]))
    t.set(fmt.notes, "line one\rline two", row=1)
    _, work, summary = fresh_refresh(tmp_path, t.to_bytes("\r"), fmt.name)
    assert summary.new == 2
    first = Table(fmt).rows[0][Table(fmt).header.index(fmt.notes)]
    assert sorted(time_column(work, "Notes")) == sorted([first, "line one\nline two"])


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_nul_bytes_in_notes_are_cleaned_and_said(tmp_path, fmt):
    _, work, summary = fresh_refresh(tmp_path, Table(fmt).set(fmt.notes, "a\x00b").to_bytes(), fmt.name)
    assert time_column(work, "Notes") == ["ab"]
    assert "control character" in " ".join(summary.warnings)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_a_10_mb_note_is_refused_at_its_line(month, tmp_path, fmt):
    export = tmp_path / "exports" / f"{fmt.name}.csv"
    export.parent.mkdir()
    export.write_bytes(Table(fmt).set(fmt.notes, "pasted log line; " * 620_000).to_bytes())
    assert export.stat().st_size > 10_000_000
    run = lambda: pipeline.refresh(services_for(month, csv_source([export])), OCT)  # noqa: E731
    refuses(run, month, f"{export.name}:2: has a value longer than 131,072 characters")


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_duplicated_rows_stay_two_entries(tmp_path, fmt):
    t = Table(fmt)
    t.rows.append(list(t.rows[0]))
    _, work, summary = fresh_refresh(tmp_path, t.to_bytes(), fmt.name)
    ids = time_column(work, "Entry ID")
    assert summary.new == 2 and len(set(ids)) == 2 and ids[1] == f"{ids[0]}#2"
