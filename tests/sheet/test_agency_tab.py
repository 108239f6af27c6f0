"""The Agency tab (key/value rows, AGENCY_* settings as fallback) and the Clients tab's billing details become the
documents' letterheads; every problem names its cell, like the other settings tabs."""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from functions.billing.rounding import parse_rounding
from functions.models import InvoiceDraft
from functions.settings import Settings
from functions.sheet.agency_tab import UNSET, parse_letterheads, rounding_words
from functions.sheet.contract import load_contract

LOGO = Path(__file__).resolve().parents[2] / "functions" / "sample" / "config" / "northwind-logo.png"
HEADER = ["Setting", "Value", "Note"]


def agency(*rows: tuple[str, str]) -> dict[str, list[list[object]]]:
    return {"Agency": [HEADER, *[[k, v, ""] for k, v in rows]]}


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_every_setting_is_read_with_lines_split_and_rates_as_fractions():
    heads, errors = parse_letterheads(
        agency(
            ("Name", "Northwind Digital LLC"),
            ("address", "120 Hudson Street | Suite 4\nNew York NY 10013"),
            ("Contact", "Grace Kim"),
            ("Email", "billing@northwind.example"),
            ("Phone", "+1 212 555 0142"),
            ("Tax  ID", "EIN 12-3456789"),
            ("Logo", str(LOGO)),
            ("Payment Instructions", "ACH 021000021 | account 000123456789"),
            ("Pay Link", "https://pay.northwind.example/i"),
            ("Footer", "Thank you"),
            ("Tax Rates", "TAX 8.875%; VAT: 20 %"),
        )
    )
    assert errors == []
    head = heads.agency
    assert head.agency.name == "Northwind Digital LLC" and head.agency.tax_id == "EIN 12-3456789"
    assert head.agency.address == "120 Hudson Street\nSuite 4\nNew York NY 10013"
    assert head.payment == "ACH 021000021\naccount 000123456789" and head.pay_link.endswith("/i")
    assert head.logo == LOGO.read_bytes() and head.footer == "Thank you" and head.unset == ""
    assert head.tax_rates == (("TAX", Decimal("0.08875")), ("VAT", Decimal("0.2")))


def test_settings_fill_what_the_tab_leaves_blank_and_the_tab_wins():
    s = settings(agency_name="From Env", agency_email="env@x.example", agency_footer="Env footer")
    heads, errors = parse_letterheads(agency(("Name", "From Tab"), ("Footer", "")), s)
    assert errors == []
    assert heads.agency.agency.name == "From Tab" and heads.agency.agency.email == "env@x.example"
    assert heads.agency.footer == "Env footer"


def test_without_a_name_anywhere_the_letterhead_says_what_to_set():
    heads, errors = parse_letterheads({}, settings())
    assert errors == [] and heads.agency.agency.name == "" and heads.agency.unset == UNSET


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("Adress", "x"), 'Agency!A2: "Adress" is not an agency setting — did you mean "Address"?'),
        (("Email", "billing.northwind"), 'Agency!B2: "billing.northwind" is not an email address'),
        (("Tax Rates", "TAX eight"), 'Agency!B2: "TAX eight" is not a tax rate (write a tax code and a percent'),
        (("Pay Link", "pay.example/i"), 'Agency!B2: the pay link "pay.example/i" is not a web address'),
        (("Logo", "missing.png"), 'Agency!B2: the logo file "missing.png" is not there'),
        (("Logo", "https://cdn.example/logo.png"), "is a web address, which a run does not download"),
        (("Logo", "data:image/png;base64,@@@"), "Agency!B2: the logo is not a base64 data: value"),
        (("Logo", str(Path(__file__))), "is not a PNG or JPEG image"),
    ],
)
def test_a_wrong_value_names_its_cell(row, message):
    _, errors = parse_letterheads(agency(row))
    assert len(errors) == 1 and message in str(errors[0])


def test_a_setting_written_twice_is_refused_at_the_second_row():
    _, errors = parse_letterheads(agency(("Name", "A"), ("name", "B")))
    assert [str(e) for e in errors] == ['Agency!A3: "Name" is set twice; keep one row']


def test_a_bad_setting_value_is_named_by_its_setting():
    _, errors = parse_letterheads({}, settings(agency_email="nope"))
    assert [str(e) for e in errors] == ['AGENCY_EMAIL: "nope" is not an email address']


def test_a_logo_may_be_embedded_or_a_file_name_in_the_work_folder(tmp_path):
    data = LOGO.read_bytes()
    embedded = f"data:image/png;base64,{base64.b64encode(data).decode()}"
    assert parse_letterheads(agency(("Logo", embedded)))[0].agency.logo == data
    (tmp_path / "ours.png").write_bytes(data)
    heads, errors = parse_letterheads(agency(("Logo", "ours.png")), folders=[tmp_path])
    assert errors == [] and heads.agency.logo == data


def test_clients_billing_details_and_rounding_reach_each_draft():
    header = load_contract().tab("Clients").headers
    row = dict.fromkeys(header, "")
    row.update(
        {
            "Client": "Lumen Energy",
            "Currency": "EUR",
            "Rounding": "15 up",
            "Billing Address": "Lindwurmstraße 88 | 80337 München",
            "Contact": "Jürgen Weiß",
            "Email": "rechnungen@lumen.example",
        }
    )
    bad = {**dict.fromkeys(header, ""), "Client": "Other", "Email": "not-an-email"}
    heads, errors = parse_letterheads(
        {"Clients": [header, [row[h] for h in header], [bad[h] for h in header]], **agency(("Name", "N"))}
    )
    email_col = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[header.index("Email")]
    assert [str(e) for e in errors] == [f'Clients!{email_col}3: "not-an-email" is not an email address']
    d = InvoiceDraft(
        client="lumen energy",
        customer="Lumen Energy GmbH",
        period="2026-10",
        currency="EUR",
        issue_date=date(2026, 11, 2),
        due_date=date(2026, 12, 2),
        lines=(),
    )
    [with_head] = heads.apply([d])
    head = with_head.letterhead
    assert head is not None and head.agency.name == "N"
    assert head.bill_to.name == "Lumen Energy GmbH" and head.bill_to.contact == "Jürgen Weiß"
    assert head.bill_to.address == "Lindwurmstraße 88\n80337 München" and head.bill_to.email.startswith("rechnungen")
    assert head.rounding == "each entry rounded up to 15 min"
    assert with_head.content_hash() == d.content_hash()  # the letterhead is not what is invoiced


@pytest.mark.parametrize(
    ("rounding", "per", "minimum", "words"),
    [
        ("15 up", "entry", "", "each entry rounded up to 15 min"),
        ("6 nearest", "line", "", "each line rounded to the nearest 6 min"),
        ("30 down", "entry", "15", "each entry rounded down to 30 min, at least 15 min per entry"),
        ("", "", "", ""),
    ],
)
def test_rounding_in_words(rounding, per, minimum, words):
    assert rounding_words(parse_rounding(rounding, per, minimum)) == words


def test_a_customer_given_by_its_quickbooks_id_is_billed_by_the_clients_name():
    d = InvoiceDraft(
        client="Acme Retail",
        customer="58",
        period="2026-10",
        currency="USD",
        issue_date=date(2026, 11, 2),
        due_date=date(2026, 12, 2),
        lines=(),
    )
    heads, _ = parse_letterheads({})
    [with_head] = heads.apply([d])
    assert with_head.letterhead is not None and with_head.letterhead.bill_to.name == "Acme Retail"
