"""The one rule for typed values: every form `functions.values` accepts, and every form it refuses, by name."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import pytest

from functions.sheet import tab_reader, tables
from functions.sources import columns
from functions.values import EXCEL_EPOCH, BadValue, is_blank, parse_bool, parse_date, parse_decimal, text

OCT_3 = date(2026, 10, 3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-10-03", OCT_3),
        ("2026-10-3", OCT_3),
        ("  2026-10-03 ", OCT_3),
        ("2026/10/03", OCT_3),
        ("2026-10-03 09:30:00", OCT_3),
        ("2026-10-03T09:30:00", OCT_3),
        ("10/03/2026", OCT_3),  # US, month first
        ("10/3/2026", OCT_3),
        ("12/31/2026", date(2026, 12, 31)),
        (OCT_3, OCT_3),
        (datetime(2026, 10, 3, 17, 45), OCT_3),
        (46298, OCT_3),  # a spreadsheet serial number
        (46298.75, OCT_3),  # a serial date-time: the time is dropped
        (20001, date(1954, 10, 4)),  # the first and last serial numbers read as dates
        (79999, date(2119, 1, 10)),
        (None, None),
        ("", None),
        ("   ", None),
    ],
)
def test_parse_date_accepts(value: object, expected: date | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("13/10/2026", '"13/10/2026" is not a date: it looks day-first (DD/MM/YYYY)'),
        ("31/10/2026", '"31/10/2026" is not a date: it looks day-first'),
        ("2026-13-01", '"2026-13-01" is not a date on the calendar'),
        ("2026-02-30", '"2026-02-30" is not a date on the calendar'),
        ("02/30/2026", '"02/30/2026" is not a date on the calendar'),
        ("13/13/2026", '"13/13/2026" is not a date on the calendar'),
        ("2026-10-03 25:00:00", '"2026-10-03 25:00:00" is not a date on the calendar'),
        ("1.10.2026", '"1.10.2026" is not a date; write it as YYYY-MM-DD or MM/DD/YYYY'),
        ("2026-10/03", '"2026-10/03" is not a date; write it as'),
        ("10/03/26", '"10/03/26" is not a date; write it as'),
        ("yesterday", '"yesterday" is not a date; write it as'),
        ("46298", '"46298" is not a date; write it as'),  # digits in text are not a serial number
        (5, '"5" is not a date; write it as'),  # numbers outside the serial range
        (20000, '"20000" is not a date; write it as'),
        (80000, '"80000" is not a date; write it as'),
        (True, '"True" is not a date; write it as'),
    ],
)
def test_parse_date_refuses_naming_the_value(value: object, message: str) -> None:
    with pytest.raises(BadValue) as info:
        parse_date(value)
    assert str(info.value).startswith(message)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[(s, True) for s in ("TRUE", "true", "Yes", "YES", "y", "Y", "1", "x", "X", "✓", "✔", " yes ")],
        *[(s, False) for s in ("FALSE", "false", "No", "NO", "n", "N", "0")],
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (1.0, True),
        (0.0, False),
    ],
)
def test_parse_bool_accepts(value: object, expected: bool) -> None:
    assert parse_bool(value) is expected


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_a_blank_yes_no_is_the_default(blank: object) -> None:
    assert parse_bool(blank) is False
    assert parse_bool(blank, True) is True


@pytest.mark.parametrize("value", ["Maybe", "?", "2", "on", "off", "t", "f", "✗", 2, 0.5, -1])
def test_parse_bool_refuses_naming_the_value(value: object) -> None:
    with pytest.raises(BadValue, match="^" + re.escape(f'"{value}" is not TRUE or FALSE') + "$"):
        parse_bool(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.50", Decimal("12.50")),
        ("1,234.50", Decimal("1234.50")),
        ("$95", Decimal("95")),
        ("€ 120", Decimal("120")),
        ("(30.00)", Decimal("-30.00")),
        ("-5", Decimal("-5")),
        (" 7 ", Decimal("7")),
        (95, Decimal("95")),
        (0.1, Decimal("0.1")),
        (Decimal("1.5"), Decimal("1.5")),
        (None, None),
        ("", None),
        ("  ", None),
    ],
)
def test_parse_decimal_accepts(value: object, expected: Decimal | None) -> None:
    assert parse_decimal(value) == expected


@pytest.mark.parametrize("value", ["12,5O", "12,5", "1.2.3", "lots", True])
def test_parse_decimal_refuses_naming_the_value(value: object) -> None:
    with pytest.raises(BadValue, match="^" + re.escape(f'"{value}" is not an amount') + "$"):
        parse_decimal(value)
    with pytest.raises(BadValue, match="^" + re.escape(f'"{value}" is not a rate') + "$"):
        parse_decimal(value, "a rate")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("  Acme ", "Acme"),
        (True, "TRUE"),
        (False, "FALSE"),
        (3.0, "3"),
        (2.5, "2.5"),
        (7, "7"),
        (OCT_3, "2026-10-03"),
        (datetime(2026, 10, 3), "2026-10-03"),
        (datetime(2026, 10, 3, 9, 30), "2026-10-03 09:30:00"),
        (Decimal("1.50"), "1.50"),
    ],
)
def test_text(value: object, expected: str) -> None:
    assert text(value) == expected


@pytest.mark.parametrize(("value", "blank"), [(None, True), ("", True), (" \t", True), ("x", False), (0, False)])
def test_is_blank(value: object, blank: bool) -> None:
    assert is_blank(value) is blank


def test_the_sheet_cells_and_the_csv_columns_use_this_one_rule() -> None:
    for sheet_module in (tables, tab_reader):  # the Time tab and the settings tabs read with this module's rule
        assert (sheet_module.parse_date, sheet_module.parse_bool, sheet_module.parse_decimal, sheet_module.text) == (
            parse_date,
            parse_bool,
            parse_decimal,
            text,
        )
    assert columns.Date("Date").parse("10/03/2026") == OCT_3
    assert columns.YesNo("Billable", default=True).parse("x") is True
    assert columns.YesNo("Billable", default=True).parse("") is True
    with pytest.raises(BadValue, match="^is empty; a date is needed$"):
        columns.Date("Date").parse("")


def test_serial_numbers_count_from_the_spreadsheet_epoch() -> None:
    assert EXCEL_EPOCH == date(1899, 12, 30)
    assert parse_date(45658) == date(2025, 1, 1)
