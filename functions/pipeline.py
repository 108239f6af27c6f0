"""The service layer: refresh, preview and create_invoices. The CLI and the Cloud Functions call these.

Each job opens one sheet session (one read), computes with the pure core, and commits once. If anything is
wrong it raises before the commit, so a run that cannot finish changes nothing. Invoices are marked in the
sheet only after the accounting system confirmed them.

    services = bootstrap(Settings(workdir=Path("work")), source=csv_source([Path("oct.csv")]))
    refresh(services, Period.parse("2026-10"))
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from decimal import Decimal
from pathlib import Path
from typing import Any

from .billing.engine import BillingResult, compute_invoices
from .categorize.chain import accuracy_by_source
from .categorize.claude_cost import parse_cost
from .config import Services
from .errors import InputError, InputErrors, Location, PartialCreateError
from .models import CreatedInvoice, Period, TimeEntry, TimeRow
from .money import hours_shown
from .ports import CategorizeContext, CategorizeReport, Progress, no_progress
from .sheet.merge import merge
from .sheet.session import CONFIG_TABS, SheetSession
from .summaries import (
    ClientHours,
    CreateSummary,
    InvoicesSummary,
    InvoiceSummary,
    PreviewSummary,
    RefreshSummary,
    run_id,
    totals,
)
from .transport import calls_so_far

__all__ = [
    "refresh",
    "preview",
    "create_invoices",
    "RefreshSummary",
    "InvoicesSummary",
    "PreviewSummary",
    "CreateSummary",
    "no_progress",
]


# --- refresh --------------------------------------------------------------------------------------------


def _locked(services: Services, job: str) -> AbstractContextManager[Any]:
    """The store's one lock for jobs that write (functions/locks.py): refresh, preview and create-invoices
    never overlap, whichever entry point runs them."""
    return services.lock(job) if services.lock else nullcontext()


def near_cell_limit(sheet: object) -> list[str]:
    """A store that knows its size (a Google Sheet) says when it nears its cell limit, with what to do."""
    capacity = getattr(sheet, "capacity", None)
    note = capacity()[1] if callable(capacity) else ""
    return [note] if note else []


NO_CATEGORIES = (
    "the Categories tab is empty, so there is nothing to suggest. List your agency's billing categories there "
    "(Category, Meaning, Billable, Line Item, Keywords), or start from a CSV with "
    "`python main.py setup-sheet --categories my_categories.csv` (see docs/categories.md)"
)


def refresh(
    services: Services, period: Period, progress: Progress = no_progress, config_dir: Path | None = None
) -> RefreshSummary:
    """Pull entries from the source, suggest categories, and merge them into the Time tab."""
    calls = calls_so_far()  # the run's API calls are counted from here, the lock's included
    with _locked(services, "refresh"):
        return _refresh(services, period, progress, config_dir, calls)


def _refresh(
    services: Services, period: Period, progress: Progress, config_dir: Path | None, calls: dict[str, int]
) -> RefreshSummary:
    started = time.perf_counter()
    summary = RefreshSummary(
        command="refresh", period=str(period), **run_id(services.clock), sheet=services.sheet.describe()
    )
    summary.layout_changes = services.sheet.ensure_layout()
    summary.warnings += near_cell_limit(services.sheet)
    progress(1, 5, "reading the sheet")
    sheet = SheetSession(services.sheet, ["Time", *CONFIG_TABS, "Runs"])
    if config_dir is not None:  # the demo brings its own agency's settings
        sheet.seed_config(CONFIG_TABS, config_dir)
    book, warnings = sheet.book(stop_on=("Rules", "Categories"))
    if not book.categories:
        raise InputErrors([InputError(NO_CATEGORIES, Location(tab="Categories", cell="A2"))], what="Categories tab")
    summary.warnings += warnings
    table = sheet.time()
    if table.header_errors or table.holds:
        # a row refresh cannot identify (no Entry ID, a copied one) or place (no readable Date or Hours)
        # would be appended again as new: stop, naming its cells, before anything is written
        raise InputErrors([*table.header_errors, *table.holds], what="Time tab")
    summary.warnings += [f"{e} (row kept as it is)" for e in table.errors]

    progress(2, 5, "importing time entries")
    incoming: tuple[TimeEntry, ...] = ()
    covers: tuple[str, ...] = ()
    if services.source is not None:
        result = services.source.fetch(period, progress)
        incoming, covers = result.entries, result.covers
        summary.sources = list(result.descriptions)
        summary.skipped_rows = [f"{s.where}: {s.reason}" for s in result.skipped]
    summary.imported = len(incoming)

    progress(3, 5, "suggesting categories")
    known = table.by_ref()
    needs = [e for e in incoming if e.ref not in known]
    asked = {e.ref for e in needs}
    needs += [
        r.entry
        for r in table.rows
        if not r.suggested_category and not (r.approved or r.invoiced) and r.entry.ref not in asked
    ]
    report = CategorizeReport()
    ctx = CategorizeContext(categories=book.categories, rules=book.category_rules, history=tuple(table.rows))
    suggestions = services.categorizer.suggest(needs, ctx, report) if needs else {}
    summary.suggestions = dict(report.by_source)
    summary.warnings += report.notes
    summary.ai_notes = list(report.info)
    if report.requests:
        summary.ai_usage = (
            f"{report.requests} requests, {report.input_tokens} input + {report.output_tokens} "
            f"output tokens ({report.cache_read_tokens} cached), ~{report.estimated_cost}"
        )
        summary.ai_input_tokens, summary.ai_output_tokens = report.input_tokens, report.output_tokens
        summary.ai_cost = Decimal(str(parse_cost(report.estimated_cost))).quantize(Decimal("0.000001"))
    summary.accuracy = {
        src: f"{kept}/{made} ({kept / made:.0%})" for src, (kept, made) in accuracy_by_source(table.rows).items()
    }

    progress(4, 5, "merging")
    merged = merge(table.rows, incoming, suggestions, covers=covers, period=period)
    sheet.apply_merge(merged)
    summary.warnings += merged.notes
    s = merged.stats
    summary.new, summary.updated, summary.unchanged = s.new, s.updated, s.unchanged
    summary.held_changes, summary.gone = s.held_changes, s.gone
    summary.clients = {
        c: ClientHours(
            entries=v.entries,
            billable_hours=hours_shown(v.billable_hours),
            non_billable_hours=hours_shown(v.non_billable_hours),
        )
        for c, v in sorted(merged.per_client.items())
    }
    summary.new_clients = sheet.add_clients(incoming)

    summary.seconds = time.perf_counter() - started
    summary.measure(calls, ai_requests=report.requests)
    sheet.log_run(summary, "ok", _refresh_detail(summary), ai_usage=summary.ai_usage)
    progress(5, 5, "writing the sheet")
    sheet.commit()
    return summary


def _refresh_detail(summary: RefreshSummary) -> str:
    """The Runs tab's one-line account of a refresh."""
    detail = (
        f"{summary.imported} imported: {summary.new} new, {summary.updated} updated, {summary.unchanged} "
        f"unchanged, {summary.held_changes} changes held for review, {summary.gone} gone from the source"
    )
    if summary.skipped_rows:
        detail += f"; {len(summary.skipped_rows)} bad rows skipped: " + "; ".join(summary.skipped_rows[:20])
    if summary.suggestions:
        detail += "; suggestions " + ", ".join(f"{k} {v}" for k, v in sorted(summary.suggestions.items()))
    if summary.accuracy:
        detail += "; kept by reviewers " + ", ".join(f"{k} {v}" for k, v in summary.accuracy.items())
    return detail


