"""Time entries from the CSV exports of Harvest, Toggl Track and Clockify (the offline TimeSource).

Each export format is declared as data: a small class whose attributes are the columns it reads (beangulp
style), plus the few fields derived from several columns. One reader handles all of them; the format is
detected from the header row.

    >>> source = CsvSource([Path("october_harvest.csv"), Path("october_toggl.csv")])
    >>> result = source.fetch(Period.parse("2026-10"))          # doctest: +SKIP
    >>> result.descriptions[0]                                  # doctest: +SKIP
    'october_harvest.csv: Harvest detailed export, 812 rows, 790 in 2026-10'

Choices a user should know:

- Dates are read as ISO `YYYY-MM-DD` or US `MM/DD/YYYY`, in every format. Day-first dates (`DD/MM/YYYY`) are
  not accepted, because `03/10/2026` cannot be told apart from March 10; export with ISO or US dates.
- Clock times (Toggl, Clockify) are read as 24-hour `HH:MM[:SS]` or 12-hour `HH:MM[:SS] AM/PM`.
- Toggl and Clockify name their currency in a header (`Amount (USD)`); it is the currency of the tracker's
  rate, so an entry without a rate has no currency. Harvest names the currency on each row. A rate of 0 is
  read as "no rate" (that is how Harvest and Clockify show a missing one).
- Hours are decimal (`1.5`) or a duration (`1:30` / `1:30:00`); a decimal comma (`1,5`) is refused as
  ambiguous. Money goes through `functions.money` and is Decimal all the way.
- The exports carry no entry id, so `source_id` is a hash of the entry's identity: date, person, client,
  project, task, notes (and the start date and time for Toggl and Clockify). Hours, rate and billable are
  not part of it, so a change of hours in the tracker is seen as a change of the same entry. A second,
  third... identical row in one file gets `#2`, `#3`, so true duplicates stay separate entries. Editing the
  notes of an entry in the tracker therefore makes it a new entry (and the old one "gone").
- A file with any bad row imports nothing: every problem is reported at once, each naming file, line (of
  the physical line where the record starts, header = line 1) and column. With `skip_bad_rows=True` the
  good rows import and each bad row comes back as a `SkippedRow`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ValidationError

from ..errors import InputError, InputErrors, Location
from ..models import Period, TimeEntry
from ..money import NotAnAmount, parse_amount, round_hours, round_money
from ..ports import ImportResult, Progress, SkippedRow, no_progress

# ---------------------------------------------------------------------------------------------------------
# Cell parsers. Each takes the stripped text of a cell and returns a value or raises ValueError with a
# sentence about the value (the reader adds file, line and column).


class BadValue(ValueError):
    """A cell's text cannot be read; the message says why, without saying where."""


def _text(value: str) -> str:
    # Quoted newlines keep the file's line ending; normalise so a note hashes the same in CRLF and LF files.
    return value.replace("\r\n", "\n").replace("\r", "\n")


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_date(value: str) -> date:
    """`2026-10-05` or `10/05/2026` (US, month first)."""
    if not value:
        raise BadValue("is empty; a date is needed")
    m = _ISO_DATE.match(value)
    try:
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = _US_DATE.match(value)
        if m:
            month, day = int(m.group(1)), int(m.group(2))
            if month > 12 and day <= 12:
                raise BadValue(
                    f'"{value}" is not a date: it looks day-first (DD/MM/YYYY), which cannot be told apart from '
                    f"MM/DD/YYYY; export with YYYY-MM-DD or MM/DD/YYYY dates"
                )
            return date(int(m.group(3)), month, day)
    except ValueError as exc:
        if isinstance(exc, BadValue):
            raise
        raise BadValue(f'"{value}" is not a date on the calendar') from None
    raise BadValue(f'"{value}" is not a date; write it as YYYY-MM-DD or MM/DD/YYYY')


_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?$")


def parse_clock(value: str) -> time | None:
    """`14:05`, `14:05:09`, `2:05 PM`, `02:05:09 pm`; blank -> None."""
    if not value:
        return None
    m = _CLOCK.match(value)
    if m:
        hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
        meridiem = (m.group(4) or "").upper()
        if meridiem:
            if not 1 <= hour <= 12:
                hour = 99
            else:
                hour = hour % 12 + (12 if meridiem == "PM" else 0)
        if hour < 24 and minute < 60 and second < 60:
            return time(hour, minute, second)
    raise BadValue(f'"{value}" is not a time of day; write it as HH:MM or HH:MM AM/PM')


