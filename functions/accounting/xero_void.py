"""Corrections in Xero: the invoices of a client and period, live and voided, and the void itself.

Xero voids only AUTHORISED invoices; a DRAFT can only be DELETED, which the port never does. So a draft being
corrected is first approved (`Status: AUTHORISED`; it keeps its InvoiceNumber and is NOT sent) and then voided
(`Status: VOIDED`): it stays in Xero with its number and nothing to pay. An invoice with payments
(AmountPaid above 0, or PAID) is refused: Xero's tool for that is a credit note.

The link: the voided invoice gets a history note "Replaced by invoice N" (Xero keeps it in the invoice's
History and notes), and the correction's memo line says "Replaces invoice N.".
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..errors import ConflictError
from ..models import InvoiceDraft
from ..money import D
from ..ports import InvoiceRecord

if TYPE_CHECKING:
    from .xero_accounting import XeroAccounting

REPLACES = re.compile(r"Replaces invoice\s+([^\s,;]+?)\.?(?:\s|$)")
REPLACED_BY = re.compile(r"Replaced by invoice\s+(\S+)")
CREDIT_NOTE = (
    "a paid invoice is not voided: the payment stays recorded against it. Correct it with a credit note in "
    "Xero (Business > Invoices > New > Credit note)"
)


def _status(inv: Any) -> str:
    return str(getattr(inv.status, "value", inv.status) or "")


def paid_reason(inv: Any) -> str:
    paid = D(inv.amount_paid or 0)
    if _status(inv) == "PAID" or paid > 0:
        return f"{paid.quantize(Decimal('0.01'))} of {D(inv.total or 0).quantize(Decimal('0.01'))} is paid"
    return ""


def _record(acct: XeroAccounting, inv: Any, client: str, period: str) -> InvoiceRecord:
    void = _status(inv) in ("VOIDED", "DELETED")
    memo = next(
        (str(li.description) for li in inv.line_items or [] if li.line_amount in (None, 0) and li.description), ""
    )
    m = REPLACES.search(memo)
    replaced_by = ""
    if void:
        notes = acct._call(f"reading the history of {inv.invoice_number}", "get_invoice_history", str(inv.invoice_id))
        for note in notes.history_records or []:
            found = REPLACED_BY.search(str(note.details or ""))
            if found:
                replaced_by = found.group(1)
    return InvoiceRecord(
        number=str(inv.invoice_number or inv.invoice_id),
        external_id=str(inv.invoice_id),
        client=client,
        period=period,
        key=str(inv.reference or ""),
        total=D(inv.sub_total or 0).quantize(Decimal("0.01")),
        status="void" if void else "live",
        paid="" if void else paid_reason(inv),
        replaced_by=replaced_by,
        replaces=m.group(1) if m else "",
        memo=memo,
    )


def invoices_for(acct: XeroAccounting, draft: InvoiceDraft) -> list[InvoiceRecord]:
    from .xero_accounting import prefix

    if acct._contact(draft) is None:
        return []
    found = acct.existing([draft]).get(prefix(draft), [])
    found = [i for i in found if _status(i) != "DELETED"]
    return [
        _record(acct, inv, draft.client, draft.period) for inv in sorted(found, key=lambda i: str(i.invoice_number))
    ]


def _set_status(acct: XeroAccounting, inv: Any, status: str) -> Any:
    from xero_python.accounting import Invoice, Invoices

    from .xero_accounting import key_for

    body = Invoices(invoices=[Invoice(invoice_id=str(inv.invoice_id), status=status)])
    got = acct._call(
        f"setting invoice {inv.invoice_number} to {status}",
        "update_invoice",
        str(inv.invoice_id),
        body,
        unitdp=4,
        idempotency_key=key_for(status, str(inv.invoice_id)),
    )
    return got.invoices[0]


def void_invoice(acct: XeroAccounting, rec: InvoiceRecord, replaced_by: str = "") -> InvoiceRecord:
    from xero_python.accounting import HistoryRecord, HistoryRecords

    from .xero_accounting import key_for

    inv = acct._call(f"reading invoice {rec.number}", "get_invoice", rec.external_id, unitdp=4).invoices[0]
    if _status(inv) != "VOIDED":
        why = paid_reason(inv)
        if why:
            raise ConflictError(
                f"{rec.client}'s invoice {rec.number} for {rec.period} is paid ({why}); {CREDIT_NOTE}"
                f" (docs/RUNBOOK.md#a-paid-invoice-cannot-be-reissued)."
            )
        if _status(inv) in ("DRAFT", "SUBMITTED"):
            inv = _set_status(acct, inv, "AUTHORISED")  # approved, not sent: only an approved invoice can be voided
        inv = _set_status(acct, inv, "VOIDED")
    current = _record(acct, inv, rec.client, rec.period)
    if replaced_by and current.replaced_by != replaced_by:
        note = HistoryRecords(history_records=[HistoryRecord(details=f"Replaced by invoice {replaced_by}")])
        acct._call(
            f"noting that {replaced_by} replaces invoice {rec.number}",
            "create_invoice_history",
            rec.external_id,
            note,
            idempotency_key=key_for("replaced", rec.external_id, replaced_by),
        )
        current = _record(acct, inv, rec.client, rec.period)
    return current
