"""The Xero Invoice for a draft: memo line, items, tax types, and lines Xero's arithmetic cannot change."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..models import InvoiceDraft

if TYPE_CHECKING:
    from .xero_accounting import XeroAccounting


def build_invoice(acct: XeroAccounting, d: InvoiceDraft) -> Any:
    """The Invoice model for a draft (see xero_accounting's docstring for the rounding rule)."""
    from xero_python.accounting import Contact, CurrencyCode, Invoice, LineAmountTypes, LineItem

    lines = [LineItem(description=d.memo)] if d.memo else []
    for line in d.lines:
        tax = acct._tax(d, line)
        item = acct._item(line)
        common: dict[str, Any] = {"account_code": acct.settings.sales_account}
        if item is not None:
            common["item_code"] = str(item.code)
        if tax is not None:
            common["tax_type"] = str(tax.tax_type)
        if _exact(line):
            lines.append(
                LineItem(
                    description=line.description,
                    quantity=line.quantity,
                    unit_amount=line.unit_price,
                    line_amount=line.amount,
                    **common,
                )
            )
        else:
            text = (
                f"{line.description} ({line.quantity} x {line.unit_price})" if line.quantity != 1 else line.description
            )
            lines.append(
                LineItem(
                    description=text,
                    quantity=Decimal(1),
                    unit_amount=line.amount,
                    line_amount=line.amount,
                    **common,
                )
            )
    taxed = any(acct._tax(d, line) is not None for line in d.lines)
    return Invoice(
        type="ACCREC",
        contact=Contact(contact_id=str(acct._contact(d).contact_id)),
        line_items=lines,
        date=d.issue_date,
        due_date=d.due_date,
        reference=d.key,
        status="DRAFT",
        currency_code=CurrencyCode(d.currency.upper()),
        line_amount_types=LineAmountTypes.EXCLUSIVE if taxed else LineAmountTypes.NOTAX,
        url=acct.settings.sheet_url or None,
    )


def _exact(line: Any) -> bool:
    from .xero_accounting import exact_product

    return exact_product(line)