# --- preview and create ---------------------------------------------------------------------------------


def _bill(services: Services, period: Period, sheet: SheetSession) -> tuple[BillingResult, list[TimeRow], list[str]]:
    """The period's invoices from the session's records, every issue named by its real cell."""
    book, warnings = sheet.book()
    table = sheet.time()
    if not table.rows:
        warnings.append("The Time tab has no rows yet: run refresh first (`python main.py refresh --csv FILE`).")
    elif not any(period.contains(r.entry.date) for r in table.rows):
        months = sorted({str(Period.of(r.entry.date)) for r in table.rows})
        warnings.append(
            f"The Time tab has no rows in {period}; it holds {', '.join(months[-3:])}"
            + (f" and {len(months) - 3} earlier months" if len(months) > 3 else "")
            + f": run this again with `--period {months[-1]}`, or refresh {period} first."
        )
    blocking = table.blocking(period)
    if blocking:
        raise InputErrors(blocking, what="Time tab")
    result = compute_invoices(
        table.rows,
        book,
        period,
        services.clock().date(),
        previous_totals=sheet.previous_totals(period.previous()),
        invoices=sheet.invoices(),
    )
    return sheet.located(result), table.rows, warnings


def _invoices_summary(
    command: str, services: Services, period: Period, result: BillingResult, warnings: list[str]
) -> InvoicesSummary:
    summary = InvoicesSummary(
        command=command,
        period=str(period),
        **run_id(services.clock),
        sheet=services.sheet.describe(),
        accounting=services.accounting.describe(),
    )
    summary.add_result(result, warnings)
    return summary