_DURATION = re.compile(r"^(\d+):(\d{2})(?::(\d{2}))?$")
_DECIMAL_HOURS = re.compile(r"^\d+(\.\d+)?$|^\.\d+$")


def _duration_seconds(value: str) -> int | None:
    m = _DURATION.match(value)
    if not m or int(m.group(2)) >= 60 or int(m.group(3) or 0) >= 60:
        return None
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0)


def parse_hours(value: str) -> Decimal:
    """Decimal hours (`1.5`, `0.25`) or a duration (`1:30`, `01:30:00`), never negative."""
    if not value:
        raise BadValue("is empty; a number of hours is needed")
    if _DECIMAL_HOURS.match(value):
        return Decimal(value)
    seconds = _duration_seconds(value)
    if seconds is not None:
        return round_hours(Decimal(seconds) / Decimal(3600))
    raise BadValue(f'"{value}" is not a number of hours')


def parse_duration(value: str) -> Decimal:
    """A timer duration `HH:MM:SS` (or `HH:MM`), as exact hours; rounded by the caller."""
    if not value:
        raise BadValue("is empty; a duration is needed")
    seconds = _duration_seconds(value)
    if seconds is None:
        raise BadValue(f'"{value}" is not a duration; write it as HH:MM:SS')
    return Decimal(seconds) / Decimal(3600)


def parse_money(value: str) -> Decimal | None:
    """An amount or rate; blank -> None."""
    if not value:
        return None
    try:
        amount = parse_amount(value)
    except NotAnAmount:
        raise BadValue(f'"{value}" is not an amount') from None
    if amount < 0:
        raise BadValue(f'"{value}" is negative; a rate or amount cannot be')
    return amount


_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


def parse_yes_no(value: str) -> bool | None:
    """`Yes`/`No` (also true/false, 1/0); blank -> None (the column's default applies)."""
    if not value:
        return None
    low = value.casefold()
    if low in _YES:
        return True
    if low in _NO:
        return False
    raise BadValue(f'"{value}" is not Yes or No')


_CURRENCY = re.compile(r"(?:^|[\s\-(])([A-Z]{3})\)?$")


def parse_currency(value: str) -> str | None:
    """Harvest writes `Euro - EUR`, `United States Dollar - USD`; a bare `EUR` is fine too. Blank -> None."""
    if not value:
        return None
    m = _CURRENCY.search(value)
    if not m:
        raise BadValue(f'"{value}" does not name a currency (expected something like "Euro - EUR")')
    return m.group(1)


def parse_list(value: str) -> tuple[str, ...]:
    """A comma-separated list (tags, roles), blanks dropped."""
    return tuple(part.strip() for part in value.split(",") if part.strip())


# ---------------------------------------------------------------------------------------------------------
# Column declarations.


@dataclass(frozen=True)
class Column:
    """A column a format reads: its header, how to parse a cell, whether the header must be present.

    A header containing `(*)` matches any currency code in the parentheses, e.g. `Amount (*)` matches
    `Amount (USD)`; the code found is the file's currency.
    """

    header: str
    parse: Callable[[str], Any] = _text
    required: bool = True
    default: Any = None

    def matches(self, header: str) -> tuple[bool, str | None]:
        if "(*)" not in self.header:
            return header.casefold() == self.header.casefold(), None
        prefix = self.header.split("(*)")[0]
        m = re.fullmatch(re.escape(prefix) + r"\(([A-Za-z]{0,3})\)", header, flags=re.IGNORECASE)
        return (True, m.group(1).upper() or None) if m else (False, None)


def Text(header: str, required: bool = True) -> Column:
    return Column(header, _text, required, "")


def Date(header: str, required: bool = True) -> Column:
    return Column(header, parse_date, required)


def Clock(header: str, required: bool = True) -> Column:
    return Column(header, parse_clock, required)


