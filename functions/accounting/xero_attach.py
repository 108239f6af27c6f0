"""The time detail of each Xero invoice, attached once as a CSV (`PUT /Invoices/{id}/Attachments/{FileName}`).

Every upload carries an Idempotency-Key (invoice and file name), so a retry after a lost answer is replayed.
An invoice found from an earlier run is uploaded to only when Xero says it has no attachment yet
(`HasAttachments` on the invoice, read with it: no extra call), so a re-run adds nothing and costs nothing;
an upload to an invoice that has the file already would replace it with the same bytes.
Problems come back as sentences: the invoices stand, and running create-invoices again attaches what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..errors import Terminal, Transient
from ..models import CreatedInvoice, InvoiceDraft, TimeEntry, slug

if TYPE_CHECKING:
    from .xero_accounting import XeroAccounting


def files_for(acct: XeroAccounting, d: InvoiceDraft, inv: CreatedInvoice, entries: Mapping[str, TimeEntry]) -> list:
    """(file name, bytes): the time-detail CSV, and with XERO_ATTACH_PDF the invoice's PDF (pdf.py)."""
    files = [(f"time-detail-{slug(d.client)}-{d.period}.csv", acct.time_detail(d, entries))]
    if acct.settings.attach_pdf:
        from .pdf import render_pdf  # ReportLab is imported only by a run that attaches a PDF

        head = d.letterhead.model_copy(update={"tax_rates": ()}) if d.letterhead else None
        pdf = render_pdf(inv, d.model_copy(update={"letterhead": head}), entries, tax_by="Xero")
        files.append((f"invoice-{slug(inv.number)}-{slug(d.client)}.pdf", pdf))
    return files


def attach_time_details(
    acct: XeroAccounting,
    drafts: Sequence[InvoiceDraft],
    results: Mapping[str, CreatedInvoice],
    entries: Mapping[str, TimeEntry],
    fresh: set[str] | None = None,
) -> list[str]:
    """Upload each invoice's files once. `fresh` invoices (created by this run) cannot have them yet; the others
    are looked at first when a PDF is attached too (a run may have stopped between the two files)."""
    from .xero_accounting import key_for

    problems = []
    for d in drafts:
        inv = results.get(d.key)
        if inv is None:
            continue
        try:
            files = files_for(acct, d, inv, entries)
            if len(files) > 1 and fresh is not None and d.key not in fresh:
                got = acct._call(f"reading the attachments of {inv.number}", "get_invoice_attachments", inv.external_id)
                have = {str(a.file_name) for a in got.attachments or []}
                files = [f for f in files if f[0] not in have]
            for name, content in files:
                acct._call(
                    f"attaching {name} to invoice {inv.number} ({d.client})",
                    "create_invoice_attachment_by_file_name",
                    inv.external_id,
                    name,
                    content,
                    idempotency_key=key_for("attach", inv.external_id, name),
                )
        except (Transient, Terminal) as exc:
            problems.append(
                f"{d.client} ({d.period}): invoice {inv.number} exists, but its time detail is not attached yet "
                f"({exc}); running create-invoices again attaches it."
            )
    return problems
