"""The offline chain: rules first, then memory of corrections, then the classifier; sources recorded."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

from functions.categorize.chain import Chain, accuracy_by_source, offline_chain
from functions.categorize.classifier import OfflineClassifier
from functions.categorize.memory import MemoryCategorizer
from functions.categorize.text import normalize_notes
from functions.models import Category, CategoryRule, TimeEntry, TimeRow
from functions.ports import CategorizeContext, CategorizeReport

CATS = tuple(
    Category(name=n, meaning=m)
    for n, m in [
        ("Development", "building features, code, code review"),
        ("Maintenance", "bug fixes, hotfixes, regressions"),
        ("Meetings", "calls and meetings with the client"),
        ("Design", "wireframes, mockups, visual design"),
    ]
)


def e(i, notes, client="Acme", task="", project="Shop"):
    return TimeEntry(
        source="csv",
        source_id=str(i),
        date=date(2026, 10, 1),
        client=client,
        person="Ana",
        notes=notes,
        task=task,
        project=project,
        hours=Decimal(1),
    )


def test_normalize_folds_ticket_ids_numbers_and_abbreviations():
    assert normalize_notes("ACME-1423 fix null ptr on checkout") == normalize_notes("acme-99 Fix null PTR on checkout")
    assert normalize_notes("mtg w/ client") == "meeting with client"


def test_rules_win_then_memory_then_model():
    rules = (CategoryRule(category="Maintenance", pattern="hotfix|regression", field="notes"),)
    corrected = TimeRow(row=2, entry=e(100, "weekly sync call"), category="Meetings", suggested_category="Development")
    ctx = CategorizeContext(categories=CATS, rules=rules, history=(corrected,))
    report = CategorizeReport()
    got = offline_chain().suggest(
        [e(1, "Hotfix for login"), e(2, "Weekly sync call!"), e(3, "new mockups for cart", project="Brand")],
        ctx,
        report,
    )
    assert (got["csv:1"].category, got["csv:1"].source, got["csv:1"].confidence) == ("Maintenance", "rule", 1.0)
    assert (got["csv:2"].category, got["csv:2"].source) == ("Meetings", "memory")
    assert got["csv:3"].source == "model" and got["csv:3"].category == "Design"
    assert report.by_source == {"rule": 1, "memory": 1, "model": 1}


def test_a_client_scoped_rule_and_a_regex_rule():
    rules = (
        CategoryRule(category="Design", pattern="/^ux\\b/", field="notes", client="Other"),
        CategoryRule(category="Development", pattern="/^ux\\b/", field="notes"),
    )
    ctx = CategorizeContext(categories=CATS, rules=rules)
    got = offline_chain().suggest(
        [e(1, "UX review", client="Acme"), e(2, "ux review", client="Other")], ctx, CategorizeReport()
    )
    assert got["csv:1"].category == "Development" and got["csv:2"].category == "Design"


def test_memory_on_another_client_only_when_corrections_agree():
    rows = (
        TimeRow(row=2, entry=e(1, "standup", client="A"), category="Meetings", suggested_category="Development"),
        TimeRow(row=3, entry=e(2, "standup", client="B"), category="Development", suggested_category="Meetings"),
    )
    ctx = CategorizeContext(categories=CATS, history=rows)
    got = MemoryCategorizer().suggest(
        [e(3, "Standup", client="A"), e(4, "standup", client="C")], ctx, CategorizeReport()
    )
    assert got["csv:3"].category == "Meetings" and "csv:4" not in got


def test_classifier_learns_from_approved_history_and_is_unsure_of_nonsense():
    history = tuple(
        TimeRow(row=i + 2, entry=e(i, n), category=c, approved=True, suggested_category=c)
        for i, (n, c) in enumerate(
            [
                ("checkout api endpoint", "Development"),
                ("cart api refactor", "Development"),
                ("fix crash on cart", "Maintenance"),
                ("crash in checkout fixed", "Maintenance"),
            ]
            * 3
        )
    )
    ctx = CategorizeContext(categories=CATS, history=history)
    got = OfflineClassifier().suggest([e(50, "api for checkout"), e(51, "zzz qqq")], ctx, CategorizeReport())
    assert got["csv:50"].category == "Development" and got["csv:50"].confidence > 0.5
    assert got["csv:51"].confidence < 0.6  # flagged for review


def test_chain_drops_categories_that_are_not_allowed():
    class Rogue:
        def suggest(self, entries, ctx, report):
            from functions.models import Suggestion

            return {x.ref: Suggestion(category="Astrology", source="ai", confidence=0.9) for x in entries}

    got = Chain([Rogue(), OfflineClassifier()]).suggest(
        [e(1, "bug fix")], CategorizeContext(categories=CATS), CategorizeReport()
    )
    assert got["csv:1"].source == "model"


def test_accuracy_counts_kept_suggestions_on_approved_rows_per_source():
    rows = [
        TimeRow(
            row=2, entry=e(1, "x"), approved=True, category="Design", suggested_category="Design", suggested_by="rule"
        ),
        TimeRow(
            row=3, entry=e(2, "y"), approved=True, category="QA", suggested_category="Design", suggested_by="model"
        ),
        TimeRow(
            row=4, entry=e(3, "z"), approved=False, category="QA", suggested_category="Design", suggested_by="model"
        ),
    ]
    assert accuracy_by_source(rows) == {"model": (0, 1), "rule": (1, 1)}


def test_offline_accuracy_on_the_sample_month_beats_a_floor():
    """Train on the labelled September sample, score October: the offline chain must be useful on its own."""
    sample = Path(__file__).resolve().parents[2] / "functions" / "sample"
    from functions.models import Period
    from functions.sheet.config_tabs import parse_book
    from functions.sources.csv_exports import CsvSource

    def load(folder, labels_file, period):
        entries = (
            CsvSource([p for p in sorted((sample / folder).glob("*.csv")) if "labels" not in p.name])
            .fetch(Period.parse(period))
            .entries
        )
        with open(sample / labels_file, newline="", encoding="utf-8") as f:
            labels = {f"{r['source']}:{r['entry_id']}": r["category"] for r in csv.DictReader(f)}
        return entries, labels

    with open(sample / "config" / "Categories.csv", newline="", encoding="utf-8") as f:
        cats = list(csv.reader(f))
    book, _ = parse_book({"Categories": cats, "Clients": [], "Rates": [], "Rules": []})
    sept, sept_labels = load("history", "history/september_labels.csv", "2026-09")
    octo, oct_labels = load("exports", "labels.csv", "2026-10")
    history = tuple(
        TimeRow(row=i + 2, entry=x, category=sept_labels[x.ref], suggested_category=sept_labels[x.ref], approved=True)
        for i, x in enumerate(sept)
        if x.ref in sept_labels
    )
    got = OfflineClassifier().suggest(
        octo, CategorizeContext(categories=book.categories, history=history), CategorizeReport()
    )
    right = sum(got[x.ref].category == oct_labels[x.ref] for x in octo if x.ref in oct_labels)
    assert right / len(oct_labels) > 0.6