def Hours(header: str, required: bool = True) -> Column:
    return Column(header, parse_hours, required)


def Duration(header: str, required: bool = True) -> Column:
    return Column(header, parse_duration, required)


def Money(header: str, required: bool = False) -> Column:
    return Column(header, parse_money, required)


def parse_rate(value: str) -> Decimal | None:
    """A tracker's hourly rate; blank or zero -> None (Harvest and Clockify show 0 when no rate is set)."""
    rate = parse_money(value)
    return None if rate is None or rate == 0 else rate


def Rate(header: str, required: bool = False) -> Column:
    return Column(header, parse_rate, required)


def YesNo(header: str, default: bool, required: bool = False) -> Column:
    return Column(header, parse_yes_no, required, default)


def Currency(header: str, required: bool = False) -> Column:
    return Column(header, parse_currency, required)


def ListOf(header: str, required: bool = False) -> Column:
    return Column(header, parse_list, required, ())


class ExportFormat:
    """One export format: its columns (class attributes of type Column) and how they make a TimeEntry.

    `entry_fields(v, currency)` turns the parsed cells `v` (by attribute name; a missing optional column
    gives its default) into TimeEntry fields. An entry is identified by its date, person, client, project,
    task and notes, plus the parsed cells named in `identity_extra` (the start, for timer-based trackers).
    """

    source: ClassVar[str]
    label: ClassVar[str]
    identity_extra: ClassVar[tuple[str, ...]] = ()  # parsed cells beyond the entry's fields (start time)

    @classmethod
    def columns(cls) -> dict[str, Column]:
        cols: dict[str, Column] = {}
        for klass in reversed(cls.__mro__):
            cols.update({k: v for k, v in vars(klass).items() if isinstance(v, Column)})
        return cols

    @classmethod
    def entry_fields(cls, v: dict[str, Any], currency: str | None) -> dict[str, Any]:
        raise NotImplementedError


class Harvest(ExportFormat):
    """Harvest's Detailed Time report export. Optional columns differ between accounts."""

    source = "harvest"
    label = "Harvest detailed export"

    date = Date("Date")
    client = Text("Client")
    project = Text("Project")
    task = Text("Task")
    notes = Text("Notes")
    hours = Hours("Hours")
    first_name = Text("First Name")
    last_name = Text("Last Name")
    billable = YesNo("Billable?", default=True)
    roles = ListOf("Roles")
    rate = Rate("Billable Rate")
    currency = Currency("Currency")
    url = Text("External Reference URL", required=False)

    @classmethod
    def entry_fields(cls, v: dict[str, Any], currency: str | None) -> dict[str, Any]:
        return {
            "date": v["date"], "client": v["client"], "project": v["project"], "task": v["task"],
            "person": " ".join(p for p in (v["first_name"], v["last_name"]) if p),
            "role": v["roles"][0] if v["roles"] else "",
            "notes": v["notes"], "hours": v["hours"], "billable": v["billable"], "rate": v["rate"],
            "currency": v["currency"], "url": v["url"],
        }


class Toggl(ExportFormat):
    """Toggl Track's Detailed report export (UTF-8 with BOM); the currency is in the `Amount (XXX)` header."""

    source = "toggl"
    label = "Toggl Track detailed export"
    identity_extra = ("start_date", "start_time")

    user = Text("User")
    email = Text("Email", required=False)
    client = Text("Client")
    project = Text("Project")
    task = Text("Task", required=False)
    description = Text("Description")
    billable = YesNo("Billable", default=True)
    start_date = Date("Start date")
    start_time = Clock("Start time", required=False)
    duration = Duration("Duration")
    tags = ListOf("Tags")
    amount = Money("Amount (*)")

    @classmethod
    def entry_fields(cls, v: dict[str, Any], currency: str | None) -> dict[str, Any]:
        exact_hours: Decimal = v["duration"]
        amount: Decimal | None = v["amount"]
        # Divide by the exact timer duration, not the rounded hours, so 1:23:47 at 95/h reads back as 95.00.
        rate = round_money(amount / exact_hours, currency) if amount and exact_hours else None
        return {
            "date": v["start_date"], "client": v["client"], "project": v["project"], "task": v["task"],
            "person": v["user"], "email": v["email"], "notes": v["description"],
            "hours": round_hours(exact_hours), "billable": v["billable"], "rate": rate,
            "currency": currency if rate is not None else None,
            "tags": v["tags"],
        }


