"""QuickBooks calls per create at the quota-bound minimum: one batch of lookups (customers, items, tax codes,
terms and the invoices made before), one batch create per 30 invoices, one upload for many files."""

from __future__ import annotations

import math

from tests.accounting.test_qbo_adapter import ENTRIES, draft, make_adapter


def clients(emu, n: int) -> list[str]:
    names = [f"Client {i:03d}" for i in range(n)]
    for name in names:
        emu._insert("Customer", {"DisplayName": name, "CurrencyRef": {"value": "USD"}})
    return names


def test_25_invoices_with_their_files_cost_at_most_ceil_n_over_30_plus_3_calls(emu, tmp_path):
    drafts = [draft(c, terms="Net 30", tax="TAX") for c in clients(emu, 25)]
    qbo = make_adapter(emu, tmp_path)
    emu.calls.clear()
    assert qbo.check(drafts) == []
    created = qbo.create_invoices(drafts, ENTRIES)
    calls = [p.rsplit("/", 1)[-1] for _, p in emu.calls]
    assert len(created) == 25 and all(c.status == "created" for c in created)
    # lookups read once for check and create; 50 files (a time detail and a PDF each), 25 per upload
    assert calls == ["batch#query", "batch#create", "upload", "upload"]
    assert len(calls) <= math.ceil(25 / 30) + 3
    assert len(emu.all("Attachable")) == 50
    # a re-run (a new process) creates nothing and uploads nothing: lookups, then a look for the files
    emu.calls.clear()
    again = make_adapter(emu, tmp_path).create_invoices(drafts, ENTRIES)
    assert [c.status for c in again] == ["existing"] * 25
    assert [p.rsplit("/", 1)[-1] for _, p in emu.calls] == ["batch#query", "batch#query"]
    assert len(emu.all("Invoice")) == 25 and len(emu.all("Attachable")) == 50


def test_several_files_per_invoice_and_none_for_a_client_who_wants_none(emu, tmp_path):
    drafts = [draft(c) for c in clients(emu, 3)]
    qbo = make_adapter(emu, tmp_path)

    def files(d, inv, entries):
        if d.client == "Client 002":
            return []  # this client gets no attachments
        return [(f"{d.client}.csv", "text/csv", b"a,b\n1,2\n"), (f"{d.client}.pdf", "application/pdf", b"%PDF-1.7 x")]

    qbo.attachments = files
    emu.calls.clear()
    qbo.create_invoices(drafts, ENTRIES)
    assert sum(1 for _, p in emu.calls if p.endswith("/upload")) == 1
    got = sorted((a["FileName"], a["ContentType"]) for a in emu.all("Attachable"))
    assert got == [
        ("Client 000.csv", "text/csv"),
        ("Client 000.pdf", "application/pdf"),
        ("Client 001.csv", "text/csv"),
        ("Client 001.pdf", "application/pdf"),
    ]
    pdf = next(a for a in emu.all("Attachable") if a["FileName"] == "Client 001.pdf")
    assert emu.files[pdf["Id"]] == b"%PDF-1.7 x"


def test_the_emulator_refuses_an_upload_naming_an_invoice_that_does_not_exist(emu, tmp_path):
    from quickbooks.exceptions import QuickbooksException

    qbo = make_adapter(emu, tmp_path)
    meta = {"AttachableRef": [{"EntityRef": {"type": "Invoice", "value": "999999"}}], "FileName": "x.csv"}
    try:
        qbo.qb.upload_files([(meta, "text/csv", b"x")])
    except QuickbooksException as exc:
        assert "Invalid Reference Id" in str(exc.message) + str(exc.detail)
    else:
        raise AssertionError("the upload was accepted")
    assert emu.all("Attachable") == []
