"""The offline stage: a small naive Bayes text classifier, trained on the sheet's approved history.

No network, no model files: it learns from approved rows (notes, task, project, role -> category) plus the
Categories tab's meanings, so even a first run with no history has a weak opinion. Its confidence is a
tempered posterior; a low one is flagged for review.

    >>> from functions.models import Category
    >>> nb = NaiveBayes.train([("fix login bug", "Maintenance"), ("client call", "Meetings")],
    ...                       [Category(name="Maintenance"), Category(name="Meetings")])
    >>> nb.predict(["bug"])[0]
    'Maintenance'
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from ..models import Category, Suggestion, TimeEntry, TimeRow
from ..ports import CategorizeContext, CategorizeReport
from .text import normalize_notes, tokens

MIN_CONFIDENCE = 0.05
# How many examples a category's meaning counts as. Measured on the sample month with no history: the same
# accuracy (58.5 %) at weight 1 and 6, but at 6 the confidence tells right from wrong (0.8+ -> 100 % right,
# below 0.2 -> 8 %), where at 1 nearly everything sat below 0.2. With a month of history it changes nothing.
MEANING_WEIGHT = 6


def features(entry: TimeEntry) -> list[str]:
    feats = tokens(entry.notes)
    if entry.task:
        feats += tokens(entry.task) + [f"task:{normalize_notes(entry.task)}"]
    if entry.project:
        feats.append(f"project:{normalize_notes(entry.project)}")
    if entry.role:
        feats.append(f"role:{normalize_notes(entry.role)}")
    if not entry.notes.strip():
        feats.append("notes:empty")
    return feats


class NaiveBayes:
    """Multinomial naive Bayes with Laplace smoothing over feature counts."""

    def __init__(self) -> None:
        self.doc_count: Counter[str] = Counter()
        self.word_count: dict[str, Counter[str]] = defaultdict(Counter)
        self.total_words: Counter[str] = Counter()
        self.vocab: set[str] = set()

    @classmethod
    def train(cls, docs: Iterable[tuple[str | list[str], str]], categories: Sequence[Category]) -> NaiveBayes:
        nb = cls()
        for c in categories:  # the Categories tab's meanings: a prior that works on day one
            for _ in range(MEANING_WEIGHT):
                nb._add(tokens(f"{c.name} {c.meaning}"), c.name)
        for doc, label in docs:
            nb._add(tokens(doc) if isinstance(doc, str) else doc, label)
        return nb

    def _add(self, feats: list[str], label: str) -> None:
        self.doc_count[label] += 1
        for f in feats:
            self.word_count[label][f] += 1
            self.total_words[label] += 1
            self.vocab.add(f)

    def predict(self, feats: list[str]) -> tuple[str, float]:
        if not self.doc_count:
            raise ValueError("the classifier has no categories to choose from")
        total_docs = sum(self.doc_count.values())
        v = len(self.vocab) + 1
        known = [f for f in feats if f in self.vocab]
        scores: dict[str, float] = {}
        for label, n in self.doc_count.items():
            wc, tw = self.word_count[label], self.total_words[label]
            score = math.log(n / total_docs)
            for f in known:
                score += math.log((wc[f] + 1) / (tw + v))
            scores[label] = score
        # Tempered softmax: naive Bayes is overconfident, more so with more features.
        temperature = max(1.0, len(known) / 2)
        top = max(scores.values())
        exp = {k: math.exp((s - top) / temperature) for k, s in scores.items()}
        z = sum(exp.values())
        label = max(exp, key=lambda k: (exp[k], self.doc_count[k]))
        confidence = exp[label] / z
        if not known:
            confidence = min(confidence, 0.2)
        return label, max(MIN_CONFIDENCE, min(1.0, confidence))


def training_rows(history: Iterable[TimeRow], allowed: set[str]) -> list[TimeRow]:
    """Approved rows, plus rows a person corrected: the labels people vouched for."""
    return [
        r
        for r in history
        if r.category in allowed and (r.approved or (r.suggested_category and r.category != r.suggested_category))
    ]


class OfflineClassifier:
    """The Categorizer port over NaiveBayes: places every entry (it is the last stage)."""

    def suggest(
        self, entries: Sequence[TimeEntry], ctx: CategorizeContext, report: CategorizeReport
    ) -> dict[str, Suggestion]:
        if not entries or not ctx.categories:
            return {}
        allowed = {c.name for c in ctx.categories}
        nb = NaiveBayes.train(
            ((features(r.entry), r.category) for r in training_rows(ctx.history, allowed)), ctx.categories
        )
        out = {}
        for entry in entries:
            label, conf = nb.predict(features(entry))
            out[entry.ref] = Suggestion(category=label, source="model", confidence=round(conf, 3))
        return out
