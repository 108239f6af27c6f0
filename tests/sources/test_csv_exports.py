"""The CSV importers: golden files per format, every error kind, skip-bad-rows, identity, the TimeSource."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from functions.errors import InputError, InputErrors, Terminal
from functions.models import Period
from functions.money import hours_fraction
from functions.ports import SkippedRow, TimeSource
from functions.sources.csv_exports import CsvSource, entry_id, read_export
from functions.sources.export_formats import Clockify, Harvest, Toggl, UnknownFormat, detect, layout_of

GOLDEN = Path(__file__).parent / "golden"
OCTOBER = Period.parse("2026-10")

HARVEST_HEADER = (
    "Date,Client,Project,Project Code,Task,Notes,Hours,Hours Rounded,Billable?,Invoiced?,Approved?,First Name,"
    "Last Name,Roles,Employee?,Billable Rate,Billable Amount,Cost Rate,Cost Amount,Currency,External Reference URL"
)
TOGGL_HEADER = (
    "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,Duration,Tags,"
    "Amount (USD)"
)
CLOCKIFY_HEADER = (
    "Project,Client,Description,Task,User,Group,Email,Tags,Billable,Start Date,Start Time,End Date,End Time,"
    "Duration (h),Duration (decimal),Billable Rate (USD),Billable Amount (USD)"
)


def harvest_row(
    date="2026-10-01",
    notes="dev work",
    hours="1.5",
    billable="Yes",
    rate="150.00",
    first="Ana",
    last="Ruiz",
    client="Acme Retail",
) -> str:
    return (
        f"{date},{client},Checkout Revamp,AC-1,Development,{notes},{hours},{hours},{billable},No,No,{first},"
        f"{last},Principal Engineer,Yes,{rate},,80.00,,United States Dollar - USD,"
    )


def write(tmp_path: Path, name: str, text: str, *, bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def as_json(fmt: str, entries, skipped) -> dict:
    return {
        "format": fmt,
        "entries": [e.model_dump(mode="json") for e in entries],
        "skipped": [[s.where, s.reason] for s in skipped],
    }


# --------------------------------------------------------------------------------------------- golden files


@pytest.mark.parametrize("name", ["harvest_detailed", "toggl_detailed", "clockify_detailed"])
def test_golden_export_reads_to_expected_entries(name: str) -> None:
    got = as_json(*read_export(GOLDEN / f"{name}.csv"))
    expected_path = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":  # regenerate, then read the diff before committing it
        expected_path.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert got == json.loads(expected_path.read_text(encoding="utf-8"))


def test_golden_files_hold_the_nasty_cases() -> None:
    """Guards the golden inputs themselves: CRLF, BOM, quoted newlines, trailing blank lines."""
    harvest = (GOLDEN / "harvest_detailed.csv").read_bytes()
    toggl = (GOLDEN / "toggl_detailed.csv").read_bytes()
    assert b"\r\n" in harvest and harvest.endswith(b"\r\n\r\n\r\n")
    assert toggl.startswith(b"\xef\xbb\xbf")
    _, entries, _ = read_export(GOLDEN / "harvest_detailed.csv")
    notes = [e.notes for e in entries]
    assert 'mtg w/ client re: Q4\n- budget\n- "final" timeline' in notes  # CRLF inside quotes -> \n
    assert {"-fixed header", "=SUM(A1) test formula", "@maya review", "+1 on PR"} <= set(notes)


def test_harvest_values_normalise_as_documented() -> None:
    _, entries, _ = read_export(GOLDEN / "harvest_detailed.csv")
    first, _, us_date, padded, nonbillable, *_ = entries
    assert first.person == "Ana Ruiz" and first.role == "Principal Engineer"  # first of "Principal Engineer, Tech Lead"
    assert first.currency == "USD" and first.rate == Decimal("185.00")
    assert us_date.date.isoformat() == "2026-10-02" and us_date.currency == "GBP" and us_date.rate is None
    assert padded.client == "Fjord Analytics" and padded.billable is True  # blank Billable? defaults to Yes
    assert nonbillable.billable is False and nonbillable.rate is None  # a 0.00 rate means no rate
    assert all(isinstance(e.hours, Decimal) for e in entries)


def test_toggl_rate_is_amount_over_exact_duration() -> None:
    _, entries, _ = read_export(GOLDEN / "toggl_detailed.csv")
    timer = entries[0]
    # 01:23:47 is 5027 s, exactly 5027/3600 h (never cut to 1.40); 132.66 / 1.3964 = 95.00.
    assert hours_fraction(timer.hours) == Fraction(5027, 3600)
    assert timer.rate == Decimal("95.00") and timer.currency == "EUR"
    assert entries[3].billable is False and entries[3].rate is None and entries[3].currency is None


def test_clockify_falls_back_to_duration_h_and_reads_12_hour_times(tmp_path: Path) -> None:
    _, entries, _ = read_export(GOLDEN / "clockify_detailed.csv")
    assert hours_fraction(entries[2].hours) == Fraction(7, 3)  # blank Duration (decimal), 02:20:00 exactly
    assert entries[0].role == "Developer" and entries[0].tags == ("billable", "backend")
    # 12:30 AM and 12:30 PM are different starts, so different entries.
    row = (
        "Fleet API,Vertex Robotics,deploy,,Noah Schmidt,Developer,n@x.example,,Yes,10/03/2026,{t},"
        "10/03/2026,,00:30:00,0.50,135.00,67.50"
    )
    path = write(tmp_path, "c.csv", "\n".join([CLOCKIFY_HEADER, row.format(t="12:30 AM"), row.format(t="12:30 PM")]))
    night, noon = read_export(path)[1]
    assert night.source_id != noon.source_id and "#" not in noon.source_id


# --------------------------------------------------------------------------------------------- detection


def test_detect_picks_each_format_by_its_header() -> None:
    assert detect(HARVEST_HEADER.split(",")) is Harvest
    assert detect(TOGGL_HEADER.split(",")) is Toggl
    assert detect(CLOCKIFY_HEADER.split(",")) is Clockify
    assert layout_of(TOGGL_HEADER.replace("(USD)", "(CAD)").split(",")).currency == "CAD"
    assert detect(["\ufeffDate ", " client", "Project", "Task", "Notes", "Hours", "First Name", "Last Name"]) is Harvest


def test_detect_accepts_a_minimal_harvest_account_export() -> None:
    layout = layout_of(["Date", "Client", "Project", "Task", "Notes", "Hours", "First Name", "Last Name", "Teams"])
    assert layout.format is Harvest and layout.index["rate"] is None


def test_unknown_header_names_the_file_formats_tried_and_missing_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "payroll.csv", "Employee,Date,Hours\nAna,2026-10-01,8\n")
    with pytest.raises(InputErrors) as info:
        read_export(path)
    text = str(info.value)
    assert "payroll.csv:1" in text
    assert "Harvest detailed export (missing Client, Project, Task, Notes, First Name, Last Name)" in text
    assert "Toggl Track detailed export (missing User, Client, Project, Description, Start date, Duration)" in text
    assert "Clockify detailed export (missing" in text and "Duration (decimal) or Duration (h)" in text
    with pytest.raises(UnknownFormat):
        detect(["Employee", "Date", "Hours"])


def test_missing_required_column_is_named(tmp_path: Path) -> None:
    header = HARVEST_HEADER.replace("Hours,Hours Rounded,", "Hours Rounded,")
    path = write(tmp_path, "h.csv", header + "\n")
    with pytest.raises(InputErrors) as info:
        read_export(path)
    assert "Harvest detailed export (missing Hours)" in str(info.value)


def test_skip_bad_rows_does_not_excuse_an_unknown_header(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "a,b\n1,2\n")
    with pytest.raises(InputErrors):
        read_export(path, skip_bad_rows=True)


def test_empty_and_non_utf8_files_are_clear_errors(tmp_path: Path) -> None:
    empty = write(tmp_path, "empty.csv", "\n\n")
    with pytest.raises(InputErrors, match=r"empty.csv: is empty"):
        read_export(empty)
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HARVEST_HEADER + "\n" + harvest_row(notes="caf\xe9")).encode("latin-1"))
    with pytest.raises(InputErrors, match=r"latin.csv: is not UTF-8 text"):
        read_export(latin)
    with pytest.raises(InputErrors, match=r"missing.csv: cannot be read"):
        read_export(tmp_path / "missing.csv")


# --------------------------------------------------------------------------------------------- row errors


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (harvest_row(hours='"1,5h"'), 'october_harvest.csv:2 (column Hours): "1,5h" is not a number of hours'),
        (harvest_row(hours="-1"), 'october_harvest.csv:2 (column Hours): "-1" is not a number of hours'),
        (harvest_row(hours=""), "october_harvest.csv:2 (column Hours): is empty; a number of hours is needed"),
        (
            harvest_row(date="2026-13-01"),
            'october_harvest.csv:2 (column Date): "2026-13-01" is not a date on the calendar',
        ),
        (harvest_row(date="1.10.2026"), 'october_harvest.csv:2 (column Date): "1.10.2026" is not a date; write it as'),
        (
            harvest_row(date="13/13/2026"),
            # a first field above 12 makes the file day-first, and there is no month 13
            'october_harvest.csv:2 (column Date): "13/13/2026" is not a date on the calendar',
        ),
        (harvest_row(billable="Maybe"), 'october_harvest.csv:2 (column Billable?): "Maybe" is not TRUE or FALSE'),
        (harvest_row(rate='"12,5O"'), 'october_harvest.csv:2 (column Billable Rate): "12,5O" is not an amount'),
        (harvest_row(first="", last=""), "october_harvest.csv:2: has no person"),
    ],
)
def test_each_bad_value_is_an_input_error_naming_file_line_and_column(tmp_path: Path, row: str, message: str) -> None:
    path = write(tmp_path, "october_harvest.csv", HARVEST_HEADER + "\n" + row + "\n")
    with pytest.raises(InputErrors) as info:
        read_export(path)
    assert isinstance(info.value, Terminal)
    assert len(info.value.errors) == 1
    assert str(info.value.errors[0]).startswith(message)


def test_toggl_and_clockify_bad_values(tmp_path: Path) -> None:
    toggl = write(tmp_path, "t.csv", TOGGL_HEADER + "\nAna,,Acme,P,,x,Yes,2026-10-01,9am,2026-10-01,,1.5,,10\n")
    with pytest.raises(InputErrors) as info:
        read_export(toggl)
    assert [str(e) for e in info.value.errors] == [
        't.csv:2 (column Start time): "9am" is not a time of day; write it as HH:MM or HH:MM AM/PM',
        't.csv:2 (column Duration): "1.5" is not a duration; write it as HH:MM:SS',
    ]
    clockify = write(tmp_path, "c.csv", CLOCKIFY_HEADER + "\nP,C,d,,Noah,,,,Yes,10/01/2026,13:00 PM,,,,,,\n")
    with pytest.raises(InputErrors) as info:
        read_export(clockify)
    assert (
        str(info.value.errors[0])
        == 'c.csv:2 (column Start Time): "13:00 PM" is not a time of day; write it as HH:MM or HH:MM AM/PM'
    )
    assert "c.csv:2: has no duration" not in str(info.value)  # the row already failed on its start time


def test_clockify_row_without_any_duration(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", CLOCKIFY_HEADER + "\nP,C,d,,Noah,,,,Yes,10/01/2026,01:00 PM,,,,,,\n")
    with pytest.raises(
        InputErrors, match=r"c.csv:2: has no duration: both Duration \(decimal\) and Duration \(h\) are empty"
    ):
        read_export(path)


def test_a_file_with_errors_imports_nothing_and_reports_all_of_them(tmp_path: Path) -> None:
    rows = [harvest_row(hours="x") for _ in range(60)] + [harvest_row()]
    path = write(tmp_path, "big.csv", "\n".join([HARVEST_HEADER, *rows]))
    with pytest.raises(InputErrors) as info:
        read_export(path)
    assert len(info.value.errors) == 60  # all collected...
    assert "Found 60 problems in the export big.csv; nothing was changed (docs/RUNBOOK.md#a-bad-cell-in-a-tab)." in str(
        info.value
    )
    assert "... and 10 more" in str(info.value)  # ...only the listing is capped
    assert [e.location.line for e in info.value.errors] == list(range(2, 62))


def test_unquoted_comma_is_explained(tmp_path: Path) -> None:
    path = write(tmp_path, "h.csv", HARVEST_HEADER + "\n" + harvest_row(notes="a, b", rate="abc") + "\n")
    with pytest.raises(InputErrors) as info:
        read_export(path)
    assert (
        str(info.value.errors[0])
        == "h.csv:2: has 22 values but the header has 21 columns (an unquoted comma in a value?)"
    )


def test_line_numbers_count_physical_lines_after_multiline_notes(tmp_path: Path) -> None:
    rows = [
        harvest_row(notes='"line one\r\nline two\r\nline three"'),  # lines 2-4
        harvest_row(notes='"x"'),  # line 5
        "",  # line 6, blank
        harvest_row(notes='"two\nlines"'),  # lines 7-8
        harvest_row(hours="abc"),  # line 9
    ]
    path = write(tmp_path, "h.csv", "\r\n".join([HARVEST_HEADER, *rows]) + "\r\n")
    with pytest.raises(InputErrors) as info:
        read_export(path)
    assert [str(e) for e in info.value.errors] == ['h.csv:9 (column Hours): "abc" is not a number of hours']


def test_skip_bad_rows_imports_good_rows_and_reports_each_bad_one(tmp_path: Path) -> None:
    rows = [
        harvest_row(notes="a"),
        harvest_row(hours='"1,5h"', billable="?"),
        harvest_row(notes="b"),
        harvest_row(date="yesterday"),
    ]
    path = write(tmp_path, "h.csv", "\n".join([HARVEST_HEADER, *rows]))
    fmt, entries, skipped = read_export(path, skip_bad_rows=True)
    assert fmt == "harvest" and [e.notes for e in entries] == ["a", "b"]
    assert skipped == (
        SkippedRow(
            "h.csv:3", 'column Hours: "1,5h" is not a number of hours; column Billable?: "?" is not TRUE or FALSE'
        ),
        SkippedRow("h.csv:5", 'column Date: "yesterday" is not a date; write it as YYYY-MM-DD or MM/DD/YYYY'),
    )


def test_text_values_are_kept_as_text(tmp_path: Path) -> None:
    notes = ["=1+2", "+49 call", "-", "@here", "  spaced  ", '"quoted"', "tab\there"]
    rows = [harvest_row(notes='"' + n.replace('"', '""') + '"') for n in notes]
    path = write(tmp_path, "h.csv", "\n".join([HARVEST_HEADER, *rows]))
    _, entries, _ = read_export(path)
    assert [e.notes for e in entries] == ["=1+2", "+49 call", "-", "@here", "spaced", '"quoted"', "tab\there"]


# --------------------------------------------------------------------------------------------- identity


def test_identity_ignores_hours_so_a_changed_entry_keeps_its_id(tmp_path: Path) -> None:
    before = write(tmp_path, "a.csv", HARVEST_HEADER + "\n" + harvest_row(hours="1.5") + "\n")
    after = write(tmp_path, "b.csv", HARVEST_HEADER + "\n" + harvest_row(hours="2", rate="160", billable="No") + "\n")
    renamed = write(tmp_path, "c.csv", HARVEST_HEADER + "\n" + harvest_row(notes="other note") + "\n")
    (a,), (b,), (c,) = (read_export(p)[1] for p in (before, after, renamed))
    assert a.source_id == b.source_id and a.sync_hash() != b.sync_hash()
    assert c.source_id != a.source_id
    assert a.source_id == entry_id(
        "harvest", ["2026-10-01", "Ana Ruiz", "Acme Retail", "Checkout Revamp", "Development", "dev work"]
    )


def test_identity_is_the_same_in_crlf_and_lf_files(tmp_path: Path) -> None:
    row = harvest_row(notes='"two\nlines"')
    lf = write(tmp_path, "lf.csv", HARVEST_HEADER + "\n" + row + "\n")
    crlf = write(tmp_path, "crlf.csv", HARVEST_HEADER + "\r\n" + row.replace("\n", "\r\n") + "\r\n", bom=True)
    assert read_export(lf)[1] == read_export(crlf)[1]


def test_true_duplicates_are_kept_with_a_counter(tmp_path: Path) -> None:
    rows = [harvest_row(), harvest_row(), harvest_row(notes="other"), harvest_row()]
    path = write(tmp_path, "h.csv", "\n".join([HARVEST_HEADER, *rows]))
    _, entries, _ = read_export(path)
    ids = [e.source_id for e in entries]
    base = ids[0]
    assert ids == [base, f"{base}#2", ids[2], f"{base}#3"] and ids[2] != base
    assert len({e.ref for e in entries}) == 4


# --------------------------------------------------------------------------------------------- the source


def test_csv_source_implements_the_port_and_filters_to_the_period() -> None:
    files = [GOLDEN / "harvest_detailed.csv", GOLDEN / "toggl_detailed.csv", GOLDEN / "clockify_detailed.csv"]
    source = CsvSource(files)
    assert isinstance(source, TimeSource)
    seen: list[tuple[int, int, str]] = []
    result = source.fetch(OCTOBER, progress=lambda d, t, w: seen.append((d, t, w)))
    assert len(result.entries) == 9 + 6 + 5  # one September Harvest row and one November Toggl row left out
    assert all(OCTOBER.contains(e.date) for e in result.entries)
    assert result.covers == ("harvest", "toggl", "clockify")
    assert result.descriptions == (
        "harvest_detailed.csv: Harvest detailed export, 10 rows, 9 in 2026-10",
        "toggl_detailed.csv: Toggl Track detailed export, 7 rows, 6 in 2026-10",
        "clockify_detailed.csv: Clockify detailed export, 5 rows, 5 in 2026-10",
    )
    assert seen[0] == (0, 3, "reading harvest_detailed.csv") and seen[-1] == (3, 3, "read")
    assert len({e.ref for e in result.entries}) == len(result.entries)


def test_csv_source_reports_errors_of_every_file_and_imports_nothing(tmp_path: Path) -> None:
    good = write(tmp_path, "good.csv", HARVEST_HEADER + "\n" + harvest_row() + "\n")
    bad1 = write(tmp_path, "bad1.csv", HARVEST_HEADER + "\n" + harvest_row(hours="x") + "\n")
    bad2 = write(tmp_path, "bad2.csv", "nope\n1\n")
    with pytest.raises(InputErrors) as info:
        CsvSource([good, bad1, bad2]).fetch(OCTOBER)
    assert [e.location.file for e in info.value.errors] == ["bad1.csv", "bad2.csv"]
    assert all(isinstance(e, InputError) for e in info.value.errors)


def test_csv_source_skip_bad_rows_leaves_the_source_out_of_covers(tmp_path: Path) -> None:
    harvest = write(tmp_path, "h.csv", "\n".join([HARVEST_HEADER, harvest_row(), harvest_row(hours="x")]))
    result = CsvSource([harvest, GOLDEN / "clockify_detailed.csv"], skip_bad_rows=True).fetch(OCTOBER)
    assert len(result.entries) == 1 + 5
    assert result.skipped == (SkippedRow("h.csv:3", 'column Hours: "x" is not a number of hours'),)
    assert result.covers == ("clockify",)  # harvest is incomplete: its rows must not be flagged as gone
    assert result.descriptions[0] == "h.csv: Harvest detailed export, 2 rows, 1 in 2026-10, 1 skipped"


def test_overlapping_exports_keep_one_copy_and_conflicts_are_errors(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", "\n".join([HARVEST_HEADER, harvest_row(), harvest_row(notes="x")]))
    b = write(tmp_path, "b.csv", "\n".join([HARVEST_HEADER, harvest_row(notes="x")]))
    result = CsvSource([a, b]).fetch(OCTOBER)
    assert len(result.entries) == 2
    assert result.descriptions[1] == "b.csv: Harvest detailed export, 1 row, 1 in 2026-10, 1 already in an earlier file"
    changed = write(tmp_path, "c.csv", "\n".join([HARVEST_HEADER, harvest_row(notes="x", hours="3")]))
    with pytest.raises(InputErrors, match=r"c.csv: has an entry that a.csv also has, with different values"):
        CsvSource([a, changed]).fetch(OCTOBER)


def test_values_spilling_past_the_header_are_reported_once(tmp_path: Path) -> None:
    path = write(tmp_path, "h.csv", HARVEST_HEADER + "\n" + harvest_row() + ",stray\n" + harvest_row() + ",,\n")
    with pytest.raises(InputErrors) as info:
        read_export(path)
    # The padded row (empty extra cells, as spreadsheets write them) is fine; the spilled one is not.
    assert [str(e) for e in info.value.errors] == [
        "h.csv:2: has 22 values but the header has 21 columns (an unquoted comma in a value?)"
    ]


def test_malformed_csv_names_the_line_where_the_record_starts(tmp_path: Path) -> None:
    path = write(tmp_path, "h.csv", HARVEST_HEADER + "\n" + harvest_row() + "\n" + harvest_row(notes='"never closed'))
    with pytest.raises(InputErrors) as info:
        read_export(path, skip_bad_rows=True)
    assert str(info.value.errors[-1]).startswith("h.csv:3: is not well-formed CSV")
