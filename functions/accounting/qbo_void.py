"""Corrections in QuickBooks Online: the invoices of a client and period, live and voided, and the void itself.

A void is `POST /v3/company/<realm>/invoice?operation=void` with the invoice's Id and current SyncToken
(what python-quickbooks' `Invoice.void` sends). QuickBooks keeps the invoice and its DocNumber, zeroes
every amount and the Balance, and starts the PrivateNote with "Voided" (Intuit's "Voiding Invoice
Objects" and the Invoice API reference). We send the same request through the client's `post` so that it
carries a `requestid`: a retry after a lost answer is replayed, not sent again. A void that raced a change
(5010 Stale Object Error) or whose answer was lost is settled by reading the invoice again: voided is
done; live is voided at its new SyncToken, once.

A paid invoice (Balance below TotalAmt, or a Payment or CreditMemo linked to it) is never voided: the
money moved, and the accountant corrects it with a credit memo.

The corrected invoice says "Replaces invoice N" in its CustomerMemo (the pipeline puts it in the draft's
memo); that is the link QuickBooks keeps, read back here as `replaces` / `replaced_by`.

    >>> REPLACES.search("Replaces invoice 1042. Thank you").group(1)
    '1042'
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice

from ..errors import ConflictError
from ..models import InvoiceDraft, Period, slug
from ..money import D
from ..ports import InvoiceRecord
from .qbo_client import QuickBooksRejected
from .qbo_mapping import customer_ref, escape, request_id

if TYPE_CHECKING:
    from .quickbooks import QuickBooksAccounting

KEY_NOTE = re.compile(r"Invoice key:\s*(\S+)")
REPLACES = re.compile(r"Replaces invoice\s+([^\s.,;]+)")
PAID_TXN = {"Payment", "CreditMemo"}  # LinkedTxn types that mean money was applied to the invoice
CREDIT_MEMO = (
    "a paid invoice is not voided: the payment stays recorded against it. Correct it with a credit memo in "
    "QuickBooks (Sales > Credit memo), which is the accountant's tool for a change after payment "
    "(docs/RUNBOOK.md#a-paid-invoice-cannot-be-reissued)"
)


def paid_reason(inv: Any) -> str:
    """Why an invoice counts as paid, or "" (read from Balance, TotalAmt and LinkedTxn)."""
    linked = [t for t in (getattr(inv, "LinkedTxn", None) or []) if str(_get(t, "TxnType")) in PAID_TXN]
    if linked:
        kinds = sorted({str(_get(t, "TxnType")) for t in linked})
        return f"{' and '.join(k.lower().replace('creditmemo', 'credit memo') for k in kinds)} linked to it"
    total, balance = D(inv.TotalAmt or 0), D(inv.Balance if inv.Balance not in (None, "") else inv.TotalAmt or 0)
    if balance < total:
        return f"{total - balance} of {total} is paid (balance {balance})"
    return ""


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _voided(inv: Any) -> bool:
    return str(inv.PrivateNote or "").lstrip().startswith("Voided")


def _memo(inv: Any) -> str:
    memo = getattr(inv, "CustomerMemo", None)
    return str(_get(memo, "value") or "") if memo is not None else ""


def _record(inv: Any, draft: InvoiceDraft, key: str) -> InvoiceRecord:
    memo = _memo(inv)
    m = REPLACES.search(memo)
    return InvoiceRecord(
        number=str(inv.DocNumber or inv.Id),
        external_id=str(inv.Id),
        client=draft.client,
        period=draft.period,
        key=key,
        total=D(inv.TotalAmt or 0),
        status="void" if _voided(inv) else "live",
        paid="" if _voided(inv) else paid_reason(inv),
        replaces=m.group(1) if m else "",
        memo=memo,
    )


def invoices_for(acct: QuickBooksAccounting, draft: InvoiceDraft) -> list[InvoiceRecord]:
    """The client's invoices for the period, found as creation finds them: by customer and date, then by the
    invoice key in the PrivateNote (QuickBooks cannot filter on it)."""
    ref = customer_ref(draft)
    field = "Id" if ref.isdigit() else "DisplayName"
    customers = acct._query_all("reading customers", Customer, f"{field} = '{escape(ref)}'")
    if not customers:
        return []
    since = Period.parse(draft.period).start.isoformat()
    where = f"CustomerRef = '{customers[0].Id}' AND TxnDate >= '{since}'"
    prefix = f"{slug(draft.client)}/{draft.period}/"
    out: list[InvoiceRecord] = []
    for inv in acct._query_all("looking for the invoices to correct", Invoice, where):
        m = KEY_NOTE.search(str(inv.PrivateNote or ""))
        if m and m.group(1).startswith(prefix):
            out.append(_record(inv, draft, m.group(1)))
    by_number = {r.number: r for r in out}
    for r in out:  # the link QuickBooks keeps is the correction's memo; read it from both ends
        if r.replaces in by_number:
            old = by_number[r.replaces]
            by_number[r.replaces] = replace(old, replaced_by=r.number)
    return [by_number[r.number] for r in out]


def void_invoice(acct: QuickBooksAccounting, record: InvoiceRecord, replaced_by: str = "") -> InvoiceRecord:
    """Void the invoice once (see the module docstring); a voided one is returned as it is."""
    for attempt in range(2):
        inv = acct._call(f"reading invoice {record.number}", partial(Invoice.get, record.external_id, qb=acct.qb))
        if _voided(inv):
            break
        why = paid_reason(inv)
        if why:
            raise ConflictError(
                f"{record.client}'s invoice {record.number} for {record.period} is paid ({why}); {CREDIT_MEMO}."
            )
        url = f"{acct.qb.api_url}/company/{acct.qb.company_id}/invoice"
        body = json.dumps({"Id": str(inv.Id), "SyncToken": str(inv.SyncToken)})
        rid = request_id("void", acct.qb.company_id, str(inv.Id), str(inv.SyncToken))
        try:
            answer = acct._call(
                f"voiding invoice {record.number}",
                partial(acct.qb.post, url, body, params={"operation": "void"}, request_id=rid),
            )
        except QuickBooksRejected:
            # 5010 (someone changed it since we read it) or another refusal: read it again and decide
            if attempt:
                raise
            continue
        inv = Invoice.from_json(answer["Invoice"])
        break
    else:  # pragma: no cover - the loop either breaks or raises
        raise AssertionError("unreachable")
    key = KEY_NOTE.search(str(inv.PrivateNote or ""))
    return InvoiceRecord(
        number=str(inv.DocNumber or inv.Id),
        external_id=str(inv.Id),
        client=record.client,
        period=record.period,
        key=key.group(1) if key else record.key,
        total=D(inv.TotalAmt or Decimal("0")),
        status="void" if _voided(inv) else "live",
        replaced_by=replaced_by or record.replaced_by,
        memo=_memo(inv),
    )
