"""Correcting an invoice that was already created: void it, create the corrected one, move the Time rows.

    python main.py create-invoices --reissue "Acme Retail" --period 2026-10 --dry-run   # what it would do
    python main.py create-invoices --reissue "Acme Retail" --period 2026-10

What the correction bills is computed by the same billing engine, from the sheet as it stands now: the rows
of the client's invoice for the period count as not invoiced yet (so the corrected rows, categories, rates
and approvals are billed afresh), everything else is as create-invoices sees it. The corrected invoice gets
the accounting system's next number and says "Replaces invoice N." in its memo; the ledger also records the
link on both rows; the old invoice is voided (never deleted: it keeps its number, nothing is left to pay).

Exactly once, like creation. The accounting system says where a reissue stands, so every run starts from
what it finds there, and any crash or lost answer heals by running the same command again:

| found for the client and period                          | this run                                     |
| -------------------------------------------------------- | -------------------------------------------- |
| a live invoice that bills what the sheet says now        | nothing new: links a voided one, writes back |
| a live invoice that differs                              | voids it, creates the correction, writes back |
| no live invoice, a voided one without a replacement      | creates the correction, writes back          |
| nothing                                                  | refuses: nothing to reissue                  |

The void always comes before the creation, under the one lock create-invoices takes, so there are never
two live invoices for a client and period. The sheet is written once, at the end. A paid invoice is refused.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

from pydantic import Field

from .billing.engine import BillingResult, compute_invoices
from .config import Services
from .errors import ConflictError, InputError, InputErrors, InvariantError, PartialCreateError
from .models import CreatedInvoice, InvoiceDraft, Period, TimeRow
from .ports import InvoiceRecord, Progress, no_progress
from .sheet.contract import HeaderMap, load_contract
from .sheet.session import CONFIG_TABS, SheetSession
from .summaries import InvoicesSummary, run_id, totals
from .transport import calls_so_far
from .values import parse_decimal, text

Outcome = Literal["preview", "reissued", "completed", "up to date"]


class ReissueSummary(InvoicesSummary):
    """What a reissue did (or, with dry_run, would do) for one client and period."""

    client: str = ""
    replaces: str = ""  # the invoice the correction replaces
    replaces_total: Decimal | None = None
    voided: list[str] = Field(default_factory=list)  # voided by this run
    outcome: Outcome = "preview"
    message: str = ""


def reissue(
    services: Services, client: str, period: Period, dry_run: bool = False, progress: Progress = no_progress
) -> ReissueSummary:
    """Void the client's invoice for `period` and create the corrected one from the sheet as it is now."""
    from .pipeline import _locked  # the one store lock create-invoices takes: a reissue never overlaps it

    calls = calls_so_far()
    with _locked(services, "create-invoices"):
        return _reissue(services, client, period, dry_run, progress, calls)


