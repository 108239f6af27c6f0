"""Memory of decisions keyed by who and where, a first month with no history, calibrated confidence, and
Claude asked only below its threshold."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from functions.categorize.chain import Chain, offline_chain
from functions.categorize.classifier import UNCHECKED_CAP, OfflineClassifier
from functions.categorize.memory import MemoryCategorizer
from functions.categorize.text import is_vague
from functions.models import Category, Suggestion, TimeEntry, TimeRow
from functions.ports import CategorizeContext, CategorizeReport

CATS = (
    Category(name="Web Build", meaning="Front-end and back-end development, code review."),
    Category(name="Bug Fixing", meaning="Fixing defects and errors on live sites.", keywords="hotfix, broken"),
    Category(name="Paid Media", meaning="Paid campaigns on Google and Meta.", keywords="ads, budget"),
    Category(name="Account Management", meaning="Client meetings, calls and emails."),
)


def e(i, notes, client="Acme", person="Jonas", role="Developer", project="Shop", day=1, task=""):
    return TimeEntry(
        source="csv",
        source_id=str(i),
        date=date(2026, 10, day),
        client=client,
        project=project,
        person=person,
        role=role,
        task=task,
        notes=notes,
        hours=Decimal(1),
    )


def approved(i, entry, category, suggested=None):
    return TimeRow(row=i + 2, entry=entry, category=category, approved=True, suggested_category=suggested or category)


def memory(history, entries):
    return MemoryCategorizer().suggest(entries, CategorizeContext(categories=CATS, history=history), CategorizeReport())


def test_a_kept_suggestion_is_a_decision_too():
    got = memory((approved(0, e(0, "checkout api"), "Web Build"),), [e(1, "Checkout API!")])
    assert got["csv:1"].category == "Web Build" and got["csv:1"].source == "memory"


def test_vague_notes_follow_the_person_and_project_never_another_client_or_role():
    history = (approved(0, e(0, "wip"), "Bug Fixing"),)
    got = memory(
        history,
        [e(1, "WIP"), e(2, "wip", client="Other"), e(3, "wip", person="Mateo", role="Media Buyer"), e(4, "weiter")],
    )
    assert got["csv:1"].category == "Bug Fixing"
    assert "csv:2" not in got and "csv:3" not in got and "csv:4" not in got
    assert is_vague("see jira") and is_vague("Fortsetzung") and is_vague("varios") and not is_vague("fix login")


def test_the_latest_decision_wins_and_a_conflict_does_not_cross_clients():
    history = (
        approved(0, e(0, "client call", day=1), "Web Build"),
        approved(1, e(1, "client call", day=20), "Account Management"),
        approved(2, e(2, "client call", client="Other", day=5), "Bug Fixing"),
    )
    got = memory(history, [e(3, "client call"), e(4, "client call", client="Third")])
    assert got["csv:3"].category == "Account Management"
    assert "csv:4" not in got  # clients disagree: the classifier decides


def test_a_first_month_places_german_and_spanish_notes_by_meaning_keywords_and_role():
    entries = [
        e(1, "Fehler im Warenkorb beheben"),
        e(2, "corregir error en el formulario"),
        e(3, "Kampagnen Budget anpassen", person="Mateo", role="Media Buyer"),
        e(4, "hotfix footer"),
        e(5, "Telefonat mit Kunde", person="Anna", role="Account Manager"),
    ]
    got = offline_chain().suggest(entries, CategorizeContext(categories=CATS), CategorizeReport())
    assert [got[x.ref].category for x in entries] == [
        "Bug Fixing",
        "Bug Fixing",
        "Paid Media",
        "Bug Fixing",
        "Account Management",
    ]
    assert all(got[x.ref].confidence <= UNCHECKED_CAP for x in entries)  # no 0.9 without history behind it


def test_with_history_a_shown_09_is_right_nine_times_in_ten():
    notes = {
        "Web Build": ["build cart component", "implement checkout", "frontend menu", "api integration"],
        "Bug Fixing": ["fix cart bug", "broken menu on safari", "hotfix checkout", "error on login"],
        "Paid Media": ["google ads", "meta campaign setup", "budget pacing", "bidding"],
        "Account Management": ["client call", "weekly status", "emails", "estimate"],
    }
    history = tuple(
        approved(i, e(i, f"{n} {i % 7}", person=f"P{i % 5}", client=f"C{i % 6}"), cat)
        for i, (cat, n) in enumerate((c, n) for _ in range(12) for c, ns in notes.items() for n in ns)
    )
    tests = [
        (e(1000 + i, f"{n} v2", person=f"P{i % 5}", client=f"C{i % 3}"), c)
        for i, (c, ns) in enumerate(notes.items())
        for n in ns
    ]
    got = OfflineClassifier().suggest(
        [x for x, _ in tests], CategorizeContext(categories=CATS, history=history), CategorizeReport()
    )
    shown = [(got[x.ref].category == c) for x, c in tests if got[x.ref].confidence >= 0.9]
    assert shown and sum(shown) / len(shown) >= 0.9


class SecondOpinion:
    """A stand-in for Claude: records what it was asked, answers Account Management."""

    ask_below = 0.8

    def __init__(self) -> None:
        self.asked: list[str] = []

    def suggest(self, entries, ctx, report):
        self.asked += [x.ref for x in entries]
        return {x.ref: Suggestion(category="Account Management", source="ai", confidence=0.9) for x in entries}


def test_a_second_opinion_is_asked_only_about_what_the_offline_stages_are_unsure_of():
    history = tuple(approved(i, e(i, "checkout api", client=f"C{i}"), "Web Build") for i in range(3))
    second = SecondOpinion()
    report = CategorizeReport()
    entries = [e(10, "checkout api", client="C1"), e(11, "qqq zzz")]
    got = Chain([MemoryCategorizer(), second, OfflineClassifier()]).suggest(
        entries, CategorizeContext(categories=CATS, history=history), report
    )
    assert second.asked == ["csv:11"]
    assert got["csv:10"].source == "memory" and got["csv:11"].source == "ai"
    assert report.by_source == {"memory": 1, "ai": 1}
