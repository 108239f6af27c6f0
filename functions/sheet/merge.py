"""Merge entries from the sources into the Time tab without losing anything a person did (pure).

Rows are matched by (source, source id), never by position. For a matched row:
- not approved and not invoiced: the source columns follow the source;
- approved or invoiced, and the source changed: nothing is applied; the row is flagged with what changed
  (untick Approved to take the new values);
- review columns (Category, Line Item, Rate Override, Approved, Comment) are never in the result at all,
  so a refresh cannot overwrite them.
New entries are appended, with Category set once to the suggestion. A row of a source the import covers,
in the refreshed period, that the source no longer has is flagged, not deleted.

    >>> from functions.models import TimeEntry
    >>> e = TimeEntry(source="csv", source_id="1", date="2026-10-01", client="A", person="P", hours=1)
    >>> merge([], [e], {}, covers=["csv"]).stats.new
    1
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Any

from ..billing.duplicates import duplicate_reason, duplicates
from ..collector import collector_paused
from ..models import LONG_ENTRY_HOURS, LOW_CONFIDENCE, Period, Suggestion, TimeEntry, TimeRow
from ..values import clean_text
from .tables import source_cells, suggestion_cells


@dataclass
class MergeStats:
    new: int = 0
    updated: int = 0  # source values changed and applied
    unchanged: int = 0
    held_changes: int = 0  # changed in the source after approval/invoicing: flagged, not applied
    gone: int = 0  # no longer in the source: flagged
    back: int = 0  # was flagged gone, is back
    duplicates_in_import: int = 0


@dataclass
class ClientCounts:
    entries: int = 0
    billable_hours: Decimal = Decimal("0")
    non_billable_hours: Decimal = Decimal("0")


# The cells of a new row, by where they come from: the entry (source_cells, currency apart: None is ""), the
# suggestion (the same for every row it placed), the row itself.
_FROM_ENTRY = (
    ("date", "date"),
    ("client", "client"),
    ("project", "project"),
    ("task", "task"),
    ("person", "person"),
    ("role", "role"),
    ("notes", "notes"),
    ("hours", "hours"),
    ("billable", "billable"),
    ("tracker_rate", "rate"),
    ("link", "url"),
    ("email", "email"),
    ("source", "source"),
    ("entry_id", "source_id"),
)
_FROM_SUGGESTION = (
    "suggested_category",
    "suggested_by",
    "confidence",
    "suggested_description",
    "category",
    "line_item",
    "rate_override",
    "approved",
    "comment",
    "invoice",
)
_OWN = ("flags", "sync_hash", "currency")
_entry_values = attrgetter(*(attr for _, attr in _FROM_ENTRY))


class NewRow(Mapping[str, Any]):
    """A row a refresh appends, read like the dict of its cells (`row["flags"]`). It holds its entry, the
    cells of its suggestion (one tuple shared by every row that suggestion placed), its flags and its hash:
    a tenth of the memory of a dict of 27 cells, which 100,000 new rows held at once (120 MB)."""

    __slots__ = ("entry", "shared", "flags", "sync_hash")

    def __init__(self, entry: TimeEntry, shared: tuple[Any, ...], flags: str, sync_hash: str):
        self.entry, self.shared, self.flags, self.sync_hash = entry, shared, flags, sync_hash

    def cells(self) -> dict[str, Any]:
        cells = source_cells(self.entry)
        cells.update(zip(_FROM_SUGGESTION, self.shared, strict=True))
        cells["flags"], cells["sync_hash"] = self.flags, self.sync_hash
        return cells

    def __getitem__(self, key: str) -> Any:
        return self.cells()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.cells())

    def __len__(self) -> int:
        return len(_FROM_ENTRY) + len(_FROM_SUGGESTION) + len(_OWN)

    def __repr__(self) -> str:
        return f"NewRow({self.cells()!r})"


def row_maker(keys: Sequence[str]) -> Callable[[NewRow], list[Any]]:
    """A function that lays a new row out as the tab's columns `keys` are (None under a key of no cell), as
    `[row.get(k) for k in keys]` would, without making the row's dict: one C-level pick per row."""
    where = {k: i for i, (k, _) in enumerate(_FROM_ENTRY)}
    where.update({k: len(_FROM_ENTRY) + i for i, k in enumerate(_FROM_SUGGESTION)})
    base = len(_FROM_ENTRY) + len(_FROM_SUGGESTION)
    where.update({k: base + i for i, k in enumerate(_OWN)})
    blank = base + len(_OWN)
    idx = [where.get(k, blank) for k in keys]
    # itemgetter of one index gives the value itself, not a tuple of one
    pick: Callable[[tuple[Any, ...]], tuple[Any, ...]] = (
        itemgetter(*idx) if len(idx) > 1 else lambda values: tuple(values[i] for i in idx)
    )

    def make(r: NewRow) -> list[Any]:
        return list(pick(_entry_values(r.entry) + r.shared + (r.flags, r.sync_hash, r.entry.currency or "", None)))

    return make