def _reissue(
    services: Services, client: str, period: Period, dry_run: bool, progress: Progress, calls: dict[str, int]
) -> ReissueSummary:
    started = time.perf_counter()
    services.sheet.ensure_layout()
    sheet = SheetSession(services.sheet, ["Time", *CONFIG_TABS, "Preview", "Invoices", "Runs"])
    name, numbers, result, rows, warnings = _bill_again(services, client, period, sheet)
    summary = ReissueSummary(
        command="reissue",
        period=str(period),
        **run_id(services.clock),
        sheet=services.sheet.describe(),
        accounting=services.accounting.describe(),
        client=name,
        dry_run=dry_run,
    )
    summary.add_result(result, warnings)
    summary.invoices = [i for i in summary.invoices if i.client == name]
    summary.totals = totals(summary.invoices)
    summary.held = {k: v for k, v in summary.held.items() if k == name}
    draft = _the_draft(name, period, result)
    system = services.accounting.describe()
    problems = services.accounting.check([draft])
    if problems:
        raise InputErrors([InputError(p) for p in problems], what=f"mapping to {system}; nothing was voided")

    progress(1, 4, "reading the invoices in the accounting system")
    records = services.accounting.invoices_for(draft)
    live = [r for r in records if r.live]
    if len(live) > 1:
        raise InvariantError(
            f"{system} holds {len(live)} live invoices for {name} in {period} "
            f"({', '.join(r.number for r in live)}); void all but one there first. Nothing was changed."
        )
    old = live[0] if live else _unreplaced(records, numbers)
    if old is None:
        raise InputError(
            f"{name} has no invoice for {period} in {system} to reissue. Nothing was changed; "
            f"`python main.py create-invoices --period {period}` creates the first one."
        )
    summary.replaces = old.number
    summary.replaces_total = old.total if old.live else _sheet_total(sheet, old.number)
    if old.live and old.key == draft.key:
        summary.replaces = old.replaces
        summary.replaces_total = _sheet_total(sheet, old.replaces) if old.replaces else None
        summary.invoices = [i.model_copy(update={"number": old.number, "status": "existing"}) for i in summary.invoices]
        return _finish_existing(
            services, sheet, summary, draft, old, records, numbers, result, rows, dry_run, calls, started
        )
    if old.live and old.paid:
        raise ConflictError(
            f"{name}'s invoice {old.number} for {period} cannot be reissued: it is paid ({old.paid}). Nothing was "
            "voided. A paid invoice is corrected with a credit memo in the accounting system, which is the "
            "accountant's tool for a change after payment (docs/RUNBOOK.md#a-paid-invoice-cannot-be-reissued)."
        )
    if dry_run:
        sheet.write_preview(result)
        summary.message = (
            f"Would void {old.number} ({_money(summary.replaces_total, draft.currency)}) and create the corrected "
            f"invoice ({_money(draft.total, draft.currency)}, {len(draft.lines)} lines) with the next number, "
            f'saying "Replaces invoice {old.number}". The Preview tab shows it.'
            if old.live
            else f"{old.number} is already void; would create the corrected invoice "
            f"({_money(draft.total, draft.currency)}) that replaces it."
        )
        return _done(sheet, summary, "preview", calls, started)

    if old.live:
        progress(2, 4, f"voiding {old.number}")
        old = services.accounting.void_invoice(old)
        summary.voided.append(old.number)
    progress(3, 4, "creating the corrected invoice")
    memo = f"Replaces invoice {old.number}." + (f" {draft.memo}" if draft.memo else "")
    corrected = draft.model_copy(update={"memo": memo})
    entries = {r.entry.ref: r.entry for r in rows}
    try:
        created = services.accounting.create_invoices([corrected], entries)
    except PartialCreateError as exc:  # the invoice exists, an attachment did not make it: write back, then say so
        if exc.created:
            _write_back(sheet, summary, result, exc.created, numbers, {old.number: exc.created[0].number}, rows)
            summary.measure(calls)
            sheet.log_run(summary, "partial", f"{old.number} replaced by {exc.created[0].number}", errors=str(exc))
            sheet.commit()
        raise
    new = created[0]
    services.accounting.void_invoice(old, replaced_by=new.number)  # the link, recorded where the system keeps one
    progress(4, 4, "writing the sheet")
    _write_back(sheet, summary, result, created, numbers, {old.number: new.number}, rows)
    summary.message = (
        f"{old.number} is void; {new.number} replaces it ({_money(new.total, new.currency)}), and the Time rows "
        f"point at {new.number}."
    )
    return _done(sheet, summary, "reissued", calls, started)


