"""The Harvest, Toggl Track and Clockify export formats, declared as data, and detecting which one a file is.

Each format is a small class whose attributes are the columns it reads (see `columns`), plus the few fields
derived from several columns (`entry_fields`). The reader (`csv_exports`) is the same for all of them; the
format is chosen from the header row by `layout_of`.

    >>> Harvest.columns()["billable"].header, layout_of(["Date", "Client", "Project", "Task", "Notes", "Hours",
    ...     "First Name", "Last Name"]).format is Harvest
    ('Billable?', True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from ..money import round_money
from ..values import BadValue
from .columns import (
    Clock,
    Column,
    Currency,
    Date,
    Duration,
    Hours,
    ListOf,
    Money,
    Rate,
    Text,
    YesNo,
    parse_duration,
    parse_hours,
)


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
            "date": v["date"],
            "client": v["client"],
            "project": v["project"],
            "task": v["task"],
            "person": " ".join(p for p in (v["first_name"], v["last_name"]) if p),
            "role": v["roles"][0] if v["roles"] else "",
            "notes": v["notes"],
            "hours": v["hours"],
            "billable": v["billable"],
            "rate": v["rate"],
            "currency": v["currency"],
            "url": v["url"],
        }


def _timer_entry(
    v: dict[str, Any], hours: Decimal, rate: Decimal | None, currency: str | None, **extra: Any
) -> dict[str, Any]:
    """The TimeEntry fields Toggl and Clockify exports share. The header's currency is the currency of the
    tracker's rate, so an entry without a rate has none."""
    return {
        "date": v["start_date"],
        "client": v["client"],
        "project": v["project"],
        "task": v["task"],
        "person": v["user"],
        "email": v["email"],
        "notes": v["description"],
        "hours": hours,
        "billable": v["billable"],
        "rate": rate,
        "currency": currency if rate is not None else None,
        "tags": v["tags"],
        **extra,
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
        # The timer's seconds are the hours, exactly (7:30 is 0.125 h); 1:23:47 at 95/h reads back as 95.00.
        rate = round_money(amount / exact_hours, currency) if amount and exact_hours else None
        return _timer_entry(v, exact_hours, rate, currency)


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
        # The HH:MM:SS duration is exact; the decimal column is the same time cut to 0.01 h, the fallback.
        hours = v["duration_h"] if v["duration_h"] is not None else v["duration_decimal"]
        if hours is None:
            raise BadValue("has no duration: both Duration (decimal) and Duration (h) are empty")
        return _timer_entry(v, hours, v["rate"], currency, role=v["group"])


FORMATS: tuple[type[ExportFormat], ...] = (Harvest, Toggl, Clockify)

# Clockify needs one of its two duration columns; a declaration cannot say "one of", so detection checks it.
_ONE_OF: dict[str, tuple[str, ...]] = {"clockify": ("Duration (decimal)", "Duration (h)")}


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
