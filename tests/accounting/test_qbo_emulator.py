"""The emulator itself, driven through python-quickbooks: the query subset, requestid replay, batch limits,
updates, uploads, and running on its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from quickbooks.batch import batch_create
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.customer import Customer
from quickbooks.objects.item import Item
from quickbooks.objects.term import Term

from tests.accounting.test_qbo_adapter import make_adapter
from tests.emulators.quickbooks import parse_query


@pytest.fixture
def qb(emu, tmp_path):
    return make_adapter(emu, tmp_path).qb


def test_query_equals_like_in_and_order(qb):
    assert [c.DisplayName for c in Customer.filter(DisplayName="Dunmore & Co. Ltd", qb=qb)] == ["Dunmore & Co. Ltd"]
    like = Customer.where("DisplayName LIKE 'C%'", order_by="DisplayName", qb=qb)
    assert [c.DisplayName for c in like] == ["Cedar Health System"]
    chosen = Customer.choose(["Acme Retail Inc.", "Umbra Games Inc.", "Nobody"], field="DisplayName", qb=qb)
    assert sorted(c.DisplayName for c in chosen) == ["Acme Retail Inc.", "Umbra Games Inc."]
    both = Customer.where("DisplayName IN ('Acme Retail Inc.', 'Umbra Games Inc.') AND Active = true", qb=qb)
    assert len(both) == 2
    desc = Term.query("SELECT * FROM Term ORDER BY Name DESC", qb=qb)
    assert [t.Name for t in desc][:2] == ["Net 60", "Net 45"]


def test_query_paging_and_count(qb):
    page1 = Customer.where("", order_by="Id", start_position=1, max_results=10, qb=qb)
    page3 = Customer.where("", order_by="Id", start_position=21, max_results=10, qb=qb)
    assert len(page1) == 10 and len(page3) == 5
    assert int(page1[0].Id) < int(page3[0].Id)
    assert Customer.count(qb=qb) == 25 and Customer.count("DisplayName LIKE '%Labs'", qb=qb) == 1


def test_query_quotes_and_bad_queries(qb):
    c = Customer()
    c.DisplayName = "O'Neil Partners"
    c.save(qb=qb)
    assert len(Customer.filter(DisplayName="O'Neil Partners", qb=qb)) == 1
    with pytest.raises(QuickbooksException):
        Customer.query("SELECT * FROM Nonsense", qb=qb)
    assert parse_query("SELECT COUNT(*) FROM Invoice WHERE TxnDate >= '2026-10-01'")["count"] is True


def test_requestid_replays_instead_of_creating_again(emu, qb):
    first, second = Customer(), Customer()
    first.DisplayName = second.DisplayName = "Replay Ltd"
    a = first.save(qb=qb, request_id="req-1")
    b = second.save(qb=qb, request_id="req-1")
    assert a.Id == b.Id and sum(c["DisplayName"] == "Replay Ltd" for c in emu.all("Customer")) == 1
    third = Customer()
    third.DisplayName = "Replay Ltd"
    with pytest.raises(QuickbooksException) as err:  # without the same requestid, a duplicate name is refused
        third.save(qb=qb, request_id="req-2")
    assert "Duplicate Name" in str(err.value)


def test_update_needs_the_current_sync_token(qb):
    item = Item.filter(Name="Design", qb=qb)[0]
    item.Description = "UX and visual design"
    saved = item.save(qb=qb)
    assert saved.SyncToken == "1" and Item.get(item.Id, qb=qb).Description == "UX and visual design"
    item.SyncToken = "0"
    with pytest.raises(QuickbooksException) as err:
        item.save(qb=qb)
    assert "Stale Object" in str(err.value)


def test_batch_of_more_than_30_is_refused_and_library_batches_split(emu, qb):
    customers = []
    for n in range(31):
        c = Customer()
        c.DisplayName = f"Batch {n}"
        customers.append(c)
    result = batch_create(customers, qb=qb)  # the library splits into 30 + 1
    assert len(result.successes) == 31 and emu.count("/batch") == 2
    with pytest.raises(QuickbooksException) as err:
        items = [{"bId": str(n), "operation": "create", "Customer": {"DisplayName": f"X{n}"}} for n in range(31)]
        qb.post(f"{qb.api_url}/company/{qb.company_id}/batch", json.dumps({"BatchItemRequest": items}))
    assert "at most 30" in str(err.value)


def test_minorversion_is_sent_and_recorded(emu, qb):
    Customer.all(qb=qb)
    assert emu.minorversions == {"75"}


def test_runs_on_its_own_with_a_sample_company():
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators.quickbooks", "--port", "0"], cwd=root, stdout=subprocess.PIPE, text=True
    )
    try:
        first = proc.stdout.readline()
        base = first.split(" on ", 1)[1].split(" ", 1)[0]
        doc = requests.get(f"{base}/.well-known/openid_sandbox_configuration/", timeout=5).json()
        assert doc["token_endpoint"] == f"{base}/oauth2/v1/tokens/bearer"
        assert "  export QBO_BASE_URL=" + base + "\n" in [proc.stdout.readline() for _ in range(7)]
    finally:
        proc.terminate()
        proc.wait(timeout=5)
