"""The second stage: memory of what people decided, read from the Time tab itself.

Every row a person vouched for is a decision: an approved row (a kept suggestion counts as much as a
corrected one) and a row whose Category someone set to something other than the suggestion. The next
refresh suggests the same category for the same notes (normalized) written by the same kind of person for
the same client, most specific first:

    person + client + project + notes   the very same work again                       0.98
    role + client + notes               a colleague in the same role, same client       0.96
    client + notes                      anyone on that client, when all decisions agree 0.94
    role + notes                        the same role on any client, when all agree     0.93
    notes                               anyone anywhere, when every decision agrees     0.90

Vague notes ("wip", "misc", "weiter", "see jira", empty) only use the first level and role + client +
project: what they mean depends on who wrote them where, so they never carry a category across clients
or roles. Within a key the most recent decision wins (by date, then row), so a changed mind sticks.
Because the memory lives in the sheet, it needs no store of its own and survives a move from laptop to
Cloud Function.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..models import Suggestion, TimeEntry, TimeRow
from ..ports import CategorizeContext, CategorizeReport
from .text import is_vague, jira_projects, normalize_notes


def decisions(history: Iterable[TimeRow]) -> list[TimeRow]:
    """Rows whose category a person vouched for: approved, or set to other than the suggestion."""
    return [
        r
        for r in history
        if r.category
        and (r.approved or (r.suggested_category and r.category.casefold() != r.suggested_category.casefold()))
    ]


def corrections(history: Iterable[TimeRow]) -> list[TimeRow]:
    """Rows where a person chose a category other than the one suggested."""
    return [
        r
        for r in history
        if r.category and r.suggested_category and r.category.casefold() != r.suggested_category.casefold()
    ]


def _f(s: str) -> str:
    return s.strip().casefold()


def _notes_key(entry: TimeEntry) -> tuple[str, bool]:
    """(normalized notes, vague?); a note that is only a Jira key keeps the key's project."""
    key = normalize_notes(entry.notes)
    if not key:
        jira = jira_projects(entry.notes)
        key = f"jira:{jira[0].casefold()}" if jira else ""
    return key, is_vague(entry.notes)


# (level name, confidence, vague notes allowed, needs every decision to agree)
LEVELS: tuple[tuple[str, float, bool, bool], ...] = (
    ("person", 0.98, True, False),
    ("role_project", 0.96, True, False),
    ("role_client", 0.96, False, False),
    ("client", 0.94, False, True),
    ("role", 0.93, False, True),
    ("notes", 0.90, False, True),
)


def _keys(entry: TimeEntry, notes: str) -> dict[str, tuple[str, ...]]:
    client, role = _f(entry.client), _f(entry.role) or _f(entry.person)
    return {
        "person": (_f(entry.person), client, _f(entry.project), notes),
        "role_project": (role, client, _f(entry.project), notes),
        "role_client": (role, client, notes),
        "client": (client, notes),
        "role": (role, notes),
        "notes": (notes,),
    }


class Memory:
    """Decisions by key, most specific first; the latest decision of a key wins."""

    def __init__(self, rows: Iterable[TimeRow], allowed: set[str] | None = None):
        self._latest: dict[str, dict[tuple[str, ...], str]] = {name: {} for name, *_ in LEVELS}
        self._seen: dict[str, dict[tuple[str, ...], set[str]]] = {name: {} for name, *_ in LEVELS}
        self._notes: dict[str, tuple[str, bool]] = {}  # raw notes -> _notes_key, once per distinct notes
        for r in sorted(rows, key=lambda r: (r.entry.date, r.row)):
            if allowed is not None and r.category not in allowed:
                continue
            notes, vague = self._notes_key(r.entry)
            for name, keys in _keys(r.entry, notes).items():
                self._latest[name][keys] = r.category
                self._seen[name].setdefault(keys, set()).add(r.category)
        self.size = len(self._latest["person"])

    def _notes_key(self, entry: TimeEntry) -> tuple[str, bool]:
        got = self._notes.get(entry.notes)
        if got is None:
            got = self._notes[entry.notes] = _notes_key(entry)
        return got

    def lookup(self, entry: TimeEntry) -> tuple[str, float] | None:
        notes, vague = self._notes_key(entry)
        keys = _keys(entry, notes)
        for name, confidence, vague_ok, unanimous in LEVELS:
            if vague and not vague_ok:
                continue
            if not notes and name not in ("person",):
                continue
            hit = self._latest[name].get(keys[name])
            if hit is None or (unanimous and len(self._seen[name][keys[name]]) > 1):
                continue
            return hit, confidence
        return None

    def examples(self, limit: int = 40) -> list[tuple[str, str]]:
        """(normalized notes, category) pairs, for few-shot prompts: the latest decisions."""
        return [(k[1], cat) for k, cat in list(self._latest["client"].items())[-limit:] if k[1]]


class MemoryCategorizer:
    def suggest(
        self, entries: Sequence[TimeEntry], ctx: CategorizeContext, report: CategorizeReport
    ) -> dict[str, Suggestion]:
        allowed = {c.name for c in ctx.categories}
        memory = Memory(decisions(ctx.history), allowed)
        out: dict[str, Suggestion] = {}
        if not memory.size:  # nobody decided anything yet (a first refresh): nothing to look up
            return out
        # a month repeats the same work: each distinct entry is looked up once, each answer made once
        looked: dict[tuple[str, ...], Suggestion | None] = {}
        made: dict[tuple[str, float], Suggestion] = {}
        for entry in entries:
            key = (entry.person, entry.role, entry.client, entry.project, entry.notes)
            if key not in looked:
                hit = memory.lookup(entry)
                if hit and hit not in made:
                    made[hit] = Suggestion(category=hit[0], source="memory", confidence=hit[1])
                looked[key] = made[hit] if hit else None
            s = looked[key]
            if s is not None:
                out[entry.ref] = s
        return out
