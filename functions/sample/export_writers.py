"""The sample agency's entries written as each tracker exports them: Harvest's detailed export (decimal hours,
US dates, CRLF), Toggl Track's (HH:MM:SS durations, a UTF-8 BOM) and Clockify's (12-hour clock, both duration
columns). `generate` plans the entries; this module only writes them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from ..money import round_money
from .habits import COST_RATES, CURRENCY_NAMES

# the export's header row, as the tracker writes it
HARVEST_HEADER = (
    "Date,Client,Project,Project Code,Task,Notes,Hours,Hours Rounded,Billable?,Invoiced?,Approved?,"
    "First Name,Last Name,Roles,Employee?,Billable Rate,Billable Amount,Cost Rate,Cost Amount,Currency,"
    "External Reference URL"
).split(",")
# the export's header row, as the tracker writes it
TOGGL_HEADER = (
    "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,"
    "Duration,Tags,Amount (USD)"
).split(",")
# the export's header row, as the tracker writes it
CLOCKIFY_HEADER = (
    "Project,Client,Description,Task,User,Group,Email,Tags,Billable,Start Date,Start Time,End Date,"
    "End Time,Duration (h),Duration (decimal),Billable Rate (USD),Billable Amount (USD)"
).split(",")


def ticket_prefix(client: str) -> str:
    word = "".join(ch for ch in client.split()[0] if ch.isalpha()).upper()
    return word[:5] if len(word) <= 5 else word[:4]


@dataclass(frozen=True)
class Planned:
    """One generated entry before it is written in its tracker's format."""

    tracker: str
    day: date
    person: dict
    client: dict
    project: str
    category: str
    notes: str
    hours: Decimal  # what the person logged (Harvest) or planned (timers add seconds of jitter)
    billable: bool
    task: str = ""
    tags: tuple[str, ...] = ()
    seconds: int = 0  # timer duration, Toggl/Clockify
    start: datetime | None = None
    rate: Decimal | None = None
    url: str = ""


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _hhmmss(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def harvest_rows(entries: list[Planned]) -> list[list[str]]:
    rows = []
    for e in entries:
        first, last = e.person["name"].split(" ", 1)
        rounded = (e.hours * 4).to_integral_value(rounding="ROUND_CEILING") / 4
        cost = Decimal(COST_RATES[e.person["role"]])
        rows.append(
            [
                e.day.isoformat(),
                e.client["name"],
                e.project,
                f"{ticket_prefix(e.client['name'])}-{e.project[:3].upper()}",
                e.task,
                e.notes,
                str(e.hours),
                f"{rounded:.2f}",
                "Yes" if e.billable else "No",
                "No",
                "Yes" if e.day.day < 25 else "No",
                first,
                last,
                e.person["role"],
                "Yes",
                "" if e.rate is None else _money(e.rate),
                "" if e.rate is None else _money(round_money(e.rate * e.hours)),
                _money(cost),
                _money(round_money(cost * e.hours)),
                CURRENCY_NAMES[e.client["currency"]],
                e.url,
            ]
        )
    return rows


def toggl_rows(entries: list[Planned]) -> list[list[str]]:
    rows = []
    for e in entries:
        assert e.start is not None
        end = e.start + timedelta(seconds=e.seconds)
        amount = "" if e.rate is None else _money(round_money(e.rate * e.seconds / Decimal(3600)))
        rows.append(
            [
                e.person["name"],
                e.person["email"],
                e.client["name"],
                e.project,
                e.task,
                e.notes,
                "Yes" if e.billable else "No",
                e.day.isoformat(),
                e.start.strftime("%H:%M:%S"),
                end.date().isoformat(),
                end.strftime("%H:%M:%S"),
                _hhmmss(e.seconds),
                ", ".join(e.tags),
                amount if e.billable else "0.00",
            ]
        )
    return rows


def clockify_rows(entries: list[Planned]) -> list[list[str]]:
    rows = []
    for e in entries:
        assert e.start is not None
        end = e.start + timedelta(seconds=e.seconds)
        hours = (Decimal(e.seconds) / 3600).quantize(Decimal("0.01"))
        rows.append(
            [
                e.project,
                e.client["name"],
                e.notes,
                e.task,
                e.person["name"],
                e.person["role"],
                e.person["email"],
                ", ".join(e.tags),
                "Yes" if e.billable else "No",
                e.day.strftime("%m/%d/%Y"),
                e.start.strftime("%I:%M %p"),
                end.strftime("%m/%d/%Y"),
                end.strftime("%I:%M %p"),
                _hhmmss(e.seconds),
                f"{hours:.2f}",
                "" if e.rate is None else _money(e.rate),
                "" if e.rate is None else _money(round_money(e.rate * hours)),
            ]
        )
    return rows


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, crlf: bool = False, bom: bool = False) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buf.getvalue().encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
