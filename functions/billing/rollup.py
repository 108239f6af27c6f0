"""Roll-ups: which invoice line item a time row goes to, which accounting item and tax code that line
item maps to, and how a line's description reads.

A row's line item is, first match wins: the row's own Line Item (Time tab) > the first Rules `rollup` row
that matches it (its Category, Project and Field/Pattern must all match what the row is filled with) > the
category's Line Item (Categories tab) > the category itself.

    >>> describe("{line_item} — {tasks}, {period}", line_item="Maintenance", count=14, hours="21.5",
    ...          period="Oct 2026")
    'Maintenance — 14 tasks, Oct 2026'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Literal

from ..models import Frozen, TimeRow

Field = Literal["notes", "task", "project", "any"]
DEFAULT_TEMPLATE = "{line_item} — {tasks}, {period}"
UNCATEGORIZED = "Services"


class Rollup(Frozen):
    """A Rules `rollup` row. Blank criteria match everything, so a row with only Line Item + Accounting Item is
    a pure mapping of that line item to the accounting system's item."""

    client: str = ""
    category: str = ""
    project: str = ""
    field: Field = "any"
    pattern: str = ""
    line_item: str
    item: str = ""
    tax_code: str = ""
    location: str = ""

    @property
    def has_criteria(self) -> bool:
        return bool(self.category or self.project or self.pattern)

    def matches(self, row: TimeRow, category: str) -> bool:
        e = row.entry
        if not self.has_criteria:
            return False
        if self.client and self.client.casefold() != e.client.casefold():
            return False
        if self.category and self.category.casefold() != category.casefold():
            return False
        if self.project and self.project.casefold() != e.project.casefold():
            return False
        if self.pattern:
            return pattern_matches(self.pattern, self.field, e.notes, e.task, e.project)
        return True


_RX_CACHE: dict[str, re.Pattern[str]] = {}


def pattern_matches(pattern: str, field: str, notes: str, task: str, project: str) -> bool:
    hay = {"notes": (notes,), "task": (task,), "project": (project,), "any": (notes, task, project)}[field]
    p = pattern.strip()
    if len(p) >= 2 and p.startswith("/") and p.endswith("/"):
        rx = _RX_CACHE.get(p)
        if rx is None:
            rx = _RX_CACHE[p] = re.compile(p[1:-1], re.IGNORECASE)
        return any(rx.search(h) for h in hay)
    words = [w.strip().casefold() for w in p.split("|") if w.strip()]
    return any(w in h.casefold() for h in hay for w in words)


def check_pattern(pattern: str) -> str | None:
    """A sentence when the pattern is a broken /regex/, else None."""
    p = pattern.strip()
    if len(p) >= 2 and p.startswith("/") and p.endswith("/"):
        try:
            re.compile(p[1:-1])
        except re.error as exc:
            return f'"{pattern}" is not a valid regular expression ({exc})'
    elif not any(w.strip() for w in p.split("|")):
        return f'"{pattern}" has no words to match'
    return None


def summarize_notes(notes: Iterable[str], how: str, top: int = 3) -> str:
    """`summary`: the most frequent notes and "+N more"; `list`: every distinct note; `none`: ""."""
    if how not in ("summary", "list"):
        return ""
    counts = Counter(n.strip() for n in notes if n and n.strip())
    ordered = [n for n, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    if how == "list":
        return "; ".join(ordered)
    shown = ordered[:top]
    more = len(ordered) - len(shown)
    return "; ".join(shown) + (f" (+{more} more)" if more > 0 else "")


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def describe(
    template: str,
    *,
    line_item: str,
    count: int,
    hours: str,
    period: str,
    person: str = "",
    week: str = "",
    notes: str = "",
) -> str:
    """Fill a description template; unknown {fields} stay as typed so the mistake is visible."""
    fields = _Blank(
        line_item=line_item,
        count=str(count),
        tasks=f"{count} task" + ("" if count == 1 else "s"),
        hours=hours,
        period=period,
        person=person,
        week=week,
        notes=notes,
    )
    text = (template or DEFAULT_TEMPLATE).format_map(fields)
    if notes and "{notes}" not in (template or DEFAULT_TEMPLATE):
        text = f"{text}: {notes}"
    # A template like "{line_item} — {tasks}: {notes}" must not end in a dangling ":" when there are no notes.
    return " ".join(text.split()).rstrip(" —–-:;,")
