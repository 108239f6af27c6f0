"""The offline stage: a pure-Python naive Bayes over what an entry carries, trained on the sheet's history.

No network, no model files, no numpy: it trains in the refresh from the decisions in the Time tab plus the
Categories tab (each category's name, meaning and Keywords, read through a six-language concept lexicon,
concepts.py, so a first run with no history already places most entries). Features:

- the notes' words, their 5-letter stems and character 3-grams (typos, inflections, German compounds);
- the concepts the notes, the task and the role name (`k:testing` for "Regressietest", "recette" or a
  "QA Engineer"), shared with the categories whose name and meaning name them; a task named like a
  category; the tracker's non-billable flag (towards categories with Billable FALSE);
- who and where: role, person, task, project, client, person+project and role+client; the Jira project of
  a ticket key in the notes; whether the notes are empty or vague ("wip", "weiter", "varios");
- the role's and task's words as weak text.

In every run the classifier first places the entries it is sure of, then learns from those (weakly) what
each person does for each client and project, so a vague "wip" follows that person's other work there.

Confidence is calibrated: with enough history, a two-fold check on it maps the model's score to how often
a score like that was right (isotonic, pooled adjacent violators), so 0.9 means 9 in 10. With no history
to check against it never shows 0.9 or more.

    >>> from functions.models import Category
    >>> nb = NaiveBayes.train([], [Category(name="Bugs", meaning="fixing bugs"), Category(name="Calls")])
    >>> nb.predict(features_of_notes("Fehler beheben"))[0]
    'Bugs'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import lru_cache

from ..models import Category, Suggestion, TimeEntry, TimeRow
from ..ports import CategorizeContext, CategorizeReport
from .concepts import concepts_of, role_concepts
from .memory import decisions
from .text import VAGUE_WORDS, char_grams, is_vague, jira_projects, normalize_notes, tokens

Features = list[tuple[str, float]]
MIN_CONFIDENCE = 0.05
# How many examples a category's meaning and keywords count as: enough to hold on day one, few enough that
# a month of history outweighs them.
MEANING_WEIGHT = 6.0
ALPHA = 0.1  # additive smoothing; small, since most features are rare
CONTEXT_TEXT_WEIGHT = 0.3  # the words of task, role and project: a hint, the notes speak louder
# Concepts (concepts.txt): what the notes, task and role are about, in any of six languages; a category is
# about the concepts its own name (counted NAME_WEIGHT times), meaning and keywords name.
TASK_CONCEPT_WEIGHT = 0.8
ROLE_CONCEPT_WEIGHT = 0.5
NAME_WEIGHT = 3.0
CONCEPT_WEIGHT = 1.5  # a concept match counts more than a raw word: it is what day one knows
TASK_NAME_WEIGHT = 0.5
NOT_BILLED_WEIGHT = 2.0  # a category with Billable FALSE is about "non-billable" work (a task of that name)
PSEUDO_FEATURES = ("pp:",)  # what a confident guess teaches: what this person does for this client and project
PSEUDO_WEIGHT = 0.5  # what a confident guess of this run teaches, against 1.0 for a person's decision
PSEUDO_CONFIDENCE = 0.7
PSEUDO_DOC = 0.0  # a guess does not make its category more common (that would feed on itself)
FEW_DECISIONS = 10**9  # below this many decisions, learn from this run's confident guesses as well
CALIBRATE_FROM = 100  # decisions needed to check the model against itself
CALIBRATE_ON = 4000  # the most recent decisions it is checked on: enough for the curve, cheap at 20,000
UNCHECKED_CAP = 0.85
NOTHING_KNOWN_CAP = 0.5  # the most confidence shown without history to back it


@lru_cache(maxsize=1 << 16)  # a month repeats its notes, tasks and roles: features of a text are made once
def _text(text: str, weight: float = 1.0, category: bool = False) -> tuple[tuple[str, float], ...]:
    words = tokens(text)
    if category:  # vague words in a category's meaning ("agency-internal work") say nothing of it
        words = [w for w in words if w not in VAGUE_WORDS]
    out: Features = []
    for w in words:
        out.append((f"w:{w}", weight))
        if len(w) > 5:
            out.append((f"s:{w[:5]}", weight * 0.5))
        grams = char_grams(w)
        out += [(f"c:{g}", weight / len(grams)) for g in grams]
    return tuple(out)


@lru_cache(maxsize=1 << 16)
def _concepts(text: str, weight: float = 1.0) -> tuple[tuple[str, float], ...]:
    return tuple((f"k:{c}", w * weight * CONCEPT_WEIGHT) for c, w in concepts_of(text))


def features_of_notes(notes: str) -> Features:
    return [*_text(notes), *_concepts(notes)]


def features(entry: TimeEntry) -> Features:
    f = features_of_notes(entry.notes)
    f += _text(f"{entry.task} {entry.role}", CONTEXT_TEXT_WEIGHT)
    f += _concepts(entry.task, TASK_CONCEPT_WEIGHT)
    f += [(f"k:{c}", w * ROLE_CONCEPT_WEIGHT) for c, w in role_concepts(entry.role)]
    if not entry.billable:
        f.append(("bill:no", 1.0))  # the tracker says it is not billed
    f += _text(entry.project, CONTEXT_TEXT_WEIGHT / 2)
    person, role, project, client = (
        normalize_notes(x) for x in (entry.person, entry.role, entry.project, entry.client)
    )
    for name, value in (("task", normalize_notes(entry.task)), ("role", role), ("person", person)):
        if value:
            f.append((f"{name}:{value}", 1.0))
    f += [(f"project:{project}", 0.5), (f"client:{client}", 0.5), (f"pp:{person}|{client}|{project}", 1.0)]
    f.append((f"rc:{role}|{client}", 0.5))
    f += [(f"jira:{k.casefold()}", 1.0) for k in jira_projects(entry.notes)[:1]]
    if not entry.notes.strip():
        f.append(("notes:empty", 1.0))
    elif is_vague(entry.notes):
        f.append(("notes:vague", 1.0))
    return f


def category_features(c: Category) -> Features:
    keywords = getattr(c, "keywords", "")
    f = list(_text(f"{c.name} {c.meaning} {keywords}", category=True))
    f += _concepts(c.name, NAME_WEIGHT) + _concepts(f"{c.meaning}, {keywords}")
    f.append((f"task:{normalize_notes(c.name)}", TASK_NAME_WEIGHT))  # a tracker task named like the category
    if not c.billable:
        f += [("k:nonbillable", NOT_BILLED_WEIGHT), ("bill:no", NOT_BILLED_WEIGHT)]
    return f


class NaiveBayes:
    """Multinomial naive Bayes over weighted features, additive smoothing."""

    def __init__(self) -> None:
        self.labels: list[str] = []
        self.docs: list[float] = []
        self.totals: list[float] = []
        self.counts: dict[str, list[float]] = {}
        self._logs: dict[str, list[float]] = {}  # log(count + ALPHA) per feature, made when first needed

    @classmethod
    def train(cls, docs: Iterable[tuple[Features, str, float]], categories: Sequence[Category]) -> NaiveBayes:
        nb = cls()
        for c in categories:  # the Categories tab: a prior that works on day one
            nb.add(category_features(c), c.name, MEANING_WEIGHT)
        for feats, label, weight in docs:
            nb.add(feats, label, weight)
        return nb

    def _index(self, label: str) -> int:
        if label not in self.labels:
            self.labels.append(label)
            self.docs.append(0.0)
            self.totals.append(0.0)
            for v in self.counts.values():
                v.append(0.0)
            self._logs.clear()
        return self.labels.index(label)

    def add(self, feats: Features, label: str, weight: float = 1.0, doc: float = 1.0) -> None:
        i = self._index(label)
        self.docs[i] += weight * doc
        n = len(self.labels)
        for f, w in feats:
            row = self.counts.get(f)
            if row is None:
                row = self.counts[f] = [0.0] * n
            row[i] += w * weight
            self.totals[i] += w * weight
            self._logs.pop(f, None)

    def predict(self, feats: Features) -> tuple[str, float]:
        """(label, raw confidence): a tempered posterior, before calibration."""
        if not self.labels:
            raise ValueError("the classifier has no categories to choose from")
        n, v = len(self.labels), len(self.counts) + 1
        all_docs = sum(self.docs)
        scores = [math.log(self.docs[i] / all_docs) for i in range(n)]
        known = 0.0
        logs = self._logs
        for f, w in feats:
            lr = logs.get(f)
            if lr is None:
                row = self.counts.get(f)
                if row is None:
                    continue
                lr = logs[f] = [math.log(x + ALPHA) for x in row]
            known += w
            scores = [s + w * x for s, x in zip(scores, lr, strict=True)]
        for i in range(n):
            scores[i] -= known * math.log(self.totals[i] + ALPHA * v)
        # naive Bayes double-counts correlated features (grams of one word): temper by how many there were
        temperature = max(1.0, known / 3)
        top = max(scores)
        exp = [math.exp((s - top) / temperature) for s in scores]
        best = max(range(n), key=lambda i: (exp[i], self.docs[i]))
        confidence = exp[best] / sum(exp)
        if not known:
            confidence = min(confidence, 0.2)
        return self.labels[best], confidence


class Calibration:
    """Raw score -> how often a score like it was right (isotonic over a two-fold check on the history)."""

    def __init__(self, points: list[tuple[float, bool]]):
        points.sort()
        blocks: list[list[float]] = []  # [sum right, count, highest raw score]
        for raw, ok in points:
            blocks.append([float(ok), 1.0, raw])
            while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
                right, count, hi = blocks.pop()
                blocks[-1][0] += right
                blocks[-1][1] += count
                blocks[-1][2] = hi
        # a block's rate, shrunk a little towards the safe side for small blocks
        self.steps = [(hi, right / (count + 2)) for right, count, hi in blocks]

    def __call__(self, raw: float) -> float:
        for hi, rate in self.steps:
            if raw <= hi:
                return rate
        return self.steps[-1][1] if self.steps else raw


def _docs(rows: Sequence[TimeRow]) -> list[tuple[Features, str, float]]:
    return [(features(r.entry), r.category, 1.0) for r in rows]


def calibration(rows: Sequence[TimeRow], categories: Sequence[Category]) -> Calibration | None:
    if len(rows) < CALIBRATE_FROM:
        return None
    rows = rows[-CALIBRATE_ON:]
    points: list[tuple[float, bool]] = []
    for part in (0, 1):
        train = [r for i, r in enumerate(rows) if i % 2 != part]
        nb = NaiveBayes.train(_docs(train), categories)
        for i, r in enumerate(rows):
            if i % 2 == part:
                label, raw = nb.predict(features(r.entry))
                points.append((raw, label == r.category))
    return Calibration(points)


def training_rows(history: Iterable[TimeRow], allowed: set[str]) -> list[TimeRow]:
    """Rows a person vouched for (approved, or corrected), oldest first."""
    return sorted((r for r in decisions(history) if r.category in allowed), key=lambda r: (r.entry.date, r.row))


class OfflineClassifier:
    """The Categorizer port over NaiveBayes: places every entry (it is the last stage)."""

    def suggest(
        self, entries: Sequence[TimeEntry], ctx: CategorizeContext, report: CategorizeReport
    ) -> dict[str, Suggestion]:
        if not entries or not ctx.categories:
            return {}
        allowed = {c.name for c in ctx.categories}
        rows = training_rows(ctx.history, allowed)
        nb = NaiveBayes.train(_docs(rows), ctx.categories)
        feats = {e.ref: features(e) for e in entries}
        if len(rows) < FEW_DECISIONS:
            # learn from this run's confident guesses who does what where (vague notes follow that)
            for f in feats.values():
                label, raw = nb.predict(f)
                if raw >= PSEUDO_CONFIDENCE:
                    nb.add([x for x in f if x[0].startswith(PSEUDO_FEATURES)], label, PSEUDO_WEIGHT, PSEUDO_DOC)
        check = calibration(rows, ctx.categories)
        out = {}
        for entry in entries:
            label, raw = nb.predict(feats[entry.ref])
            conf = check(raw) if check else min(raw, UNCHECKED_CAP)
            if entry.notes.strip() and not any(f in nb.counts for f, _ in _text(entry.notes)):
                conf = min(conf, NOTHING_KNOWN_CAP)  # notes with not one word or gram seen before
            out[entry.ref] = Suggestion(
                category=label, source="model", confidence=round(max(MIN_CONFIDENCE, min(1.0, conf)), 3)
            )
        return out
