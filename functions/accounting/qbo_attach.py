"""The time detail of each QuickBooks invoice, attached once as a CSV, and the invoice's PDF beside it (each an
Attachable linked to the invoice; `attachments` lists the files).

An upload has no requestid, so a repeat is made harmless by looking first: a fresh invoice cannot have the
file yet; anything else (an earlier run, a retry of a lost upload) is checked before uploading again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from quickbooks.objects.attachable import Attachable
from quickbooks.objects.base import AttachableRef

from ..errors import Terminal, Transient
from ..models import CreatedInvoice, InvoiceDraft, TimeEntry, slug
from .qbo_client import QuickBooksClient
from .qbo_mapping import make_ref, time_detail_csv

File = tuple[str, str, Callable[[], bytes], str]  # file name, content type, its bytes when asked, what it is


def attachments(d: InvoiceDraft, inv: CreatedInvoice, entries: Mapping[str, TimeEntry]) -> list[File]:
    """The files each QuickBooks invoice gets: its time detail (CSV) and its PDF."""
    from .pdf import render_pdf  # ReportLab is imported only by a run that attaches

    # QuickBooks computes the tax from the lines' codes: the PDF says so rather than compute its own
    head = d.letterhead.model_copy(update={"tax_rates": ()}) if d.letterhead else None
    pdf_draft = d.model_copy(update={"letterhead": head})
    return [
        (
            f"time-detail-{slug(d.client)}-{d.period}.csv",
            "text/csv",
            lambda: time_detail_csv(d, entries).encode(),
            "time detail",
        ),
        (
            f"invoice-{slug(inv.number)}-{slug(d.client)}.pdf",
            "application/pdf",
            lambda: render_pdf(inv, pdf_draft, entries, tax_by="QuickBooks"),
            "PDF",
        ),
    ]


def attach_time_details(
    qb: QuickBooksClient,
    call: Callable[[str, Callable[[], Any]], Any],
    drafts: Sequence[InvoiceDraft],
    results: dict[str, CreatedInvoice],
    entries: Mapping[str, TimeEntry],
    fresh: set[str],
    max_concurrency: int,
) -> list[str]:
    """Attach each invoice's files once; problems come back as sentences (the invoices stand)."""
    todo = [(d, f) for d in drafts if d.key in results for f in attachments(d, results[d.key], entries)]

    def one(job: tuple[InvoiceDraft, File]) -> str | None:
        d, (name, content_type, content, what) = job
        inv = results[d.key]
        tries = [0]

        def attach() -> None:
            # A fresh invoice cannot have the file yet; anything else (an earlier run, a retry of a lost
            # upload) looks first, because an upload has no requestid to make a repeat harmless.
            if d.key not in fresh or tries[0] > 0:
                where = (
                    f"AttachableRef.EntityRef.Type = 'Invoice' AND AttachableRef.EntityRef.value = '{inv.external_id}'"
                )
                if any(a.FileName == name for a in Attachable.where(where, qb=qb)):
                    return
            tries[0] += 1
            att = Attachable()
            ref = AttachableRef()
            ref.EntityRef = make_ref(inv.external_id, type_="Invoice")
            ref.IncludeOnSend = False
            att.AttachableRef.append(ref)
            att.FileName, att.ContentType = name, content_type
            att._FileBytes = content()
            att.save(qb=qb)

        try:
            call(f"attaching the {what} to invoice {inv.number} ({d.client})", attach)
        except (Transient, Terminal) as exc:
            return (
                f"{d.client} ({d.period}): invoice {inv.number} exists, but its {what} is not attached "
                f"yet ({exc}); running create-invoices again attaches it."
            )
        return None

    with ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="qbo-att") as pool:
        return [problem for problem in pool.map(one, todo) if problem]
