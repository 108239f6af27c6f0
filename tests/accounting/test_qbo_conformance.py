"""The QuickBooks emulator behaves like QuickBooks where the product depends on it, and the adapter handles it.

Each conformance test states the real behaviour and where it comes from (material not written here); each
`test_product_*` test drives the adapter end to end against that behaviour. python-quickbooks and intuit-oauth
run unmodified.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from intuitlib.client import AuthClient
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.base import Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item

from functions.errors import ConfigError, ConflictError
from tests.accounting.test_qbo_adapter import ENTRIES, draft, make_adapter


@pytest.fixture
def qb(emu, tmp_path):
    return make_adapter(emu, tmp_path).qb


def _ref(value: str) -> Ref:
    r = Ref()
    r.value = value
    return r


def _ids(qb) -> tuple[str, str]:
    """A customer's and an item's Id in the seeded company."""
    return str(Customer.filter(DisplayName="Acme Retail Inc.", qb=qb)[0].Id), str(
        Item.filter(Name="Design", qb=qb)[0].Id
    )


def _amount_only_invoice(qb, customer_id: str = "", item_id: str = "", amount: int = 100) -> Invoice:
    """The invoice python-quickbooks' own integration tests create: one line with an Amount and an ItemRef."""
    if not customer_id or not item_id:
        c, i = _ids(qb)
        customer_id, item_id = customer_id or c, item_id or i
    line = SalesItemLine()
    line.LineNum, line.Description, line.Amount = 1, "description", amount
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = _ref(item_id)
    inv = Invoice()
    inv.Line.append(line)
    inv.CustomerRef = _ref(customer_id)
    inv.PrivateNote = "Invoice key: acme-retail/2026-10/abc (do not edit)"
    return inv.save(qb=qb)


def _deactivate(qb, cls, **where) -> None:
    [obj] = cls.filter(qb=qb, **where)
    obj.Active = False
    obj.save(qb=qb)


def _fault(exc: QuickbooksException) -> str:
    return f"{exc.error_code} {exc.message} {exc.detail}"


# -- 1. void and delete ----------------------------------------------------------------------------------------
def test_void_keeps_the_invoice_with_amounts_zero_and_the_note_prefixed_voided(emu, qb):
    """python-quickbooks tests/integration/test_invoice.py::test_void (run against Intuit's sandbox): after
    `invoice.void()`, `Invoice.get` still finds it with Balance 0, TotalAmt 0 and 'Voided' in PrivateNote.
    help.breadwinner.com "Updating an Invoice's status to Deleted or Void": voided invoices stay available
    through the API with amounts set to zero (so queries still return them)."""
    inv = _amount_only_invoice(qb)
    inv.void(qb=qb)
    got = Invoice.get(inv.Id, qb=qb)
    assert got.Balance == 0 and got.TotalAmt == 0 and got.PrivateNote.startswith("Voided")
    assert got.CustomerRef.value == _ids(qb)[0] and got.Line[0].Amount == 0  # customer and lines stay
    assert [i.Id for i in Invoice.filter(Id=inv.Id, qb=qb)] == [inv.Id]


def test_delete_answers_status_deleted_and_the_invoice_is_gone_from_queries(emu, qb):
    """python-quickbooks tests/integration/test_invoice.py::test_delete: after `invoice.delete()`,
    `Invoice.filter(Id=...)` is []. The delete answer is `{"Invoice": {"status": "Deleted", "domain": "QBO",
    "Id": ...}}` (the DeleteResponse model of pub.dev's another_quickbooks: status, domain, id)."""
    inv = _amount_only_invoice(qb)
    answer = inv.delete(qb=qb)
    assert answer["Invoice"] == {"status": "Deleted", "domain": "QBO", "Id": inv.Id}
    assert Invoice.filter(Id=inv.Id, qb=qb) == []
    with pytest.raises(QuickbooksException):
        Invoice.get(inv.Id, qb=qb)


def test_product_a_voided_invoice_is_not_live_so_the_same_key_is_created_again(emu, tmp_path):
    """The product's invoice-key lookup skips a voided invoice: its own advice ("void that invoice first")
    unblocks the run, and the new invoice gets a requestid of its own (the old one would be replayed)."""
    qbo = make_adapter(emu, tmp_path)
    [first] = qbo.create_invoices([draft()], ENTRIES)
    Invoice.get(first.external_id, qb=qbo.qb).void(qb=qbo.qb)
    [again] = make_adapter(emu, tmp_path).create_invoices([draft()], ENTRIES)
    assert again.status == "created" and again.external_id != first.external_id
    live = [i for i in emu.all("Invoice") if not i["PrivateNote"].startswith("Voided")]
    assert [i["Id"] for i in live] == [again.external_id] and live[0]["TotalAmt"] == Decimal("300.00")


def test_product_voiding_the_conflicting_invoice_unblocks_new_contents(emu, tmp_path):
    qbo = make_adapter(emu, tmp_path)
    [first] = qbo.create_invoices([draft()], ENTRIES)
    with pytest.raises(ConflictError, match="void or delete that invoice"):
        qbo.create_invoices([draft(hours="3")], ENTRIES)
    Invoice.get(first.external_id, qb=qbo.qb).void(qb=qbo.qb)
    [changed] = qbo.create_invoices([draft(hours="3")], ENTRIES)
    assert changed.status == "created" and changed.total == Decimal("450.00")


