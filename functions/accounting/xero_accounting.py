"""Xero as the accounting port: DRAFT ACCREC invoices, created exactly once, in batches, with the time detail.

Driven by xero-python unmodified (xero_client.py: settings, tokens, tenant, retries). Per run:

  1. check: contacts (by ContactID, name or email), items (by Code or Name), tax types, the currency, and
     each line's arithmetic; --create-missing creates contacts and items (sales account XERO_SALES_ACCOUNT);
  2. the invoices of the drafts' contacts are read (`GET /Invoices?ContactIDs=…`, pages of 1,000) and matched
     by Reference = the invoice key: same key -> "existing"; same client and period, another key -> conflict;
  3. the rest go in batches (`PUT /Invoices?summarizeErrors=false`, XERO_BATCH_SIZE=50 each), every batch with
     an Idempotency-Key derived from its invoices' keys: a retry after a lost answer is replayed by Xero;
  4. each new invoice gets its time detail as a CSV attachment (looked for first unless it is new).

Each invoice says where it came from: Reference is the invoice key, Url is the sheet (Xero shows it as a
link), and the memo is a description-only first line (Xero invoices have no memo field).

Rounding: Xero computes every LineAmount as Quantity x UnitAmount itself. A line whose amount is exactly
its quantity times its unit price is sent as such (UnitAmount to 4 decimals, `unitdp=4`); any other line
(a rounded product, a fixed fee) is sent as Quantity 1 at its amount, with the quantity and rate in its
description, so Xero's arithmetic is exact by construction. After creation, Xero's SubTotal is compared with
ours to the cent; a difference is refused with a located error and the DRAFT is left for a person to delete.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..errors import ConfigError, ConflictError, PartialCreateError, Terminal, Transient
from ..models import CreatedInvoice, InvoiceDraft, InvoiceLine, Period, TimeEntry, slug
from ..money import D
from ..ports import InvoiceRecord, Progress, no_progress
from .xero_client import XeroApi, XeroSettings

MAX_CODE, MAX_ITEM_NAME, MAX_CONTACT_NAME = 30, 50, 255
FLOAT_DIGITS = 15  # xero-python sends numbers as JSON floats: exact for up to 15 significant digits
LIVE = ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID")


def contact_ref(d: InvoiceDraft) -> str:
    return (d.customer or d.client).strip()


def prefix(d: InvoiceDraft) -> str:
    return f"{slug(d.client)}/{d.period}/"


def exact_product(line: InvoiceLine) -> bool:
    """True when Xero's Quantity x UnitAmount gives the line's amount with no rounding at all."""
    return (
        line.unit_price == line.unit_price.quantize(Decimal("0.0001"))
        and line.quantity * line.unit_price == line.amount
    )


def key_for(*parts: str) -> str:
    """A deterministic Idempotency-Key (Xero allows 128 characters)."""
    return "invoicing-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class XeroAccounting:
    """The Accounting port over the Xero Accounting API."""

    def __init__(self, api: XeroApi):
        self.api = api
        self.settings: XeroSettings = api.settings
        self._refs: dict[str, dict[str, Any]] | None = None

    @classmethod
    def from_settings(cls, settings: XeroSettings) -> XeroAccounting:
        return cls(XeroApi.from_settings(settings))  # no network here: the first call connects

    def describe(self) -> str:
        org = self.settings.tenant_id or self.settings.tenant_name or "(from the connection)"
        return f"Xero {self.settings.base_url or 'api.xero.com'}, organisation {org}"

    @property
    def acc(self) -> Any:
        return self.api.accounting

    def _call(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        fn = getattr(self.acc, method)
        return self.api.call(
            what, lambda: fn(self.api.tenant, *args, _request_timeout=self.settings.timeout_seconds, **kwargs)
        )

    # -- lookups ---------------------------------------------------------------------------------------------
    def refs(self, refresh: bool = False) -> dict[str, dict[str, Any]]:
        if self._refs is None or refresh:
            contacts: dict[str, Any] = {}
            page = 1
            while True:
                got = self._call("reading contacts", "get_contacts", page=page, page_size=1000, summary_only=True)
                for c in got.contacts or []:
                    contacts[str(c.contact_id)] = c
                    for k in (c.name, c.email_address):
                        if k:
                            contacts.setdefault(str(k).casefold(), c)
                if len(got.contacts or []) < 1000:
                    break
                page += 1
            items: dict[str, Any] = {}
            for it in self._call("reading items", "get_items").items or []:
                items.setdefault(str(it.code).casefold(), it)
                items.setdefault(str(it.name or "").casefold(), it)
            taxes: dict[str, Any] = {}
            for t in self._call("reading tax rates", "get_tax_rates").tax_rates or []:
                taxes[str(t.tax_type).casefold()] = t
                taxes.setdefault(str(t.name).casefold(), t)
            currencies = {
                str(c.code.value if hasattr(c.code, "value") else c.code)
                for c in self._call("reading currencies", "get_currencies").currencies or []
            }
            self._refs = {
                "contacts": contacts,
                "items": items,
                "taxes": taxes,
                "currencies": {c: c for c in currencies},
            }
        return self._refs

    def _contact(self, d: InvoiceDraft) -> Any:
        ref = contact_ref(d)
        contacts = self.refs()["contacts"]
        return contacts.get(ref) or contacts.get(ref.casefold())

    def _item(self, line: InvoiceLine) -> Any:
        return self.refs()["items"].get(line.accounting_item.casefold())

    def _tax(self, d: InvoiceDraft, line: InvoiceLine) -> Any:
        code = line.tax_code or d.tax_code
        return self.refs()["taxes"].get(code.casefold()) if code else None

    # -- check -----------------------------------------------------------------------------------------------
    def check(self, drafts: Sequence[InvoiceDraft], create_missing: bool = False) -> list[str]:
        if not drafts:
            return []
        if create_missing:
            self._create_missing(drafts)
        problems: list[str] = []
        missing_items: dict[str, list[str]] = {}
        missing_taxes: dict[str, list[str]] = {}
        currencies = self.refs()["currencies"]
        for d in drafts:
            if self._contact(d) is None:
                problems.append(
                    f'{d.client}: Xero has no contact "{contact_ref(d)}" (by ContactID, name or email); create it in '
                    "Xero, map another in the Customer column of the Clients tab, or run with --create-missing."
                )
            if not _known_currency(d.currency) or (currencies and d.currency.upper() not in currencies):
                problems.append(
                    f"{d.client}: the currency {d.currency} is not enabled in this Xero organisation "
                    "(Settings > Currencies)."
                )
            for no, line in enumerate(d.lines, start=1):
                where = f"{d.client} ({d.period}) line {no}"
                if line.kind != "discount" and self._item(line) is None:
                    missing_items.setdefault(line.accounting_item, []).append(where)
                code = line.tax_code or d.tax_code
                if code and self._tax(d, line) is None:
                    missing_taxes.setdefault(code, []).append(where)
                digits = len(line.amount.normalize().as_tuple().digits)
                if digits > FLOAT_DIGITS or line.amount != line.amount.quantize(Decimal("0.01")):
                    problems.append(
                        f"{where}: the amount {line.amount} cannot be sent to Xero exactly "
                        f"(cents, at most {FLOAT_DIGITS} digits)."
                    )
        for name, used in sorted(missing_items.items()):
            problems.append(
                f'item "{name}" is not in Xero (by Code or Name; used by {"; ".join(used[:3])}); '
                "create it, map another "
                "(the Rules or Categories tab), or run with --create-missing."
            )
        for code, used in sorted(missing_taxes.items()):
            more = f" and {len(used) - 3} more" if len(used) > 3 else ""
            problems.append(
                f'Xero has no tax rate "{code}" (a TaxType such as OUTPUT2, or its name; used by '
                f"{'; '.join(used[:3])}{more})."
            )
        return problems

    def _create_missing(self, drafts: Sequence[InvoiceDraft]) -> None:
        from xero_python.accounting import Contact, Contacts, Item, Items, Purchase

        new_contacts = {}
        for d in drafts:
            ref = contact_ref(d)
            if self._contact(d) is None and len(ref) <= MAX_CONTACT_NAME:
                new_contacts[ref.casefold()] = (
                    Contact(name=d.client, email_address=ref) if "@" in ref else Contact(name=ref)
                )
        if new_contacts:
            body = Contacts(contacts=list(new_contacts.values()))
            self._call(
                "creating contacts", "create_contacts", body, idempotency_key=key_for("contacts", *sorted(new_contacts))
            )
        names = sorted(
            {
                line.accounting_item
                for d in drafts
                for line in d.lines
                if line.kind != "discount" and self._item(line) is None and len(line.accounting_item) <= MAX_CODE
            }
        )
        if names:
            sales = Purchase(account_code=self.settings.sales_account)
            body = Items(items=[Item(code=n, name=n[:MAX_ITEM_NAME], is_sold=True, sales_details=sales) for n in names])
            self._call("creating items", "create_items", body, idempotency_key=key_for("items", *names))
        if new_contacts or names:
            self.refs(refresh=True)

    # -- exactly once ----------------------------------------------------------------------------------------
    def existing(self, drafts: Sequence[InvoiceDraft]) -> dict[str, list[Any]]:
        """Invoices of the drafts' contacts by `client-slug/period/` (their Reference is the invoice key)."""
        ids = sorted({str(self._contact(d).contact_id) for d in drafts if self._contact(d) is not None})
        found: dict[str, list[Any]] = {}
        for start in range(0, len(ids), 50):
            page = 1
            while True:
                got = self._call(
                    "looking for invoices created before",
                    "get_invoices",
                    contact_i_ds=ids[start : start + 50],
                    where='Type=="ACCREC"',
                    page=page,
                    page_size=1000,
                    unitdp=4,
                )
                for inv in got.invoices or []:
                    ref = str(inv.reference or "")
                    if ref.count("/") == 2:
                        found.setdefault(ref.rsplit("/", 1)[0] + "/", []).append(inv)
                if len(got.invoices or []) < 1000:
                    break
                page += 1
        return found

    def create_invoices(
        self, drafts: Sequence[InvoiceDraft], entries: Mapping[str, TimeEntry], progress: Progress = no_progress
    ) -> list[CreatedInvoice]:
        if not drafts:
            return []
        problems = self.check(drafts)
        if problems:
            raise ConfigError(
                f"Xero is missing what {len(problems)} invoice detail(s) need; nothing was created:\n  - "
                + "\n  - ".join(problems)
            )
        existing = self.existing(drafts)
        results: dict[str, CreatedInvoice] = {}
        attached: set[str] = set()  # existing invoices that already carry an attachment: left as they are
        conflicts, todo = [], []
        for d in drafts:
            live = [i for i in existing.get(prefix(d), []) if _status(i) in LIVE]
            match = next((i for i in live if i.reference == d.key), None)
            if match is not None:
                results[d.key] = self._created(d, match, "existing")
                if match.has_attachments and not self.settings.attach_pdf:  # one file: there means done
                    attached.add(d.key)
            elif live:
                conflicts.append(self._conflict(d, live[0]))
            else:
                todo.append(d)
        if conflicts:
            raise ConflictError(
                "Some invoices conflict with ones already in Xero"
                " (docs/RUNBOOK.md#conflict-with-an-existing-invoice):\n  - " + "\n  - ".join(conflicts)
            )
        for i, d in enumerate([d for d in drafts if d.key in results], start=1):
            progress(i, len(drafts), d.client)
        failures: list[str] = []
        errors: list[BaseException] = []
        voided = {
            d.key: sorted(str(i.invoice_id) for i in existing.get(prefix(d), []) if _status(i) not in LIVE)
            for d in todo
        }
        for start in range(0, len(todo), self.settings.batch_size):
            chunk = todo[start : start + self.settings.batch_size]
            try:
                for d, inv, refusal in self._create_batch(chunk, voided):
                    if refusal:
                        failures.append(refusal)
                        continue
                    results[d.key] = self._created(d, inv, "created")
                    progress(len(results), len(drafts), d.client)
            except (Transient, Terminal) as exc:
                errors.append(exc)
        if self.settings.attach_time_detail:
            from .xero_attach import attach_time_details

            todo_attach = {k: r for k, r in results.items() if k not in attached}
            fresh = {k for k, r in results.items() if r.status == "created"}
            failures.extend(attach_time_details(self, drafts, todo_attach, entries, fresh))
        ordered = [results[d.key] for d in drafts if d.key in results]
        if errors and not failures and not ordered:
            raise errors[0]
        if errors and not failures and all(isinstance(e, Transient) for e in errors):
            raise type(errors[0])(f"{errors[0]} ({len(ordered)} of {len(drafts)} invoices exist so far)")
        failures.extend(str(e) for e in errors)
        if failures:
            raise PartialCreateError(
                f"{len(ordered)} of {len(drafts)} invoices exist in Xero; these need attention"
                f" (docs/RUNBOOK.md#some-invoices-were-refused):\n  - " + "\n  - ".join(failures),
                ordered,
            )
        return ordered

    def _conflict(self, d: InvoiceDraft, inv: Any) -> str:
        return (
            f"{d.client} already has Xero invoice {inv.invoice_number} for {d.period} (total {D(inv.sub_total or 0)}), "
            f"and what would be invoiced now differs (total {d.total}). Nothing was created for it; reissue it "
            f'(`python main.py create-invoices --reissue "{d.client}" --period {d.period}`), or move the new '
            "entries to the next period."
        )

    def build(self, d: InvoiceDraft) -> Any:
        from .xero_mapping import build_invoice

        return build_invoice(self, d)

    def _create_batch(
        self, chunk: list[InvoiceDraft], voided: dict[str, list[str]]
    ) -> list[tuple[InvoiceDraft, Any, str]]:
        from xero_python.accounting import Invoices

        key = key_for(self.api.tenant, *[p for d in chunk for p in (d.key, *voided.get(d.key, []))])
        names = ", ".join(d.client for d in chunk[:3]) + (" ..." if len(chunk) > 3 else "")
        got = self._call(
            f"creating {len(chunk)} invoice(s) ({names})",
            "create_invoices",
            Invoices(invoices=[self.build(d) for d in chunk]),
            summarize_errors=False,
            unitdp=4,
            idempotency_key=key,
        )
        by_ref = {str(inv.reference): inv for inv in got.invoices or []}
        out: list[tuple[InvoiceDraft, Any, str]] = []
        for d in chunk:
            inv = by_ref.get(d.key)
            if inv is None:
                out.append(
                    (
                        d,
                        None,
                        f"{d.client} ({d.period}): Xero gave no answer for it in the batch; run create-invoices again.",
                    )
                )
            elif inv.has_errors or str(inv.status_attribute_string or "OK") == "ERROR":
                text = "; ".join(str(e.message) for e in inv.validation_errors or [])
                out.append((d, None, f"{d.client} ({d.period}): Xero refused it: {text}"))
            elif D(inv.sub_total or 0) != d.total:
                out.append(
                    (
                        d,
                        None,
                        f"{d.client} ({d.period}): Xero's draft {inv.invoice_number} adds up to "
                        f"{D(inv.sub_total or 0)}, "
                        f"not {d.total}; it was left as a DRAFT for a person to delete in Xero before running again.",
                    )
                )
            else:
                out.append((d, inv, ""))
        return out

    def _created(self, d: InvoiceDraft, inv: Any, status: Any) -> CreatedInvoice:
        updated = getattr(inv, "updated_date_utc", None)
        return CreatedInvoice(
            key=d.key,
            client=d.client,
            period=d.period,
            number=str(inv.invoice_number or inv.invoice_id),
            external_id=str(inv.invoice_id),
            url=self.invoice_url(str(inv.invoice_id)),
            currency=d.currency,
            total=D(inv.sub_total if inv.sub_total is not None else d.total).quantize(Decimal("0.01")),
            line_count=len(d.lines),
            entry_refs=d.entry_refs,
            status=status,
            created_at=updated
            if isinstance(updated, datetime) and updated.tzinfo
            else (updated.replace(tzinfo=UTC) if isinstance(updated, datetime) else None),
        )

    def invoice_url(self, invoice_id: str) -> str:
        if self.settings.base_url:
            return f"{self.settings.base_url.rstrip('/')}/api.xro/2.0/Invoices/{invoice_id}"
        return f"https://go.xero.com/AccountsReceivable/Edit.aspx?InvoiceID={invoice_id}"

    def period_start(self, d: InvoiceDraft) -> str:
        return Period.parse(d.period).start.isoformat()

    # -- corrections: xero_void.py ---------------------------------------------------------------------------
    def invoices_for(self, draft: InvoiceDraft) -> list[InvoiceRecord]:
        from .xero_void import invoices_for

        return invoices_for(self, draft)

    def void_invoice(self, record: InvoiceRecord, replaced_by: str = "") -> InvoiceRecord:
        from .xero_void import void_invoice

        return void_invoice(self, record, replaced_by)

    # the time detail (xero_attach.py)
    def time_detail(self, d: InvoiceDraft, entries: Mapping[str, TimeEntry]) -> bytes:
        from .qbo_mapping import time_detail_csv  # the same CSV as QuickBooks attaches

        return time_detail_csv(d, entries).encode("utf-8")


def _known_currency(code: str) -> bool:
    from xero_python.accounting import CurrencyCode

    try:
        CurrencyCode(code.upper())
    except ValueError:
        return False
    return True


def _status(inv: Any) -> str:
    s = inv.status
    return str(getattr(s, "value", s) or "")
