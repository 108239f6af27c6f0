"""Files attached to QuickBooks invoices (the time-detail CSV and the invoice PDF by default), several per upload.

Each invoice brings a list of attachments, `(file name, content type, bytes)`; an empty list attaches nothing
(a client who does not want them). The files of many invoices go in one `POST /upload` (numbered
file_metadata_NN / file_content_NN parts), up to `MAX_FILES` files or `MAX_BYTES` of content per request.

An upload has no requestid, so a repeat is made harmless by looking first: a fresh invoice cannot have its
files yet; an invoice that existed before this run (an earlier run, a retry of a lost upload) is looked up
first, every such invoice in one batch request of Attachable queries (30 per batch), and only files missing
by name are sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from quickbooks.objects.attachable import Attachable

from ..errors import Terminal, Transient
from ..models import CreatedInvoice, InvoiceDraft, TimeEntry, slug
from .qbo_client import QuickBooksClient
from .qbo_mapping import Query, QueryMany, time_detail_csv

Attachment = tuple[str, str, bytes]  # (file name, content type, content)
Attachments = Callable[[InvoiceDraft, CreatedInvoice, Mapping[str, TimeEntry]], Sequence[Attachment]]
BatchQuery = QueryMany  # the rows of each (what, entity, where) query: the adapter sends them as one batch

MAX_FILES = 25  # files per upload request
MAX_BYTES = 20_000_000  # content per upload request (sent base64: about 27 MB on the wire)


def time_detail(d: InvoiceDraft, inv: CreatedInvoice, entries: Mapping[str, TimeEntry]) -> list[Attachment]:
    """Each invoice's time detail as a CSV."""
    return [(f"time-detail-{slug(d.client)}-{d.period}.csv", "text/csv", time_detail_csv(d, entries).encode("utf-8"))]


def time_detail_and_pdf(d: InvoiceDraft, inv: CreatedInvoice, entries: Mapping[str, TimeEntry]) -> list[Attachment]:
    """The default: the time detail (CSV) and the invoice's PDF, as the local documents have it."""
    from .pdf import render_pdf  # ReportLab is imported only by a run that attaches

    # QuickBooks computes the tax from the lines' codes: the PDF says so rather than compute its own
    head = d.letterhead.model_copy(update={"tax_rates": ()}) if d.letterhead else None
    pdf = render_pdf(inv, d.model_copy(update={"letterhead": head}), entries, tax_by="QuickBooks")
    return [*time_detail(d, inv, entries), (f"invoice-{slug(inv.number)}-{slug(d.client)}.pdf", "application/pdf", pdf)]


def no_attachments(d: InvoiceDraft, inv: CreatedInvoice, entries: Mapping[str, TimeEntry]) -> list[Attachment]:
    return []


def _attachable_query(invoice_id: str) -> Query:
    where = f"AttachableRef.EntityRef.Type = 'Invoice' AND AttachableRef.EntityRef.value = '{invoice_id}'"
    return ("looking for files attached before", Attachable, where)


def attach_files(
    qb: QuickBooksClient,
    call: Callable[[str, Callable[[], Any]], Any],
    batch_query: BatchQuery,
    drafts: Sequence[InvoiceDraft],
    results: Mapping[str, CreatedInvoice],
    entries: Mapping[str, TimeEntry],
    fresh: set[str],
    attachments: Attachments = time_detail,
) -> list[str]:
    """Attach each invoice's files once; problems come back as sentences (the invoices stand)."""
    wanted: list[tuple[InvoiceDraft, CreatedInvoice, Attachment]] = [
        (d, results[d.key], a) for d in drafts if d.key in results for a in attachments(d, results[d.key], entries)
    ]
    if not wanted:
        return []
    problems: list[str] = []
    try:
        todo = _missing(batch_query, [w for w in wanted if w[0].key not in fresh]) + [
            w for w in wanted if w[0].key in fresh
        ]
    except (Transient, Terminal) as exc:
        return [_not_yet(d, inv, exc) for d, inv in {(w[0].key): (w[0], w[1]) for w in wanted}.values()]
    for chunk in _uploads(todo):
        upload = partial(_upload, qb, batch_query, chunk, [0])
        names = ", ".join(sorted({inv.number for _, inv, _ in chunk})[:5])
        try:
            answers = call(f"attaching {len(chunk)} files to invoices {names}", upload)
        except (Transient, Terminal) as exc:
            problems += [_not_yet(d, inv, exc) for d, inv in {w[0].key: (w[0], w[1]) for w in chunk}.values()]
            continue
        for (d, inv, a), answer in zip(chunk, answers, strict=False):
            if "Fault" in answer:
                errs = answer["Fault"].get("Error") or [{}]
                text = "; ".join(str(e.get("Message", "")) for e in errs)
                problems.append(_not_yet(d, inv, f"{a[0]}: {text}"))
    return problems


def _upload(
    qb: QuickBooksClient,
    batch_query: BatchQuery,
    chunk: list[tuple[InvoiceDraft, CreatedInvoice, Attachment]],
    sent: list[int],
) -> list[dict[str, Any]]:
    """One upload request; on a retry (the lost attempt may have landed) only what is still missing."""
    if sent[0]:
        chunk[:] = _missing(batch_query, chunk)
        if not chunk:
            return []
    sent[0] += 1
    return qb.upload_files([(_metadata(inv, a), a[1], a[2]) for _, inv, a in chunk])


def _metadata(inv: CreatedInvoice, a: Attachment) -> dict[str, Any]:
    return {
        "AttachableRef": [{"EntityRef": {"type": "Invoice", "value": inv.external_id}, "IncludeOnSend": False}],
        "FileName": a[0],
        "ContentType": a[1],
    }


def _missing(
    batch_query: BatchQuery, wanted: list[tuple[InvoiceDraft, CreatedInvoice, Attachment]]
) -> list[tuple[InvoiceDraft, CreatedInvoice, Attachment]]:
    """The files not attached yet to invoices that may have them: one Attachable query per invoice, batched."""
    ids = sorted({inv.external_id for _, inv, _ in wanted})
    if not ids:
        return []
    rows = batch_query([_attachable_query(i) for i in ids])
    have = {(i, str(r.FileName or "")) for i, found in zip(ids, rows, strict=True) for r in found}
    return [w for w in wanted if (w[1].external_id, w[2][0]) not in have]


def _uploads(
    todo: list[tuple[InvoiceDraft, CreatedInvoice, Attachment]],
) -> list[list[tuple[InvoiceDraft, CreatedInvoice, Attachment]]]:
    chunks: list[list[tuple[InvoiceDraft, CreatedInvoice, Attachment]]] = []
    size = MAX_BYTES + 1
    for w in todo:
        if len(chunks) == 0 or len(chunks[-1]) >= MAX_FILES or size + len(w[2][2]) > MAX_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(w)
        size += len(w[2][2])
    return chunks


def _not_yet(d: InvoiceDraft, inv: CreatedInvoice, why: object) -> str:
    return (
        f"{d.client} ({d.period}): invoice {inv.number} exists, but its files are not all attached yet ({why}); "
        "running create-invoices again attaches them."
    )
