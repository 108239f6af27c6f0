"""The compiled rules stage picks exactly the rule `CategoryRule.matches` picks, for every entry."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from functions.categorize.rules import RulesCategorizer
from functions.models import CategoryRule, TimeEntry
from functions.ports import CategorizeContext, CategorizeReport

RULES = (
    CategoryRule(category="Support", pattern="/^hotfix\\b/", field="notes"),
    CategoryRule(category="QA", pattern=" QA | regression ", field="any", client="ACME"),
    CategoryRule(category="Design", pattern="wireframe|Mockup", field="task"),
    CategoryRule(category="Meetings", pattern="MTG|standup", field="notes", line_item="Meetings"),
    CategoryRule(category="Development", pattern="Retainer", field="project"),
)


def entry(i: int, notes: str, task: str, project: str, client: str) -> TimeEntry:
    return TimeEntry(
        source="csv",
        source_id=str(i),
        date=date(2026, 10, 1),
        client=client,
        project=project,
        task=task,
        person="Ana",
        notes=notes,
        hours=Decimal("1"),
    )


def test_compiled_rules_choose_what_each_rule_says():
    notes = ["Hotfix login", "hotfix: login", "qa pass", "REGRESSION run", "mtg w/ client", "misc", ""]
    tasks = ["Wireframes", "mockups v2", "", "Build"]
    projects = ["retainer", "Website", ""]
    clients = ["acme", "Globex", ""]
    entries = [entry(i, *combo) for i, combo in enumerate(itertools.product(notes, tasks, projects, clients))]
    got = RulesCategorizer().suggest(entries, CategorizeContext(categories=(), rules=RULES), CategorizeReport())
    for e in entries:
        expected = next((r for r in RULES if r.matches(e)), None)
        s = got.get(e.ref)
        want = (expected.category, expected.line_item) if expected else None
        assert ((s.category, s.line_item) if s else None) == want, e
    assert {s.category for s in got.values()} == {"Support", "QA", "Design", "Meetings", "Development"}
