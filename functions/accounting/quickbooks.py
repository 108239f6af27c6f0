"""QuickBooks Online as the accounting port: draft invoices created exactly once, with their time detail attached.

It drives python-quickbooks (objects, JSON, batch, exceptions) and intuit-oauth (the OAuth 2.0 flow) unmodified;
settings, tokens, the throttle registry, the error table and the HTTP hook live in qbo_client.py, the token
stores in qbo_tokens.py, lookups and the Invoice mapping in qbo_mapping.py, the time-detail attachments in
qbo_attach.py and the OAuth connection in qbo_connect.py; retries use functions/transport.py.

Exactly once, in three layers:
  1. the invoice key (client, period, content hash) is written into the PrivateNote, and before creating,
     the company's invoices for the drafts' customers are read back and matched by key: same key -> status
     "existing"; same client and period with another key -> ConflictError, before anything is created;
  2. every write carries a `requestid` derived from the key (single creates) or from the keys of a batch,
     so a retry after a lost answer is replayed by QuickBooks instead of creating again;
  3. the batch item ids (bId) are derived from the keys too, so a replayed batch answer still matches.

    >>> KEY_NOTE.search("Invoice key: acme-retail/2026-10/3f9a1c2b7d (do not edit)").group(1)
    'acme-retail/2026-10/3f9a1c2b7d'
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Literal, TypeVar

from quickbooks.batch import BatchManager
from quickbooks.exceptions import AuthorizationException, QuickbooksException
from quickbooks.objects.account import Account
from quickbooks.objects.base import Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item

from ..errors import AuthError, ConfigError, ConflictError, PartialCreateError, Terminal, Transient
from ..models import CreatedInvoice, InvoiceDraft, Period, TimeEntry, slug
from ..money import D
from ..ports import InvoiceRecord, Progress, no_progress
from ..transport import GaveUp, RetryLater
from .qbo_attach import Attachments, attach_files, no_attachments, time_detail_and_pdf
from .qbo_client import (
    ERRORS,
    QuickBooksAuth,
    QuickBooksClient,
    QuickBooksRejected,
    QuickBooksSettings,
    QuickBooksUnavailable,
    Transport,
    fault_text,
    invoice_url,
    retry_policy,
    shared_throttle,
)
from .qbo_mapping import (
    MAX_DISPLAY_NAME,
    MAX_ITEM_NAME,
    Query,
    Refs,
    batch_queries,
    build_invoice,
    chunks,
    customer_ref,
    escape,
    explain,
    make_ref,
    ref_value,
    request_id,
    resolve_with,
    time_detail_csv,
)
from .qbo_tokens import TokenStore, token_store_from_spec, utcnow

T = TypeVar("T")
KEY_NOTE = re.compile(r"Invoice key:\s*(\S+)")
VOIDED = "Voided"  # QuickBooks starts a voided transaction's PrivateNote with this word


# -- the adapter ---------------------------------------------------------------------------------------------
@dataclass
class _Found:
    invoice: Invoice
    key: str
    voided: bool = False  # a voided invoice stays in QuickBooks with amounts 0, but bills nothing


class QuickBooksAccounting:
    """The Accounting port over QuickBooks Online."""

    def __init__(
        self,
        settings: QuickBooksSettings,
        store: TokenStore,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.settings = settings
        self.auth = QuickBooksAuth(settings, store, clock)
        self.transport = Transport(settings, self.auth)
        self.policy = retry_policy(settings)
        self.clock, self.sleep = clock, sleep
        self._qb: QuickBooksClient | None = None
        # check() then create: the lookups (and the invoices made before) are read once per run
        self._checked: tuple[tuple[str, ...], Refs, list[Any]] | None = None
        self.attachments: Attachments = time_detail_and_pdf if settings.attach_time_detail else no_attachments
        self._reissue: dict[str, tuple[str, ...]] = {}  # draft key -> Ids of voided invoices with that key

    @classmethod
    def from_settings(cls, settings: QuickBooksSettings) -> QuickBooksAccounting:
        """No network here: bootstrap builds this eagerly; the first call connects."""
        return cls(settings, token_store_from_spec(settings.token_store))

    def describe(self) -> str:
        where = self.settings.base_url or self.settings.environment
        realm = self.settings.realm_id or "(company from the stored connection)"
        return f"QuickBooks Online {where}, company {realm}"

    # -- plumbing ------------------------------------------------------------------------------------
    @property
    def qb(self) -> QuickBooksClient:
        if self._qb is None:
            realm = self.settings.realm_id or self.auth.tokens().realm_id
            if not realm:
                raise ConfigError("Set QBO_REALM_ID (the QuickBooks company id) or connect again to store it.")
            qb = QuickBooksClient(company_id=realm, minorversion=self.settings.minor_version, use_decimal=True)
            qb.sandbox = self.settings.environment == "sandbox"
            if self.settings.base_url:
                # The library builds every URL from these two attributes; setting them on the instance is
                # the supported way to aim it elsewhere without touching the package.
                qb.sandbox_api_url_v3 = qb.api_url_v3 = f"{self.settings.base_url.rstrip('/')}/v3"
            qb.transport = self.transport
            self.transport.throttle = shared_throttle(self.settings, realm)
            self._qb = qb
        return self._qb

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one API operation with the shared retry policy: 429/5xx/timeouts back off and retry (writes
        carry a requestid, so a repeat is replayed, not doubled); 401 refreshes once; 400 and faults never retry.
        The library folds a 429 into a ValidationException, so the recorded HTTP status decides, via ERRORS."""
        local = self.transport.local
        refreshed = False

        def attempt() -> T:
            nonlocal refreshed
            while True:
                local.status = local.retry_after = None
                try:
                    return fn()
                except AuthorizationException as exc:
                    if local.status != 401 or refreshed:
                        raise ERRORS.error(
                            401 if local.status == 401 else "auth", what=what, fault=fault_text(exc)
                        ) from None
                    stale = getattr(local, "token", "")
                except QuickbooksException as exc:
                    status = local.status or 0
                    raise ERRORS.error(
                        status if status == 429 or status >= 500 else "other",
                        what=what,
                        status=status,
                        fault=fault_text(exc),
                        retry_after=local.retry_after,
                    ) from None
                except QuickBooksUnavailable as exc:  # Intuit's token service, while handing out a token
                    raise RetryLater(str(exc)) from exc
                self.auth.refresh(stale)  # a refresh is not a failed attempt
                refreshed = True

        def give_up(why: GaveUp) -> BaseException:
            return ERRORS.error("gave up", what=what, last=why.last, attempts=why.attempts)

        return self.policy.run(attempt, give_up=give_up, sleep=self.sleep)

    def _query_all(self, what: str, cls: type[Any], where: str = "", order_by: str = "Id") -> list[Any]:
        """Every row of a query, page by page (QuickBooks answers at most 1000 per page)."""
        rows: list[Any] = []
        start = 1
        while True:
            page = self._call(
                what,
                partial(cls.where, where, order_by=order_by, start_position=start, max_results=1000, qb=self.qb),
            )
            rows.extend(page)
            if len(page) < 1000:
                return rows
            start += 1000

    def _query_many(self, queries: Sequence[Query]) -> list[list[Any]]:
        return batch_queries(self.qb, self._call, self._query_all, queries)

    def _invoices_since(self, drafts: Sequence[InvoiceDraft]) -> Query:
        since = min(Period.parse(d.period).start for d in drafts).isoformat()
        return ("looking for invoices created before", Invoice, f"TxnDate >= '{since}'")

    def check(self, drafts: Sequence[InvoiceDraft], create_missing: bool = False) -> list[str]:
        """Everything that stops creation, at once. With create_missing, missing customers and service items
        are created here first (nothing else is), and only what is still missing is listed."""
        if not drafts:
            return []
        also = [self._invoices_since(drafts)]
        refs, problems, (invoices,) = resolve_with(drafts, self._query_many, also)
        if create_missing and problems:
            self._create_missing(drafts, refs)
            refs, problems, (invoices,) = resolve_with(drafts, self._query_many, also)
        self._checked = None if problems else (tuple(d.key for d in drafts), refs, invoices)
        return problems

    def _create_missing(self, drafts: Sequence[InvoiceDraft], refs: Refs) -> None:
        """Create what is missing and can be created: not an inactive record's name (QuickBooks keeps it
        taken), nor a name over QuickBooks' length limit (check() reports both, located)."""
        for d in drafts:
            ref = customer_ref(d)
            if (
                ref.casefold() in refs.customers
                or ref.isdigit()
                or ref.casefold() in refs.inactive_customers
                or len(ref) > MAX_DISPLAY_NAME
            ):
                continue
            c = Customer()
            c.DisplayName = c.CompanyName = ref
            c.CurrencyRef = make_ref(d.currency)
            rid = request_id("customer", self.qb.company_id, ref.casefold())
            refs.customers[ref.casefold()] = self._call(
                f'creating customer "{ref}"', partial(c.save, qb=self.qb, request_id=rid)
            )
        missing_items = sorted(
            {
                line.accounting_item
                for d in drafts
                for line in d.lines
                if line.kind != "discount"
                and line.accounting_item.casefold() not in refs.items
                and line.accounting_item.casefold() not in refs.inactive_items
                and len(line.accounting_item) <= MAX_ITEM_NAME
            }
        )
        if not missing_items:
            return
        account = self._income_account()
        for name in missing_items:
            it = Item()
            it.Name, it.Type, it.IncomeAccountRef = name, "Service", account
            rid = request_id("item", self.qb.company_id, name.casefold())
            refs.items[name.casefold()] = self._call(
                f'creating product/service "{name}"', partial(it.save, qb=self.qb, request_id=rid)
            )

    def _income_account(self) -> Ref:
        wanted = self.settings.income_account
        field_ = "Id" if wanted.isdigit() else "Name"
        found = self._query_all("reading accounts", Account, f"{field_} = '{escape(wanted)}'")
        if not found:
            raise ConfigError(
                f'QBO_INCOME_ACCOUNT is "{wanted}", but QuickBooks has no such account; new '
                "products/services need an income account (docs/RUNBOOK.md#customer-or-item-missing)."
            )
        return make_ref(str(found[0].Id), str(found[0].Name))

    # -- exactly once ------------------------------------------------------------------------------------------
    def _existing(self, invoices: Sequence[Invoice]) -> dict[str, list[_Found]]:
        """Invoices already in QuickBooks, by `client-slug/period/` prefix of the key in their PrivateNote.

        PrivateNote cannot be filtered on in a QuickBooks query, so the company's invoices dated from the
        drafts' first period on are read (in the run's one lookup batch) and matched by key here. A voided
        invoice keeps its note (prefixed "Voided"): it is found, marked voided, and never counts as the live
        invoice for its key."""
        found: dict[str, list[_Found]] = {}
        for inv in invoices:
            note = str(inv.PrivateNote or "")
            m = KEY_NOTE.search(note)
            if m:
                key = m.group(1)
                found.setdefault(key.rsplit("/", 1)[0] + "/", []).append(
                    _Found(inv, key, voided=note.lstrip().startswith(VOIDED))
                )
        return found

    def create_invoices(
        self, drafts: Sequence[InvoiceDraft], entries: Mapping[str, TimeEntry], progress: Progress = no_progress
    ) -> list[CreatedInvoice]:
        if not drafts:
            return []
        problems: list[str]
        if self._checked and self._checked[0] == tuple(d.key for d in drafts):
            refs, problems, invoices = self._checked[1], [], self._checked[2]
        else:
            refs, problems, (invoices,) = resolve_with(drafts, self._query_many, [self._invoices_since(drafts)])
        self._checked = None
        if problems:
            raise ConfigError(
                f"QuickBooks is missing what {len(problems)} invoice detail(s) need; nothing was "
                "created (docs/RUNBOOK.md#customer-or-item-missing):\n  - " + "\n  - ".join(problems)
            )
        existing = self._existing(invoices)
        results: dict[str, CreatedInvoice] = {}
        conflicts, todo = [], []
        # A draft whose key was voided before gets a requestid of its own: the voided invoice's requestid
        # would be replayed by QuickBooks instead of creating the new invoice.
        self._reissue = {
            d.key: tuple(
                sorted(str(f.invoice.Id) for f in existing.get(f"{slug(d.client)}/{d.period}/", []) if f.voided)
            )
            for d in drafts
        }
        for d in drafts:
            same = [f for f in existing.get(f"{slug(d.client)}/{d.period}/", []) if not f.voided]
            match = next((f for f in same if f.key == d.key), None)
            if match is not None:
                results[d.key] = self._created(d, match.invoice, "existing")
            elif same:
                inv = same[0].invoice
                conflicts.append(
                    f"{d.client} already has QuickBooks invoice {inv.DocNumber or inv.Id} for {d.period} "
                    f"(total {inv.TotalAmt}), and what would be invoiced now differs (total {d.total}). "
                    "Nothing was created; void or delete that invoice in QuickBooks first, or move the "
                    "new entries to the next period."
                )
            else:
                todo.append(d)
        if conflicts:
            raise ConflictError(
                "Some invoices conflict with ones already in QuickBooks "
                "(docs/RUNBOOK.md#conflict-with-an-existing-invoice):\n  - " + "\n  - ".join(conflicts)
            )

        done = [0]
        done_lock = threading.Lock()

        def tick(what: str) -> None:
            with done_lock:
                done[0] += 1
                progress(done[0], len(drafts), what)

        for d in drafts:
            if d.key in results:
                tick(d.client)
        failures: list[str] = []
        errors: list[BaseException] = []
        with ThreadPoolExecutor(max_workers=self.settings.max_concurrency, thread_name_prefix="qbo") as pool:
            futures = [pool.submit(self._create_chunk, chunk, refs) for chunk in chunks(todo, self.settings.batch_size)]
            for future in as_completed(futures):
                created, refused, error = future.result()
                for d, inv in created:
                    results[d.key] = self._created(d, inv, "created")
                    tick(d.client)
                failures.extend(refused)
                if error is not None:
                    errors.append(error)
        failures.extend(
            attach_files(
                self.qb,
                self._call,
                self._query_many,
                drafts,
                results,
                entries,
                fresh={k for k, r in results.items() if r.status == "created"},
                attachments=self.attachments,
            )
        )
        ordered = [results[d.key] for d in drafts if d.key in results]
        if errors and not failures:
            # Nothing was refused: surface the kind of error, so the caller's retry decision follows the type.
            if all(isinstance(e, Transient) for e in errors):
                raise QuickBooksUnavailable(f"{errors[0]} ({len(ordered)} of {len(drafts)} invoices exist so far)")
            auth = next((e for e in errors if isinstance(e, AuthError)), None)
            if auth is not None:
                raise auth
        failures.extend(str(e) for e in errors)
        if failures:
            raise PartialCreateError(
                f"{len(ordered)} of {len(drafts)} invoices exist in QuickBooks; these need "
                "attention (docs/RUNBOOK.md#some-invoices-were-refused):\n  - " + "\n  - ".join(failures),
                ordered,
            )
        return ordered

    def _create_chunk(
        self, chunk: list[InvoiceDraft], refs: Refs
    ) -> tuple[list[tuple[InvoiceDraft, Invoice]], list[str], BaseException | None]:
        """Create one batch (or one invoice when batch_size is 1). Errors come back as values so that one
        bad batch does not hide what the others created."""
        created: list[tuple[InvoiceDraft, Invoice]] = []
        refused: list[str] = []
        try:
            if len(chunk) == 1 and self.settings.batch_size == 1:
                d = chunk[0]
                inv = build_invoice(d, refs, self.settings.sheet_url)
                rid = request_id("invoice", self.qb.company_id, d.key, *self._reissue.get(d.key, ()))
                try:
                    created.append(
                        (
                            d,
                            self._call(
                                f"creating the invoice for {d.client} ({d.period})",
                                lambda: inv.save(qb=self.qb, request_id=rid),
                            ),
                        )
                    )
                except QuickBooksRejected as exc:
                    refused.append(explain(d, str(exc)))
                return created, refused, None
            mgr = BatchManager("create")
            batch = mgr.list_to_batch_request([build_invoice(d, refs, self.settings.sheet_url) for d in chunk])
            by_bid = {}
            for item, d in zip(batch.BatchItemRequest, chunk, strict=True):
                item.bId = request_id("bid", d.key)[:20]  # deterministic, so a replayed answer still matches
                by_bid[item.bId] = d
            rid = request_id(
                "batch", self.qb.company_id, *[p for d in chunk for p in (d.key, *self._reissue.get(d.key, ()))]
            )
            url = f"{self.qb.api_url}/company/{self.qb.company_id}/batch"
            names = ", ".join(d.client for d in chunk[:3]) + (" ..." if len(chunk) > 3 else "")
            answer = self._call(
                f"creating a batch of {len(chunk)} invoices ({names})",
                lambda: self.qb.post(url, batch.to_json(), request_id=rid),
            )
            for data in answer.get("BatchItemResponse", []):
                d = by_bid.pop(data["bId"])
                if "Fault" in data:
                    errs = data["Fault"].get("Error") or [{}]
                    text = "; ".join(f"{e.get('Message', '')}: {e.get('Detail', '')}".strip(": ") for e in errs)
                    refused.append(explain(d, f"QuickBooks refused it: {text}"))
                else:
                    created.append((d, Invoice.from_json(data["Invoice"])))
            for d in by_bid.values():  # never let a draft vanish silently
                refused.append(explain(d, "QuickBooks gave no answer for it in the batch; run create-invoices again."))
            return created, refused, None
        except (Transient, Terminal) as exc:
            return created, refused, exc

    # -- corrections: qbo_void.py -----------------------------------------------------------------------------
    def invoices_for(self, draft: InvoiceDraft) -> list[InvoiceRecord]:
        from .qbo_void import invoices_for

        return invoices_for(self, draft)

    def void_invoice(self, record: InvoiceRecord, replaced_by: str = "") -> InvoiceRecord:
        from .qbo_void import void_invoice

        self._checked = None  # what check() read is stale now: create must see this invoice as voided
        return void_invoice(self, record, replaced_by)

    def _created(self, d: InvoiceDraft, inv: Invoice, status: Literal["created", "existing"]) -> CreatedInvoice:
        meta = getattr(inv, "MetaData", None)
        stamp = getattr(meta, "CreateTime", "") if meta is not None else ""
        created_at = None
        if stamp:
            try:
                created_at = datetime.fromisoformat(str(stamp))
            except ValueError:
                created_at = None
        total = inv.TotalAmt if inv.TotalAmt not in ("", None) else d.total
        return CreatedInvoice(
            key=d.key,
            client=d.client,
            period=d.period,
            number=str(inv.DocNumber or inv.Id),
            external_id=str(inv.Id),
            url=invoice_url(self.settings, str(inv.Id)),
            currency=ref_value(inv.CurrencyRef) or d.currency,
            total=D(total),
            line_count=len(d.lines),
            entry_refs=d.entry_refs,
            status=status,
            created_at=created_at,
        )


__all__ = [
    "QuickBooksAccounting",
    "QuickBooksSettings",
    "QuickBooksAuth",
    "invoice_url",
    "PartialCreateError",
    "QuickBooksRejected",
    "QuickBooksUnavailable",
    "time_detail_csv",
]