def preview(services: Services, period: Period) -> PreviewSummary:
    """Compute every invoice of the period into the Preview tab, with warnings. Creates nothing."""
    calls = calls_so_far()
    with _locked(services, "preview"):
        return _preview(services, period, calls)


def _preview(services: Services, period: Period, calls: dict[str, int]) -> PreviewSummary:
    started = time.perf_counter()
    services.sheet.ensure_layout()
    sheet = SheetSession(services.sheet, ["Time", *CONFIG_TABS, "Preview", "Invoices", "Runs"])
    result, _, warnings = _bill(services, period, sheet)
    summary = _invoices_summary("preview", services, period, result, warnings)
    summary.warnings += near_cell_limit(services.sheet)
    sheet.write_preview(result)
    summary.seconds = time.perf_counter() - started
    summary.measure(calls)
    sheet.log_run(
        summary,
        "ok",
        f"{len(result.drafts)} invoices ready, {len(result.held)} clients held: {summary.totals_text()}",
    )
    sheet.commit()
    return summary


def create_invoices(
    services: Services,
    period: Period,
    dry_run: bool = False,
    create_missing: bool = False,
    progress: Progress = no_progress,
) -> CreateSummary:
    """Create the period's invoices exactly once, then write their numbers back into the sheet."""
    calls = calls_so_far()
    with _locked(services, "create-invoices") if not dry_run else nullcontext():
        return _create(services, period, dry_run, create_missing, progress, calls)


def _create(
    services: Services,
    period: Period,
    dry_run: bool,
    create_missing: bool,
    progress: Progress,
    calls: dict[str, int],
) -> CreateSummary:
    started = time.perf_counter()
    services.sheet.ensure_layout()
    sheet = SheetSession(services.sheet, ["Time", *CONFIG_TABS, "Invoices", "Runs"])
    result, rows, warnings = _bill(services, period, sheet)
    summary = _invoices_summary("create-invoices", services, period, result, warnings)
    summary.warnings += near_cell_limit(services.sheet)
    summary.dry_run = dry_run
    drafts = list(result.drafts)
    system = services.accounting.describe()
    problems = services.accounting.check(drafts, create_missing=create_missing and not dry_run)
    if problems:
        raise InputErrors([InputError(p) for p in problems], what=f"mapping to {system}")
    if dry_run or not drafts:
        summary.seconds = time.perf_counter() - started
        return summary
    entries = {r.entry.ref: r.entry for r in rows}
    try:
        created = services.accounting.create_invoices(drafts, entries, progress)
    except PartialCreateError as exc:
        # Some exist, some were refused: mark the ones that exist now, then report the rest.
        sheet.mark_invoiced(exc.created, system)
        _mark_milestones(sheet, result, exc.created)
        summary.measure(calls)
        sheet.log_run(summary, "partial", f"{len(exc.created)} created", errors=str(exc))
        sheet.commit()
        raise
    # Only now, after the accounting system confirmed, do the rows get their invoice numbers, and the milestones
    # billed the invoice that billed them (so they are never billed again).
    sheet.mark_invoiced(created, system)
    _mark_milestones(sheet, result, created)
    summary.invoices = [
        InvoiceSummary(
            number=c.number,
            client=c.client,
            currency=c.currency,
            total=c.total,
            lines=c.line_count,
            entries=len(c.entry_refs),
            status=c.status,
            link=c.url,
            document=c.document,
        )
        for c in created
    ]
    summary.totals = totals(summary.invoices)
    summary.created = sum(1 for c in created if c.status == "created")
    summary.existing = sum(1 for c in created if c.status == "existing")
    docs = {str(Path(c.document).parent) for c in created if c.document}
    summary.documents = docs.pop() if len(docs) == 1 else ""
    summary.seconds = time.perf_counter() - started
    summary.measure(calls)
    sheet.log_run(
        summary,
        "ok",
        f"{summary.created} created, {summary.existing} already existed: {summary.totals_text()}",
    )
    sheet.commit()
    return summary


def _mark_milestones(sheet: SheetSession, result: BillingResult, created: Sequence[CreatedInvoice]) -> None:
    numbers = {c.client: c.number for c in created}
    sheet.mark_milestones(
        {loc: numbers[client] for client, locs in result.milestones.items() if client in numbers for loc in locs}
    )
