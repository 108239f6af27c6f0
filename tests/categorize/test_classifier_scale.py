"""The classifier's run-scoped shortcuts (each distinct notes text and context scored once, identical
entries sharing one answer, the person+client+project feature learned entry by entry) change no suggestion:
on the generated agencies' months, with and without a reviewed month as history, every category and every
confidence equals that of the plain per-entry computation written out below."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from benchmarks.agency_b import CATEGORIES as KANAL
from benchmarks.agency_b import kanal_months
from benchmarks.agency_months import CATEGORIES as HAFENBLICK
from benchmarks.agency_months import agency_months
from functions.categorize import classifier as c
from functions.models import Category, TimeEntry, TimeRow
from functions.ports import CategorizeContext, CategorizeReport


def _calibration(rows: list[TimeRow], categories: Sequence[Category]) -> c.Calibration | None:
    if len(rows) < c.CALIBRATE_FROM:
        return None
    rows = rows[-c.CALIBRATE_ON :]
    points = []
    for part in (0, 1):
        nb = c.NaiveBayes.train(
            [(c.features(r.entry), r.category, 1.0) for i, r in enumerate(rows) if i % 2 != part], categories
        )
        for i, r in enumerate(rows):
            if i % 2 == part:
                label, raw = nb.predict(c.features(r.entry))
                points.append((raw, label == r.category))
    return c.Calibration(points)


def plain(entries: Sequence[TimeEntry], ctx: CategorizeContext) -> dict[str, tuple[str, float]]:
    """The classifier one entry at a time: every feature of every entry made and scored afresh."""
    rows = c.training_rows(ctx.history, {x.name for x in ctx.categories})
    nb = c.NaiveBayes.train([(c.features(r.entry), r.category, 1.0) for r in rows], ctx.categories)
    for e in {e.ref: e for e in entries}.values():
        label, raw = nb.predict(c.features(e))
        if raw >= c.PSEUDO_CONFIDENCE:
            nb.add([x for x in c.features(e) if x[0].startswith(c.PSEUDO_FEATURES)], label, c.PSEUDO_WEIGHT, 0.0)
    check = _calibration(rows, ctx.categories)
    out = {}
    for e in entries:
        label, raw = nb.predict(c.features(e))
        conf = check(raw) if check else min(raw, c.UNCHECKED_CAP)
        if e.notes.strip() and not any(f in nb.counts for f, _ in c.features_of_notes(e.notes) if f[0] in "wsc"):
            conf = min(conf, c.NOTHING_KNOWN_CAP)
        out[e.ref] = (label, round(max(c.MIN_CONFIDENCE, min(1.0, conf)), 3))
    return out


@pytest.mark.parametrize("months,categories", [(agency_months, HAFENBLICK), (kanal_months, KANAL)])
def test_same_suggestions_as_one_entry_at_a_time(months, categories) -> None:
    first, second = months(300)
    fast = c.OfflineClassifier()
    ctx = CategorizeContext(categories=categories)
    got = fast.suggest(first.entries, ctx, CategorizeReport())
    assert {r: (s.category, s.confidence) for r, s in got.items()} == plain(first.entries, ctx)
    history = tuple(
        TimeRow(
            row=i + 2,
            entry=e,
            category=first.labels[e.ref],
            approved=True,
            suggested_category=got[e.ref].category,
            suggested_by="model",
        )
        for i, e in enumerate(first.entries)
    )
    ctx = CategorizeContext(categories=categories, history=history)
    again = fast.suggest(second.entries, ctx, CategorizeReport())
    expected = plain(second.entries, ctx)
    assert {r: (s.category, s.confidence) for r, s in again.items()} == expected
    assert len({label for label, _ in expected.values()}) > 5  # a month spread over the categories


def test_identical_entries_share_one_suggestion() -> None:
    first, _ = agency_months(200)
    e = first.entries[0]
    twins = [e, e.model_copy(update={"source_id": "twin"}), *first.entries[1:50]]
    got = c.OfflineClassifier().suggest(twins, CategorizeContext(categories=HAFENBLICK), CategorizeReport())
    assert got[twins[0].ref] is got[twins[1].ref]