class Clockify(ExportFormat):
    """Clockify's Detailed report export: US dates, 12-hour times, currency in the rate/amount headers."""

    source = "clockify"
    label = "Clockify detailed export"
    identity_extra = ("start_date", "start_time")

    project = Text("Project")
    client = Text("Client")
    description = Text("Description")
    task = Text("Task", required=False)
    user = Text("User")
    group = Text("Group", required=False)
    email = Text("Email", required=False)
    tags = ListOf("Tags")
    billable = YesNo("Billable", default=True)
    start_date = Date("Start Date")
    start_time = Clock("Start Time", required=False)
    duration_h = Column("Duration (h)", lambda s: parse_duration(s) if s else None, required=False)
    duration_decimal = Column("Duration (decimal)", lambda s: parse_hours(s) if s else None, required=False)
    rate = Rate("Billable Rate (*)")
    amount = Money("Billable Amount (*)")

    @classmethod
    def entry_fields(cls, v: dict[str, Any], currency: str | None) -> dict[str, Any]:
        hours = v["duration_decimal"]
        if hours is None:
            hours = round_hours(v["duration_h"]) if v["duration_h"] is not None else None
        if hours is None:
            raise BadValue("has no duration: both Duration (decimal) and Duration (h) are empty")
        return {
            "date": v["start_date"], "client": v["client"], "project": v["project"], "task": v["task"],
            "person": v["user"], "role": v["group"], "email": v["email"], "notes": v["description"],
            "hours": hours, "billable": v["billable"], "rate": v["rate"],
            "currency": currency if v["rate"] is not None else None,
            "tags": v["tags"],
        }


FORMATS: tuple[type[ExportFormat], ...] = (Harvest, Toggl, Clockify)

# Clockify needs one of its two duration columns; a declaration cannot say "one of", so detection checks it.
_ONE_OF: dict[str, tuple[str, ...]] = {"clockify": ("Duration (decimal)", "Duration (h)")}


# ---------------------------------------------------------------------------------------------------------
# Detection.


@dataclass(frozen=True)
class Layout:
    """A detected header: the format, where each column is, and the currency the header names."""

    format: type[ExportFormat]
    index: dict[str, int | None]  # attribute name -> column position (None: optional column absent)
    currency: str | None


class UnknownFormat(ValueError):
    """The header matches no known export; the message lists what each format missed."""


def _match(fmt: type[ExportFormat], header: Sequence[str]) -> tuple[Layout | None, list[str]]:
    index: dict[str, int | None] = {}
    currency: str | None = None
    missing: list[str] = []
    for name, col in fmt.columns().items():
        found = None
        for i, h in enumerate(header):
            ok, code = col.matches(h)
            if ok:
                found = i
                currency = currency or code
                break
        index[name] = found
        if found is None and col.required:
            missing.append(col.header.replace("(*)", "(XXX)"))
    alternatives = _ONE_OF.get(fmt.source)
    if alternatives and not any(a.casefold() in (h.casefold() for h in header) for a in alternatives):
        missing.append(" or ".join(alternatives))
    return (None if missing else Layout(fmt, index, currency)), missing


def detect(header: Sequence[str]) -> type[ExportFormat]:
    """The export format of a header row; raises UnknownFormat naming what each format missed.

        >>> detect(["Date", "Client", "Project", "Task", "Notes", "Hours", "First Name", "Last Name"]).label
        'Harvest detailed export'
    """
    return layout_of(header).format


def layout_of(header: Sequence[str]) -> Layout:
    """The format of `header` (the one whose required columns are all there) and where its columns are.

    Raises UnknownFormat saying, for each format tried, which required columns were missing.
    """
    cleaned = [h.strip().lstrip("\ufeff").strip() for h in header]
    tried: list[str] = []
    best: tuple[int, Layout] | None = None
    for fmt in FORMATS:
        layout, missing = _match(fmt, cleaned)
        if layout is None:
            tried.append(f"{fmt.label} (missing {', '.join(missing)})")
            continue
        # Several formats could in principle fit one header; the one that recognises the most columns wins.
        score = sum(i is not None for i in layout.index.values())
        if best is None or score > best[0]:
            best = (score, layout)
    if best is None:
        raise UnknownFormat("the header is not a known time export; tried " + "; ".join(tried))
    return best[1]


