"""Time entries from the CSV exports of Harvest, Toggl Track and Clockify (the offline TimeSource).

Each export format is declared as data (`export_formats`: a small class whose attributes are the columns it
reads, beangulp style; `columns`: the kinds of cell). This module is the one reader for all of them: it
detects the format from the header row, reads and checks every row, gives each entry its id, and serves the
files as a TimeSource.

    >>> source = CsvSource([Path("october_harvest.csv"), Path("october_toggl.csv")])
    >>> result = source.fetch(Period.parse("2026-10"))          # doctest: +SKIP
    >>> result.descriptions[0]                                  # doctest: +SKIP
    'october_harvest.csv: Harvest detailed export, 812 rows, 790 in 2026-10'

Choices a user should know:

- Dates are read as ISO `YYYY-MM-DD` or with slashes, in every format (the rule of `functions.values`,
  the same as the workbook's). The order of slash dates is told from the whole file, never row by row: a
  file with a first field above 12 anywhere (`13/10/2026`) is read day-first (`DD/MM/YYYY`, a European
  export) on every row, and says so in its description; one with a second field above 12 is month-first
  (US); one whose slash dates are all ambiguous (every day 12 or less) is read month-first, the US default
  of the trackers, so export with ISO dates when in doubt. A file with both orders is refused.
  Billable is Yes/No (also TRUE/FALSE, 1/0, x).
- Clock times (Toggl, Clockify) are read as 24-hour `HH:MM[:SS]` or 12-hour `HH:MM[:SS] AM/PM`.
- Toggl and Clockify name their currency in a header (`Amount (USD)`); it is the currency of the tracker's
  rate, so an entry without a rate has no currency. Harvest names the currency on each row. A rate of 0 is
  read as "no rate" (that is how Harvest and Clockify show a missing one).
- Hours are decimal (`1.5`) or a duration (`1:30` / `1:30:00`); a decimal comma (`1,5`) is refused as
  ambiguous. One entry holds at most 24 h (as a Time row does). Money goes through `functions.money` and is
  Decimal all the way.
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
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import InputError, InputErrors, Location
from ..models import Period, TimeEntry
from ..ports import ImportResult, Progress, SkippedRow, no_progress
from ..values import BadValue, slash_date_order
from .columns import parse_required_date, parse_required_date_day_first
from .export_formats import ExportFormat, UnknownFormat, layout_of


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
    notes: str = ""  # how the file was read where it had a choice ("dates read day-first ...")


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
            if "field limit" in str(exc):  # csv's own words ("field larger than field limit (131072)") say little
                message = (
                    f"has a value longer than {csv.field_size_limit():,} characters (a pasted log in the notes?); "
                    "shorten it in the tracker and export again"
                )
            else:
                message = f"is not well-formed CSV ({exc})"
            raise InputError(message, Location(file=path.name, line=start)) from None
        if not any(cell.strip() for cell in row):
            continue  # blank lines, including the trailing ones some exporters add
        yield start, row


def _identity(fmt: type[ExportFormat], e: TimeEntry, v: dict[str, Any]) -> list[str]:
    fields = [e.date.isoformat(), e.person, e.client, e.project, e.task, e.notes]
    for name in fmt.identity_extra:
        value = v.get(name)
        fields.append("" if value is None else value.isoformat())
    return fields


def _semicolon_hint(header: Sequence[str]) -> str:
    """A header read as one or two cells with semicolons in them is a semicolon-separated file (Excel saves CSV
    that way where the decimal separator is a comma): say how to export it with commas."""
    if sum(h.count(";") for h in header) < max(2, len(header)):
        return ""
    return (
        ". This file is separated by semicolons (;), as Excel saves CSV in many European locales: export it "
        'again from the tracker, or save it with commas (Excel: "CSV UTF-8 (Comma delimited)"; LibreOffice: '
        'field delimiter ",").'
    )


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
    date_note = ""
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
            raise InputErrors(
                [InputError(str(exc) + _semicolon_hint(header), Location(file=path.name, line=1))], what=what
            ) from None
        fmt = layout.format
        columns = fmt.columns()
        body = list(records)
        date_columns = [n for n, c in columns.items() if c.parse is parse_required_date and layout.index[n] is not None]
        try:
            order, evidence = slash_date_order(
                (f"line {line}", row[i])
                for line, row in body
                for i in (layout.index[n] for n in date_columns)
                if i is not None and i < len(row)
            )
        except BadValue as exc:
            raise InputErrors([InputError(str(exc), where)], what=what) from None
        if order == "day-first":
            columns = {
                n: replace(c, parse=parse_required_date_day_first) if n in date_columns else c
                for n, c in columns.items()
            }
            date_note = f"dates read day-first (DD/MM/YYYY, from {evidence})"
        seen: Counter[str] = Counter()
        for line, row in body:
            rows += 1
            problems: list[InputError] = []
            v: dict[str, Any] = {}
            for name, col in columns.items():
                i = layout.index[name]
                if i is None:  # a column this export's layout does not have
                    v[name] = col.default
                    continue
                cell = row[i].strip() if i < len(row) else ""
                try:
                    value = col.parse(cell)
                except BadValue as exc:
                    problems.append(InputError(str(exc), Location(file=path.name, line=line, column=header[i].strip())))
                    continue
                v[name] = col.default if value is None and col.default is not None else value
            # Spreadsheets pad rows with empty cells, so a count that differs only matters when values spill
            # past the header or a cell failed (most likely shifted by an unquoted comma).
            spilled = len(row) > len(header) and any(c.strip() for c in row[len(header) :])
            if spilled or (problems and len(row) != len(header)):
                problems.insert(
                    0,
                    InputError(
                        f"has {len(row)} values but the header has {len(header)} columns "
                        "(an unquoted comma in a value?)",
                        Location(file=path.name, line=line),
                    ),
                )
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
                    problems.append(
                        InputError(f"cannot be read ({exc.errors()[0]['msg']})", Location(file=path.name, line=line))
                    )
            if problems:
                errors.extend(problems)
                skipped.append(
                    SkippedRow(
                        f"{path.name}:{line}",
                        "; ".join(
                            f"column {p.location.column}: {p.message}"
                            if p.location and p.location.column
                            else p.message
                            for p in problems
                        ),
                    )
                )
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
    return ParsedExport(path, fmt, tuple(entries), tuple(skipped) if skip_bad_rows else (), rows, date_note)


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
                    errors.append(
                        InputError(
                            f"has an entry that {prior[1]} also has, with different values ({e.date}, {e.person}, "
                            f"{e.client}); export the period once",
                            Location(file=p.path.name, entry=e.ref),
                        )
                    )
            rows = f"{p.rows} row" if p.rows == 1 else f"{p.rows} rows"
            text = f"{p.path.name}: {p.format.label}, {rows}, {len(in_period)} in {period}"
            if overlap:
                text += f", {overlap} already in an earlier file"
            if p.notes:
                text += f", {p.notes}"
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
