"""The first categorizer stage: the Rules tab's categorize rules (keywords or /regex/ on notes, task or
project, optionally for one client). Earlier rows win. A rule is certain (confidence 1.0).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..models import Suggestion, TimeEntry
from ..ports import CategorizeContext, CategorizeReport


class RulesCategorizer:
    def suggest(
        self, entries: Sequence[TimeEntry], ctx: CategorizeContext, report: CategorizeReport
    ) -> dict[str, Suggestion]:
        out: dict[str, Suggestion] = {}
        if not ctx.rules:
            return out
        for entry in entries:
            for rule in ctx.rules:
                if rule.matches(entry):
                    out[entry.ref] = Suggestion(
                        category=rule.category, source="rule", confidence=1.0, line_item=rule.line_item
                    )
                    break
        return out
