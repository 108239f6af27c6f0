"""The chain keeps what a stage placed in an allowed category, counts it by source in the order the entries
came, and leaves the rest to the next stage: the same whether a stage's answers share suggestion objects or not."""

from __future__ import annotations

from datetime import date

from functions.categorize.chain import Chain
from functions.models import Category, Suggestion, TimeEntry
from functions.ports import CategorizeContext, CategorizeReport


class Fixed:
    """A stage that answers from a table: ref -> suggestion."""

    def __init__(self, answers: dict[str, Suggestion]):
        self.answers = answers

    def suggest(self, entries, ctx, report):
        return {e.ref: self.answers[e.ref] for e in entries if e.ref in self.answers}


def entry(i: int) -> TimeEntry:
    return TimeEntry(source="csv", source_id=str(i), date=date(2026, 10, 1), client="A", person="P", hours=1)


def test_refused_categories_go_on_and_counts_keep_the_entries_order():
    entries = [entry(i) for i in range(6)]
    rule = Suggestion(category="Bugs", source="rule", confidence=1.0)
    stray = Suggestion(category="Not a category", source="rule", confidence=1.0)
    memory = Suggestion(category="Calls", source="memory", confidence=0.9)
    first = Fixed({"csv:0": memory, "csv:1": rule, "csv:2": stray, "csv:3": rule, "csv:4": memory})
    model = Suggestion(category="Calls", source="model", confidence=0.4)
    last = Fixed({e.ref: model for e in entries})
    ctx = CategorizeContext(categories=(Category(name="Bugs"), Category(name="Calls")))
    report = CategorizeReport()
    out = Chain([first, last]).suggest(entries, ctx, report)
    assert [out[e.ref] for e in entries] == [memory, rule, model, rule, memory, model]
    assert list(report.by_source.items()) == [("memory", 2), ("rule", 2), ("model", 2)]
