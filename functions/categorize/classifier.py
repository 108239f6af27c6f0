"""The offline stage: the Categorizer port over the naive Bayes model of naive_bayes.py, run over a month.

Each distinct entry of the month is a slot, keyed by what its features read (its notes' key, its context, its
person+client+project), so the model scores each once; the run then learns from its own confident guesses,
entry by entry, in one inlined loop (`_learn_guesses`), checks its confidence against the history
(`calibration`), and hands each slot's one suggestion to every entry of it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from operator import attrgetter

from ..models import Category, Suggestion, TimeEntry, TimeRow
from ..ports import CategorizeContext, CategorizeReport
from .memory import decisions
from .naive_bayes import (
    ALPHA,
    CALIBRATE_FROM,
    CALIBRATE_ON,
    FEW_DECISIONS,
    MIN_CONFIDENCE,
    NOTHING_KNOWN_CAP,
    PSEUDO_CONFIDENCE,
    PSEUDO_DOC,
    PSEUDO_FEATURES,
    PSEUDO_WEIGHT,
    UNCHECKED_CAP,
    Calibration,
    Features,
    NaiveBayes,
    _context_of,
    _text,
    context_part,
    features,
    features_of_notes,
    notes_part,
    pp_key,
)
from .text import jira_projects, normalize_notes

# what this module's users read from it, the model's parts included (they lived here before naive_bayes.py)
__all__ = [
    "CALIBRATE_FROM",
    "CALIBRATE_ON",
    "MIN_CONFIDENCE",
    "NOTHING_KNOWN_CAP",
    "PSEUDO_CONFIDENCE",
    "PSEUDO_FEATURES",
    "PSEUDO_WEIGHT",
    "UNCHECKED_CAP",
    "Calibration",
    "NaiveBayes",
    "OfflineClassifier",
    "features",
    "features_of_notes",
    "training_rows",
]

NotesKey = tuple[str, str, bool]  # normalized notes, the first Jira key's project, empty?
Key = tuple[NotesKey, tuple[str, str, bool, str, str, str], str]  # (notes, context, person+client+project)


class _Keys:
    """An entry's parts as keys, made once per distinct value in a run (months repeat them heavily): the
    notes by what the features read of them (`ACME-12 fix` and `ACME-98 fix` are the same notes)."""

    def __init__(self) -> None:
        self._pp: dict[tuple[str, str, str], str] = {}
        self._notes: dict[str, NotesKey] = {}
        self.raw: dict[NotesKey, str] = {}  # one notes text per key, to make its features from
        self._shared_notes: dict[NotesKey, NotesKey] = {}  # equal keys as one object
        self._shared: dict[Key, Key] = {}

    def notes_key(self, notes: str) -> NotesKey:
        nk = self._notes.get(notes)
        if nk is None:
            jira = jira_projects(notes)[:1]
            nk = (normalize_notes(notes), jira[0].casefold() if jira else "", not notes.strip())
            nk = self._notes[notes] = self._shared_notes.setdefault(nk, nk)
            self.raw.setdefault(nk, notes)
        return nk

    def __call__(self, e: TimeEntry) -> Key:
        where = (e.person, e.client, e.project)
        pp = self._pp.get(where)
        if pp is None:
            pp = self._pp[where] = pp_key(e)
        key = (self.notes_key(e.notes), _context_of(e), pp)
        return self._shared.setdefault(key, key)  # one tuple per distinct entry, however often it recurs


def _predict(nb: NaiveBayes, key: Key, keys: _Keys) -> tuple[str, float]:
    notes, context, pp = key
    scores, known = nb.static(
        (notes, context),
        lambda: (
            nb.partial(notes, lambda: notes_part(keys.raw[notes])),
            nb.partial(context, lambda: context_part(*context)),
        ),
    )
    lr = nb.log_of(pp)  # what the run has learned so far of this person on this client and project
    if lr is not None:
        scores, known = [s + x for s, x in zip(scores, lr, strict=True)], known + 1.0
    return nb.decide(scores, known)


def _docs(rows: Sequence[TimeRow], keys: _Keys) -> list[tuple[Features, str, float]]:
    """Training documents: identical entries with the same category become one, weighted by how many."""
    groups: dict[tuple[Key, str], int] = {}
    for r in rows:
        k = (keys(r.entry), r.category)
        groups[k] = groups.get(k, 0) + 1
    return [
        ([*notes_part(keys.raw[notes]), *context_part(*context), (pp, 1.0)], label, float(n))
        for ((notes, context, pp), label), n in groups.items()
    ]


def calibration(rows: Sequence[TimeRow], categories: Sequence[Category], keys: _Keys) -> Calibration | None:
    if len(rows) < CALIBRATE_FROM:
        return None
    rows = rows[-CALIBRATE_ON:]
    points: list[tuple[float, bool]] = []
    for part in (0, 1):
        train = [r for i, r in enumerate(rows) if i % 2 != part]
        nb = NaiveBayes.train(_docs(train, keys), categories)
        seen: dict[Key, tuple[str, float]] = {}
        for i, r in enumerate(rows):
            if i % 2 == part:
                k = keys(r.entry)
                got = seen.get(k)
                if got is None:
                    got = seen[k] = _predict(nb, k, keys)
                points.append((got[1], got[0] == r.category))
    return Calibration(points)


def training_rows(history: Iterable[TimeRow], allowed: set[str]) -> list[TimeRow]:
    """Rows a person vouched for (approved, or corrected), oldest first."""
    return sorted((r for r in decisions(history) if r.category in allowed), key=lambda r: (r.entry.date, r.row))


class OfflineClassifier:
    """The Categorizer port over NaiveBayes: places every entry (it is the last stage).

    Linear in the entries: each distinct notes text and each distinct context is scored once per run, an
    entry adds its parts, and identical entries share one suggestion."""

    def suggest(
        self, entries: Sequence[TimeEntry], ctx: CategorizeContext, report: CategorizeReport
    ) -> dict[str, Suggestion]:
        if not entries or not ctx.categories:
            return {}
        allowed = {c.name for c in ctx.categories}
        rows = training_rows(ctx.history, allowed)
        keys = _Keys()
        nb = NaiveBayes.train(_docs(rows, keys), ctx.categories)
        # each distinct entry is a slot, found once per distinct notes key and the rest of what a Key is made of
        # (a month repeats them heavily)
        slots: dict[Key, int] = {}
        by_raw: dict[tuple[NotesKey, str, str, bool, str, str, str], int] = {}
        slot_of: dict[str, int] = {}
        each: list[int] = []  # the slot of each entry, in order
        known_notes, notes_key = keys._notes.get, keys.notes_key
        for e in entries:
            nk = known_notes(e.notes) or notes_key(e.notes)
            raw = (nk, *_rest(e))
            slot = by_raw.get(raw)
            if slot is None:
                slot = by_raw[raw] = slots.setdefault(keys(e), len(slots))
            slot_of[e.ref] = slot
            each.append(slot)
        distinct = list(slots)
        # the parts that stay fixed while the run learns (priors, notes, context), summed once per slot
        statics = [_static(nb, k, keys) for k in distinct]
        pps = [k[2] for k in distinct]
        if len(rows) < FEW_DECISIONS:
            # learn from this run's confident guesses who does what where (vague notes follow that); in
            # order, entry by entry, since each guess teaches the next
            _learn_guesses(nb, statics, pps, slot_of.values())
        check = calibration(rows, ctx.categories, keys)
        # one suggestion per slot: what it says depends on the slot alone (the notes' check too: it reads the
        # normalized notes, which are part of the slot's key)
        shared: dict[tuple[str, float], Suggestion] = {}  # equal suggestions as one object: a few hundred at most
        made: list[Suggestion] = []
        unknown: dict[NotesKey, bool] = {}  # notes with not one word or gram seen before, by notes key
        for slot, key in enumerate(distinct):
            label, raw_conf = _finish(nb, *statics[slot], pps[slot])  # _predict(nb, key, keys)
            conf = check(raw_conf) if check else min(raw_conf, UNCHECKED_CAP)
            new = unknown.get(key[0])
            if new is None:
                notes = keys.raw[key[0]]
                new = unknown[key[0]] = bool(notes.strip()) and not any(f in nb.counts for f, _ in _text(notes))
            if new:
                conf = min(conf, NOTHING_KNOWN_CAP)
            said = (label, round(max(MIN_CONFIDENCE, min(1.0, conf)), 3))
            s = shared.get(said)
            if s is None:  # a label of the model, a confidence within 0..1
                s = shared[said] = Suggestion.trusted(category=label, source="model", confidence=said[1])
            made.append(s)
        return {e.ref: made[slot] for e, slot in zip(entries, each, strict=True)}


_rest = attrgetter("task", "role", "billable", "project", "person", "client")  # a Key is made of these and the notes


def _static(nb: NaiveBayes, key: Key, keys: _Keys) -> tuple[list[float], float]:
    """Log priors plus the notes' and context's parts of an entry: what `_predict` starts from (`nb.static`,
    the same sums in the same order, without its cache: each slot has its own notes and context)."""
    notes, context, _ = key
    parts = nb._parts
    by_notes = parts.get(notes) or nb.partial(notes, lambda: notes_part(keys.raw[notes]))
    by_context = parts.get(context) or nb.partial(context, lambda: context_part(*context))
    scores, known = nb._priors(), 0.0
    for vec, k in (by_notes, by_context):
        if k:
            known += k
            scores = [s + x for s, x in zip(scores, vec, strict=True)]
    return scores, known


def _finish(nb: NaiveBayes, scores: list[float], known: float, pp: str) -> tuple[str, float]:
    """`_predict` from the slot's static part: what the run has learned of its person+client+project, then
    the decision."""
    lr = nb.log_of(pp)
    if lr is not None:
        scores, known = [s + x for s, x in zip(scores, lr, strict=True)], known + 1.0
    return nb.decide(scores, known)


def _learn_guesses(
    nb: NaiveBayes, statics: Sequence[tuple[list[float], float]], pps: Sequence[str], order: Iterable[int]
) -> None:
    """For each slot in `order`: `_predict` it, and when the guess is confident, `nb.add` its person+client+
    project feature towards the label (PSEUDO_WEIGHT, no document). The same floating-point operations in the
    same order as those two calls, so the same guesses; inlined, since it runs once per entry (100,000 times
    at scale). Such a guess moves only the pp feature's row and its label's total, so the statics hold, and
    the log counts and log totals are updated where they moved rather than made again."""
    if PSEUDO_DOC or not all(p.startswith(PSEUDO_FEATURES) for p in pps):  # pragma: no cover - constants
        raise AssertionError("the inlined learning holds only for pseudo features that add no document")
    log, exp = math.log, math.exp
    counts, totals, logs, docs, labels = nb.counts, nb.totals, nb._logs, nb.docs, nb.labels
    nb._priors()
    assert nb._state is not None
    priors, z, v = nb._state
    z = list(z)
    n = len(labels)
    step = 1.0 * PSEUDO_WEIGHT  # a pseudo feature's weight (1.0) times the guess's weight, as `add` makes it
    nothing = PSEUDO_WEIGHT * PSEUDO_DOC
    for slot in order:
        scores, known = statics[slot]
        pp = pps[slot]
        lr = logs.get(pp)
        if lr is None:
            row = counts.get(pp)
            if row is not None:
                lr = logs[pp] = [log(x + ALPHA) for x in row]
        if lr is not None:
            known = known + 1.0
            adjusted = [s + x - known * t for s, x, t in zip(scores, lr, z, strict=False)]  # all len(labels) long
        else:
            adjusted = [s - known * t for s, t in zip(scores, z, strict=False)]
        # NaiveBayes.decide
        temperature = known / 3
        top = max(adjusted)
        if temperature > 1.0:
            weights = [exp((s - top) / temperature) for s in adjusted]
        else:  # max(1.0, known / 3) is 1.0, and x / 1.0 is x exactly
            weights = [exp(s - top) for s in adjusted]
        high = max(weights)
        best = weights.index(high)
        if weights.count(high) > 1:  # a tie: the more common category
            best = max((i for i, x in enumerate(weights) if x == high), key=docs.__getitem__)
        confidence = high / sum(weights)
        if not known:
            confidence = min(confidence, 0.2)
        if confidence < PSEUDO_CONFIDENCE:
            continue
        # NaiveBayes.add([(pp, 1.0)], labels[best], PSEUDO_WEIGHT, PSEUDO_DOC)
        docs[best] += nothing
        row = counts.get(pp)
        if row is None:
            row = counts[pp] = [0.0] * n
            row[best] += step
            totals[best] += step
            logs.pop(pp, None)
            v = len(counts) + 1  # one more feature: every log total moves
            z = [log(totals[i] + ALPHA * v) for i in range(n)]
        else:
            row[best] += step
            totals[best] += step
            if lr is not None:
                lr[best] = log(row[best] + ALPHA)
            z[best] = log(totals[best] + ALPHA * v)
    nb._state = (priors, z, v)
