"""The second stage: memory of people's corrections, read from the Time tab itself.

A row whose Category a person set to something other than its Suggested Category is a correction. The
next refresh suggests that category for the same notes (normalized) on the same client, or on any client
when every correction of those notes agrees. Because the memory lives in the sheet, it needs no store of
its own and survives a move from laptop to Cloud Function.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from ..models import Suggestion, TimeEntry, TimeRow
from ..ports import CategorizeContext, CategorizeReport
from .text import normalize_notes


def corrections(history: Iterable[TimeRow]) -> list[TimeRow]:
    """Rows where a person chose a category other than the one suggested."""
    return [
        r
        for r in history
        if r.category and r.suggested_category and r.category.casefold() != r.suggested_category.casefold()
    ]


class Memory:
    """(client, normalized notes) -> category, learned from corrections; later rows win ties."""

    def __init__(self, rows: Iterable[TimeRow], allowed: set[str] | None = None):
        by_client: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        by_notes: dict[str, Counter[str]] = defaultdict(Counter)
        for r in sorted(rows, key=lambda r: r.row):
            if allowed is not None and r.category not in allowed:
                continue
            key = normalize_notes(r.entry.notes)
            if not key:
                continue
            by_client[(r.entry.client.casefold(), key)][r.category] += 1
            by_notes[key][r.category] += 1
        self._client = {k: c.most_common(1)[0][0] for k, c in by_client.items()}
        self._notes = {k: next(iter(c)) for k, c in by_notes.items() if len(c) == 1}
        self.size = len(self._client)

    def lookup(self, entry: TimeEntry) -> tuple[str, float] | None:
        key = normalize_notes(entry.notes)
        if not key:
            return None
        hit = self._client.get((entry.client.casefold(), key))
        if hit:
            return hit, 0.95
        hit = self._notes.get(key)
        return (hit, 0.85) if hit else None

    def examples(self, limit: int = 40) -> list[tuple[str, str]]:
        """(normalized notes, category) pairs, for few-shot prompts."""
        return [(notes, cat) for (_, notes), cat in list(self._client.items())[-limit:]]


class MemoryCategorizer:
    def suggest(
        self, entries: Sequence[TimeEntry], ctx: CategorizeContext, report: CategorizeReport
    ) -> dict[str, Suggestion]:
        allowed = {c.name for c in ctx.categories}
        memory = Memory(corrections(ctx.history), allowed)
        out: dict[str, Suggestion] = {}
        for entry in entries:
            hit = memory.lookup(entry)
            if hit:
                out[entry.ref] = Suggestion(category=hit[0], source="memory", confidence=hit[1])
        return out