@dataclass
class MergeResult:
    """What to write: owned cells of existing rows (by row number), and whole new rows, in order."""

    updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    appends: list[NewRow] = field(default_factory=list)
    stats: MergeStats = field(default_factory=MergeStats)
    per_client: dict[str, ClientCounts] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was done to source text a cell cannot hold


def describe_change(old: TimeEntry, new: TimeEntry) -> str:
    """`hours 2 -> 2.5, notes "a" -> "b"`: what the source changed, for the Flags column."""
    a, b = old.sync_fields(), new.sync_fields()
    parts = []
    for key in a:
        if a[key] != b[key]:
            before, after = a[key], b[key]
            if key == "notes":
                before, after = f'"{_clip(before)}"', f'"{_clip(after)}"'
            parts.append(f"{key} {before or '(blank)'} -> {after or '(blank)'}")
    return ", ".join(parts)


def _clip(s: str, n: int = 30) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def row_flags(
    entry: TimeEntry,
    suggestion: Suggestion | None,
    *,
    held_change: str = "",
    invoice: str = "",
    gone: bool = False,
    confidence: float | None = None,
    cleaned: str = "",
    duplicate_of: str = "",
) -> str:
    flags = []
    if cleaned:
        flags.append(f"Notes from the source: {cleaned} (a cell cannot hold them as they were)")
    if duplicate_of:
        why = duplicate_reason(duplicate_of)
        flags.append(why[:1].upper() + why[1:])
    if held_change:
        when = f"after invoicing ({invoice})" if invoice else "after approval"
        hint = "" if invoice else "; untick Approved to take the new values"
        flags.append(f"Changed in the source {when}: {held_change}{hint}")
    if gone:
        flags.append("No longer in the source (deleted or moved in the tracker?); not deleted here")
    conf = suggestion.confidence if suggestion else confidence
    if conf is not None and conf < LOW_CONFIDENCE:
        flags.append(f"Low-confidence category suggestion ({conf:.2f}): please check")
    if entry.hours > LONG_ENTRY_HOURS:
        flags.append(f"Over {LONG_ENTRY_HOURS} h in one entry")
    return "; ".join(flags)


