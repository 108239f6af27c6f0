"""The categorizer chain: each stage places what it can and passes the rest on.

Offline: Rules tab -> memory of corrections -> offline classifier. With Claude enabled the chain is
rules -> memory -> Claude -> offline classifier (config.bootstrap builds it), so Claude only sees what
rules and memory could not place, and a failing Claude still leaves every entry with a suggestion.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from ..models import Suggestion, TimeEntry, TimeRow
from ..ports import CategorizeContext, Categorizer, CategorizeReport
from .classifier import OfflineClassifier
from .memory import MemoryCategorizer
from .rules import RulesCategorizer


class Chain:
    def __init__(self, stages: Sequence[Categorizer]):
        self.stages = list(stages)

    def suggest(
        self, entries: Sequence[TimeEntry], ctx: CategorizeContext, report: CategorizeReport
    ) -> dict[str, Suggestion]:
        out: dict[str, Suggestion] = {}
        left = list(entries)
        for stage in self.stages:
            if not left:
                break
            got = stage.suggest(left, ctx, report)
            allowed = {c.name for c in ctx.categories}
            for ref, s in got.items():
                if s.category in allowed or not allowed:
                    out[ref] = s
                    report.by_source[s.source] = report.by_source.get(s.source, 0) + 1
            left = [e for e in left if e.ref not in out]
        return out


def offline_chain() -> Chain:
    return Chain([RulesCategorizer(), MemoryCategorizer(), OfflineClassifier()])


def accuracy_by_source(rows: Iterable[TimeRow]) -> dict[str, tuple[int, int]]:
    """On approved rows: per suggestion source, (suggestions kept by the reviewer, suggestions made)."""
    made: Counter[str] = Counter()
    kept: Counter[str] = Counter()
    for r in rows:
        if r.approved and r.suggested_category and r.suggested_by:
            made[r.suggested_by] += 1
            kept[r.suggested_by] += int(r.category.casefold() == r.suggested_category.casefold())
    return {src: (kept[src], made[src]) for src in sorted(made)}
