"""Duplicate entries: the same person, date, project, hours and notes as another entry of the client.

A time tracker sometimes saves an entry twice. The later of two such rows (in the Time tab's order) is a
duplicate of the first: refresh flags it in Flags, and billing holds it out of the invoice until a person
confirms it is real work by starting its Comment with the word `confirmed` ("confirmed: two calls that day").

    >>> from functions.models import TimeEntry
    >>> a = TimeEntry(source="t", source_id="1", date="2026-10-06", client="A", person="P", hours=1, notes="review")
    >>> b = a.model_copy(update={"source_id": "2"})
    >>> duplicates([(a, ""), (b, "")]), duplicates([(a, ""), (b, "Confirmed, two reviews")])
    ({'t:2': 't:1'}, {})
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from ..models import TimeEntry

CONFIRM_WORD = "confirmed"

Key = tuple[str, date, str, str, Decimal, str]


def duplicate_key(e: TimeEntry) -> Key:
    return (
        e.client.strip().casefold(),
        e.date,
        e.person.strip().casefold(),
        e.project.strip().casefold(),
        e.hours,
        " ".join(e.notes.split()).casefold(),
    )


def confirmed(comment: str) -> bool:
    """A person confirmed the row is real work: its Comment starts with `confirmed`."""
    return comment.strip().casefold().startswith(CONFIRM_WORD)


def duplicates(entries: Iterable[tuple[TimeEntry, str]]) -> dict[str, str]:
    """{ref of a duplicate: ref of the entry it repeats} for (entry, comment) in the Time tab's order; a
    confirmed row is not a duplicate."""
    first: dict[Key, TimeEntry] = {}  # the entry each key was first seen on (its ref made only for a duplicate)
    out: dict[str, str] = {}
    # `duplicate_key` with each distinct name and note normalized once (a month repeats them many times)
    names: dict[str, str] = {}
    notes: dict[str, str] = {}
    for e, comment in entries:
        client, person, project, note = e.client, e.person, e.project, e.notes
        k = (
            names.get(client) or names.setdefault(client, client.strip().casefold()),
            e.date,
            names.get(person) or names.setdefault(person, person.strip().casefold()),
            names.get(project) or names.setdefault(project, project.strip().casefold()),
            e.hours,
            notes.get(note) or notes.setdefault(note, " ".join(note.split()).casefold()),
        )
        seen = first.get(k)
        if seen is None:
            first[k] = e
        elif not confirmed(comment):
            out[e.ref] = seen.ref
    return out


def duplicate_reason(original: str) -> str:
    return (
        f"looks like a duplicate of {original} (same person, date, project, hours and notes): not invoiced until "
        f'a person confirms it by starting its Comment with "{CONFIRM_WORD}"'
    )
