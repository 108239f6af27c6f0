"""Sync hashes are stored in people's sheets: a hash that changed would flag every row as changed in the source.

The pinned hashes below were computed with the json.dumps implementation the project shipped before the hash
was built directly; the property test compares the two on any text.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.models import TimeEntry

PINNED = [
    (
        dict(source="csv", source_id="1", date="2026-10-01", client="Acme", person="Ana Ruiz", hours="1.5"),
        "f46446367e76b2e1",
    ),
    (
        dict(
            source="harvest",
            source_id="h-42",
            date="2026-10-31",
            client="Müller & Söhne GmbH",
            project="Relaunch",
            task="Design",
            person="Zoë O'Brien",
            role="Designer",
            notes='Entwurf "Startseite" – Runde 2 \\ final\t✓ 😀',
            hours="2.50",
            billable=False,
            rate="120.00",
            currency="EUR",
        ),
        "28c7946755b5eefe",
    ),
    (
        dict(
            source="toggl",
            source_id="t/9",
            date="2026-02-28",
            client="",
            person="P",
            hours="0",
            notes="line1\nline2\r\x07",
        ),
        "cad4d43bb0795699",
    ),
    (
        dict(
            source="clockify",
            source_id="c 7",
            date="2026-10-05",
            client="株式会社",
            person="李",
            hours="0.016666666666666666",
            rate="0",
            currency="JPY",
            notes="\u2028\u2029 </script> =SUM(A1)",
        ),
        "58b66b9f5992a956",
    ),
    (
        dict(
            source="jira",
            source_id="WEB-12",
            date="2026-10-06",
            client="Acme",
            person="Ana",
            hours="10",
            rate="95.5",
            notes="ééé\x00",
        ),
        "60ddb8a2e547f3e0",
    ),
]


def reference_hash(e: TimeEntry) -> str:
    """The hash as it was first shipped."""
    return hashlib.sha256(json.dumps(e.sync_fields(), sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


@pytest.mark.parametrize(("fields", "pinned"), PINNED)
def test_known_hashes_never_change(fields, pinned):
    e = TimeEntry(**fields)
    assert e.sync_hash() == pinned
    assert reference_hash(e) == pinned


texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)


@settings(max_examples=200, deadline=None)
@given(
    client=texts,
    project=texts,
    task=texts,
    person=texts,
    role=texts,
    notes=texts,
    hours=st.decimals(min_value=0, max_value=1000, places=4),
    rate=st.none() | st.decimals(min_value=0, max_value=10000, places=2),
    currency=st.none() | st.sampled_from(["USD", "EUR", ""]),
    billable=st.booleans(),
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
)
def test_hash_is_the_json_dumps_hash_for_any_text(
    client, project, task, person, role, notes, hours, rate, currency, billable, day
):
    e = TimeEntry(
        source="csv",
        source_id="x",
        date=day,
        client=client,
        project=project,
        task=task,
        person=person,
        role=role,
        notes=notes,
        hours=hours,
        rate=rate,
        currency=currency,
        billable=billable,
    )
    assert e.sync_hash() == reference_hash(e)


def test_ref_follows_a_copy_that_changes_the_identity():
    e = TimeEntry(source="csv", source_id="1", date="2026-10-01", client="A", person="P", hours=Decimal("1"))
    assert e.ref == "csv:1"
    moved = e.model_copy(update={"source_id": "1#2"})
    assert moved.ref == "csv:1#2" and e.ref == "csv:1"
    assert e.model_copy(update={"notes": "x"}).ref == "csv:1"
    # the remembered ref is no field: equality, hashing and dumps see the fields only
    again = TimeEntry(source="csv", source_id="1", date="2026-10-01", client="A", person="P", hours=Decimal("1"))
    assert e == again and hash(e) == hash(again)
    assert "ref" not in e.model_dump() and "ref" not in e.model_dump_json()
