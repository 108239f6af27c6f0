"""The Time tab read lean: records whose dicts share their keys (a third smaller), rows read in place when they
span the header and padded when they do not, and the duplicate-ID holds in the order the IDs first occur."""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal

from functions.models import TimeEntry
from functions.sheet.contract import HeaderMap, load_contract
from functions.sheet.tables import parse_time_tab, row_values, source_cells


def _entry(i: int, **changes: object) -> TimeEntry:
    fields: dict[str, object] = {
        "source": "csv",
        "source_id": f"e{i}",
        "date": date(2026, 10, 1 + i % 28),
        "client": "Acme",
        "person": "Ana",
        "notes": "review",
        "hours": Decimal("1.5"),
        **changes,
    }
    return TimeEntry.model_validate(fields)


def _tab(entries: list[TimeEntry], headers: list[str] | None = None) -> list[list[object]]:
    tab = load_contract().tab("Time")
    header = headers or list(tab.headers)
    hm = HeaderMap(tab, header)
    return [header] + [row_values(hm, source_cells(e)) for e in entries]


def test_parsed_records_share_their_keys_and_behave_as_validated_ones():
    table = parse_time_tab(_tab([_entry(i) for i in range(3)]))
    r = table.rows[0]
    plain = dict(r.entry.__dict__)  # a dict of its own, as validation makes it
    # even after something set attributes on a bare instance of the model in another order (which makes the
    # interpreter give up sharing the model's own key cache)
    odd = object.__new__(TimeEntry)
    object.__setattr__(odd, "tags", ())
    object.__setattr__(odd, "source", "")
    assert sys.getsizeof(r.entry.__dict__) < sys.getsizeof(plain)
    assert sys.getsizeof(r.__dict__) < sys.getsizeof(dict(r.__dict__))
    later = parse_time_tab(_tab([_entry(7)])).rows[0]
    assert sys.getsizeof(later.entry.__dict__) < sys.getsizeof(dict(later.entry.__dict__))
    again = TimeEntry.model_validate(r.entry.model_dump())
    assert r.entry == again and hash(r.entry) == hash(again) and r.entry.ref == "csv:e0"
    copy = r.model_copy(update={"category": "Design"})
    assert copy.category == "Design" and r.category == "" and copy.entry is r.entry
    assert [x.entry.source_id for x in table.rows] == ["e0", "e1", "e2"]


def test_short_rows_tuples_and_a_missing_optional_column_read_the_same():
    entries = [_entry(i, task="build") for i in range(2)]
    full = parse_time_tab(_tab(entries))
    values = _tab(entries)
    as_tuples = [values[0]] + [tuple(v) for v in values[1:]]
    # trailing blank cells left out, as Sheets does
    short = [values[0]] + [list(v)[: max(i for i, x in enumerate(v) if x not in (None, "")) + 1] for v in values[1:]]
    headers = [h for h in load_contract().tab("Time").headers if h != "Comment"]
    without_comment = parse_time_tab(_tab(entries, headers))
    for other in (parse_time_tab(as_tuples), parse_time_tab(short), without_comment):
        assert not other.errors
        assert [(r.row, r.entry, r.comment, r.approved) for r in other.rows] == [
            (r.row, r.entry, r.comment, r.approved) for r in full.rows
        ]


def test_one_entry_id_on_several_rows_holds_each_in_the_order_the_ids_first_occur():
    a, b = _entry(1), _entry(2)
    table = parse_time_tab(_tab([a, b, b, a, a]))
    held = [str(e) for e in table.holds]
    assert len(held) == 5
    assert ['"e1"' in h for h in held] == [True, True, True, False, False]
    assert "also on Time!" in held[0] and held[0].count("Time!") >= 2
