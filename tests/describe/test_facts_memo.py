"""Notes are split and scrubbed once per (note, client) in a run: the same note still reads differently for
each client (another client's name is scrubbed only where it is another's), and the facts are those of the
plain rules."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import date
from decimal import Decimal

from functions.describe.facts import LineFacts, Scrubber, line_facts
from functions.models import InvoiceLine, TimeEntry


def test_one_note_is_scrubbed_for_each_client_apart():
    s = Scrubber(people=["Ben Ortiz"], clients=["Acme", "Globex"])
    note = "Globex API fix for ben; CHK-12 review"
    for_acme = s.note(note, "Acme")
    for_globex = s.note(note, "Globex")
    assert for_acme == (("CHK-12",), ("API fix", "review"))
    assert for_globex == (("CHK-12",), ("Globex API fix", "review"))  # its own name may stay in its own line
    assert s.note(note, "Acme") is for_acme  # once per run
    assert s.phrases("Acme sync + Globex deck", client="Acme") == ["Acme sync", "deck"]
    assert s.phrases("Acme sync + Globex deck", client="Globex") == ["sync", "Globex deck"]
    assert s.clean("see https://x.test/a?b [email] @zoe done", client="Acme") == "see done"


def test_line_facts_and_their_key_are_the_plain_ones():
    entries = {
        f"t:{i}": TimeEntry(
            source="t",
            source_id=str(i),
            date=date(2026, 10, 1 + i),
            client="Acme",
            project=["Checkout", "Search", "Checkout"][i],
            task=["build", "", "build"][i],
            person="Ben Ortiz",
            hours=Decimal("1"),
            notes=["PR review + merge w/ BO", "numbers for ben", "PR review + merge w/ BO"][i],
        )
        for i in range(3)
    }
    line = InvoiceLine(
        description="Development",
        line_item="Development",
        quantity=Decimal("3"),
        unit_price=Decimal("100"),
        amount=Decimal("300"),
        entry_refs=(*entries, "t:gone"),
    )
    s = Scrubber(people=["Ben Ortiz"], clients=["Acme", "Globex"])
    facts = line_facts(line, "Acme", entries, s, show_project=True)
    assert facts == LineFacts(
        line_item="Development",
        projects=("Checkout", "Search"),
        tasks=("build",),
        phrases=("PR review", "merge", "numbers", "PR review", "merge"),
        keys=(),
        count=3,
        project_label="Checkout, Search",
    )
    by_asdict = hashlib.sha256(json.dumps(asdict(facts), sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    assert facts.content_key() == by_asdict[:24]
