"""QuickBooks lookups and mapping: what the drafts name (customers, items, tax codes, terms), what is missing,
and the python-quickbooks Invoice built from a draft. `resolve_with` reads through the query function it is
given; `batch_queries` is that function over the batch endpoint (a BatchItemRequest may be a Query), sent
with the client and the retrying `call` the adapter (quickbooks.py, which keeps exactly-once) hands it.

    >>> request_id("invoice", "9130", "acme-retail/2026-10/3f9a1c2b7d") == request_id(
    ...     "invoice", "9130", "acme-retail/2026-10/3f9a1c2b7d")
    True
    >>> quote_list(["Acme", "Bluefin"])
    "'Acme', 'Bluefin'"
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from quickbooks.objects.base import CustomerMemo, Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import DiscountLine, DiscountLineDetail, SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.taxcode import TaxCode
from quickbooks.objects.term import Term

from ..models import InvoiceDraft, InvoiceLine, TimeEntry
from ..money import line_amount, tidy_hours
from ..values import csv_safe
from .qbo_client import QuickBooksRejected

T = TypeVar("T")
QueryAll = Callable[..., list[Any]]  # (what, entity class, where) -> every row of the query


US_LINE_TAX = {"TAX", "NON"}  # US companies put these literals on lines instead of TaxCode Ids
# QuickBooks' maximum lengths for the names this adapter may create (longer ones are refused with 2050).
MAX_DISPLAY_NAME = 500  # Customer.DisplayName
MAX_ITEM_NAME = 100  # Item.Name


@dataclass
class Refs:
    """What the drafts point at in QuickBooks, by the names the sheet uses (casefolded)."""

    customers: dict[str, Customer] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    tax_codes: dict[str, str] = field(default_factory=dict)
    terms: dict[str, str] = field(default_factory=dict)
    term_names: list[str] = field(default_factory=list)
    # Names QuickBooks has only as inactive records: not usable, and not creatable either (the name is taken).
    inactive_customers: set[str] = field(default_factory=set)
    inactive_items: set[str] = field(default_factory=set)


Query = tuple[str, type[Any], str]  # (what, for messages; entity class; WHERE clause, "" for every row)
QueryMany = Callable[[Sequence[Query]], list[list[Any]]]  # the rows of each query, in order


def resolve(drafts: Sequence[InvoiceDraft], query_all: QueryAll) -> tuple[Refs, list[str]]:
    """What the drafts point at, read with `query_all(what, entity, where)` one query at a time."""
    refs, found, _ = resolve_with(drafts, lambda qs: [query_all(*q) for q in qs])
    return refs, found


def resolve_with(
    drafts: Sequence[InvoiceDraft], query_many: QueryMany, also: Sequence[Query] = ()
) -> tuple[Refs, list[str], list[list[Any]]]:
    """What the drafts point at, and every problem at once, in as few round trips as the query language allows:
    customers (by DisplayName or Id, `IN` lists of 50), items, tax codes and terms (only when a draft names
    them), and the queries `also` asks for, all handed to `query_many` together (the adapter sends them as one
    batch request); the inactive records only when something is missing, together again. Returns the refs,
    the problems and the rows of `also`."""
    refs = Refs()
    wanted_customers = {customer_ref(d).casefold(): customer_ref(d) for d in drafts}
    ids = [v for v in wanted_customers.values() if v.isdigit()]
    names = [v for v in wanted_customers.values() if not v.isdigit()]
    items = sorted({line.accounting_item for d in drafts for line in d.lines if line.kind != "discount"})
    first: list[tuple[str, Query]] = []
    first += [("cid", ("reading customers", Customer, f"Id IN ({quote_list(c)})")) for c in chunks(ids, 50)]
    first += [
        ("cname", ("reading customers", Customer, f"DisplayName IN ({quote_list(c)})")) for c in chunks(names, 50)
    ]
    first += [
        ("item", ("reading products and services", Item, f"Name IN ({quote_list(c)})")) for c in chunks(items, 50)
    ]
    if any(line_tax(d, line) for d in drafts for line in d.lines):
        first.append(("tax", ("reading tax codes", TaxCode, "")))
    if any(d.terms for d in drafts):
        first.append(("term", ("reading terms", Term, "")))
    first += [("also", q) for q in also]
    rows = query_many([q for _, q in first])
    extra: list[list[Any]] = []
    for (tag, _), found in zip(first, rows, strict=True):
        for r in found if tag != "also" else ():
            if tag == "cid":
                refs.customers[str(r.Id)] = r
            elif tag == "cname":
                refs.customers[str(r.DisplayName).casefold()] = r
            elif tag == "item":
                refs.items[str(r.Name).casefold()] = r
            elif tag == "tax":
                refs.tax_codes[str(r.Name).casefold()] = refs.tax_codes[str(r.Id).casefold()] = str(r.Id)
            elif tag == "term":
                refs.terms[str(r.Name).casefold()] = refs.terms[str(r.Id).casefold()] = str(r.Id)
                refs.term_names.append(str(r.Name))
        if tag == "also":
            extra.append(found)
    # A QuickBooks query returns active records only; look for inactive ones only when something is missing.
    gone = [v for v in wanted_customers.values() if v.casefold() not in refs.customers]
    gone_items = [i for i in items if i.casefold() not in refs.items]
    second: list[tuple[str, Query]] = []
    second += [
        ("cid", ("reading customers", Customer, f"Id IN ({quote_list(c)}) AND Active = false"))
        for c in chunks([v for v in gone if v.isdigit()], 50)
    ]
    second += [
        ("cname", ("reading customers", Customer, f"DisplayName IN ({quote_list(c)}) AND Active = false"))
        for c in chunks([v for v in gone if not v.isdigit()], 50)
    ]
    second += [
        ("item", ("reading products and services", Item, f"Name IN ({quote_list(c)}) AND Active = false"))
        for c in chunks(gone_items, 50)
    ]
    if second:
        for (tag, _), found in zip(second, query_many([q for _, q in second]), strict=True):
            for r in found:
                if tag == "cid":
                    refs.inactive_customers.add(str(r.Id))
                elif tag == "cname":
                    refs.inactive_customers.add(str(r.DisplayName).casefold())
                else:
                    refs.inactive_items.add(str(r.Name).casefold())
    return refs, problems(drafts, refs), extra


def batch_queries(
    qb: Any, call: Callable[[str, Callable[[], Any]], Any], query_all: QueryAll, queries: Sequence[Query]
) -> list[list[Any]]:
    """The rows of each (what, entity, where) query, up to 30 queries per call through the batch endpoint
    (a BatchItemRequest may be a Query); a query that fills its 1000-row page is read on page by page."""
    out: list[list[Any]] = []
    url = f"{qb.api_url}/company/{qb.company_id}/batch"
    for chunk in chunks(list(queries), 30):
        items = [
            {
                "bId": f"q{n}",
                "Query": f"SELECT * FROM {cls.qbo_object_name}{' WHERE ' + where if where else ''} "
                "ORDERBY Id STARTPOSITION 1 MAXRESULTS 1000",
            }
            for n, (_what, cls, where) in enumerate(chunk)
        ]
        what = ", ".join(dict.fromkeys(w for w, _, _ in chunk))
        body = json.dumps({"BatchItemRequest": items})
        answer = call(what, partial(qb.post, url, body))
        by_bid = {a.get("bId"): a for a in answer.get("BatchItemResponse", [])}
        for n, (w, cls, where) in enumerate(chunk):
            got = by_bid.get(f"q{n}") or {"Fault": {"Error": [{"Message": "no answer in the batch"}]}}
            if "Fault" in got:
                errs = got["Fault"].get("Error") or [{}]
                text = "; ".join(f"{e.get('Message', '')}: {e.get('Detail', '')}".strip(": ") for e in errs)
                raise QuickBooksRejected(f"QuickBooks refused {w}: {text}")
            page = (got.get("QueryResponse") or {}).get(cls.qbo_object_name, [])
            rows = [cls.from_json(r) for r in page]
            if len(page) >= 1000:
                rows += query_all(w, cls, where)[1000:]
            out.append(rows)
    return out


def problems(drafts: Sequence[InvoiceDraft], refs: Refs) -> list[str]:
    """Everything that stops creation, as sentences naming the client and line."""
    problems: list[str] = []
    seen: set[str] = set()

    def once(text: str) -> None:
        if text not in seen:
            seen.add(text)
            problems.append(text)

    missing_items: dict[str, dict[str, list[int]]] = {}  # item -> client -> line numbers
    for d in drafts:
        ref = customer_ref(d)
        customer = refs.customers.get(ref.casefold())
        if customer is None and ref.casefold() in refs.inactive_customers:
            once(
                f'{d.client}: customer "{ref}" is inactive in QuickBooks; make it active or map another '
                "(the Customer column of the Clients tab)."
            )
        elif customer is None and len(ref) > MAX_DISPLAY_NAME:
            once(
                f'{d.client}: the customer name "{ref[:40]}..." is {len(ref)} characters; QuickBooks allows at most '
                f"{MAX_DISPLAY_NAME} (the Customer column of the Clients tab)."
            )
        elif customer is None:
            once(
                f'{d.client}: no QuickBooks customer "{ref}" (by DisplayName or Id). Add it in QuickBooks, '
                "fix the Customer column of the Clients tab, or run create-invoices with --create-missing."
            )
        else:
            have = ref_value(customer.CurrencyRef) or d.currency
            if have.upper() != d.currency.upper():
                once(
                    f'{d.client}: the invoice is in {d.currency} but QuickBooks customer "{ref}" is billed in '
                    f"{have}; fix the Currency column of the Clients tab or the customer in QuickBooks."
                )
        if d.terms and d.terms.casefold() not in refs.terms:
            once(
                f'{d.client}: payment terms "{d.terms}" are not in QuickBooks (known: '
                f"{', '.join(refs.term_names) or 'none'})."
            )
        for n, line in enumerate(d.lines, start=1):
            where = f'{d.client}, line {n} ("{line.shown_description}")'
            if line.kind != "discount" and line.accounting_item.casefold() not in refs.items:
                missing_items.setdefault(line.accounting_item, {}).setdefault(d.client, []).append(n)
            tax = line_tax(d, line)
            if tax and tax.upper() not in US_LINE_TAX and tax.casefold() not in refs.tax_codes:
                once(
                    f'{where}: tax code "{tax}" is not in QuickBooks; tax codes are set up in QuickBooks '
                    "itself, never created from here."
                )
            if line.kind == "discount" and line.amount > 0:
                once(f"{where}: a discount must be a negative amount, not {line.amount}.")
            elif line.kind != "discount" and line_amount(line.quantity, line.unit_price, d.currency) != line.amount:
                once(
                    f"{where}: amount {line.amount} is not quantity {line.quantity} x unit price "
                    f"{line.unit_price}; QuickBooks would refuse it."
                )
    for item, users in missing_items.items():
        where = "; ".join(
            f"{client} line{'s' if len(ns) > 1 else ''} {', '.join(map(str, ns))}"
            for client, ns in list(users.items())[:8]
        )
        more = f"; and {len(users) - 8} more clients" if len(users) > 8 else ""
        if item.casefold() in refs.inactive_items:
            problems.append(
                f'item "{item}" is inactive in QuickBooks; make it active or map another (used by {where}{more}; '
                "the Rules or Categories tab maps it)."
            )
            continue
        if len(item) > MAX_ITEM_NAME:
            problems.append(
                f'The product/service name "{item[:40]}..." is {len(item)} characters; QuickBooks allows at most '
                f"{MAX_ITEM_NAME} (used by {where}{more}); shorten it in the Rules or Categories tab."
            )
            continue
        problems.append(
            f'No QuickBooks product/service named "{item}" (used by {where}{more}). Add it in '
            "QuickBooks, fix the Rules tab, or run create-invoices with --create-missing."
        )
    return problems


def build_invoice(d: InvoiceDraft, refs: Refs, sheet_url: str = "") -> Invoice:
    """The QuickBooks draft invoice for one InvoiceDraft; every reference is resolved in `refs`."""
    customer = refs.customers[customer_ref(d).casefold()]
    inv = Invoice()
    inv.CustomerRef = make_ref(str(customer.Id), str(customer.DisplayName))
    inv.CurrencyRef = make_ref(d.currency)
    inv.TxnDate, inv.DueDate = d.issue_date.isoformat(), d.due_date.isoformat()
    if d.terms:
        inv.SalesTermRef = make_ref(refs.terms[d.terms.casefold()], d.terms)
    if d.memo:
        inv.CustomerMemo = CustomerMemo()
        inv.CustomerMemo.value = d.memo[:1000]
    inv.PrivateNote = private_note(d, sheet_url)
    inv.EmailStatus = "NotSet"  # a draft for people to review: QuickBooks must not email it
    inv.ShipDate = inv.TrackingNum = None
    for n, line in enumerate(d.lines, start=1):
        inv.Line.append(_line(n, d, line, refs))
    return inv


def _line(n: int, d: InvoiceDraft, line: InvoiceLine, refs: Refs) -> Any:
    if line.kind == "discount":
        qbo_line = DiscountLine()
        qbo_line.DiscountLineDetail = DiscountLineDetail()
        qbo_line.DiscountLineDetail.PercentBased = False
        qbo_line.Amount = -line.amount  # QuickBooks subtracts discount lines, given as positive amounts
    else:
        qbo_line = SalesItemLine()
        detail = SalesItemLineDetail()
        item = refs.items[line.accounting_item.casefold()]
        detail.ItemRef = make_ref(str(item.Id), str(item.Name))
        detail.Qty, detail.UnitPrice = line.quantity, line.unit_price  # Decimal on the wire (use_decimal)
        detail.ServiceDate = line.service_date.isoformat() if line.service_date else None
        detail.TaxInclusiveAmt = None
        tax = line_tax(d, line)
        if tax:
            detail.TaxCodeRef = make_ref(tax.upper() if tax.upper() in US_LINE_TAX else refs.tax_codes[tax.casefold()])
        qbo_line.SalesItemLineDetail = detail
        qbo_line.Amount = line.amount
    qbo_line.LineNum = n
    qbo_line.Description = line.shown_description[:4000]
    return qbo_line


def private_note(d: InvoiceDraft, sheet_url: str = "") -> str:
    """The invoice key (what makes creation exactly-once) and where the time detail is."""
    rows = f" ({sheet_url})" if sheet_url else ""
    return (
        f"Invoice key: {d.key}\n"
        f"Time detail: {len(d.entry_refs)} entries, the Time tab rows marked with this invoice{rows}; "
        "the CSV attached here lists them."
    )[:4000]


def time_detail_csv(d: InvoiceDraft, entries: Mapping[str, TimeEntry]) -> str:
    """The audit trail of one invoice: each line's entries, one row each."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        [
            "Invoice Key",
            "Line",
            "Line Description",
            "Item",
            "Entry",
            "Date",
            "Person",
            "Role",
            "Project",
            "Task",
            "Notes",
            "Hours",
            "Source Link",
        ]
    )
    for n, line in enumerate(d.lines, start=1):
        for ref in line.entry_refs:
            e = entries.get(ref)
            head = [d.key, n, csv_safe(line.shown_description), csv_safe(line.accounting_item), ref]
            if e is None:
                w.writerow(head + [""] * 8)
            else:
                w.writerow(
                    head
                    + [
                        e.date.isoformat(),
                        *map(csv_safe, (e.person, e.role, e.project, e.task, e.notes)),
                        f"{tidy_hours(e.hours):f}",
                        csv_safe(e.url),
                    ]
                )
    return out.getvalue()