def test_product_a_deleted_invoice_is_created_again(emu, tmp_path):
    qbo = make_adapter(emu, tmp_path)
    [first] = qbo.create_invoices([draft(hours="3")], ENTRIES)
    Invoice.get(first.external_id, qb=qbo.qb).delete(qb=qbo.qb)
    [again] = qbo.create_invoices([draft()], ENTRIES)
    assert again.status == "created" and [i["Id"] for i in emu.all("Invoice")] == [again.external_id]


# -- 2. inactive name-list records -----------------------------------------------------------------------------
def test_queries_return_active_records_only_unless_they_name_active(emu, qb):
    """Intuit's "Deep dive: SQL queries" (https://blogs.intuit.com/2017/02/08/deep-dive-sql-queries):
    `SELECT * FROM Customer` "retrieves all active customers"; minimul/qbo_api#111: inactive records are
    included by adding `Active IN (true, false)` to the WHERE clause."""
    _deactivate(qb, Item, Name="Design")
    assert Item.filter(Name="Design", qb=qb) == []
    assert Item.count(qb=qb) == len(emu.all("Item")) - 1
    assert [i.Name for i in Item.where("Name = 'Design' AND Active = false", qb=qb)] == ["Design"]
    assert len(Item.where("Name = 'Design' AND Active IN (true, false)", qb=qb)) == 1
    assert Item.get(Item.where("Name = 'Design' AND Active = false", qb=qb)[0].Id, qb=qb).Active is False


def test_a_transaction_naming_an_inactive_item_or_customer_is_refused(emu, qb):
    """intuit/QuickBooks-V3-DotNET-SDK#353: a create naming an inactive record answers ValidationFault 610
    "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts,
    customers, items, vendors or employees."; Teachworks' "QuickBooks Online Error Messages" page: an
    inactive service is not usable until it is made active again."""
    customer_id, item_id = _ids(qb)
    _deactivate(qb, Item, Name="Design")
    with pytest.raises(QuickbooksException) as err:
        _amount_only_invoice(qb, customer_id, item_id)
    assert "610" in _fault(err.value) and "made inactive" in _fault(err.value)
    other_item = str(Item.filter(Name="Development", qb=qb)[0].Id)
    _deactivate(qb, Customer, DisplayName="Acme Retail Inc.")
    with pytest.raises(QuickbooksException) as err:
        _amount_only_invoice(qb, customer_id, other_item)
    assert "610" in _fault(err.value)


def test_an_inactive_name_stays_taken(emu, qb):
    """Teachworks' "QuickBooks Online Error Messages" page: "Duplicate Name Exists Error: The name supplied
    already exists" also when the customer with that name is inactive (code 6240, as in mydbsync's page)."""
    _deactivate(qb, Customer, DisplayName="Acme Retail Inc.")
    again = Customer()
    again.DisplayName = "Acme Retail Inc."
    with pytest.raises(QuickbooksException) as err:
        again.save(qb=qb)
    assert "6240" in _fault(err.value) and "Duplicate Name" in _fault(err.value)


def test_product_check_names_an_inactive_item_and_customer_and_create_missing_leaves_them(emu, tmp_path):
    qbo = make_adapter(emu, tmp_path)
    _deactivate(qbo.qb, Item, Name="Development")
    _deactivate(qbo.qb, Customer, DisplayName="Bluefin Logistics LLC")
    drafts = [draft(), draft("Bluefin Logistics")]
    problems = qbo.check(drafts, create_missing=True)
    assert problems == [
        'Bluefin Logistics: customer "Bluefin Logistics LLC" is inactive in QuickBooks; make it active or map '
        "another (the Customer column of the Clients tab).",
        'item "Development" is inactive in QuickBooks; make it active or map another (used by Acme Retail '
        "line 1; Bluefin Logistics line 1; the Rules or Categories tab maps it).",
    ]
    assert sum(i["Name"] == "Development" for i in emu.all("Item")) == 1  # nothing created in its place
    with pytest.raises(ConfigError, match="is inactive in QuickBooks"):
        qbo.create_invoices(drafts, ENTRIES)
    assert emu.all("Invoice") == []


# -- 3. field lengths and query rules --------------------------------------------------------------------------
def test_names_over_their_documented_length_are_refused(emu, qb):
    """Item.Name holds at most 100 characters (zed-systems "Import products and services lists into QuickBooks
    Online": Name Str 100, Description Str 4000); Customer.DisplayName at most 500 (cwestblog "Python
    Integration - QuickBooks Customer Object Tidbit"); over it QuickBooks answers code 2050 "String length
    specified does not match the supported length. Min:0 Max:N supported" (Chargebee "QBO Error Code:2050")."""
    item = Item()
    item.Name, item.Type = "x" * 101, "Service"
    with pytest.raises(QuickbooksException) as err:
        item.save(qb=qb)
    assert "2050" in _fault(err.value) and "Max:100" in _fault(err.value)
    item.Name = "x" * 100
    assert item.save(qb=qb).Id
    customer = Customer()
    customer.DisplayName = "c" * 501
    with pytest.raises(QuickbooksException) as err:
        customer.save(qb=qb)
    assert "Max:500" in _fault(err.value)


