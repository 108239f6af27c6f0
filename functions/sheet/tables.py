"""The Time tab as values: parse its rows into TimeRow records, and render records back into cells.

Columns are found by header (contract.HeaderMap), so a sheet whose columns were reordered, or that has
extra columns a person added, reads the same. Parsing never raises on one bad cell: it collects
InputErrors naming the cell, and the caller decides (refresh tolerates bad review cells and keeps them as
they are; preview and create-invoices stop on them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any, TypeVar

from ..errors import InputError, Location
from ..models import Period, Suggestion, TimeEntry, TimeRow
from ..money import exact_hours
from ..values import MAX_ENTRY_HOURS, MAX_RATE, is_blank, parse_bool, parse_date, parse_decimal, text
from .cells import parse_float
from .contract import HeaderMap, Tab, load_contract
from .records import maker
from .records import trusted as trusted  # re-exported: the records' constructor was defined here

T = TypeVar("T")

SOURCE_KEYS = (
    "date",
    "client",
    "project",
    "task",
    "person",
    "role",
    "notes",
    "hours",
    "billable",
    "tracker_rate",
    "currency",
    "link",
    "email",
    "source",
    "entry_id",
)
REVIEW_KEYS = ("category", "line_item", "rate_override", "approved", "comment")
OUTPUT_KEYS = (
    "suggested_category",
    "suggested_by",
    "confidence",
    "suggested_description",
    "flags",
    "invoice",
    "sync_hash",
)


def time_tab() -> Tab:
    return load_contract().tab("Time")


@dataclass
class TimeTable:
    """The Time tab as read: its header map, parsed rows, and the problems found (by cell)."""

    header: HeaderMap
    rows: list[TimeRow] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # rows without Source/Entry ID, by cell
    last_row: int = 1  # the last row number holding anything (the header is row 1)
    # Problems that hold every run whatever the period, because the row's period or identity is unknown:
    # an unreadable Date or Hours, a blank Source/Entry ID, one Entry ID on two rows. Without them the row
    # would silently drop out of billing, and the next refresh would append the entry again as new.
    holds: list[InputError] = field(default_factory=list)

    def by_ref(self) -> dict[str, TimeRow]:
        return {r.entry.ref: r for r in self.rows}

    @property
    def header_errors(self) -> list[InputError]:
        """Problems with the header row itself (a required column missing): nothing can be read."""
        return [e for e in self.errors if e.location is not None and e.location.cell == "1:1"]

    def blocking(self, period: Period) -> list[InputError]:
        """The problems that stop billing `period`: the header's, those of rows in the period, and the holds
        (rows whose period or identity cannot be known)."""
        in_period = {r.row for r in self.rows if period.contains(r.entry.date)}
        held = {id(e) for e in self.holds}
        return [
            e
            for e in self.errors
            if id(e) in held
            or e.location is None
            or e.location.cell == "1:1"
            or _row_of(e) in in_period
            or _row_of(e) == 0
        ]


def _row_of(error: InputError) -> int:
    cell = (error.location.cell if error.location else "") or ""
    digits = "".join(ch for ch in cell if ch.isdigit())
    return int(digits) if digits else 0


def _slots(hm: HeaderMap) -> tuple[dict[str, int], int]:
    """key -> index into a row padded to `width`; a column the tab lacks reads the last slot, always None."""
    width = max(hm.index.values(), default=-1) + 2
    return {c.key: hm.index.get(c.key, width - 1) for c in hm.tab.columns}, width


def _cell_error(hm: HeaderMap, key: str, row_number: int, message: str) -> InputError:
    tab, cell = hm.cell(key, row_number).split("!")
    return InputError(message, Location(tab=tab, cell=cell))


def parse_time_tab(values: Sequence[Sequence[Any]]) -> TimeTable:
    """Parse every row of the Time tab (values[0] is the header row)."""
    header = list(values[0]) if values else []
    hm = HeaderMap(time_tab(), header)
    table = TimeTable(header=hm)
    for missing in hm.missing:
        if missing.key in ("source", "entry_id", "date", "client", "person", "hours"):
            table.errors.append(
                InputError(
                    f'the column "{missing.header}" is missing from the header row', Location(tab="Time", cell="1:1")
                )
            )
    if table.errors:
        return table
    slots, width = _slots(hm)
    # the slot of each key, as locals: this loop runs once per row of the tab (100,000 at scale)
    i_source, i_id, i_date, i_hours = slots["source"], slots["entry_id"], slots["date"], slots["hours"]
    i_client, i_project, i_task, i_person = slots["client"], slots["project"], slots["task"], slots["person"]
    i_role, i_email, i_notes, i_rate = slots["role"], slots["email"], slots["notes"], slots["tracker_rate"]
    i_currency, i_link, i_billable = slots["currency"], slots["link"], slots["billable"]
    i_category, i_line, i_override = slots["category"], slots["line_item"], slots["rate_override"]
    i_approved, i_comment, i_sby = slots["approved"], slots["comment"], slots["suggested_by"]
    i_scat, i_conf, i_sdesc = slots["suggested_category"], slots["confidence"], slots["suggested_description"]
    i_flags, i_invoice, i_hash = slots["flags"], slots["invoice"], slots["sync_hash"]
    # a tab repeats few distinct hours, rates and confidences: each distinct cell value is parsed once (by type
    # and value, so 1.5 and Decimal("1.5") stay apart; amounts by their text too, so 120 and 120.00 do)
    hours_seen: dict[tuple[type, object], Decimal] = {}
    amounts_seen: dict[tuple[type, str], Decimal | None] = {}
    confidences_seen: dict[tuple[type, object], float | None] = {}
    w1 = width - 1
    stripped = itemgetter(
        *(i_source, i_id, i_client, i_project, i_task, i_person, i_role, i_email, i_link, i_currency),
        *(i_category, i_line, i_scat, i_sby, i_invoice, i_hash),
    )
    free_text = itemgetter(i_notes, i_comment, i_sdesc, i_flags)
    pads = [[None] * (width - n) for n in range(w1 + 1)]  # the None padding of a row of n cells
    whole = all(i < w1 for i in slots.values())  # no column of the contract is missing from the header
    make_entry: Callable[[dict[str, Any]], TimeEntry] | None = None
    make_row: Callable[[dict[str, Any]], TimeRow] | None = None
    for offset, cells in enumerate(values[1:], start=2):
        if whole and len(cells) >= w1:
            raw = cells  # every key's slot is inside the row: read it as it is, without a padded copy
        else:
            raw = cells[:w1]
            if type(raw) is not list:
                raw = list(raw)
            raw += pads[len(raw)]
        first = raw[i_source]
        if (type(first) is not str or not first.strip()) and all(is_blank(v) for v in raw[:w1]):
            continue
        table.last_row = offset
        sid = raw[i_id]
        if not (type(first) is str and type(sid) is str and first.strip() and sid.strip()) and (
            is_blank(first) or is_blank(sid)
        ):
            key = "source" if is_blank(first) else "entry_id"
            table.ignored.append(f"{hm.cell(key, offset)}")
            hold = _cell_error(
                hm,
                key,
                offset,
                f"the row has no {hm.tab.column(key).header}, so it can be neither billed nor matched to the "
                "tracker (a refresh would add the entry again); put it back (undo), or delete the row",
            )
            table.errors.append(hold)
            table.holds.append(hold)
            continue
        errors: list[InputError] = []
        # a blank cell reads as its parser's blank value without calling it (None, or the bool's default)
        v = raw[i_date]
        day = v if type(v) is date else _parse(hm, errors, offset, "date", v, parse_date)
        v = raw[i_hours]
        hours = hours_seen.get((type(v), v))
        if hours is None:
            hours = _parse(hm, errors, offset, "hours", v, bounded, "a number of hours", MAX_ENTRY_HOURS, "hours")
            if hours is not None:
                hours = hours_seen[(type(v), v)] = exact_hours(hours)
        v = raw[i_rate]
        tracker_rate = None if v is None else _amount(hm, errors, offset, "tracker_rate", v, amounts_seen)
        v = raw[i_billable]
        billable = v if type(v) is bool else _parse(hm, errors, offset, "billable", v, parse_bool, True)
        v = raw[i_override]
        rate_override = None if v is None else _amount(hm, errors, offset, "rate_override", v, amounts_seen)
        v = raw[i_approved]
        approved = v if type(v) is bool else _parse(hm, errors, offset, "approved", v, parse_bool, False)
        v = raw[i_conf]
        confidence = None
        if v is not None:
            k2 = (type(v), v)
            if k2 in confidences_seen:
                confidence = confidences_seen[k2]
            else:
                n = len(errors)
                confidence = _parse(hm, errors, offset, "confidence", v, parse_float)
                if len(errors) == n:
                    confidences_seen[k2] = confidence
        if day is None and not errors:
            errors.append(_cell_error(hm, "date", offset, "the date is missing"))
        if hours is None and not errors:
            errors.append(_cell_error(hm, "hours", offset, "the hours are missing"))
        if errors:
            table.errors.extend(errors)
            # a row with a bad review cell must still be known to refresh, or its edits could be lost;
            # keep what can be kept and mark it approved (refresh then changes nothing in it).
            if day is None or hours is None:
                table.holds.extend(errors)  # its period is unknown: it holds every run
                continue
            approved = True if approved is None else approved
        assert day is not None and hours is not None  # a row without them was held above
        # Every value here is already typed and checked by the parsers above, so the records are built by
        # the trusted constructor (a pydantic validation per row was a third of reading 100,000 rows).
        # the text cells of the row stripped (`_text`) in one comprehension instead of a call per cell, and the
        # free-text ones as typed (`_raw_text`)
        (
            source,
            source_id,
            client,
            project,
            task,
            person,
            role,
            email,
            link,
            currency,
            category,
            line_item,
            suggested_category,
            suggested_by,
            invoice,
            sync_hash,
        ) = [v.strip() if type(v) is str else text(v) for v in stripped(raw)]
        notes, comment, suggested_description, flags = free_text(raw)
        if type(notes) is not str:
            notes = _raw_text(notes)
        if type(comment) is not str:
            comment = _raw_text(comment)
        if type(suggested_description) is not str:
            suggested_description = _raw_text(suggested_description)
        if type(flags) is not str:
            flags = _raw_text(flags)
        fields = {
            "source": source,
            "source_id": source_id,
            "date": day,
            "client": client,
            "project": project,
            "task": task,
            "person": person,
            "role": role,
            "email": email,
            "notes": notes,
            "hours": hours,
            "billable": True if billable is None else billable,
            "rate": tracker_rate,
            "currency": currency or None,
            "url": link,
            "tags": (),
        }
        if make_entry is None:
            make_entry = maker(TimeEntry, fields)
        entry = make_entry(fields)
        fields = {
            "row": offset,
            "entry": entry,
            "category": category,
            "line_item": line_item,
            "rate_override": rate_override,
            "approved": bool(approved),
            "comment": comment,
            "suggested_category": suggested_category,
            "suggested_by": suggested_by,
            "confidence": confidence if confidence is None or 0 <= confidence <= 1 else None,
            "suggested_description": suggested_description,
            "flags": flags,
            "invoice": invoice,
            "sync_hash": sync_hash,
        }
        if make_row is None:
            make_row = maker(TimeRow, fields)
        table.rows.append(make_row(fields))
    _hold_duplicates(table)
    return table


def _parse(
    hm: HeaderMap, errors: list[InputError], row: int, key: str, value: object, fn: Callable[..., T], *args: object
) -> T | None:
    """`fn(value, *args)`, or None with an error naming the cell when the value does not parse."""
    try:
        return fn(value, *args)
    except ValueError as exc:
        errors.append(_cell_error(hm, key, row, str(exc)))
        return None


def _amount(
    hm: HeaderMap,
    errors: list[InputError],
    row: int,
    key: str,
    value: object,
    seen: dict[tuple[type, str], Decimal | None],
) -> Decimal | None:
    """A rate cell's amount, each distinct cell value parsed once per tab (`seen`); a bad one is an error
    naming its cell every time it occurs."""
    k = (type(value), str(value))
    if k in seen:
        return seen[k]
    n = len(errors)
    amount = _parse(hm, errors, row, key, value, bounded, "an amount", MAX_RATE, "a rate")
    if len(errors) == n:
        seen[k] = amount
    return amount


def bounded(value: object, what: str, maximum: Decimal, name: str) -> Decimal | None:
    """A number of the Time tab within its documented bounds (0 to `maximum`), or ValueError saying which."""
    number = parse_decimal(value, what)
    if number is None:
        return None
    if not number.is_finite():
        raise ValueError(f'"{text(value)}" is not {what}')
    if number < 0:
        raise ValueError(f'"{text(value)}" is negative; {name} cannot be negative')
    if number > maximum:
        raise ValueError(f'"{text(value)}" is more than {name} can be here (at most {maximum:,}); fix it')
    return number


def _hold_duplicates(table: TimeTable) -> None:
    """One Entry ID on two rows (a copy-pasted row) would bill it twice: an error naming every row."""
    first: dict[str, TimeRow] = {}
    repeated: dict[str, list[TimeRow]] = {}  # a list only for a ref on several rows, not one per row
    for r in table.rows:
        ref = r.entry.ref
        seen = first.setdefault(ref, r)
        if seen is not r:
            repeated.setdefault(ref, [seen]).append(r)
    for ref in sorted(repeated, key=lambda ref: first[ref].row):  # in the order the refs first occur
        rows = repeated[ref]
        cells = [table.header.cell("entry_id", r.row) for r in rows]
        for r, cell in zip(rows, cells, strict=True):
            others = ", ".join(c for c in cells if c != cell)
            tab, where = cell.split("!")
            hold = InputError(
                f'Entry ID "{r.entry.source_id}" is also on {others} (a copied row?); it would be billed twice. '
                "Delete the copy",
                Location(tab=tab, cell=where),
            )
            table.errors.append(hold)
            table.holds.append(hold)


def _text(value: object) -> str:
    """`values.text`, with the common case (a string) first: called a dozen times per row read."""
    return value.strip() if type(value) is str else text(value)


def _raw_text(value: object) -> str:
    """Free text as typed (notes, comments): only None becomes empty; leading `=`/`-` stay."""
    return "" if value is None else (value if isinstance(value, str) else text(value))


def source_cells(entry: TimeEntry) -> dict[str, Any]:
    """The values of the source columns for an entry (native types; the sheet writer formats them)."""
    return {
        "date": entry.date,
        "client": entry.client,
        "project": entry.project,
        "task": entry.task,
        "person": entry.person,
        "role": entry.role,
        "notes": entry.notes,
        "hours": entry.hours,
        "billable": entry.billable,
        "tracker_rate": entry.rate,
        "currency": entry.currency or "",
        "link": entry.url,
        "email": entry.email,
        "source": entry.source,
        "entry_id": entry.source_id,
    }


def suggestion_cells(s: Suggestion | None) -> dict[str, Any]:
    if s is None:
        return {"suggested_category": "", "suggested_by": "none", "confidence": None, "suggested_description": ""}
    return {
        "suggested_category": s.category,
        "suggested_by": s.source,
        "confidence": Decimal(str(round(s.confidence, 2))),
        "suggested_description": s.description,
    }


def row_values(hm: HeaderMap, cells: dict[str, Any], width: int | None = None) -> list[Any]:
    """A full row in the tab's current column order; columns not in `cells` are None."""
    out: list[Any] = [None] * (width or max(hm.width, len(hm.tab.columns)))
    for key, value in cells.items():
        i = hm.index.get(key)
        if i is not None:
            out[i] = value
    return out