# ---------------------------------------------------------------------------------------------------------
# Reading.


def entry_id(source: str, fields: Sequence[str]) -> str:
    """The stable id of an entry from its identity fields (16 hex digits of a SHA-256)."""
    blob = "\x1f".join([source, *fields])
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class ParsedExport:
    """Everything read from one file: the format, entries (file order), skipped rows and row count."""

    path: Path
    format: type[ExportFormat]
    entries: tuple[TimeEntry, ...]
    skipped: tuple[SkippedRow, ...]
    rows: int


def _records(path: Path, text_lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells) for each non-blank record; header included."""
    reader = csv.reader(text_lines, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"is not well-formed CSV ({exc})", Location(file=path.name, line=start)) from None
        if not any(cell.strip() for cell in row):
            continue  # blank lines, including the trailing ones some exporters add
        yield start, row


def _identity(fmt: type[ExportFormat], e: TimeEntry, v: dict[str, Any]) -> list[str]:
    fields = [e.date.isoformat(), e.person, e.client, e.project, e.task, e.notes]
    for name in fmt.identity_extra:
        value = v.get(name)
        fields.append("" if value is None else value.isoformat())
    return fields


def parse_export(path: Path, skip_bad_rows: bool = False) -> ParsedExport:
    """Read one export file; raise InputErrors listing every problem unless `skip_bad_rows`.

    A header that matches no format, or a file that is not UTF-8 CSV, raises even with `skip_bad_rows`:
    nothing in it can be trusted.
    """
    where, what = Location(file=path.name), f"export {path.name}"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputErrors([InputError(f"cannot be read ({exc.strerror or exc})", where)], what=what) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputErrors(
            [InputError(f"is not UTF-8 text (byte {exc.start}); export it again as UTF-8 CSV", where)],
            what=what,
        ) from None

    errors: list[InputError] = []
    skipped: list[SkippedRow] = []
    entries: list[TimeEntry] = []
    rows = 0
    # StringIO(newline="") splits physical lines on \n, \r\n or \r only (str.splitlines would also split
    # on U+2028 and friends inside notes, and throw the line numbers off).
    records = _records(path, io.StringIO(text, newline=""))
    try:
        first = next(records, None)
        if first is None:
            raise InputErrors([InputError("is empty; expected a header row and time entries", where)], what=what)
        _, header = first
        try:
            layout = layout_of(header)
        except UnknownFormat as exc:
            raise InputErrors([InputError(str(exc), Location(file=path.name, line=1))], what=what) from None
        fmt = layout.format
        columns = fmt.columns()
        seen: Counter[str] = Counter()
        for line, row in records:
            rows += 1
            problems: list[InputError] = []
            v: dict[str, Any] = {}
            for name, col in columns.items():
                i = layout.index[name]
                cell = row[i].strip() if i is not None and i < len(row) else ""
                try:
                    value = col.parse(cell) if i is not None else col.default
                except BadValue as exc:
                    problems.append(InputError(str(exc), Location(file=path.name, line=line, column=header[i].strip())))
                    continue
                v[name] = col.default if value is None and col.default is not None else value
            # Spreadsheets pad rows with empty cells, so a count that differs only matters when values spill
            # past the header or a cell failed (most likely shifted by an unquoted comma).
            spilled = len(row) > len(header) and any(c.strip() for c in row[len(header):])
            if spilled or (problems and len(row) != len(header)):
                problems.insert(0, InputError(
                    f"has {len(row)} values but the header has {len(header)} columns (an unquoted comma in a value?)",
                    Location(file=path.name, line=line),
                ))
            entry = None
            if not problems:
                try:
                    fields = fmt.entry_fields(v, layout.currency)
                    if not fields["person"]:
                        raise BadValue("has no person (the user columns are empty)")
                    entry = TimeEntry(source=fmt.source, source_id="pending", **fields)
                except BadValue as exc:
                    problems.append(InputError(str(exc), Location(file=path.name, line=line)))
                except ValidationError as exc:  # pragma: no cover - the parsers above already hold the line
                    problems.append(InputError(f"cannot be read ({exc.errors()[0]['msg']})",
                                               Location(file=path.name, line=line)))
            if problems:
                errors.extend(problems)
                skipped.append(SkippedRow(
                    f"{path.name}:{line}",
                    "; ".join(f"column {p.location.column}: {p.message}" if p.location and p.location.column
                              else p.message for p in problems),
                ))
                continue
            assert entry is not None
            base = entry_id(fmt.source, _identity(fmt, entry, v))
            seen[base] += 1
            source_id = base if seen[base] == 1 else f"{base}#{seen[base]}"
            entries.append(entry.model_copy(update={"source_id": source_id}))
    except InputError as exc:  # malformed CSV: the rest of the file cannot be located reliably
        raise InputErrors([*errors, exc], what=what) from None

    if errors and not skip_bad_rows:
        raise InputErrors(errors, what=what)
    return ParsedExport(path, fmt, tuple(entries), tuple(skipped) if skip_bad_rows else (), rows)


def read_export(
    path: Path | str, skip_bad_rows: bool = False
) -> tuple[str, tuple[TimeEntry, ...], tuple[SkippedRow, ...]]:
    """(source name, entries in file order, skipped rows) of one export file."""
    parsed = parse_export(Path(path), skip_bad_rows)
    return parsed.format.source, parsed.entries, parsed.skipped


class CsvSource:
    """The TimeSource of CSV exports: several files, any mix of formats, filtered to the period.

    Sources with a skipped row are left out of `covers`, since their entries are not complete: a refresh
    should not flag rows as gone from the source because one of them could not be read.
    """

    def __init__(self, paths: Sequence[Path | str], skip_bad_rows: bool = False):
        self.paths = tuple(Path(p) for p in paths)
        self.skip_bad_rows = skip_bad_rows

    def describe(self) -> str:
        return ", ".join(p.name for p in self.paths) or "(no CSV files)"

    def fetch(self, period: Period, progress: Progress = no_progress) -> ImportResult:
        errors: list[InputError] = []
        parsed: list[ParsedExport] = []
        for i, path in enumerate(self.paths):
            progress(i, len(self.paths), f"reading {path.name}")
            try:
                parsed.append(parse_export(path, self.skip_bad_rows))
            except InputErrors as exc:
                errors.extend(exc.errors)
        progress(len(self.paths), len(self.paths), "read")
        if errors:
            raise InputErrors(errors, what="CSV exports")

        entries: list[TimeEntry] = []
        skipped: list[SkippedRow] = []
        descriptions: list[str] = []
        first_seen: dict[str, tuple[TimeEntry, str]] = {}
        sources: list[str] = []
        incomplete: set[str] = set()
        for p in parsed:
            in_period = [e for e in p.entries if period.contains(e.date)]
            overlap = 0
            for e in in_period:
                prior = first_seen.get(e.ref)
                if prior is None:
                    first_seen[e.ref] = (e, p.path.name)
                    entries.append(e)
                elif prior[0] == e:
                    overlap += 1  # the same entry in two overlapping exports
                else:
                    errors.append(InputError(
                        f"has an entry that {prior[1]} also has, with different values ({e.date}, {e.person}, "
                        f"{e.client}); export the period once",
                        Location(file=p.path.name, entry=e.ref),
                    ))
            rows = f"{p.rows} row" if p.rows == 1 else f"{p.rows} rows"
            text = f"{p.path.name}: {p.format.label}, {rows}, {len(in_period)} in {period}"
            if overlap:
                text += f", {overlap} already in an earlier file"
            if p.skipped:
                text += f", {len(p.skipped)} skipped"
                incomplete.add(p.format.source)
            descriptions.append(text)
            skipped.extend(p.skipped)
            if p.format.source not in sources:
                sources.append(p.format.source)
        if errors:
            raise InputErrors(errors, what="CSV exports")
        covers = tuple(s for s in sources if s not in incomplete)
        return ImportResult(tuple(entries), tuple(skipped), covers, tuple(descriptions))
