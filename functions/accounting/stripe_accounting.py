"""Stripe as the accounting port: one draft invoice per client and period, created exactly once.

Driven by the official `stripe` SDK (stripe_client.py: settings, retries, minor units). Per draft:

  1. the customer is found by the Clients tab's Customer value (a `cus_` id, an email, or the name; one
     list of all customers per run) or, with --create-missing, created;
  2. `POST /v1/invoices`: a draft (`auto_advance=false`, `collection_method=send_invoice`, `days_until_due`
     from the terms, `pending_invoice_items_behavior=exclude`), metadata holding the invoice key, client,
     period and the sheet link;
  3. `POST /v1/invoices/{id}/add_lines`: every line at once, amounts in the minor unit, tax rates per line;
     the same request marks the invoice `lines=complete` in its metadata.

Exactly once (docs/stripe.md, "Exactly once"): before creating, the period's invoices are found with one
search by metadata (`metadata['period']:'2026-10'`, a page per 100); every POST carries an Idempotency-Key
derived from the client and period (plus the invoices voided for them), while the metadata carries the
content hash, so a retry with the same contents is replayed and a changed invoice within Stripe's 24 hours
is refused as a conflict, never created twice. Search lags writes by up to a minute (an hour in outages);
the idempotency window (24 hours) covers that lag, and a conflict or a replayed void is settled with the
strongly consistent list of the customer's invoices. Finalizing and sending stay a person's click.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from ..errors import ConfigError, ConflictError, InputError, PartialCreateError, Terminal, Transient
from ..models import CreatedInvoice, InvoiceDraft, TimeEntry, slug
from ..ports import InvoiceRecord, Progress, no_progress
from .stripe_client import IdempotencyConflict, StripeApi, StripeSettings, from_minor, idempotency_key, to_minor

MAX_METADATA_VALUE = 500  # Stripe: metadata values up to 500 characters


def customer_ref(d: InvoiceDraft) -> str:
    return (d.customer or d.client).strip()


def prefix(d: InvoiceDraft) -> str:
    return f"{slug(d.client)}/{d.period}/"


class StripeAccounting:
    """The Accounting port over Stripe Invoicing."""

    def __init__(self, settings: StripeSettings, sleep: Any = None):
        self.settings = settings
        self.api = StripeApi(settings, sleep)
        self._customers: dict[str, dict[str, Any]] | None = None
        self._tax_rates: dict[str, dict[str, Any]] | None = None

    @classmethod
    def from_settings(cls, settings: StripeSettings) -> StripeAccounting:
        return cls(settings)  # no network here: the first call connects

    def describe(self) -> str:
        return f"Stripe {self.settings.base_url or 'api.stripe.com'}"

    @property
    def v1(self) -> Any:
        return self.api.client.v1

    # -- lookups ---------------------------------------------------------------------------------------------
    def _list_all(self, what: str, service: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.api.call(what, lambda: [o.to_dict() for o in service.list(params).auto_paging_iter()])

    def customers(self, refresh: bool = False) -> dict[str, dict[str, Any]]:
        """Customers by id, email and name (casefolded): one paginated list per run."""
        if self._customers is None or refresh:
            found: dict[str, dict[str, Any]] = {}
            for c in self._list_all("reading customers", self.v1.customers, {"limit": 100}):
                if c.get("deleted"):
                    continue
                for k in (c.get("name"), c.get("email")):
                    if k:
                        found.setdefault(str(k).casefold(), c)
                found[c["id"]] = c
            self._customers = found
        return self._customers

    def tax_rates(self) -> dict[str, dict[str, Any]]:
        if self._tax_rates is None:
            rates: dict[str, dict[str, Any]] = {}
            for r in self._list_all("reading tax rates", self.v1.tax_rates, {"limit": 100, "active": True}):
                rates[r["id"]] = r
                rates.setdefault(str(r.get("display_name", "")).casefold(), r)
            self._tax_rates = rates
        return self._tax_rates

    def _customer(self, d: InvoiceDraft) -> dict[str, Any] | None:
        ref = customer_ref(d)
        return self.customers().get(ref if ref.startswith("cus_") else ref.casefold())

    def _tax_rate_ids(self, d: InvoiceDraft, code: str) -> list[str]:
        if not code:
            return []
        rate = self.tax_rates().get(code if code.startswith("txr_") else code.casefold())
        return [rate["id"]] if rate else []

    # -- check -----------------------------------------------------------------------------------------------
    def check(self, drafts: Sequence[InvoiceDraft], create_missing: bool = False) -> list[str]:
        """Unmapped customers, unknown tax rates and amounts Stripe cannot hold, all at once. With
        create_missing, missing customers are created first (by name, or by email when the value is one)."""
        if not drafts:
            return []
        if create_missing:
            for d in drafts:
                ref = customer_ref(d)
                if self._customer(d) is None and not ref.startswith("cus_"):
                    self._create_customer(d)
        problems: list[str] = []
        missing_rates: dict[str, list[str]] = {}
        for d in drafts:
            ref = customer_ref(d)
            if self._customer(d) is None:
                problems.append(
                    f'{d.client}: Stripe has no customer "{ref}" (by id, email or name); create it in Stripe, map '
                    "another in the Customer column of the Clients tab, or run with --create-missing."
                )
            for no, line in enumerate(d.lines, start=1):
                where = f"{d.client} ({d.period}) line {no}"
                code = line.tax_code or d.tax_code
                if code and not self._tax_rate_ids(d, code):
                    missing_rates.setdefault(code, []).append(where)
                try:
                    to_minor(line.amount, d.currency, where)
                except InputError as exc:
                    problems.append(str(exc))
        for code, used in sorted(missing_rates.items()):
            more = f" and {len(used) - 3} more" if len(used) > 3 else ""
            problems.append(
                f'Stripe has no active tax rate "{code}" (an id txr_... or its display name; used by '
                f"{'; '.join(used[:3])}{more}); create it in Stripe (Product catalog > Tax rates) or change the "
                "tax code."
            )
        return problems

    def _create_customer(self, d: InvoiceDraft) -> None:
        ref = customer_ref(d)
        params: dict[str, Any] = {"metadata": {"client": d.client[:MAX_METADATA_VALUE]}}
        if "@" in ref:
            params.update(email=ref, name=d.client)
        else:
            params["name"] = ref
        options = {"idempotency_key": idempotency_key("customer", ref.casefold())}
        c = self.api.call(f'creating customer "{ref}"', lambda: self.v1.customers.create(params, options).to_dict())
        assert self._customers is not None
        self._customers[ref.casefold()] = self._customers[c["id"]] = c

    # -- exactly once ----------------------------------------------------------------------------------------
    def _search_period(self, periods: set[str]) -> dict[str, list[dict[str, Any]]]:
        """Invoices already in Stripe for the periods, by `client-slug/period/` (search: may lag a minute)."""
        found: dict[str, list[dict[str, Any]]] = {}
        for period in sorted(periods):
            query = f"metadata['period']:'{period}'"

            def search(q: str = query) -> list[dict[str, Any]]:
                return [o.to_dict() for o in self.v1.invoices.search({"query": q, "limit": 100}).auto_paging_iter()]

            rows = self.api.call(f"looking for the invoices of {period}", search)
            for inv in rows:
                key = str((inv.get("metadata") or {}).get("invoice_key", ""))
                if key:
                    found.setdefault(key.rsplit("/", 1)[0] + "/", []).append(inv)
        return found

    def customer_invoices(self, customer_id: str, d: InvoiceDraft) -> list[dict[str, Any]]:
        """The customer's invoices for the draft's client and period, oldest first (list: strongly consistent)."""
        rows = self._list_all(
            f"reading {d.client}'s invoices", self.v1.invoices, {"customer": customer_id, "limit": 100}
        )
        mine = [i for i in rows if str((i.get("metadata") or {}).get("invoice_key", "")).startswith(prefix(d))]
        return sorted(mine, key=lambda i: (i.get("created", 0), i["id"]))

    def create_invoices(
        self, drafts: Sequence[InvoiceDraft], entries: Mapping[str, TimeEntry], progress: Progress = no_progress
    ) -> list[CreatedInvoice]:
        if not drafts:
            return []
        problems = self.check(drafts)
        if problems:
            raise ConfigError(
                f"Stripe is missing what {len(problems)} invoice detail(s) need; nothing was created:\n  - "
                + "\n  - ".join(problems)
            )
        existing = self._search_period({d.period for d in drafts})
        conflicts = []
        for d in drafts:
            live = [i for i in existing.get(prefix(d), []) if i.get("status") != "void"]
            other = [i for i in live if i["metadata"]["invoice_key"] != d.key]
            if other and not any(i["metadata"]["invoice_key"] == d.key for i in live):
                fresh = self._retrieve(str(other[0]["id"]))
                if fresh.get("status") != "void":  # search may not have seen a void yet
                    conflicts.append(self._conflict_message(d, fresh))
        if conflicts:
            raise ConflictError(
                "Some invoices conflict with ones already in Stripe"
                " (docs/RUNBOOK.md#conflict-with-an-existing-invoice):\n  - " + "\n  - ".join(conflicts)
            )

        done, lock = [0], threading.Lock()
        results: dict[str, CreatedInvoice] = {}
        failures: list[str] = []
        conflicted: list[str] = []
        errors: list[BaseException] = []

        def one(d: InvoiceDraft) -> None:
            try:
                created = self._create_one(d, existing.get(prefix(d), []))
            except ConflictError as exc:
                conflicted.append(str(exc))
                return
            except (Transient, Terminal) as exc:
                errors.append(exc)
                return
            with lock:
                results[d.key] = created
                done[0] += 1
                progress(done[0], len(drafts), d.client)

        with ThreadPoolExecutor(max_workers=self.settings.max_concurrency, thread_name_prefix="stripe") as pool:
            list(pool.map(one, drafts))
        ordered = [results[d.key] for d in drafts if d.key in results]
        if conflicted and not errors and all(r.status == "existing" for r in ordered):
            raise ConflictError(
                "Some invoices conflict with ones already in Stripe"
                " (docs/RUNBOOK.md#conflict-with-an-existing-invoice):\n  - " + "\n  - ".join(conflicted)
            )
        failures.extend(conflicted)
        if errors and not failures:
            if all(isinstance(e, Transient) for e in errors):
                raise type(errors[0])(f"{errors[0]} ({len(ordered)} of {len(drafts)} invoices exist so far)")
            if len(errors) == len(drafts):
                raise errors[0]
        failures.extend(str(e) for e in errors)
        if failures:
            raise PartialCreateError(
                f"{len(ordered)} of {len(drafts)} invoices exist in Stripe; these need attention"
                f" (docs/RUNBOOK.md#some-invoices-were-refused):\n  - " + "\n  - ".join(failures),
                ordered,
            )
        return ordered

    def _retrieve(self, invoice_id: str) -> dict[str, Any]:
        return self.api.call(f"reading invoice {invoice_id}", lambda: self.v1.invoices.retrieve(invoice_id).to_dict())

    def _conflict_message(self, d: InvoiceDraft, inv: dict[str, Any]) -> str:
        total = from_minor(inv.get("subtotal") or 0, inv["currency"])
        return (
            f"{d.client} already has Stripe invoice {inv.get('number') or inv['id']} for {d.period} (total {total}), "
            f"and what would be invoiced now differs (total {d.total}). Nothing was created for it; reissue it "
            f'(`python main.py create-invoices --reissue "{d.client}" --period {d.period}`), or move the new '
            "entries to the next period (docs/RUNBOOK.md#conflict-with-an-existing-invoice)."
        )

    def _create_one(self, d: InvoiceDraft, seen: list[dict[str, Any]]) -> CreatedInvoice:
        voided = sorted(i["id"] for i in seen if i.get("status") == "void")
        match = next((i for i in seen if i["metadata"]["invoice_key"] == d.key and i.get("status") != "void"), None)
        status = "existing"
        if match is None:
            status = "created"
            try:
                match, replayed = self._post_invoice(d, voided)
                status = "existing" if replayed else "created"
            except IdempotencyConflict:
                match = None
            if match is None or match.get("status") == "void":
                # search lagged: settle with the customer's invoices as Stripe holds them now
                match, status = self._settle(d)
        if (match.get("metadata") or {}).get("lines") != "complete":
            match = self._add_lines(d, match)
        ours = to_minor(d.total, d.currency)
        if int(match.get("subtotal") or 0) != ours:
            raise ConflictError(
                f"{d.client} ({d.period}): Stripe's draft {match['id']} adds up to "
                f"{from_minor(match.get('subtotal') or 0, d.currency)}, not {d.total}; it was left as a draft for a "
                "person to check (delete it in Stripe, then run create-invoices again"
                "; docs/RUNBOOK.md#conflict-with-an-existing-invoice)."
            )
        return self._created(d, match, status)

    def _settle(self, d: InvoiceDraft) -> tuple[dict[str, Any], str]:
        customer = self._customer(d)
        assert customer is not None
        mine = self.customer_invoices(customer["id"], d)
        live = [i for i in mine if i.get("status") != "void"]
        same = next((i for i in live if i["metadata"]["invoice_key"] == d.key), None)
        if same is not None:
            return same, "existing"
        if live:
            raise ConflictError(self._conflict_message(d, live[0]))
        voided = sorted(i["id"] for i in mine if i.get("status") == "void")
        try:
            inv, replayed = self._post_invoice(d, voided)
        except IdempotencyConflict as exc:
            raise ConflictError(
                f"{d.client} ({d.period}): Stripe refused the invoice as a changed repeat of a request made within "
                f"24 hours ({exc}); run create-invoices again tomorrow, or reissue it"
                f" (docs/RUNBOOK.md#conflict-with-an-existing-invoice)."
            ) from None
        return inv, "existing" if replayed else "created"

    def _post_invoice(self, d: InvoiceDraft, voided: list[str]) -> tuple[dict[str, Any], bool]:
        """The invoice Stripe holds for this request, and whether Stripe replayed it (created before)."""
        customer = self._customer(d)
        assert customer is not None
        metadata = {"invoice_key": d.key, "client": d.client[:MAX_METADATA_VALUE], "period": d.period}
        if self.settings.sheet_url:
            metadata["sheet"] = self.settings.sheet_url[:MAX_METADATA_VALUE]
        params: dict[str, Any] = {
            "customer": customer["id"],
            "currency": d.currency.lower(),
            "auto_advance": False,
            "collection_method": "send_invoice",
            "days_until_due": max((d.due_date - d.issue_date).days, 0),
            "pending_invoice_items_behavior": "exclude",
            "metadata": metadata,
        }
        if d.memo:
            params["description"] = d.memo
        options = {"idempotency_key": idempotency_key("invoice", prefix(d), *voided)}
        what = f"creating the invoice for {d.client} ({d.period})"
        inv = self.api.call(what, lambda: self.v1.invoices.create(params, options))
        response = getattr(inv, "last_response", None)
        replayed = response is not None and response.headers.get("Idempotent-Replayed") == "true"
        return inv.to_dict(), replayed

    def _add_lines(self, d: InvoiceDraft, inv: dict[str, Any]) -> dict[str, Any]:
        lines = []
        for no, line in enumerate(d.lines, start=1):
            item: dict[str, Any] = {
                "amount": to_minor(line.amount, d.currency, f"{d.client} ({d.period}) line {no}"),
                "description": line.description,
                "metadata": {"line": str(no), "item": line.accounting_item[:MAX_METADATA_VALUE]},
            }
            rates = self._tax_rate_ids(d, line.tax_code or d.tax_code)
            if rates:
                item["tax_rates"] = rates
            lines.append(item)
        params = {"lines": lines, "invoice_metadata": {"lines": "complete"}}
        options = {"idempotency_key": idempotency_key("lines", inv["id"], d.key)}
        what = f"adding the lines of {d.client}'s invoice ({d.period})"
        return self.api.call(what, lambda: self.v1.invoices.add_lines(inv["id"], params, options).to_dict())

    def _created(self, d: InvoiceDraft, inv: dict[str, Any], status: Any) -> CreatedInvoice:
        created = inv.get("created")
        return CreatedInvoice(
            key=d.key,
            client=d.client,
            period=d.period,
            number=str(inv.get("number") or inv["id"]),
            external_id=inv["id"],
            url=self.invoice_url(inv["id"]),
            currency=str(inv.get("currency") or d.currency).upper(),
            total=from_minor(inv.get("subtotal") or 0, d.currency),
            line_count=len(d.lines),
            entry_refs=d.entry_refs,
            status=status,
            created_at=datetime.fromtimestamp(created, UTC) if created else None,
        )

    def invoice_url(self, invoice_id: str) -> str:
        return f"{self.settings.dashboard_url.rstrip('/')}/invoices/{invoice_id}"

    # -- corrections: stripe_void.py -------------------------------------------------------------------------
    def invoices_for(self, draft: InvoiceDraft) -> list[InvoiceRecord]:
        from .stripe_void import invoices_for

        return invoices_for(self, draft)

    def void_invoice(self, record: InvoiceRecord, replaced_by: str = "") -> InvoiceRecord:
        from .stripe_void import void_invoice

        return void_invoice(self, record, replaced_by)
