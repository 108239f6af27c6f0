"""The first month with no history: the agency's own category names and meanings, read through the concept
lexicon, place notes in six languages, and a role, a task or the tracker's non-billable flag point where
their meaning matches."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from functions.categorize.classifier import OfflineClassifier
from functions.categorize.concepts import Lexicon, concepts_of, role_concepts
from functions.models import Category, TimeEntry
from functions.ports import CategorizeContext, CategorizeReport

# a studio's own words, no Keywords column: nothing here names a French, Dutch or Portuguese word
CATS = (
    Category(name="Discovery", meaning="Up-front research and workshops: interviews, requirements."),
    Category(name="Build", meaning="Writing and shipping product code, integrations, code reviews."),
    Category(name="QA", meaning="Test passes, device checks, acceptance with the client."),
    Category(name="Copy", meaning="Words: site copy, articles, scripts."),
    Category(name="Paid media", meaning="Buying ads and running campaigns."),
    Category(name="Delivery", meaning="Running the project: planning, check-ins, status, change requests."),
    Category(name="Non-billable", meaning="Anything internal.", billable=False),
    Category(name="Sales", meaning="Proposals and pitches.", billable=False),
)


def entry(i: int, notes: str, role: str = "", task: str = "", billable: bool = True) -> TimeEntry:
    return TimeEntry(
        source="toggl",
        source_id=str(i),
        date=date(2026, 9, 1),
        client="Vélo Rhône",
        project="E-shop",
        person=f"Person {i}",
        role=role,
        task=task,
        notes=notes,
        hours=Decimal(1),
        billable=billable,
    )


def first_month(entries: list[TimeEntry]) -> dict[str, str]:
    got = OfflineClassifier().suggest(entries, CategorizeContext(categories=CATS), CategorizeReport())
    assert all(s.confidence < 0.9 for s in got.values())  # nothing reviewed yet to vouch for a 0.9
    return {ref.split(":")[1]: s.category for ref, s in got.items()}


def test_notes_in_six_languages_land_where_the_categorys_own_words_mean():
    notes = {
        "1": "Blogartikel schreiben",
        "2": "rédaction article de blog",
        "3": "tradução para inglês",
        "4": "recette tunnel de commande",
        "5": "regressietest",
        "6": "campagne optimaliseren",
        "7": "anuncios meta",
        "8": "entretiens utilisateurs",
        "9": "sprintplanning",
        "10": "desarrollo carrito",
        "11": "Angebot für Relaunch",
    }
    got = first_month([entry(int(i), n) for i, n in notes.items()])
    assert got == {
        "1": "Copy",
        "2": "Copy",
        "3": "Copy",
        "4": "QA",
        "5": "QA",
        "6": "Paid media",
        "7": "Paid media",
        "8": "Discovery",
        "9": "Delivery",
        "10": "Build",
        "11": "Sales",
    }


def test_a_role_task_or_non_billable_flag_points_at_the_category_that_means_it():
    got = first_month(
        [
            entry(1, "idem", role="Test Engineer"),
            entry(2, "", role="Content Writer"),
            entry(3, "", role="Growth Marketer"),
            entry(4, "suite", task="Delivery"),  # a tracker task named like the category
            entry(5, "misc", role="Full-stack Engineer", billable=False),
            entry(6, "misc", role="Full-stack Engineer"),
        ]
    )
    assert got.pop("5") in {"Non-billable", "Sales"}  # the tracker says not billed: a category not billed
    assert got == {"1": "QA", "2": "Copy", "3": "Paid media", "4": "Delivery", "6": "Build"}


def test_words_match_inflected_compounded_misspelt_and_as_phrases():
    assert concepts_of("implementing") == [("development", 1.0)]
    assert concepts_of("Startseitendesign") == [("visual", 1.0)]  # the head of a compound
    assert concepts_of("campiagn") == concepts_of("campaign") == [("ads", 1.0)]  # two letters swapped
    assert concepts_of("Jour fixe") == [("meeting", 1.0)]  # a phrase before its words
    assert concepts_of("tickets") == [] and concepts_of("wip") == []  # vague words say nothing
    assert role_concepts("QA Engineer") == (("testing", 1.0),)  # the telling word, not "engineer"
    assert role_concepts("Motion Designer") == (("video", 1.0),)


def test_a_lexicon_line_is_a_concept_and_its_words_any_language():
    lex = Lexicon(["# comment", "", "ops: Bereitschaft, astreinte, on call"])
    assert lex.concepts("Astreinte weekend, on call") == [("ops", 1.0), ("ops", 1.0)]
    assert lex.names == {"ops"}
