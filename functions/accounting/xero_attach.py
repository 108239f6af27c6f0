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


def attach_time_details(
    acct: XeroAccounting,
    drafts: Sequence[InvoiceDraft],
    results: Mapping[str, CreatedInvoice],
    entries: Mapping[str, TimeEntry],
) -> list[str]:
    from .xero_accounting import key_for

    problems = []
    for d in drafts:
        inv = results.get(d.key)
        if inv is None:
            continue
        name = f"time-detail-{slug(d.client)}-{d.period}.csv"
        try:
            acct._call(
                f"attaching the time detail to invoice {inv.number} ({d.client})",
                "create_invoice_attachment_by_file_name",
                inv.external_id,
                name,
                acct.time_detail(d, entries),
                idempotency_key=key_for("attach", inv.external_id, name),
            )
        except (Transient, Terminal) as exc:
            problems.append(
                f"{d.client} ({d.period}): invoice {inv.number} exists, but its time detail is not attached yet "
                f"({exc}); running create-invoices again attaches it."
            )
    return problems