def _finish_existing(
    services: Services,
    sheet: SheetSession,
    summary: ReissueSummary,
    draft: InvoiceDraft,
    live: InvoiceRecord,
    records: Sequence[InvoiceRecord],
    numbers: set[str],
    result: BillingResult,
    rows: list[TimeRow],
    dry_run: bool,
    calls: dict[str, int],
    started: float,
) -> ReissueSummary:
    """The live invoice already bills what the sheet says: a reissue that finished in the accounting system
    (a crash or lost answer before the write-back), or nothing to correct. Link and write back what is missing."""
    orphans = [r for r in records if not r.live and not r.replaced_by and r.number in numbers]
    table = {r.entry.ref: r for r in sheet.time().rows}  # as the sheet has them (`rows` count them as not invoiced)
    moved = any(table[ref].invoice != live.number for ref in draft.entry_refs if ref in table)
    stale = any(r.invoice.strip() in numbers - {live.number} for r in sheet.time().rows)
    if not (orphans or moved or stale):
        summary.outcome = "up to date"
        summary.message = (
            f"{live.number} already bills what the sheet says for {summary.client} in {summary.period}; "
            "nothing was voided or created. Change the Time rows first, then reissue."
        )
        summary.seconds = time.perf_counter() - started
        summary.measure(calls)
        return summary
    if dry_run:
        summary.message = f"{live.number} exists already; would point the sheet at it and finish the reissue."
        return _done(sheet, summary, "preview", calls, started)
    for orphan in orphans:
        services.accounting.void_invoice(orphan, replaced_by=live.number)
    # create_invoices finds it (status "existing") and heals a missing document or attachment on the way
    created = services.accounting.create_invoices([draft], {r.entry.ref: r.entry for r in rows})
    replaced = {r.number: live.number for r in records if not r.live and r.number in numbers}
    _write_back(sheet, summary, result, created, numbers, replaced, rows)
    summary.replaces = live.replaces or (orphans[0].number if orphans else summary.replaces)
    summary.message = f"{live.number} was already created; the reissue is finished and the Time rows point at it."
    return _done(sheet, summary, "completed", calls, started)


# --- billing the corrected invoice ----------------------------------------------------------------------


def _bill_again(
    services: Services, client: str, period: Period, sheet: SheetSession
) -> tuple[str, set[str], BillingResult, list[TimeRow], list[str]]:
    """The client's name as the Clients tab spells it, the numbers its invoice for the period had, and the
    billing result with the rows of those invoices counted as not invoiced yet."""
    book, warnings = sheet.book()
    settings = book.client(client)
    if settings is None:
        raise InputError(f'"{client}" is not in the Clients tab; reissue names a client as the Clients tab does.')
    name = settings.name
    table = sheet.time()
    blocking = table.blocking(period)
    if blocking:
        raise InputErrors(blocking, what="Time tab")
    key = name.casefold()

    def ours(raw: str) -> bool:
        found = book.client(raw)
        return (found.name if found else raw.strip()).casefold() == key

    listed = sheet.invoices()
    numbers = {n.strip() for c, p, n in listed if ours(c) and p.strip() == str(period)}
    numbers |= {
        r.invoice.strip() for r in table.rows if r.invoiced and ours(r.entry.client) and period.contains(r.entry.date)
    }
    if not numbers:
        raise InputError(
            f"{name} has no invoice for {period} in the sheet (Invoices tab, Time rows), so there is nothing "
            f"to reissue; `python main.py create-invoices --period {period}` creates it."
        )
    rows = [r.model_copy(update={"invoice": ""}) if r.invoice.strip() in numbers else r for r in table.rows]
    unbilled = tuple(
        m.model_copy(update={"invoice": ""}) if m.invoice.strip() in numbers else m for m in book.milestones
    )
    result = compute_invoices(
        rows,
        book.model_copy(update={"milestones": unbilled}),
        period,
        services.clock().date(),
        previous_totals=sheet.previous_totals(period.previous()),
        invoices=[i for i in listed if i[2].strip() not in numbers],
    )
    return name, numbers, sheet.located(result), rows, warnings


