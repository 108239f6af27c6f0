"""The QuickBooks adapter against the local emulator: mapping, invoice contents, exactly once, batches, audit.

python-quickbooks and intuit-oauth run unmodified; only the base URL points at 127.0.0.1.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from functions.accounting.qbo_mapping import time_detail_csv
from functions.accounting.qbo_tokens import FileTokenStore, TokenSet, utcnow
from functions.accounting.quickbooks import PartialCreateError, QuickBooksAccounting, QuickBooksSettings
from functions.errors import ConfigError, ConflictError
from functions.models import InvoiceDraft, InvoiceLine, TimeEntry
from tests.emulators.quickbooks import QuickBooksEmulator


def make_adapter(emu: QuickBooksEmulator, tmp_path, sleep=None, **overrides) -> QuickBooksAccounting:
    tokens = emu.oauth.issue()
    store = FileTokenStore(tmp_path / "tokens.json")
    store.save(
        TokenSet(
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            realm_id=emu.realm_id,
            access_expires_at=(utcnow() + timedelta(hours=1)).isoformat(),
        )
    )
    settings = QuickBooksSettings(
        _env_file=None,
        client_id=emu.oauth.client_id,
        client_secret=emu.oauth.client_secret,
        base_url=emu.base_url,
        token_store=f"file:{tmp_path / 'tokens.json'}",
        retry_base_seconds=0.01,
        timeout_seconds=0.3,
        sheet_url="https://docs.google.com/spreadsheets/d/abc",
        **overrides,
    )
    return QuickBooksAccounting(settings, store, sleep=sleep) if sleep else QuickBooksAccounting(settings, store)


@pytest.fixture
def qbo(emu, tmp_path):
    return make_adapter(emu, tmp_path)


def _sample_customers() -> dict[str, str]:
    path = Path(__file__).resolve().parents[2] / "functions" / "sample" / "config" / "Clients.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["Client"]: r["Customer"] or r["Client"] for r in csv.DictReader(fh)}


CUSTOMERS = _sample_customers()  # client -> QuickBooks DisplayName, as the sample Clients tab maps them


def entry(n: int, client: str = "Acme Retail", hours: str = "2") -> TimeEntry:
    return TimeEntry(
        source="harvest",
        source_id=str(n),
        date=date(2026, 10, 1 + n % 28),
        client=client,
        person="Ana Ruiz",
        role="Principal Engineer",
        project="Checkout Revamp",
        task="Build",
        notes=f"checkout step {n}",
        hours=hours,
    )


def draft(
    client: str = "Acme Retail",
    *,
    period: str = "2026-10",
    hours: str = "2",
    rate: str = "150",
    item: str = "Development",
    terms: str = "Net 30",
    tax: str = "",
    discount: str = "",
    customer: str = "",
    currency: str = "USD",
    refs: tuple[str, ...] = ("harvest:1", "harvest:2"),
) -> InvoiceDraft:
    qty, price = Decimal(hours), Decimal(rate)
    lines = [
        InvoiceLine(
            description=f"{item} - Oct 2026",
            line_item=item,
            quantity=qty,
            unit_price=price,
            amount=(qty * price).quantize(Decimal("0.01")),
            service_date=date(2026, 10, 31),
            tax_code=tax,
            entry_refs=refs,
        )
    ]
    if discount:
        lines.append(
            InvoiceLine(
                description="Loyalty discount",
                line_item="Discount",
                kind="discount",
                quantity=1,
                unit_price=f"-{discount}",
                amount=f"-{discount}",
            )
        )
    return InvoiceDraft(
        client=client,
        customer=customer or CUSTOMERS.get(client, ""),
        period=period,
        currency=currency,
        issue_date=date(2026, 11, 1),
        due_date=date(2026, 12, 1),
        terms=terms,
        memo="Thank you for your business.",
        lines=tuple(lines),
    )


ENTRIES = {e.ref: e for e in (entry(1), entry(2))}


def test_creates_a_draft_invoice_with_every_field_and_links_back(emu, qbo):
    d = draft(tax="VAT20", discount="30.00")
    [created] = qbo.create_invoices([d], ENTRIES)

    [inv] = emu.all("Invoice")
    customer = next(c for c in emu.all("Customer") if c["DisplayName"] == "Acme Retail Inc.")
    term = next(t for t in emu.all("Term") if t["Name"] == "Net 30")
    assert inv["CustomerRef"]["value"] == customer["Id"]
    assert (inv["TxnDate"], inv["DueDate"], inv["SalesTermRef"]["value"]) == ("2026-11-01", "2026-12-01", term["Id"])
    assert inv["CurrencyRef"]["value"] == "USD" and inv["CustomerMemo"]["value"] == "Thank you for your business."
    assert inv["EmailStatus"] == "NotSet"
    sales, discount = inv["Line"][0], inv["Line"][1]
    detail = sales["SalesItemLineDetail"]
    assert detail["ItemRef"]["name"] == "Development" and detail["ServiceDate"] == "2026-10-31"
    assert (detail["Qty"], detail["UnitPrice"], sales["Amount"]) == (Decimal("2"), Decimal("150"), Decimal("300.00"))
    assert detail["TaxCodeRef"]["value"] == next(t["Id"] for t in emu.all("TaxCode") if t["Name"] == "VAT20")
    assert sales["Description"] == "Development - Oct 2026"
    assert discount["DetailType"] == "DiscountLineDetail" and discount["Amount"] == Decimal("30.00")
    assert inv["TotalAmt"] == Decimal("270.00") == d.total
    assert f"Invoice key: {d.key}" in inv["PrivateNote"]
    assert "https://docs.google.com/spreadsheets/d/abc" in inv["PrivateNote"]
    assert emu.minorversions == {"75"}

    assert created.status == "created" and created.total == Decimal("270.00")
    assert created.number == inv["DocNumber"] and created.external_id == inv["Id"]
    assert created.url == f"https://app.sandbox.qbo.intuit.com/app/invoice?txnId={inv['Id']}"
    assert created.entry_refs == ("harvest:1", "harvest:2") and created.line_count == 2


def test_time_detail_is_attached_as_csv(emu, qbo):
    d = draft()
    [created] = qbo.create_invoices([d], ENTRIES)
    [att] = [a for a in emu.all("Attachable") if a["ContentType"] == "text/csv"]  # the PDF is beside it
    assert att["AttachableRef"][0]["EntityRef"] == {"value": created.external_id, "type": "Invoice"}
    assert att["ContentType"] == "text/csv" and att["FileName"] == "time-detail-acme-retail-2026-10.csv"
    rows = list(csv.DictReader(io.StringIO(emu.files[att["Id"]].decode())))
    assert [r["Entry"] for r in rows] == ["harvest:1", "harvest:2"]
    assert rows[0]["Notes"] == "checkout step 1" and rows[0]["Hours"] == "2"
    assert emu.files[att["Id"]].decode() == time_detail_csv(d, ENTRIES)


def test_running_twice_leaves_one_invoice_and_returns_it_as_existing(emu, qbo, tmp_path):
    d = draft()
    [first] = qbo.create_invoices([d], ENTRIES)
    batches = emu.count("/batch#create")
    again = make_adapter(emu, tmp_path)  # a new process: nothing remembered but the tokens
    [second] = again.create_invoices([d], ENTRIES)
    assert len(emu.all("Invoice")) == 1 and len(emu.all("Attachable")) == 2  # its time detail and its PDF
    assert emu.count("/batch#create") == batches
    assert second.status == "existing"
    assert (second.number, second.external_id, second.url, second.key) == (
        first.number,
        first.external_id,
        first.url,
        first.key,
    )


def test_changed_contents_after_an_invoice_exists_is_a_conflict_and_creates_nothing(emu, qbo):
    qbo.create_invoices([draft()], ENTRIES)
    changed = draft(hours="3")
    other = draft("Bluefin Logistics")
    with pytest.raises(ConflictError) as err:
        qbo.create_invoices([changed, other], ENTRIES)
    text = str(err.value)
    assert "Acme Retail" in text and "2026-10" in text and "1001" in text
    assert len(emu.all("Invoice")) == 1  # not even the other client's invoice


def test_the_same_client_in_another_period_is_not_a_conflict(emu, qbo):
    qbo.create_invoices([draft()], ENTRIES)
    [nov] = qbo.create_invoices([draft(period="2026-11")], ENTRIES)
    assert nov.status == "created" and len(emu.all("Invoice")) == 2


def test_check_lists_everything_missing_at_once_and_creates_nothing(emu, qbo):
    drafts = [
        draft("Nowhere Ltd"),
        draft(item="Underwater Welding"),
        draft("Cedar Health", tax="GST9"),
        draft("Bluefin Logistics", terms="Net 99"),
        draft("Evergreen Foods", currency="EUR"),
    ]
    problems = qbo.check(drafts)
    assert len(problems) == 5
    joined = "\n".join(problems)
    for needle in ['"Nowhere Ltd"', '"Underwater Welding"', '"GST9"', '"Net 99"', "EUR", "USD"]:
        assert needle in joined
    with pytest.raises(ConfigError) as err:
        qbo.create_invoices(drafts, ENTRIES)
    assert "nothing was created" in str(err.value)
    assert emu.all("Invoice") == [] and emu.count("/batch#create") == 0
    assert len(emu.all("Customer")) == 25  # check never creates on its own


def test_create_missing_creates_customers_and_items_only(emu, qbo):
    drafts = [draft("Nowhere Ltd", item="Underwater Welding"), draft("Acme Retail", tax="GST9")]
    problems = qbo.check(drafts, create_missing=True)
    assert problems == [
        'Acme Retail, line 1 ("Development - Oct 2026"): tax code "GST9" is not in '
        "QuickBooks; tax codes are set up in QuickBooks itself, never created from here."
    ]
    assert any(
        c["DisplayName"] == "Nowhere Ltd" and c["CurrencyRef"] == {"value": "USD", "name": "", "type": ""}
        for c in emu.all("Customer")
    )
    item = next(i for i in emu.all("Item") if i["Name"] == "Underwater Welding")
    assert item["Type"] == "Service" and item["IncomeAccountRef"]["name"] == "Services"
    assert not any(t["Name"] == "GST9" for t in emu.all("TaxCode"))
    assert qbo.check(drafts[:1]) == []
    [created] = qbo.create_invoices(drafts[:1], ENTRIES)
    assert created.status == "created"


def test_customer_by_id_works(emu, qbo):
    cid = next(c["Id"] for c in emu.all("Customer") if c["DisplayName"] == "Harbor Museum Foundation")
    [created] = qbo.create_invoices([draft("Harbor Museum", customer=cid)], ENTRIES)
    assert emu.all("Invoice")[0]["CustomerRef"]["value"] == cid and created.status == "created"


def test_invoices_go_in_batches_of_at_most_30(emu, tmp_path):
    for n in range(65):
        emu._insert("Customer", {"DisplayName": f"Client {n:03d}", "CurrencyRef": {"value": "USD"}})
    qbo = make_adapter(emu, tmp_path, attach_time_detail=False)
    drafts = [draft(f"Client {n:03d}") for n in range(65)]
    seen = []
    created = qbo.create_invoices(drafts, ENTRIES, progress=lambda done, total, what: seen.append((done, total)))
    assert len(created) == 65 and len({c.external_id for c in created}) == 65
    assert [c.client for c in created] == [d.client for d in drafts]  # the order of the drafts
    assert emu.count("/batch#create") == 3 and emu.count("/invoice") == 0
    assert seen[-1] == (65, 65) and len(seen) == 65


def test_one_invoice_per_call_when_batch_size_is_one(emu, tmp_path):
    qbo = make_adapter(emu, tmp_path, batch_size=1, attach_time_detail=False)
    created = qbo.create_invoices([draft(), draft("Bluefin Logistics"), draft("Cedar Health")], ENTRIES)
    assert len(created) == 3 and emu.count("/invoice") == 3 and emu.count("/batch#create") == 0


def test_a_refused_batch_item_names_client_and_line_and_keeps_the_others(emu, qbo):
    drafts = [draft(), draft("Bluefin Logistics", item="Design"), draft("Cedar Health")]
    assert qbo.check(drafts) == []
    design = next(i for i in emu.all("Item") if i["Name"] == "Design")
    del emu.db["Item"][design["Id"]]  # someone deletes the item between check and create
    with pytest.raises(PartialCreateError) as err:
        qbo.create_invoices(drafts, ENTRIES)
    text = str(err.value)
    assert 'Bluefin Logistics (2026-10), line 1 ("Design - Oct 2026")' in text and "Invalid Reference Id" in text
    assert {c.client for c in err.value.created} == {"Acme Retail", "Cedar Health"}
    assert len(emu.all("Invoice")) == 2 and emu.count("/batch#create") == 1  # a refusal is never retried


def test_lines_whose_amount_is_not_quantity_times_price_are_stopped_before_sending(emu, qbo):
    bad = draft()
    line = bad.lines[0].model_copy(update={"amount": Decimal("299.99")})
    bad = bad.model_copy(update={"lines": (line,)})
    [problem] = qbo.check([bad])
    assert 'Acme Retail, line 1 ("Development - Oct 2026"): amount 299.99' in problem


def test_the_attached_time_detail_cannot_run_as_a_formula_when_opened():
    nasty = TimeEntry(
        source="harvest",
        source_id="9",
        date=date(2026, 10, 2),
        client="Acme Retail",
        person="@maria",
        project="Checkout Revamp",
        notes='=HYPERLINK("http://x","y")',
        hours="1",
    )
    text = time_detail_csv(draft(refs=("harvest:9",)), {nasty.ref: nasty})
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row[6] == "'@maria" and row[10] == '\'=HYPERLINK("http://x","y")' and row[11] == "1"
