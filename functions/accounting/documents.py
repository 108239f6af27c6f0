"""A readable, printable HTML document for an invoice, with the time detail behind each line.

Everything that came from a person or a source is escaped; the file opens in any browser and prints to
PDF from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from ..models import CreatedInvoice, InvoiceDraft, TimeEntry
from ..money import fmt_money, tidy_hours

_CSS = """
body { font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; color: #222; margin: 2.5em auto;
       max-width: 60em; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0; } .muted { color: #777; }
table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { text-align: left; padding: .35em .5em; border-bottom: 1px solid #e3e3e3; vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
tfoot td { font-weight: bold; border-top: 2px solid #222; border-bottom: none; }
.meta td { border: none; padding: .1em .8em .1em 0; }
.detail { font-size: .85em; } .detail h3 { font-size: 1.05em; margin: 1.4em 0 .2em; }
@media print { .detail { page-break-before: always; } }
"""


def render_invoice_html(
    inv: CreatedInvoice, draft: InvoiceDraft, entries: Mapping[str, TimeEntry], agency: str = ""
) -> str:
    cur = draft.currency
    e = escape
    rows = []
    for no, line in enumerate(draft.lines, start=1):
        # line.detail (which rate card row, which rule) is for the team, in Preview; not on the client's copy
        rows.append(
            f"<tr><td>{no}</td><td>{e(line.shown_description)}</td><td>{e(line.line_item)}</td>"
            f"<td class='num'>{line.quantity.normalize():f}</td><td class='num'>{fmt_money(line.unit_price, cur)}</td>"
            f"<td class='num'>{fmt_money(line.amount, cur)}</td></tr>"
        )
    detail = []
    for no, line in enumerate(draft.lines, start=1):
        items = [entries[r] for r in line.entry_refs if r in entries]
        if not items:
            continue
        items.sort(key=lambda t: (t.date, t.person))
        body = "".join(
            f"<tr><td>{t.date.isoformat()}</td><td>{e(t.person)}</td><td>{e(t.project)}</td>"
            f"<td>{e(t.notes)}</td><td class='num'>{tidy_hours(t.hours):f}</td></tr>"
            for t in items
        )
        hours = sum((t.hours for t in items), start=type(line.quantity)(0))
        detail.append(
            f"<h3>Line {no}: {e(line.shown_description)}</h3><table><thead><tr><th>Date</th><th>Person</th>"
            f"<th>Project</th><th>Notes</th><th class='num'>Hours</th></tr></thead><tbody>{body}</tbody>"
            f"<tfoot><tr><td colspan='4'>{len(items)} entries</td><td class='num'>{tidy_hours(hours):f}</td></tr>"
            f"</tfoot></table>"
        )
    memo = f"<p>{e(draft.memo)}</p>" if draft.memo else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice {e(inv.number)} — {e(draft.client)}</title>
<style>{_CSS}</style></head><body>
<p class="muted">{e(agency)}</p>
<h1>Invoice {e(inv.number)}</h1>
<table class="meta">
<tr><td>Bill to</td><td><strong>{e(draft.customer or draft.client)}</strong></td></tr>
<tr><td>Period</td><td>{e(draft.period)}</td></tr>
<tr><td>Invoice date</td><td>{draft.issue_date.isoformat()}</td></tr>
<tr><td>Due date</td><td>{draft.due_date.isoformat()}{f" ({e(draft.terms)})" if draft.terms else ""}</td></tr>
<tr><td>Currency</td><td>{e(cur)}</td></tr>
</table>
{memo}
<table><thead><tr><th>#</th><th>Description</th><th>Item</th><th class="num">Qty</th><th class="num">Rate</th>
<th class="num">Amount</th></tr></thead>
<tbody>{"".join(rows)}</tbody>
<tfoot><tr><td colspan="5">Total</td><td class="num">{fmt_money(draft.total, cur)}</td></tr></tfoot></table>
<p class="muted">Invoice key {e(inv.key)}</p>
<div class="detail"><h2>Time detail</h2>{"".join(detail) or '<p class="muted">No time entries.</p>'}</div>
</body></html>
"""