def _the_draft(name: str, period: Period, result: BillingResult) -> InvoiceDraft:
    draft = next((d for d in result.drafts if d.client == name), None)
    if draft is not None:
        return draft
    why = result.held.get(name) or result.not_billed.get(name)
    if why:
        raise InputError(
            f"{name}'s corrected invoice for {period} cannot be created: {why}. Nothing was voided; fix that "
            "first (or, to cancel the invoice without a replacement, void it in the accounting system)."
        )
    raise InputError(
        f"{name} has nothing left to bill for {period} (no approved billable rows, fees or milestones). Nothing "
        "was voided; to cancel the invoice without a replacement, void it in the accounting system."
    )


def _unreplaced(records: Sequence[InvoiceRecord], numbers: set[str]) -> InvoiceRecord | None:
    """The voided invoice a crashed reissue left without its replacement (the newest such one)."""
    voided = [r for r in records if not r.live and not r.replaced_by]
    mine = [r for r in voided if r.number in numbers]  # never one the sheet does not know as this invoice
    return mine[-1] if mine else None


def _sheet_total(sheet: SheetSession, number: str) -> Decimal | None:
    """A voided invoice's total as the Invoices tab recorded it (QuickBooks zeroes a voided one's)."""
    rows = sheet.tables.get("Invoices") or []
    if len(rows) < 2:
        return None
    hm = HeaderMap(load_contract().tab("Invoices"), rows[0])
    for r in rows[1:]:
        if text(hm.get(r, "number")) == number:
            try:
                return parse_decimal(hm.get(r, "total"))
            except ValueError:
                return None
    return None


# --- writing back ---------------------------------------------------------------------------------------


def _write_back(
    sheet: SheetSession,
    summary: ReissueSummary,
    result: BillingResult,
    created: Sequence[CreatedInvoice],
    numbers: set[str],
    replaced: dict[str, str],
    rows: list[TimeRow],
) -> None:
    """The Time rows of the old invoice to the new one (or blank, when the correction no longer bills them),
    the old invoice's row in the Invoices tab marked void, the new one listed, milestones billed by it."""
    new_refs = {ref for c in created for ref in c.entry_refs}
    sheet.unmark_invoiced(
        r.entry.ref for r in sheet.time().rows if r.invoice.strip() in numbers and r.entry.ref not in new_refs
    )
    sheet.mark_invoiced(created, summary.accounting)
    sheet.set_invoice_status({old: f"void, replaced by {new}" for old, new in replaced.items()})
    by_client = {c.client: c.number for c in created}
    sheet.mark_milestones(
        {loc: by_client[client] for client, locs in result.milestones.items() if client in by_client for loc in locs}
    )
    summary.add_created(created)


def _done(
    sheet: SheetSession, summary: ReissueSummary, outcome: Outcome, calls: dict[str, int], started: float
) -> ReissueSummary:
    summary.outcome = outcome
    summary.seconds = time.perf_counter() - started
    summary.measure(calls)
    sheet.log_run(summary, "ok", f"reissue {summary.client}: {summary.message}")
    sheet.commit()
    return summary


def _money(amount: Decimal | None, currency: str) -> str:
    from .money import fmt_money

    return fmt_money(amount, currency) if amount is not None else "total unknown"


def describe(s: ReissueSummary) -> list[str]:
    """The summary as lines for people (the CLI prints them; the menu shows `message`)."""
    lines = [s.message]
    for inv in s.invoices:
        lines.append(
            f"  {inv.number or '(corrected draft)'}  {inv.client}  {_money(inv.total, inv.currency)}  "
            f"{inv.lines} lines, {inv.entries} entries  {inv.status}"
        )
    if s.replaces and s.replaces_total is not None and s.invoices:
        lines.append(f"  replaces {s.replaces} ({_money(s.replaces_total, s.invoices[0].currency)})")
    if s.dry_run and s.outcome == "preview":
        client = s.client if " " not in s.client else f'"{s.client}"'
        lines.append(f"Next: `python main.py create-invoices --reissue {client} --period {s.period}` does it, once.")
    return lines
