"""The Xero adapter against the Xero emulator, driven by xero-python unmodified.

The shared contract (tests/accounting/contract.py) first, then what is Xero's own: the invoice's fields,
batches, the tenant from /connections, rotating refresh tokens stored before use, rounding, rate limits.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from functions.accounting.qbo_tokens import FileTokenStore, TokenSet, utcnow
from functions.accounting.xero_accounting import XeroAccounting
from functions.accounting.xero_client import XeroApi, XeroSettings
from functions.errors import AuthError, ConfigError, ConflictError, PartialCreateError
from functions.models import InvoiceLine
from tests.accounting.contract import AccountingContract
from tests.accounting.test_qbo_adapter import ENTRIES, draft
from tests.emulators.xero import CLIENT_ID, CLIENT_SECRET, XeroEmulator


@pytest.fixture
def emu():
    e = XeroEmulator(hang_seconds=0.6)
    for name in ("Acme Retail Inc.", "Bluefin Logistics LLC"):
        e.add_contact(name)
    for code in ("Development", "Design"):
        e.add_item(code)
    e.start()
    yield e
    e.stop()


def connect(emu: XeroEmulator, tmp_path) -> FileTokenStore:
    store = FileTokenStore(tmp_path / "xero-tokens.json")
    if store.load() is None:
        grant = emu.issue()
        store.save(
            TokenSet(
                access_token=grant["access_token"],
                refresh_token=grant["refresh_token"],
                realm_id="",
                access_expires_at=(utcnow() + timedelta(minutes=30)).isoformat(),
                environment="xero",
            )
        )
    return store


def make(emu: XeroEmulator, tmp_path, **overrides) -> XeroAccounting:
    settings = XeroSettings(
        _env_file=None,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        base_url=emu.base_url,
        token_store=f"file:{tmp_path / 'xero-tokens.json'}",
        timeout_seconds=0.3,
        retry_base_seconds=0.01,
        sheet_url="https://docs.google.com/spreadsheets/d/abc",
        **overrides,
    )
    return XeroAccounting(XeroApi(settings, connect(emu, tmp_path), sleep=lambda s: None))


class XeroTarget:
    def __init__(self, emu: XeroEmulator, tmp_path):
        self.emu, self.tmp_path = emu, tmp_path

    def make(self) -> XeroAccounting:
        return make(self.emu, self.tmp_path)

    def live_count(self) -> int:
        return len(self.emu.live())

    def lose_next_create_answer(self) -> None:
        self.emu.fail_next("timeout", path="/Invoices", method="PUT")

    def pay(self, external_id: str) -> None:
        self.emu.pay(external_id)


class TestXeroContract(AccountingContract):
    @pytest.fixture
    def target(self, emu, tmp_path):
        return XeroTarget(emu, tmp_path)


def test_a_draft_accrec_invoice_with_every_field(emu, tmp_path):
    d = draft(tax="OUTPUT2", discount="30.00")
    [created] = make(emu, tmp_path).create_invoices([d], ENTRIES)
    [inv] = emu.invoices.values()
    assert (inv["Type"], inv["Status"], inv["Reference"], inv["CurrencyCode"]) == ("ACCREC", "DRAFT", d.key, "USD")
    assert inv["Url"] == "https://docs.google.com/spreadsheets/d/abc" and inv["LineAmountTypes"] == "Exclusive"
    memo, work, discount = inv["LineItems"]
    assert memo["Description"] == "Thank you for your business." and memo["LineAmount"] == 0
    assert (work["ItemCode"], work["AccountCode"], work["TaxType"]) == ("Development", "200", "OUTPUT2")
    assert (work["Quantity"], work["UnitAmount"], work["LineAmount"]) == (
        Decimal("2"),
        Decimal("150"),
        Decimal("300.00"),
    )
    assert discount["LineAmount"] == Decimal("-30.00")
    assert (inv["SubTotal"], inv["TotalTax"]) == (Decimal("270.00"), Decimal("60.00"))
    assert created.total == Decimal("270.00") and created.number == inv["InvoiceNumber"]
    files = emu.attachments[inv["InvoiceID"]]
    assert (
        list(files) == ["time-detail-acme-retail-2026-10.csv"]
        and d.key.encode() in files["time-detail-acme-retail-2026-10.csv"]
    )


def test_25_invoices_are_a_handful_of_calls(emu, tmp_path):
    names = [f"Client {n:02d}" for n in range(25)]
    for name in names:
        emu.add_contact(name)
    drafts = [draft(name, customer=name) for name in names]
    make(emu, tmp_path, attach_time_detail=False).create_invoices(drafts, ENTRIES)
    assert len(emu.invoices) == 25
    assert emu.count("PUT", "/Invoices") == 1  # one batch
    assert len(emu.calls) <= 8  # connections, contacts, items, tax rates, currencies, lookup, batch


def test_a_line_xero_would_round_is_sent_as_one_at_its_amount(emu, tmp_path):
    third = draft().model_copy(
        update={
            "lines": (
                InvoiceLine(
                    description="Design", line_item="Design", quantity="1.3333", unit_price="150", amount="199.995"
                ).model_copy(update={"amount": Decimal("200.00")}),
            )
        }
    )
    [created] = make(emu, tmp_path).create_invoices([third], ENTRIES)
    [inv] = emu.invoices.values()
    line = inv["LineItems"][1]
    assert (line["Quantity"], line["UnitAmount"], line["LineAmount"]) == (
        Decimal("1"),
        Decimal("200"),
        Decimal("200.00"),
    )
    assert "(1.3333 x 150)" in line["Description"] and created.total == Decimal("200.00")


def test_the_tenant_comes_from_connections_and_is_kept(emu, tmp_path):
    make(emu, tmp_path).create_invoices([draft()], ENTRIES)
    assert json.loads((tmp_path / "xero-tokens.json").read_text())["realm_id"] == emu.tenant_id
    emu.tenants.append({"tenantId": "other", "tenantName": "Other Org"})
    make(emu, tmp_path).create_invoices([draft()], ENTRIES)  # the stored tenant is used
    (tmp_path / "xero-tokens.json").unlink()
    with pytest.raises(ConfigError, match="XERO_TENANT_NAME"):
        make(emu, tmp_path).create_invoices([draft()], ENTRIES)
    assert (
        make(emu, tmp_path, tenant_name="Demo Agency Ltd").create_invoices([draft()], ENTRIES)[0].status == "existing"
    )


def test_a_rotated_refresh_token_is_stored_before_it_is_used(emu, tmp_path):
    acct = make(emu, tmp_path)
    before = json.loads((tmp_path / "xero-tokens.json").read_text())["refresh_token"]
    emu.expire_access_tokens()
    acct.create_invoices([draft()], ENTRIES)
    after = json.loads((tmp_path / "xero-tokens.json").read_text())["refresh_token"]
    assert after != before and acct.api.auth.refreshes == 1
    emu.age_refresh_tokens()
    emu.expire_access_tokens()
    make(emu, tmp_path).create_invoices([draft("Bluefin Logistics")], ENTRIES)  # the stored one works
    (tmp_path / "xero-tokens.json").write_text(
        (tmp_path / "xero-tokens.json")
        .read_text()
        .replace(json.loads((tmp_path / "xero-tokens.json").read_text())["refresh_token"], before)
    )
    emu.expire_access_tokens()
    with pytest.raises(AuthError, match="connect xero"):
        make(emu, tmp_path).create_invoices([draft()], ENTRIES)


def test_check_and_create_missing_contacts_and_items(emu, tmp_path):
    d = draft("Cobalt Health", customer="Cobalt Health", item="Strategy", tax="GST")
    problems = make(emu, tmp_path).check([d])
    assert problems[0].startswith('Cobalt Health: Xero has no contact "Cobalt Health"')
    assert problems[1].startswith('item "Strategy" is not in Xero')
    assert problems[2].startswith('Xero has no tax rate "GST"')
    left = make(emu, tmp_path).check([d], create_missing=True)
    assert len(left) == 1 and "GST" in left[0]
    assert any(c["Name"] == "Cobalt Health" for c in emu.contacts.values())
    assert any(i["Code"] == "Strategy" for i in emu.items.values())


def test_a_refused_invoice_in_a_batch_does_not_hide_the_others(emu, tmp_path):
    emu.currencies.remove("EUR")
    acct = make(emu, tmp_path)
    acct.refs()["currencies"]["EUR"] = "EUR"  # enabled when we looked, disabled since
    with pytest.raises(PartialCreateError, match="not enabled") as err:
        acct.create_invoices([draft(), draft("Bluefin Logistics", currency="EUR")], ENTRIES)
    assert [i.client for i in err.value.created] == ["Acme Retail"]


def test_rate_limits_wait_retry_after_and_errors_are_sentences(emu, tmp_path):
    emu.fail_next("429", path="/Contacts")
    emu.fail_next("500", path="/Invoices", method="PUT")
    make(emu, tmp_path).create_invoices([draft()], ENTRIES)
    assert len(emu.invoices) == 1
    with pytest.raises(ConflictError, match="already has Xero invoice INV-0001"):
        make(emu, tmp_path).create_invoices([draft(hours="5")], ENTRIES)


def test_connect_xero_by_copy_and_paste_stores_the_tokens_and_the_organisation(emu, tmp_path):
    import requests

    from functions.accounting.xero_connect import connect as connect_xero

    settings = XeroSettings(
        _env_file=None,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        base_url=emu.base_url,
        token_store=f"file:{tmp_path / 'connected.json'}",
    )
    said: list[str] = []

    def browser(prompt: str) -> str:  # the person opens the address, approves, and pastes where they landed
        consent = next(line for line in said if line.startswith(emu.base_url))
        return requests.get(consent, allow_redirects=False, timeout=5).headers["Location"]

    assert connect_xero(settings, read_line=browser, write=said.append) == emu.tenant_id
    stored = json.loads((tmp_path / "connected.json").read_text())
    assert stored["realm_id"] == emu.tenant_id and stored["refresh_token"] in emu.refresh
    with pytest.raises(AuthError, match="state does not match"):
        connect_xero(
            settings, read_line=lambda p: "http://localhost:8000/callback?code=x&state=other", write=said.append
        )


def test_an_attachment_that_failed_is_uploaded_by_the_next_run_and_only_then(emu, tmp_path):
    emu.fail_next("500", path="/Attachments", times=20)
    with pytest.raises(PartialCreateError, match="not attached yet"):
        make(emu, tmp_path).create_invoices([draft()], ENTRIES)
    [inv] = emu.invoices.values()
    assert inv["InvoiceID"] not in emu.attachments
    emu.faults.clear()
    [again] = make(emu, tmp_path).create_invoices([draft()], ENTRIES)
    assert again.status == "existing" and list(emu.attachments[inv["InvoiceID"]]) == [
        "time-detail-acme-retail-2026-10.csv"
    ]
    uploads = emu.count("PUT", "/Attachments")
    make(emu, tmp_path).create_invoices([draft()], ENTRIES)
    assert emu.count("PUT", "/Attachments") == uploads and len(emu.invoices) == 1


# -- the emulator behaves like Xero where the adapter depends on it (the SDK, driven directly) ---------------
def test_sdk_a_draft_cannot_be_voided_and_an_expired_token_is_401(emu, tmp_path):
    """Xero's invoice statuses (developer.xero.com, Invoices: "Status codes"): DRAFT may be DELETED or
    AUTHORISED; only AUTHORISED may be VOIDED. An expired access token answers 401 TokenExpired."""
    from xero_python.accounting import Invoice, Invoices
    from xero_python.exceptions import ApiException

    acct = make(emu, tmp_path)
    [created] = acct.create_invoices([draft()], ENTRIES)
    api, tenant = acct.acc, acct.api.tenant
    with pytest.raises(ApiException) as err:
        api.update_invoice(tenant, created.external_id, Invoices(invoices=[Invoice(status="VOIDED")]))
    assert "valid status" in acct_message(err.value)
    api.update_invoice(tenant, created.external_id, Invoices(invoices=[Invoice(status="AUTHORISED")]))
    done = api.update_invoice(tenant, created.external_id, Invoices(invoices=[Invoice(status="VOIDED")]))
    assert (
        str(done.invoices[0].status.value if hasattr(done.invoices[0].status, "value") else done.invoices[0].status)
        == "VOIDED"
    )
    emu.fail_next("expired")
    with pytest.raises(ApiException) as err:
        api.get_invoices(tenant)
    assert err.value.status == 401


def test_sdk_a_batch_with_summarize_errors_false_answers_each_invoice(emu, tmp_path):
    """Xero-OpenAPI: PUT /Invoices?summarizeErrors=false answers 200 with each invoice's StatusAttributeString
    (OK or ERROR) and its ValidationErrors; with summarizeErrors true one bad invoice fails the request (400)."""
    acct = make(emu, tmp_path)
    good, bad = acct.build(draft()), acct.build(draft("Bluefin Logistics"))
    bad.contact.contact_id = "00000000-0000-0000-0000-000000000000"
    from xero_python.accounting import Invoices
    from xero_python.exceptions import ApiException

    got = acct.acc.create_invoices(acct.api.tenant, Invoices(invoices=[good, bad]), summarize_errors=False)
    assert [i.status_attribute_string for i in got.invoices] == ["OK", "ERROR"]
    assert "Contact" in got.invoices[1].validation_errors[0].message
    with pytest.raises(ApiException):
        acct.acc.create_invoices(acct.api.tenant, Invoices(invoices=[bad]))


def acct_message(exc) -> str:
    from functions.accounting.xero_client import _message

    return _message(exc)


def test_sdk_unit_amounts_keep_two_decimals_unless_unitdp_is_4(emu, tmp_path):
    """xero-python's create_invoices: "unitdp=4 – (Unit Decimal Places) You can opt in to use four decimal places
    for unit amounts"; without it 3 x 33.3333 is taken as 3 x 33.33 = 99.99, and a LineAmount of 100.00 no
    longer adds up. (The adapter sends such a line as 1 x 100.00 and always says unitdp=4.)"""
    from xero_python.accounting import Invoices

    acct = make(emu, tmp_path)
    inv = acct.build(draft().model_copy(update={"memo": ""}))
    line = inv.line_items[0]
    line.quantity, line.unit_amount, line.line_amount = Decimal("3"), Decimal("33.3333"), Decimal("100.00")
    with pytest.raises(Exception) as err:
        acct.acc.create_invoices(acct.api.tenant, Invoices(invoices=[inv]))
    assert "does not equal Quantity x UnitAmount" in acct_message(err.value)
    got = acct.acc.create_invoices(acct.api.tenant, Invoices(invoices=[inv]), unitdp=4)
    assert got.invoices[0].line_items[0].unit_amount == Decimal("33.3333")
    [sent] = make(emu, tmp_path).create_invoices([draft("Bluefin Logistics", hours="3", rate="33.3333")], ENTRIES)
    line = next(
        li
        for i in emu.invoices.values()
        if i["InvoiceID"] == sent.external_id
        for li in i["LineItems"]
        if li.get("ItemCode")
    )
    assert (line["Quantity"], line["LineAmount"], sent.total) == (Decimal("1"), Decimal("100.00"), Decimal("100.00"))


def test_with_xero_attach_pdf_the_invoice_pdf_is_attached_once(emu, tmp_path):
    emu.fail_next("500", path=".pdf", times=20)  # the run stops between the two uploads
    with pytest.raises(PartialCreateError, match="not attached yet"):
        make(emu, tmp_path, attach_pdf=True).create_invoices([draft()], ENTRIES)
    [inv] = emu.invoices.values()
    files = emu.attachments[inv["InvoiceID"]]
    assert list(files) == ["time-detail-acme-retail-2026-10.csv"]
    emu.faults.clear()
    make(emu, tmp_path, attach_pdf=True).create_invoices([draft()], ENTRIES)
    pdf = f"invoice-{inv['InvoiceNumber'].lower()}-acme-retail.pdf"
    assert sorted(files) == sorted(["time-detail-acme-retail-2026-10.csv", pdf]) and files[pdf].startswith(b"%PDF")
    uploads = emu.count("PUT", "/Attachments/")
    make(emu, tmp_path, attach_pdf=True).create_invoices([draft()], ENTRIES)
    assert emu.count("PUT", "/Attachments/") == uploads  # a third run uploads nothing


def test_an_unreadable_token_store_says_to_connect_xero(emu, tmp_path):
    acct = make(emu, tmp_path)
    (tmp_path / "xero-tokens.json").write_text("{not json")
    with pytest.raises(
        AuthError, match=r"Xero token store .* is unreadable. Reconnect with `python main.py connect xero`"
    ):
        acct.create_invoices([draft()], ENTRIES)
