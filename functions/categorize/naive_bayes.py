"""The offline stage's model: a pure-Python naive Bayes over what an entry carries, trained on the sheet's history.

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
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from ..models import Category, TimeEntry
from .concepts import concepts_of, role_concepts
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


@lru_cache(maxsize=4096)  # bounded: category texts and roles repeat across runs, a month's notes do not
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


@lru_cache(maxsize=4096)
def _concepts(text: str, weight: float = 1.0) -> tuple[tuple[str, float], ...]:
    return tuple((f"k:{c}", w * weight * CONCEPT_WEIGHT) for c, w in concepts_of(text))


def features_of_notes(notes: str) -> Features:
    return [*_text(notes), *_concepts(notes)]


def notes_part(notes: str) -> Features:
    """What the notes alone say: words, grams, concepts, the Jira project, empty or vague."""
    f = features_of_notes(notes)
    f += [(f"jira:{k.casefold()}", 1.0) for k in jira_projects(notes)[:1]]
    if not notes.strip():
        f.append(("notes:empty", 1.0))
    elif is_vague(notes):
        f.append(("notes:vague", 1.0))
    return f


def context_part(
    task: str, role_name: str, billable: bool, project_name: str, person_name: str, client_name: str
) -> Features:
    """Who did it where, except the person+client+project key (`pp_key`), which a run keeps learning."""
    f = list(_text(f"{task} {role_name}", CONTEXT_TEXT_WEIGHT))
    f += _concepts(task, TASK_CONCEPT_WEIGHT)
    f += [(f"k:{c}", w * ROLE_CONCEPT_WEIGHT) for c, w in role_concepts(role_name)]
    if not billable:
        f.append(("bill:no", 1.0))  # the tracker says it is not billed
    f += _text(project_name, CONTEXT_TEXT_WEIGHT / 2)
    person, role, project, client = (normalize_notes(x) for x in (person_name, role_name, project_name, client_name))
    for name, value in (("task", normalize_notes(task)), ("role", role), ("person", person)):
        if value:
            f.append((f"{name}:{value}", 1.0))
    f += [(f"project:{project}", 0.5), (f"client:{client}", 0.5), (f"rc:{role}|{client}", 0.5)]
    return f


def pp_key(entry: TimeEntry) -> str:
    person, client, project = (normalize_notes(x) for x in (entry.person, entry.client, entry.project))
    return f"pp:{person}|{client}|{project}"


def _context_of(entry: TimeEntry) -> tuple[str, str, bool, str, str, str]:
    return (entry.task, entry.role, entry.billable, entry.project, entry.person, entry.client)


def features(entry: TimeEntry) -> Features:
    return [*notes_part(entry.notes), *context_part(*_context_of(entry)), (pp_key(entry), 1.0)]


def category_features(c: Category) -> Features:
    keywords = getattr(c, "keywords", "")
    f = list(_text(f"{c.name} {c.meaning} {keywords}", category=True))
    f += _concepts(c.name, NAME_WEIGHT) + _concepts(f"{c.meaning}, {keywords}")
    f.append((f"task:{normalize_notes(c.name)}", TASK_NAME_WEIGHT))  # a tracker task named like the category
    if not c.billable:
        f += [("k:nonbillable", NOT_BILLED_WEIGHT), ("bill:no", NOT_BILLED_WEIGHT)]
    return f


class NaiveBayes:
    """Multinomial naive Bayes over weighted features, additive smoothing.

    Scoring is a sum of per-feature vectors, so a run scores each distinct part of an entry (its notes, its
    context) once (`partial`) and an entry by adding its parts (`predict_parts`)."""

    def __init__(self) -> None:
        self.labels: list[str] = []
        self.docs: list[float] = []
        self.totals: list[float] = []
        self.counts: dict[str, list[float]] = {}
        self._logs: dict[str, list[float]] = {}  # log(count + ALPHA) per feature, made when first needed
        self._parts: dict[object, tuple[list[float], float]] = {}  # partial scores, by the caller's key
        self._statics: dict[object, tuple[list[float], float]] = {}  # priors + parts, see `static`
        # log priors, log(total + ALPHA * v) per category, and v (how many features, plus one)
        self._state: tuple[list[float], list[float], int] | None = None

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
            self._parts.clear()
            self._statics.clear()
        return self.labels.index(label)

    def add(self, feats: Features, label: str, weight: float = 1.0, doc: float = 1.0) -> None:
        i = self._index(label)
        self.docs[i] += weight * doc
        n = len(self.labels)
        state, self._state = self._state, None
        if weight * doc:
            self._statics.clear()  # the priors changed
            state = None
        for f, w in feats:
            row = self.counts.get(f)
            if row is None:
                row = self.counts[f] = [0.0] * n
            row[i] += w * weight
            self.totals[i] += w * weight
            self._logs.pop(f, None)
        if self._parts and not all(f.startswith(PSEUDO_FEATURES) for f, _ in feats):
            self._parts.clear()  # a part that holds one of these features scores otherwise now
            self._statics.clear()
        if state is not None and state[2] == len(self.counts) + 1:  # only this category's total moved
            state[1][i] = math.log(self.totals[i] + ALPHA * state[2])
            self._state = state

    def log_of(self, f: str) -> list[float] | None:
        lr = self._logs.get(f)
        if lr is None:
            row = self.counts.get(f)
            if row is None:
                return None
            lr = self._logs[f] = [math.log(x + ALPHA) for x in row]
        return lr

    def partial(self, key: object, feats: Callable[[], Features]) -> tuple[list[float], float]:
        """(sum of weight * log count per category, weight known) of some features, made once per key."""
        got = self._parts.get(key)
        if got is None:
            got = self._parts[key] = self._sum(feats())
        return got

    def _sum(self, feats: Features) -> tuple[list[float], float]:
        vec = [0.0] * len(self.labels)
        known = 0.0
        for f, w in feats:
            lr = self.log_of(f)
            if lr is not None:
                known += w
                vec = [s + w * x for s, x in zip(vec, lr, strict=True)]
        return vec, known

    def predict(self, feats: Features) -> tuple[str, float]:
        """(label, raw confidence): a tempered posterior, before calibration."""
        return self.predict_parts([self._sum(feats)])

    def predict_parts(self, parts: Sequence[tuple[list[float], float]]) -> tuple[str, float]:
        scores, known = self._priors(), 0.0
        for vec, k in parts:
            if k:
                known += k
                scores = [s + x for s, x in zip(scores, vec, strict=True)]
        return self.decide(scores, known)

    def _priors(self) -> list[float]:
        if not self.labels:
            raise ValueError("the classifier has no categories to choose from")
        if self._state is None:
            n, v = len(self.labels), len(self.counts) + 1
            all_docs = sum(self.docs)
            self._state = (
                [math.log(self.docs[i] / all_docs) for i in range(n)],
                [math.log(self.totals[i] + ALPHA * v) for i in range(n)],
                v,
            )
        return self._state[0]

    def decide(self, scores: list[float], known: float) -> tuple[str, float]:
        """(label, raw confidence) from the summed log priors and log counts of the known features."""
        self._priors()
        assert self._state is not None
        scores = [s - known * z for s, z in zip(scores, self._state[1], strict=True)]
        # naive Bayes double-counts correlated features (grams of one word): temper by how many there were
        temperature = max(1.0, known / 3)
        top = max(scores)
        exp = [math.exp((s - top) / temperature) for s in scores]
        high = max(exp)
        best = exp.index(high)
        if exp.count(high) > 1:  # a tie: the more common category
            best = max((i for i, x in enumerate(exp) if x == high), key=self.docs.__getitem__)
        confidence = high / sum(exp)
        if not known:
            confidence = min(confidence, 0.2)
        return self.labels[best], confidence

    def static(
        self, key: object, parts: Callable[[], Sequence[tuple[list[float], float]]]
    ) -> tuple[list[float], float]:
        """Log priors plus the parts that stay fixed while a run learns, summed once per key."""
        got = self._statics.get(key)
        if got is None:
            scores, known = self._priors(), 0.0
            for vec, k in parts():
                if k:
                    known += k
                    scores = [s + x for s, x in zip(scores, vec, strict=True)]
            got = self._statics[key] = (scores, known)
        return got


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
