"""A readable, printable HTML document for an invoice: the same content as the PDF (invoice_view.py).

Everything that came from a person or a source is escaped; the logo is embedded, so the one file opens in
any browser, offline, and prints like the PDF.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from html import escape

from ..models import CreatedInvoice, InvoiceDraft, Party, TimeEntry
from .invoice_view import InvoiceView, invoice_view, party_lines

_CSS = """
body { font-family: "DejaVu Sans", -apple-system, Segoe UI, Helvetica, Arial, sans-serif; color: #222;
       margin: 2.5em auto; max-width: 52em; line-height: 1.4; font-size: 14px; }
.top { display: flex; justify-content: space-between; align-items: flex-start; gap: 2em; }
.top img { max-height: 64px; max-width: 220px; }
.sender { text-align: right; color: #555; font-size: .9em; } .sender strong { color: #222; font-size: 1.15em; }
h1 { font-size: 1.9em; letter-spacing: .04em; margin: 1em 0 .4em; color: #1f3a5f; }
.parties { display: flex; justify-content: space-between; gap: 2em; margin-bottom: 1.2em; }
.label { text-transform: uppercase; font-size: .75em; letter-spacing: .08em; color: #777; }
.facts td { border: none; padding: .1em 0 .1em 1.2em; } .facts td:first-child { color: #777; }
table { border-collapse: collapse; width: 100%; margin: .6em 0; }
th { background: #1f3a5f; color: #fff; font-weight: 600; }
th, td { text-align: left; padding: .4em .55em; border-bottom: 1px solid #e3e3e3; vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
.totals { width: 24em; margin-left: auto; } .totals td { border: none; padding: .2em .55em; }
.totals tr.grand td { font-weight: bold; font-size: 1.1em; border-top: 2px solid #1f3a5f; }
.pay { margin-top: 1.4em; padding: .8em 1em; background: #f4f6f9; border-left: 4px solid #1f3a5f; }
.note { color: #a33; } .footer { margin-top: 2em; color: #777; font-size: .85em; text-align: center; }
.detail { font-size: .85em; } .detail h3 { font-size: 1.05em; margin: 1.4em 0 .1em; }
.detail p { margin: .1em 0 .3em; color: #555; } .detail tfoot td { font-weight: bold; }
@media print { .detail { page-break-before: always; } body { margin: 0; } }
"""


def _lines(text: str) -> str:
    return "<br>".join(escape(t) for t in text.splitlines())


def _party(p: Party, contact_prefix: str = "", compact: bool = False) -> str:
    """A party's block (invoice_view.party_lines), the name in bold."""
    parts = party_lines(p, escape, _lines, contact_prefix, compact)
    if p.name:
        parts[0] = f"<strong>{parts[0]}</strong>"
    return "<br>".join(parts)


def render_invoice_html(
    inv: CreatedInvoice,
    draft: InvoiceDraft,
    entries: Mapping[str, TimeEntry],
    agency: str = "",
    tax_by: str = "the accounting system",
) -> str:
    return view_html(invoice_view(inv, draft, entries, agency=agency, tax_by=tax_by))


def view_html(v: InvoiceView) -> str:
    e = escape
    logo = ""
    if v.logo:
        kind = "png" if v.logo.startswith(b"\x89PNG") else "jpeg"
        logo = f'<img alt="" src="data:image/{kind};base64,{base64.b64encode(v.logo).decode()}">'
    sender = _party(v.sender, compact=True) if v.sender.name else f'<span class="note">{e(v.sender_note)}</span>'
    facts = "".join(f"<tr><td>{e(k)}</td><td>{e(val)}</td></tr>" for k, val in v.facts)
    rows = "".join(
        f"<tr><td>{ln.no}</td><td>{e(ln.description)}</td><td class='num'>{e(ln.quantity)}</td><td>{e(ln.unit)}</td>"
        f"<td class='num'>{e(ln.rate)}</td><td class='num'>{e(ln.amount)}</td></tr>"
        for ln in v.lines
    )
    taxes = "".join(f"<tr><td>{e(label)}</td><td class='num'>{e(amount)}</td></tr>" for label, amount in v.taxes)
    pay = []
    if v.payment:
        pay.append(_lines(v.payment))
    if v.pay_link:
        pay.append(f'Pay online: <a href="{e(v.pay_link)}">{e(v.pay_link)}</a>')
    pay_block = (
        f'<div class="pay"><div class="label">How to pay</div>Please pay <strong>{e(v.total)}</strong> by '
        f"<strong>{e(v.due_date)}</strong>, quoting invoice <strong>{e(v.number)}</strong>.<br>{'<br>'.join(pay)}</div>"
    )
    details = "".join(
        f"<h3>Line {d.no}: {e(d.description)}</h3><p>{e(d.reconcile)}</p><table><thead><tr><th>Date</th>"
        f"<th>Person</th><th>Work</th><th class='num'>Hours</th></tr></thead><tbody>"
        + "".join(
            f"<tr><td>{e(r.date)}</td><td>{e(r.person)}</td><td>{e(r.work)}</td><td class='num'>{e(r.hours)}</td></tr>"
            for r in d.rows
        )
        + f"</tbody><tfoot><tr><td colspan='3'>{e(d.count)}</td><td class='num'>{e(d.hours)}</td></tr></tfoot></table>"
        for d in v.details
    )
    detail = (
        f'<div class="detail"><h2>Time detail</h2><p>The time behind each line of invoice {e(v.number)}.</p>'
        f"{details}</div>"
        if details
        else ""
    )
    memo = f"<p>{e(v.memo)}</p>" if v.memo else ""
    footer = f'<p class="footer">{e(v.footer)}</p>' if v.footer else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice {e(v.number)} — {e(v.bill_to.name)}</title>
<style>{_CSS}</style></head><body>
<div class="top"><div>{logo}</div><div class="sender">{sender}</div></div>
<h1>INVOICE</h1>
<div class="parties"><div><div class="label">Bill to</div>{_party(v.bill_to, "Attn: ")}</div>
<table class="facts" style="width:auto">{facts}</table></div>
{memo}
<table><thead><tr><th>#</th><th>Description</th><th class="num">Qty</th><th>Unit</th><th class="num">Rate</th>
<th class="num">Amount</th></tr></thead><tbody>{rows}</tbody></table>
<table class="totals"><tr><td>Subtotal</td><td class="num">{e(v.subtotal)}</td></tr>{taxes}
<tr class="grand"><td>{e(v.total_label)}</td><td class="num">{e(v.total)}</td></tr></table>
{pay_block}
{footer}
{detail}
</body></html>
"""
