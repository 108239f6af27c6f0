"""Round trip: random entries written in each export format (by the sample's CSV writer) read back equal."""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.models import TimeEntry
from functions.sample.export_writers import CLOCKIFY_HEADER, TOGGL_HEADER, write_csv
from functions.sources.csv_exports import read_export

# Any text a person may type, except the characters no tracker exports (controls other than \n,
# surrogates); surrounding whitespace is not kept by the importer, so the strategy does not produce it.
_chars = st.characters(blacklist_categories=("Cs", "Cc")) | st.just("\n")
text = st.text(_chars, max_size=40).map(lambda s: s.strip())
word = (
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Z"), blacklist_characters=","), min_size=1, max_size=12)
    .map(lambda s: s.strip())
    .filter(bool)
)
person = st.lists(word, min_size=1, max_size=3).map(" ".join)
tags = st.lists(word, max_size=3).map(tuple)
days = st.dates(date(2000, 1, 1), date(2099, 12, 31))
hours_2dp = st.decimals(min_value=0, max_value=Decimal("24.00"), places=2)  # one entry holds at most 24 h
rate_2dp = st.none() | st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2)
CURRENCY_NAMES = {
    "USD": "United States Dollar - USD",
    "EUR": "Euro - EUR",
    "GBP": "British Pound - GBP",
    "JPY": "Japanese Yen - JPY",
}


def _read_back(header: list[str], rows: list[list[str]], *, crlf: bool = False, bom: bool = False):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "export.csv"
        write_csv(path, header, rows, crlf=crlf, bom=bom)
        return read_export(path)


def _same(written: list[TimeEntry], read: tuple[TimeEntry, ...]) -> None:
    assert len(read) == len(written)
    assert len({e.source_id for e in read}) == len(read)
    for w, r in zip(written, read, strict=True):
        assert r == w.model_copy(update={"source_id": r.source_id})


harvest_entry = st.builds(
    TimeEntry,
    source=st.just("harvest"),
    source_id=st.just("?"),
    date=days,
    client=text,
    project=text,
    task=text,
    person=person,
    role=st.just("") | word,
    notes=text,
    hours=hours_2dp,
    billable=st.booleans(),
    rate=rate_2dp,
    currency=st.none() | st.sampled_from(sorted(CURRENCY_NAMES)),
    url=text,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(harvest_entry, max_size=8), us_dates=st.booleans(), crlf=st.booleans())
def test_harvest_round_trip(entries: list[TimeEntry], us_dates: bool, crlf: bool) -> None:
    header = [
        "Date",
        "Client",
        "Project",
        "Task",
        "Notes",
        "Hours",
        "Billable?",
        "First Name",
        "Last Name",
        "Roles",
        "Billable Rate",
        "Currency",
        "External Reference URL",
    ]
    rows = []
    for e in entries:
        first, _, last = e.person.partition(" ")
        rows.append(
            [
                e.date.strftime("%m/%d/%Y") if us_dates else e.date.isoformat(),
                e.client,
                e.project,
                e.task,
                e.notes,
                str(e.hours),
                "Yes" if e.billable else "No",
                first,
                last,
                f"{e.role}, Other" if e.role else "",
                "" if e.rate is None else str(e.rate),
                CURRENCY_NAMES.get(e.currency or "", ""),
                e.url,
            ]
        )
    fmt, read, skipped = _read_back(header, rows, crlf=crlf)
    assert fmt == "harvest" and skipped == ()
    _same(entries, read)


toggl_entry = st.builds(
    TimeEntry,
    source=st.just("toggl"),
    source_id=st.just("?"),
    date=days,
    client=text,
    project=text,
    task=text,
    person=person,
    email=text,
    notes=text,
    # Quarter hours and whole-unit rates, so amount = rate x hours is exact and amount / hours gives the rate.
    hours=st.integers(0, 96).map(lambda q: Decimal(q) / 4),
    billable=st.booleans(),
    rate=st.none() | st.integers(1, 500).map(Decimal),
    tags=tags,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(toggl_entry, max_size=8), currency=st.sampled_from(["USD", "EUR", "CAD"]))
def test_toggl_round_trip(entries: list[TimeEntry], currency: str) -> None:
    # An entry without time cannot carry a rate (there is nothing to divide by); its currency is the rate's.
    entries = [e.model_copy(update={"rate": e.rate if e.hours else None}) for e in entries]
    entries = [e.model_copy(update={"currency": currency if e.rate is not None else None}) for e in entries]
    header = [*TOGGL_HEADER[:-1], f"Amount ({currency})"]  # the export's own columns
    rows = []
    for i, e in enumerate(entries):
        start = datetime.combine(e.date, datetime.min.time()) + timedelta(minutes=7 * i)
        seconds = int(e.hours * 3600)
        end = start + timedelta(seconds=seconds)
        rows.append(
            [
                e.person,
                e.email,
                e.client,
                e.project,
                e.task,
                e.notes,
                "Yes" if e.billable else "No",
                start.date().isoformat(),
                start.strftime("%H:%M:%S"),
                end.date().isoformat(),
                end.strftime("%H:%M:%S"),
                f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}",
                ", ".join(e.tags),
                "0.00" if e.rate is None else f"{e.rate * e.hours:.2f}",
            ]
        )
    fmt, read, _ = _read_back(header, rows, bom=True)
    assert fmt == "toggl"
    _same(entries, read)


clockify_entry = st.builds(
    TimeEntry,
    source=st.just("clockify"),
    source_id=st.just("?"),
    date=days,
    client=text,
    project=text,
    task=text,
    person=person,
    role=text,
    email=text,
    notes=text,
    hours=hours_2dp,
    billable=st.booleans(),
    rate=rate_2dp,
    tags=tags,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(clockify_entry, max_size=8), currency=st.sampled_from(["USD", "EUR"]), decimal_column=st.booleans()
)
def test_clockify_round_trip(entries: list[TimeEntry], currency: str, decimal_column: bool) -> None:
    if not decimal_column:  # Duration (h) has whole seconds only: keep hours it can hold exactly
        entries = [e.model_copy(update={"hours": (e.hours * 4).to_integral_value() / 4}) for e in entries]
    entries = [e.model_copy(update={"currency": currency if e.rate is not None else None}) for e in entries]
    header = [*CLOCKIFY_HEADER[:-2], f"Billable Rate ({currency})", f"Billable Amount ({currency})"]
    rows = []
    for i, e in enumerate(entries):
        start = datetime.combine(e.date, datetime.min.time()) + timedelta(minutes=13 * i)
        seconds = int(e.hours * 3600)
        rows.append(
            [
                e.project,
                e.client,
                e.notes,
                e.task,
                e.person,
                e.role,
                e.email,
                ", ".join(e.tags),
                "Yes" if e.billable else "No",
                e.date.strftime("%m/%d/%Y"),
                start.strftime("%I:%M %p"),
                "",
                "",
                f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}",
                str(e.hours) if decimal_column else "",
                "" if e.rate is None else str(e.rate),
                "",
            ]
        )
    fmt, read, _ = _read_back(header, rows)
    assert fmt == "clockify"
    _same(entries, read)
