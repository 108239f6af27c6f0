"""`Frozen.trusted` builds the same record validation would, from values the code made itself, and refuses a
record that would miss a field or carry a stranger."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from functions.models import Suggestion, TimeEntry, TimeRow


def test_a_trusted_record_is_the_validated_one():
    e = TimeEntry(source="csv", source_id="1", date="2026-10-01", client="A", person="P", hours=Decimal("1.5"))
    made = TimeRow.trusted(row=2, entry=e, suggested_category="Design", suggested_by="model")
    valid = TimeRow(row=2, entry=e, suggested_category="Design", suggested_by="model")
    assert made == valid and hash(made.entry) == hash(valid.entry)
    assert list(made.__dict__) == list(valid.__dict__)  # the fields in their order, defaults filled in
    assert made.model_fields_set == valid.model_fields_set
    assert made.model_dump() == valid.model_dump() and repr(made) == repr(valid)
    s = Suggestion.trusted(category="Bugs", source="model", confidence=0.5)
    assert s == Suggestion(category="Bugs", source="model", confidence=0.5) and s.line_item == ""
    with pytest.raises(ValidationError):  # still frozen
        s.category = "Other"  # type: ignore[misc]


def test_a_trusted_record_needs_its_required_fields_and_only_fields():
    with pytest.raises(TypeError, match="needs"):
        Suggestion.trusted(category="Bugs", source="model")
    with pytest.raises(TypeError, match="takes only"):
        Suggestion.trusted(category="Bugs", source="model", confidence=0.5, colour="red")
