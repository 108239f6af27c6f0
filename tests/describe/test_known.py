"""How Preview's "Description By" cell tells a person's edit from a written text, line by line."""

from __future__ import annotations

import pytest

from functions.describe.lines import by_cell, kept

CONTENT = "c0ffee1234567890abcdef12"
TEXT = "Development: checkout fixes — 2 tasks"
WRITTEN = by_cell("ai", CONTENT, TEXT)


@pytest.mark.parametrize(
    ("text", "by", "content", "period", "expected"),
    [
        (TEXT, WRITTEN, CONTENT, "2026-10", (TEXT, WRITTEN)),  # unchanged line: what Preview showed, no call
        (TEXT, WRITTEN, "beef" + CONTENT[4:], "2026-10", None),  # the line's facts changed: written anew
        ("My own words", WRITTEN, CONTENT, "2026-10", ("My own words", "edited 2026-10")),  # a person's edit
        ("My own words", WRITTEN, "beef" + CONTENT[4:], "2026-10", ("My own words", "edited 2026-10")),
        ("My own words", "edited 2026-10", "anything", "2026-10", ("My own words", "edited 2026-10")),
        ("My own words", "edited 2026-09", "anything", "2026-10", None),  # last month's edit is not this month's
        ("", WRITTEN, CONTENT, "2026-10", None),  # an emptied cell asks for a new text
        ("  ", "edited 2026-10", CONTENT, "2026-10", None),
        ("Typed into a blank row", "", CONTENT, "2026-10", ("Typed into a blank row", "edited 2026-10")),
        ("Some text", "garbled", CONTENT, "2026-10", ("Some text", "edited 2026-10")),
    ],
)
def test_kept(text, by, content, period, expected):
    assert kept(text, by, content, period) == expected
