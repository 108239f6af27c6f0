"""The categorizer chain: each stage places what it can and passes the rest on.

Offline: Rules tab -> memory of past decisions -> offline classifier. A stage with an `ask_below`
threshold (Claude) is a second opinion: it runs after the others, and only on the entries they placed
with a confidence below its threshold; what it answers replaces their guess, and whatever it cannot answer
keeps it. So Claude is never asked what rules, memory or a confident classifier already know, and a failing
Claude still leaves every entry with a suggestion.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date

from ..collector import collector_paused
from ..models import Suggestion, TimeEntry, TimeRow
from ..ports import CategorizeContext, Categorizer, CategorizeReport
from .classifier import OfflineClassifier
from .memory import MemoryCategorizer
from .rules import RulesCategorizer


class Chain:
    def __init__(self, stages: Sequence[Categorizer]):
        self.stages = list(stages)

    @collector_paused
    def suggest(
        self, entries: Sequence[TimeEntry], ctx: CategorizeContext, report: CategorizeReport
    ) -> dict[str, Suggestion]:
        out: dict[str, Suggestion] = {}
        allowed = {c.name for c in ctx.categories}
        left = list(entries)
        second: list[Categorizer] = []
        for stage in self.stages:
            if getattr(stage, "ask_below", None) is not None:
                second.append(stage)
                continue
            if left:
                got = stage.suggest(left, ctx, report)
                if got:  # a stage that placed nothing leaves the same entries to the next
                    self._take(got, out, allowed, report)
                    left = [e for e in left if e.ref not in out]
        for stage in second:
            below = float(getattr(stage, "ask_below", 0.0))
            unsure = [e for e in entries if e.ref not in out or out[e.ref].confidence < below]
            if unsure:
                self._take(stage.suggest(unsure, ctx, report), out, allowed, report)
        return out

    @staticmethod
    def _take(
        got: dict[str, Suggestion], out: dict[str, Suggestion], allowed: set[str], report: CategorizeReport
    ) -> None:
        if not out:  # nothing to replace: each distinct suggestion (stages share them) is checked and counted once
            said = list(got.values())
            times = Counter(map(id, said))  # in the order each first appears, as the loop below counts
            first = dict(zip(map(id, said), said, strict=True))
            refused = {i for i in times if not (first[i].category in allowed or not allowed)}
            for i, n in times.items():
                if i not in refused:
                    source = first[i].source
                    report.by_source[source] = report.by_source.get(source, 0) + n
            out.update(got if not refused else {ref: s for ref, s in got.items() if id(s) not in refused})
            return
        for ref, s in got.items():
            if s.category in allowed or not allowed:
                if ref in out:  # a second opinion replaces a guess
                    was = out[ref].source
                    report.by_source[was] -= 1
                    if not report.by_source[was]:
                        del report.by_source[was]
                out[ref] = s
                report.by_source[s.source] = report.by_source.get(s.source, 0) + 1


def offline_chain() -> Chain:
    return Chain([RulesCategorizer(), MemoryCategorizer(), OfflineClassifier()])


def accuracy_by_source(rows: Iterable[TimeRow]) -> dict[str, tuple[int, int]]:
    """On approved rows: per suggestion source, (suggestions kept by the reviewer, suggestions made)."""
    return accuracy_by_month(rows, months=1, by_month=False).get("", {})


def accuracy_by_month(
    rows: Iterable[TimeRow], months: int = 12, by_month: bool = True
) -> dict[str, dict[str, tuple[int, int]]]:
    """`accuracy_by_source` per month of the work (the entry's date), newest first, the last `months` months:
    how the suggestions reviewers kept rise as history grows. (`by_month` False: all months as one, "".)"""
    counts: dict[tuple[str, str], list[int]] = {}  # (month, source) -> [kept, made]
    month_of: dict[date, str] = {}  # a month has a few dozen distinct days: each formatted once
    same: dict[tuple[str, str], bool] = {}  # (category, suggested) -> kept: each distinct pair compared once
    for r in rows:
        source = r.suggested_by
        if not (r.approved and source and r.suggested_category):
            continue
        month = ""
        if by_month:
            day = r.entry.date
            month = month_of.get(day) or month_of.setdefault(day, f"{day.year:04d}-{day.month:02d}")
        pair = (r.category, r.suggested_category)
        kept = same.get(pair)
        if kept is None:
            kept = same[pair] = pair[0].casefold() == pair[1].casefold()
        tally = counts.get((month, source))
        if tally is None:
            tally = counts[(month, source)] = [0, 0]
        tally[0] += kept
        tally[1] += 1
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for month, source in sorted(counts):  # each month's sources in order
        kept_made = counts[(month, source)]
        out.setdefault(month, {})[source] = (kept_made[0], kept_made[1])
    return {m: out[m] for m in sorted(out, reverse=True)[:months]}


def accuracy_text(figures: dict[str, tuple[int, int]]) -> str:
    """`memory 99% (1244/1248), model 91% (685/752)`."""
    return ", ".join(f"{src} {kept / made:.0%} ({kept}/{made})" for src, (kept, made) in figures.items())