def customer_ref(d: InvoiceDraft) -> str:
    return (d.customer or d.client).strip()


def line_tax(d: InvoiceDraft, line: InvoiceLine) -> str:
    return (line.tax_code or d.tax_code).strip()


def make_ref(value: str, name: str = "", type_: str = "") -> Ref:
    r = Ref()
    r.value, r.name, r.type = value, name, type_
    return r


def ref_value(ref: Any) -> str:
    if ref is None:
        return ""
    return str(ref.get("value", "") if isinstance(ref, dict) else getattr(ref, "value", "") or "")


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def quote_list(values: Sequence[str]) -> str:
    return ", ".join(f"'{escape(v)}'" for v in values)


def chunks(values: Sequence[T], size: int) -> list[list[T]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


def request_id(*parts: str) -> str:
    """A requestid derived from what is being written: the same write always sends the same id."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:36]


_LINE_NO = re.compile(r"\bLine\s*#?\s*(\d+)", re.IGNORECASE)


def explain(d: InvoiceDraft, text: str) -> str:
    """Name the client, period and, when QuickBooks says which, the line and its description."""
    m = _LINE_NO.search(text)
    where = f"{d.client} ({d.period})"
    if m and 1 <= int(m.group(1)) <= len(d.lines):
        where += f', line {m.group(1)} ("{d.lines[int(m.group(1)) - 1].shown_description}")'
    return f"{where}: {text}"
