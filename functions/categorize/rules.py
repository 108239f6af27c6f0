"""The first categorizer stage: the Rules tab's categorize rules (keywords or /regex/ on notes, task or
project, optionally for one client). Earlier rows win. A rule is certain (confidence 1.0).

Each rule is compiled once per run (its keywords split and case-folded, its regex compiled), and each
entry's texts are case-folded once, so a run costs rules x entries cheap comparisons, not re-parsing.
The result is the same as `CategoryRule.matches` for every rule and entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ..models import CategoryRule, Suggestion, TimeEntry
from ..ports import CategorizeContext, CategorizeReport

_FIELDS = {"notes": (0,), "task": (1,), "project": (2,), "any": (0, 1, 2)}

# (client casefolded or "", test over the entry's (notes, task, project) texts, raw and casefolded)
Compiled = tuple[str, Callable[[tuple[str, str, str], tuple[str, str, str]], bool]]


def compile_rule(rule: CategoryRule) -> Compiled:
    fields = _FIELDS[rule.field]
    p = rule.pattern.strip()
    if len(p) >= 2 and p.startswith("/") and p.endswith("/"):
        search = re.compile(p[1:-1], re.IGNORECASE).search

        def by_regex(raw: tuple[str, str, str], folded: tuple[str, str, str]) -> bool:
            return any(search(raw[i]) for i in fields)

        return rule.client.casefold() if rule.client else "", by_regex
    words = tuple(w.strip().casefold() for w in p.split("|") if w.strip())

    def by_words(raw: tuple[str, str, str], folded: tuple[str, str, str]) -> bool:
        return any(w in folded[i] for i in fields for w in words)

    return rule.client.casefold() if rule.client else "", by_words


class RulesCategorizer:
    def suggest(
        self, entries: Sequence[TimeEntry], ctx: CategorizeContext, report: CategorizeReport
    ) -> dict[str, Suggestion]:
        out: dict[str, Suggestion] = {}
        if not ctx.rules:
            return out
        # one (frozen) suggestion per rule, shared by every entry it matches
        compiled = [
            (Suggestion(category=r.category, source="rule", confidence=1.0, line_item=r.line_item), *compile_rule(r))
            for r in ctx.rules
        ]
        for entry in entries:
            raw = (entry.notes, entry.task, entry.project)
            folded = (entry.notes.casefold(), entry.task.casefold(), entry.project.casefold())
            client = entry.client.casefold()
            for suggestion, only_client, test in compiled:
                if only_client and only_client != client:
                    continue
                if test(raw, folded):
                    out[entry.ref] = suggestion
                    break
        return out