@collector_paused
def merge(
    rows: Sequence[TimeRow],
    incoming: Sequence[TimeEntry],
    suggestions: Mapping[str, Suggestion],
    covers: Collection[str],
    period: Period | None = None,
    deleted: Collection[str] = (),
    incremental: Collection[str] = (),
) -> MergeResult:
    """Merge `incoming` entries into the existing Time `rows`. `suggestions` are by entry ref, for new rows
    and for existing rows that have none yet. Only rows of sources in `covers` (and in `period`, when
    given) can be flagged as gone, and rows whose ref is in `deleted` (the source said so). A source in
    `incremental` sent only what changed: its other rows keep their flags as they are (a held change, a
    "gone" flag), since nothing new is known about them."""
    result = MergeResult()
    deleted = set(deleted)
    existing = {r.entry.ref: r for r in rows}
    seen: dict[str, TimeEntry] = {}
    cleaned: dict[str, str] = {}
    fine: set[str] = set()  # notes already found to need no cleaning (a month repeats them)
    for entry in incoming:
        if entry.ref in seen:
            result.stats.duplicates_in_import += 1
            continue
        if entry.notes in fine:
            seen[entry.ref] = entry
            continue
        notes, done = clean_text(entry.notes)
        if not done:
            fine.add(entry.notes)
        else:
            # NUL, VT, ESC ... cannot be stored in a cell (openpyxl refuses the whole save), and a note
            # longer than a cell holds would be cut by the sheet without a word: both are said on the row
            entry = entry.model_copy(update={"notes": notes})
            cleaned[entry.ref] = done
            result.notes.append(f"{entry.source} entry {entry.source_id} ({entry.date}, {entry.person}): notes {done}")
        seen[entry.ref] = entry

    new_entries = [e for ref, e in seen.items() if ref not in existing]
    folded: dict[str, str] = {}  # each client's and person's name case-folded once, not once per entry
    fold = folded.get

    def order(e: TimeEntry) -> tuple[object, ...]:
        client, person = fold(e.client), fold(e.person)
        if client is None:
            client = folded[e.client] = e.client.casefold()
        if person is None:
            person = folded[e.person] = e.person.casefold()
        return (e.date, client, person, e.source, e.source_id)

    new_entries.sort(key=order)
    # Duplicates in the tab's order as it will be: the rows as they stand, then the rows appended.
    twins = duplicates([(seen.get(r.entry.ref) or r.entry, r.comment) for r in rows] + [(e, "") for e in new_entries])
    for row in rows:
        new = seen.get(row.entry.ref)
        suggestion = suggestions.get(row.entry.ref) if not row.suggested_category else None
        owned: dict[str, Any] = {}
        if suggestion is not None:
            owned.update(suggestion_cells(suggestion))
        shown = row.entry
        held = ""
        gone = False
        if new is None:
            gone = row.entry.ref in deleted or (
                row.entry.source in covers and (period is None or period.contains(row.entry.date))
            )
            result.stats.gone += int(gone)
            result.stats.unchanged += int(not gone)
            if not gone and row.entry.source in incremental:
                # not sent because not changed: what the flags say about it still holds
                if suggestion is not None:
                    result.updates[row.row] = owned
                _count(result, shown, period)
                continue
        else:
            result.stats.back += int("No longer in the source" in row.flags)
            # each hash once per row (a sha256 over the row's JSON: a fifth of merging 100,000 rows when
            # it was computed four times)
            new_hash = new.sync_hash()
            shown_hash = row.entry.sync_hash() if not row.sync_hash or not (row.approved or row.invoiced) else ""
            stored = row.sync_hash or shown_hash
            changed = new_hash != stored
            locked = row.approved or row.invoiced
            if changed and locked:
                held = describe_change(row.entry, new)
                result.stats.held_changes += 1
                owned["sync_hash"] = stored
            else:
                result.stats.updated += int(changed)
                result.stats.unchanged += int(not changed)
                # also puts the source's values back where a person typed over a source column
                if not locked and shown_hash != new_hash:
                    owned.update(source_cells(new))
                    shown = new
                owned["sync_hash"] = new_hash
        reviewed = row.approved or row.invoiced
        owned["flags"] = row_flags(
            shown,
            suggestion,
            held_change=held,
            invoice=row.invoice,
            gone=gone,
            confidence=None if reviewed else row.confidence,
            cleaned=cleaned.get(row.entry.ref, ""),
            duplicate_of=twins.get(row.entry.ref, ""),
        )
        result.updates[row.row] = owned
        _count(result, shown, period)

    # a month's new rows share a few dozen suggestions: their cells, and the flags of a row with nothing else
    # to say, are made once per suggestion (and hours over the limit or not), not once per row
    shown_suggestion: dict[int, tuple[Any, ...]] = {}
    plain_flags: dict[tuple[int, bool], str] = {}
    counts = result.per_client
    month = (period.year, period.month) if period is not None else None
    for entry in new_entries:
        ref = entry.ref
        suggestion = suggestions.get(ref)
        made = shown_suggestion.get(id(suggestion))
        if made is None:
            made = shown_suggestion[id(suggestion)] = (
                *suggestion_cells(suggestion).values(),  # in the order of _FROM_SUGGESTION
                suggestion.category if suggestion else "",  # Category set once to the suggestion
                suggestion.line_item if suggestion else "",
                None,
                False,
                "",
                "",
            )
        done, twin = cleaned.get(ref, ""), twins.get(ref, "")
        if done or twin:
            flags = row_flags(entry, suggestion, cleaned=done, duplicate_of=twin)
        else:
            plain = (id(suggestion), entry.hours > LONG_ENTRY_HOURS)
            got = plain_flags.get(plain)
            flags = got if got is not None else plain_flags.setdefault(plain, row_flags(entry, suggestion))
        result.appends.append(NewRow(entry, made, flags, entry.sync_hash()))  # the one hash of a new row
        day = entry.date
        if month is None or (day.year, day.month) == month:  # _count, inlined: once per new row
            c = counts.get(entry.client)
            if c is None:
                c = counts[entry.client] = ClientCounts()
            c.entries += 1
            if entry.billable:
                c.billable_hours += entry.hours
            else:
                c.non_billable_hours += entry.hours
    result.stats.new += len(new_entries)
    return result


def _count(result: MergeResult, entry: TimeEntry, period: Period | None) -> None:
    if period is not None and not period.contains(entry.date):
        return
    counts = result.per_client.setdefault(entry.client, ClientCounts())
    counts.entries += 1
    if entry.billable:
        counts.billable_hours += entry.hours
    else:
        counts.non_billable_hours += entry.hours
