"""The offline writer and what every writer is given: scrubbed facts, typo fixes from the notes' own words,
Jira keys kept, and lines of one line item told apart."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from functions.describe.facts import Scrubber, distinguishers, line_facts
from functions.describe.offline import OfflineWriter, Vocabulary, language_code
from functions.models import InvoiceDraft, InvoiceLine, TimeEntry

PEOPLE = ["Ben Ortiz", "Ana Ruiz", "Chloe Martin"]
CLIENTS = ["Acme Retail", "Globex", "Initech"]


def entry(i: int, notes: str, person: str = "Ana Ruiz", role: str = "Developer", **kw: object) -> TimeEntry:
    base: dict[str, object] = dict(
        source="csv",
        source_id=str(i),
        date=date(2026, 10, 1 + i % 28),
        client="Acme Retail",
        project="Checkout",
        task="Development",
        person=person,
        role=role,
        notes=notes,
        hours=Decimal("1.5"),
    )
    base.update(kw)
    return TimeEntry(**base)  # type: ignore[arg-type]


def line(
    refs: list[str], rate: str = "150", item: str = "Development", desc: str = "Development — 3 tasks"
) -> InvoiceLine:
    return InvoiceLine(
        description=desc,
        line_item=item,
        quantity=Decimal("3"),
        unit_price=Decimal(rate),
        amount=Decimal(rate) * 3,
        entry_refs=tuple(refs),
        service_date=date(2026, 10, 2),
    )


def write(notes: list[str], vocab_extra: list[str] = (), **kw: object) -> str:  # type: ignore[assignment]
    es = [entry(i, n, **kw) for i, n in enumerate(notes)]
    scrub = Scrubber(PEOPLE, CLIENTS)
    facts = line_facts(line([e.ref for e in es]), "Acme Retail", {e.ref: e for e in es}, scrub)
    return OfflineWriter(Vocabulary([*notes, *vocab_extra])).write(facts)


def test_the_issue_example_reads_like_an_invoice_line():
    text = write(
        ["ACME-1563 new invoice view component.", "PR review + mereg", "wpi"],
        ["merge conflicts", "merge", "wip", "wip"],
    )
    assert text == "Development: new invoice view component, pull request review and merge (ACME-1563) — 3 tasks"


def test_a_typo_is_fixed_only_from_the_notes_own_vocabulary():
    assert "merge" in write(["PR review + mereg"], ["merge", "merge"])
    assert "mereg" in write(["PR review + mereg"])  # no "merge" anywhere: nothing to learn from
    # a word never becomes its own plural or past tense
    assert Vocabulary(["fix", "fixes", "fixes", "fixes"]).fix("fix") == "fix"
    assert Vocabulary(["budget tracikng", "tracking", "tracking"]).fix("tracikng") == "tracking"


def test_repeats_are_dropped_and_jira_keys_kept():
    text = write(["ACME-1 login fix", "login fix", "Login fix.", "ACME-2 login fix"])
    assert text.count("login fix") == 1
    assert "(ACME-1, ACME-2)" in text and text.endswith("— 4 tasks")


def test_never_a_person_initials_another_client_or_a_redaction():
    text = write(
        [
            "numbers for ben",
            "call w/ BO about checkout",
            "sync with Chloe Martin",
            "compare with Globex checkout",
            "mail jane@acme.example re refund, pw: hunter22",
            "@maya review mockups",
        ]
    )
    low = text.casefold()
    for never in ("ben", "ortiz", " bo ", "chloe", "martin", "globex", "jane", "@", "[", "hunter22", "maya"):
        assert never not in f" {low} ", (never, text)
    assert "checkout" in low


def test_shorthand_is_expanded():
    text = write(["mtg w/ client", "misc admin", "e2e tests"])
    assert "meeting with client" in text and "end-to-end tests" in text and "mtg" not in text


def test_filler_on_its_own_gives_way_to_real_work():
    text = write(["cont'd", "done", "checkout fixes"])
    assert text == "Development: checkout fixes — 3 tasks"
    assert write(["cont'd"]) == "Development: cont'd — 1 task"  # nothing better: kept


def test_offline_a_line_stays_in_one_language_whatever_the_clients_language():
    es = [entry(0, "Header"), entry(1, "Footer")]
    facts = line_facts(line([e.ref for e in es]), "Acme Retail", {e.ref: e for e in es}, Scrubber([], []), "German")
    # the notes are not translated offline, so nothing around them is either: no "header und footer — 2 Aufgaben"
    assert OfflineWriter().write(facts) == "Development: header and footer — 2 tasks"
    assert [language_code(x) for x in ("de-AT", "Deutsch", "fr", "", "klingon")] == ["de", "de", "fr", "en", "en"]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (dict(role="Senior Developer"), dict(role="QA Engineer"), ("Senior Developer", "QA Engineer")),
        (dict(person="Ana Ruiz"), dict(person="Ben Ortiz"), ("Ana Ruiz", "Ben Ortiz")),
    ],
)
def test_lines_of_one_line_item_at_different_rates_say_what_distinguishes_them(a, b, expected):
    e1, e2 = entry(1, "x", **a), entry(2, "y", **b)
    draft = InvoiceDraft(
        client="Acme Retail",
        customer="",
        period="2026-10",
        currency="USD",
        issue_date=date(2026, 11, 1),
        due_date=date(2026, 12, 1),
        lines=(line([e1.ref], "150"), line([e2.ref], "90"), line([e1.ref], "150", item="Design")),
    )
    apart = distinguishers(draft, {e.ref: e for e in (e1, e2)})
    assert (apart[0], apart[1]) == expected and 2 not in apart


def test_tier_bands_and_weeks_from_the_engine_text_are_kept():
    e1, e2 = entry(1, "x"), entry(2, "y")
    draft = InvoiceDraft(
        client="Acme Retail",
        customer="",
        period="2026-10",
        currency="USD",
        issue_date=date(2026, 11, 1),
        due_date=date(2026, 12, 1),
        lines=(
            line([e1.ref], "150", desc="Development — 1 task, Oct 2026 (first 40 h)"),
            line([e2.ref], "120", desc="Development — 1 task, Oct 2026 (beyond 40 h)"),
        ),
    )
    assert distinguishers(draft, {e.ref: e for e in (e1, e2)}) == {0: "first 40 h", 1: "beyond 40 h"}


def test_the_demo_month_is_written_offline_naming_nobody():
    """The sample agency's October: every line written, none naming a person (timed: benchmarks/describe_month.py)."""
    from functions.demo import SAMPLE
    from functions.models import Period
    from functions.sources.csv_exports import CsvSource

    got = CsvSource(sorted((SAMPLE / "exports").glob("*.csv"))).fetch(Period.parse("2026-10"))
    es = list(got.entries)
    people = {e.person for e in es}
    scrub = Scrubber(people, {e.client for e in es})
    writer = OfflineWriter(Vocabulary(e.notes for e in es))
    by_line: dict[tuple[str, str], list[TimeEntry]] = {}
    for e in es:
        by_line.setdefault((e.client, e.task or e.project), []).append(e)
    texts = []
    for (client, item), group in by_line.items():
        facts = line_facts(line([e.ref for e in group], item=item), client, {e.ref: e for e in group}, scrub)
        texts.append(writer.write(facts))
    assert len(texts) == len(by_line) > 50
    first_names = {p.split()[0].casefold() for p in people}
    assert not [t for t in texts if first_names & {w.strip(",():").casefold() for w in t.split()}]
