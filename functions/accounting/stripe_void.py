"""Corrections in Stripe: the invoices of a client and period, live and voided, and the void itself.

Stripe voids only finalized invoices (`POST /v1/invoices/{id}/void` on an `open` or `uncollectible` one);
a draft can only be deleted, which the port never does. So a draft being corrected is first finalized with
`auto_advance=false` (it gets its number and is NOT sent: sending stays a person's click) and then voided:
it stays in Stripe with its number, marked void, with nothing to pay. A paid invoice (`status=paid` or
any `amount_paid`) is refused: the money moved, and Stripe's tool for that is a credit note.

The link between the voided invoice and its correction is metadata: `replaced_by` on the void one, and
the correction's description says "Replaces invoice N." (the pipeline writes it into the draft's memo).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import ConflictError
from ..models import InvoiceDraft
from ..ports import InvoiceRecord
from .stripe_client import from_minor, idempotency_key

if TYPE_CHECKING:
    from .stripe_accounting import StripeAccounting

REPLACES = re.compile(r"Replaces invoice\s+([^\s,;]+?)\.?(?:\s|$)")
CREDIT_NOTE = (
    "a paid invoice is not voided: the payment stays recorded against it. Correct it with a credit note in "
    "Stripe (the invoice's More menu > Issue credit note)"
)


def paid_reason(inv: dict[str, Any]) -> str:
    paid = int(inv.get("amount_paid") or 0)
    if inv.get("status") == "paid" or paid:
        currency = str(inv.get("currency", ""))
        return f"{from_minor(paid, currency)} of {from_minor(int(inv.get('total') or 0), currency)} is paid"
    return ""


def record(inv: dict[str, Any], draft_client: str, period: str) -> InvoiceRecord:
    meta = inv.get("metadata") or {}
    memo = str(inv.get("description") or "")
    m = REPLACES.search(memo)
    void = inv.get("status") == "void"
    return InvoiceRecord(
        number=str(inv.get("number") or inv["id"]),
        external_id=inv["id"],
        client=draft_client,
        period=period,
        key=str(meta.get("invoice_key", "")),
        total=from_minor(int(inv.get("subtotal") or 0), str(inv.get("currency", ""))),
        status="void" if void else "live",
        paid="" if void else paid_reason(inv),
        replaced_by=str(meta.get("replaced_by", "")),
        replaces=m.group(1) if m else "",
        memo=memo,
    )


def invoices_for(acct: StripeAccounting, draft: InvoiceDraft) -> list[InvoiceRecord]:
    """From the customer's invoice list (strongly consistent, unlike search)."""
    customer = acct._customer(draft)
    if customer is None:
        return []
    return [record(inv, draft.client, draft.period) for inv in acct.customer_invoices(customer["id"], draft)]


def void_invoice(acct: StripeAccounting, rec: InvoiceRecord, replaced_by: str = "") -> InvoiceRecord:
    v1 = acct.v1
    inv = acct.api.call(f"reading invoice {rec.number}", lambda: v1.invoices.retrieve(rec.external_id).to_dict())
    if inv.get("status") != "void":
        why = paid_reason(inv)
        if why:
            raise ConflictError(
                f"{rec.client}'s invoice {rec.number} for {rec.period} is paid ({why}); {CREDIT_NOTE}"
                f" (docs/RUNBOOK.md#a-paid-invoice-cannot-be-reissued)."
            )
        if inv.get("status") == "draft":
            inv = acct.api.call(
                f"finalizing draft {rec.number} so that it can be voided (it is not sent)",
                lambda: v1.invoices.finalize_invoice(
                    rec.external_id,
                    {"auto_advance": False},
                    {"idempotency_key": idempotency_key("finalize", rec.external_id)},
                ).to_dict(),
            )
        inv = acct.api.call(
            f"voiding invoice {inv.get('number') or rec.number}",
            lambda: v1.invoices.void_invoice(
                rec.external_id, None, {"idempotency_key": idempotency_key("void", rec.external_id)}
            ).to_dict(),
        )
    if replaced_by and (inv.get("metadata") or {}).get("replaced_by") != replaced_by:
        inv = acct.api.call(
            f"recording that {replaced_by} replaces invoice {inv.get('number') or rec.number}",
            lambda: v1.invoices.update(
                rec.external_id,
                {"metadata": {"replaced_by": replaced_by}},
                {"idempotency_key": idempotency_key("replaced", rec.external_id, replaced_by)},
            ).to_dict(),
        )
    return record(inv, rec.client, rec.period)
