"""The merge never loses a person's edit, follows the source where it may, and flags what it may not."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.models import Period, Suggestion, TimeEntry, TimeRow
from functions.sheet.merge import merge
from functions.sheet.tables import REVIEW_KEYS

OCT = Period.parse("2026-10")


def entry(i: int, **kw) -> TimeEntry:
    base = dict(
        source="csv",
        source_id=f"e{i}",
        date=date(2026, 10, 1) + timedelta(days=i % 28),
        client=f"Client {i % 3}",
        person="Ana",
        notes=f"work {i}",
        hours=Decimal("1.5"),
    )
    base.update(kw)
    return TimeEntry(**base)


def row(n: int, e: TimeEntry, **kw) -> TimeRow:
    return TimeRow(
        row=n, entry=e, sync_hash=e.sync_hash(), suggested_category="Development", category="Development", **kw
    )


def test_new_entries_are_appended_with_the_suggestion_as_category():
    s = Suggestion(category="Design", source="rule", confidence=1.0)
    result = merge([], [entry(1)], {"csv:e1": s}, covers=["csv"], period=OCT)
    assert result.stats.new == 1
    [cells] = result.appends
    assert cells["category"] == "Design" and cells["suggested_category"] == "Design"
    assert cells["suggested_by"] == "rule" and cells["approved"] is False


def test_unapproved_row_follows_the_source():
    old = entry(1)
    new = entry(1, hours=Decimal("2.25"))
    result = merge([row(2, old)], [new], {}, covers=["csv"], period=OCT)
    assert result.stats.updated == 1
    assert result.updates[2]["hours"] == Decimal("2.25")
    assert result.updates[2]["sync_hash"] == new.sync_hash()


def test_approved_row_is_flagged_not_changed():
    old = entry(1)
    new = entry(1, hours=Decimal("2.25"), notes="work 1 (more)")
    result = merge([row(2, old, approved=True)], [new], {}, covers=["csv"], period=OCT)
    cells = result.updates[2]
    assert "hours" not in cells and "notes" not in cells
    assert cells["sync_hash"] == old.sync_hash()
    assert cells["flags"].startswith("Changed in the source after approval:")
    assert "hours 1.5 -> 2.25" in cells["flags"] and 'notes "work 1" -> "work 1 (more)"' in cells["flags"]
    assert result.stats.held_changes == 1


def test_invoiced_row_names_its_invoice_when_the_source_changes():
    result = merge([row(2, entry(1), approved=True, invoice="INV-0007")], [entry(1, hours=3)], {}, covers=["csv"])
    assert "after invoicing (INV-0007)" in result.updates[2]["flags"]


def test_entry_gone_from_the_source_is_flagged_not_deleted():
    result = merge([row(2, entry(1)), row(3, entry(2))], [entry(2)], {}, covers=["csv"], period=OCT)
    assert "No longer in the source" in result.updates[2]["flags"]
    assert result.stats.gone == 1 and not result.appends


def test_rows_of_other_sources_or_periods_are_not_flagged_gone():
    other = entry(1, source="harvest")
    september = entry(2, date=date(2026, 9, 30))
    result = merge([row(2, other), row(3, september)], [], {}, covers=["csv"], period=OCT)
    assert result.stats.gone == 0
    assert "No longer" not in result.updates[2]["flags"] + result.updates[3]["flags"]


def test_a_person_typing_over_a_source_cell_gets_the_source_value_back():
    shown = entry(1, hours=Decimal("9"))  # what the sheet shows after the person's typing
    r = TimeRow(
        row=2, entry=shown, sync_hash=entry(1).sync_hash(), category="Development", suggested_category="Development"
    )
    result = merge([r], [entry(1)], {}, covers=["csv"], period=OCT)
    assert result.updates[2]["hours"] == Decimal("1.5")


def test_long_and_low_confidence_entries_are_flagged():
    s = Suggestion(category="Design", source="model", confidence=0.3)
    result = merge([], [entry(1, hours=Decimal("13"))], {"csv:e1": s}, covers=["csv"])
    flags = result.appends[0]["flags"]
    assert "Low-confidence" in flags and "Over 12 h" in flags


def test_duplicate_refs_in_one_import_are_counted_once():
    result = merge([], [entry(1), entry(1)], {}, covers=["csv"])
    assert result.stats.new == 1 and result.stats.duplicates_in_import == 1


# --- the property: random edits and source changes lose no edit ------------------------------------------

review_values = st.fixed_dictionaries(
    {
        "category": st.sampled_from(["Design", "QA", "Maintenance", ""]),
        "line_item": st.sampled_from(["", "Retainer", "Sprint 4"]),
        "rate_override": st.one_of(st.none(), st.decimals(min_value=1, max_value=500, places=2)),
        "approved": st.booleans(),
        "comment": st.text(max_size=12),
    }
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    n=st.integers(min_value=1, max_value=12),
    edits=st.dictionaries(st.integers(0, 11), review_values, max_size=12),
    changed=st.sets(st.integers(0, 11)),
    removed=st.sets(st.integers(0, 11)),
    added=st.integers(0, 4),
)
def test_property_no_edit_is_ever_lost(n, edits, changed, removed, added):
    rows = []
    for i in range(n):
        e = entry(i)
        review = edits.get(i, {})
        rows.append(
            TimeRow(
                row=i + 2,
                entry=e,
                sync_hash=e.sync_hash(),
                suggested_category="Development",
                **{k: v for k, v in review.items()},
            )
        )
    incoming = [entry(i, hours=Decimal("4.75")) if i in changed else entry(i) for i in range(n) if i not in removed]
    incoming += [entry(100 + k) for k in range(added)]
    result = merge(rows, incoming, {}, covers=["csv"], period=OCT)

    # review columns are never part of an update to an existing row
    for cells in result.updates.values():
        assert not set(cells) & set(REVIEW_KEYS)
    for r in rows:
        i = r.row - 2
        cells = result.updates[r.row]
        if i in changed and i not in removed:
            if r.approved:
                assert "hours" not in cells and "Changed in the source" in cells["flags"]
            else:
                assert cells["hours"] == Decimal("4.75")
        if i in removed:
            assert "No longer in the source" in cells["flags"]  # flagged, and still there
    assert len(result.appends) == added
    assert all(c["approved"] is False for c in result.appends)