def test_a_where_on_a_field_that_is_not_filterable_is_a_query_error(emu, qb):
    """ruckus/quickbooks-ruby#403 (Intuit's raw answer): a WHERE on a non-filterable property is a
    ValidationFault 4001 "Invalid query" / "QueryValidationError: property 'PrimaryEmailAddr' is not
    queryable"; the Invoice entity's PrivateNote is not filterable (Gravity Data's QuickBooks Online Invoices
    table, Filterable column: PrivateNote false; DocNumber, TxnDate, CustomerRef true)."""
    with pytest.raises(QuickbooksException) as err:
        Invoice.where("PrivateNote LIKE '%acme-retail/2026-10/%'", qb=qb)
    assert "4001" in _fault(err.value) and "'PrivateNote' is not queryable" in _fault(err.value)
    assert Invoice.where("CustomerRef IN ('2') AND TxnDate >= '2026-10-01'", qb=qb) == []


def test_product_refuses_names_over_the_limit_before_sending_them(emu, tmp_path):
    qbo = make_adapter(emu, tmp_path)
    long_item, long_customer = "Discovery " * 11, "Nowhere " * 70
    problems = qbo.check([draft(item=long_item), draft("Nowhere", customer=long_customer)], create_missing=True)
    assert len(problems) == 2
    assert problems[0].startswith('Nowhere: the customer name "Nowhere Nowhere') and "is 559 characters" in problems[0]
    assert "QuickBooks allows at most 500 (the Customer column of the Clients tab)" in problems[0]
    assert "is 110 characters; QuickBooks allows at most 100 (used by Acme Retail line 1" in problems[1]
    assert emu.count("/customer") == emu.count("/item") == 0  # refused here, never sent


def test_product_finds_its_invoices_without_filtering_on_private_note(emu, tmp_path):
    """The adapter narrows by customer and date and matches the key in the note itself (see above)."""
    qbo = make_adapter(emu, tmp_path)
    qbo.create_invoices([draft()], ENTRIES)
    [again] = qbo.create_invoices([draft()], ENTRIES)
    assert again.status == "existing"


# -- 6. stricter than real -------------------------------------------------------------------------------------
def test_a_line_with_an_amount_and_no_quantity_or_price_is_accepted(emu, qb):
    """python-quickbooks tests/integration/test_invoice.py::create_invoice_line sets Amount 100 and an ItemRef,
    no Qty or UnitPrice (the library sends its defaults, 0 and 0), and test_create reads it back from Intuit's
    sandbox with Amount 100.0."""
    inv = _amount_only_invoice(qb)
    got = Invoice.get(inv.Id, qb=qb)
    assert got.Line[0].Amount == 100 and got.TotalAmt == 100


def test_product_always_sends_quantity_and_unit_price(emu, tmp_path):
    make_adapter(emu, tmp_path).create_invoices([draft()], ENTRIES)
    detail = emu.all("Invoice")[0]["Line"][0]["SalesItemLineDetail"]
    assert (detail["Qty"], detail["UnitPrice"]) == (Decimal("2"), Decimal("150"))


def test_a_refresh_token_may_be_used_again_while_it_is_valid(emu):
    """intuit/oauth-jsclient#74 (an Intuit engineer's answer) and intuit/QuickBooks-V3-PHP-SDK#454: a refresh
    answers the same refresh token within a day, and it keeps working; the value changes every 24-26 hours,
    and once a new one is returned the previous one expires."""
    first = emu.oauth.issue()["refresh_token"]
    discovery = f"{emu.base_url}/.well-known/openid_sandbox_configuration"  # a URL environment is used as is
    client = AuthClient(emu.oauth.client_id, emu.oauth.client_secret, "http://localhost/cb", discovery)
    client.refresh(refresh_token=first)
    assert client.refresh_token == first
    client.refresh(refresh_token=first)  # reused: still valid
    emu.oauth.age_refresh_tokens()
    client.refresh(refresh_token=first)
    assert client.refresh_token != first and first not in emu.oauth.refresh
    with pytest.raises(Exception, match="invalid_grant"):
        client.refresh(refresh_token=first)


def test_product_keeps_working_when_the_refresh_token_does_not_change(emu, tmp_path):
    qbo = make_adapter(emu, tmp_path)
    before = json.loads((tmp_path / "tokens.json").read_text())["refresh_token"]
    emu.oauth.expire_access_tokens()
    qbo.create_invoices([draft()], ENTRIES)
    emu.oauth.expire_access_tokens()
    qbo.create_invoices([draft("Bluefin Logistics")], ENTRIES)
    assert qbo.auth.refreshes == 2
    assert json.loads((tmp_path / "tokens.json").read_text())["refresh_token"] == before
