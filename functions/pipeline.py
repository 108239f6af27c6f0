"""The service layer: refresh, preview and create_invoices. The CLI and the Cloud Functions call these.

Each job opens one sheet session (one read), computes with the pure core, and commits once. If anything is
wrong it raises before the commit, so a run that cannot finish changes nothing. Invoices are marked in the
sheet only after the accounting system confirmed them.

    services = bootstrap(Settings(workdir=Path("work")), source=csv_source([Path("oct.csv")]))
    refresh(services, Period.parse("2026-10"))
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from . import collector
from .billing.engine import BillingResult, compute_invoices
from .capacity import after_read
from .categorize.chain import accuracy_by_month, accuracy_by_source, accuracy_text
from .categorize.claude_cost import parse_cost
from .config import Services
from .dashboard import InvoiceRecord, RunRecord, appended, build
from .describe.lines import DescribeReport, describe_result
from .errors import InputError, InputErrors, Location, PartialCreateError
from .models import CreatedInvoice, Period, Suggestion, TimeEntry, TimeRow
from .money import hours_shown
from .ports import CategorizeContext, CategorizeReport, ImportResult, Progress, SkippedRow, SyncMark, no_progress
from .sheet.merge import merge
from .sheet.preview_tab import previous_descriptions
from .sheet.session import CONFIG_TABS, SheetSession
from .sources import sync
from .summaries import (
    ClientHours,
    CreateSummary,
    InvoicesSummary,
    PreviewSummary,
    RefreshSummary,
    run_id,
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


@contextmanager
def _locked(services: Services, job: str) -> Iterator[None]:
    """The store's one lock for jobs that write (functions/locks.py): refresh, preview and create-invoices
    never overlap, whichever entry point runs them. The garbage collector is the job's own meanwhile
    (functions/collector.py) and as it was once the job ends, raised or not."""
    with services.lock(job) if services.lock else nullcontext(), collector.job():
        yield


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
    services: Services,
    period: Period,
    progress: Progress = no_progress,
    config_dir: Path | None = None,
    full: bool = False,
    skip_bad_rows: bool = False,
) -> RefreshSummary:
    """Pull entries from the source (only what changed since its watermark, unless `full`), suggest
    categories, and merge them into the Time tab. `skip_bad_rows` skips (and lists) entries of Jira or Asana
    whose project no client maps, instead of stopping."""
    calls = calls_so_far()  # the run's API calls are counted from here, the lock's included
    with _locked(services, "refresh"):
        return _refresh(services, period, progress, config_dir, calls, full, skip_bad_rows)


def _refresh(
    services: Services,
    period: Period,
    progress: Progress,
    config_dir: Path | None,
    calls: dict[str, int],
    full: bool = False,
    skip_bad_rows: bool = False,
) -> RefreshSummary:
    started = time.perf_counter()
    summary = RefreshSummary(
        command="refresh", period=str(period), **run_id(services.clock), sheet=services.sheet.describe()
    )
    summary.layout_changes = services.sheet.ensure_layout()
    summary.warnings += near_cell_limit(services.sheet)
    progress(1, 5, "reading the sheet")
    sheet = SheetSession(services.sheet, ["Time", *CONFIG_TABS, "People", "Runs", "Sync", "Invoices", "Dashboard"])
    after_read(services.sheet, "refresh")  # FUNCTION_MEMORY set: a month too big stops here, nothing written
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
    result = ImportResult(())
    people = sheet.people()
    marks_before: dict[tuple[str, str], SyncMark] = {}
    unmapped: list[InputError] = []
    if services.source is not None:
        full = full or held_for_full(table.rows)
        marks_before = sheet.sync_marks()
        result = sync.fetch(services.source, period, marks_before, services.clock(), full, progress, _sync(services))
        mapped, unmapped = sheet.client_keys().apply(result.entries)
        if unmapped and not skip_bad_rows:
            raise InputErrors(unmapped, what="time entries (--skip-bad-rows lists and skips them)")
        incoming = people.apply(mapped)
        summary.sources = list(result.descriptions)
        summary.skipped_rows = [f"{s.where}: {s.reason}" for s in result.skipped]
        summary.skipped_rows += [str(e) for e in unmapped]
        summary.source_failures = list(result.failures)
        summary.warnings += list(result.failures)
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
    ctx = CategorizeContext(
        categories=book.categories, rules=book.category_rules, history=tuple(table.rows), progress=progress
    )
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
    summary.accuracy_by_month = {m: accuracy_text(a) for m, a in accuracy_by_month(table.rows).items()}

    progress(4, 5, "merging")
    merged = merge(
        table.rows,
        incoming,
        suggestions,
        covers=result.covers,
        period=period,
        deleted=result.deleted,
        incremental=result.incremental,
    )
    sheet.apply_merge(merged)
    sheet.save_marks(_held_marks(result.marks, marks_before, result.skipped, unmapped))
    summary.milestones = sheet.fill_milestones(result.milestones, period)
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
    status = "partial" if summary.source_failures else "ok"
    kept = "; ".join(f"{m}: {text}" for m, text in summary.accuracy_by_month.items())
    sheet.log_run(
        summary,
        status,
        _refresh_detail(summary),
        errors="; ".join(summary.source_failures),
        ai_usage=summary.ai_usage,
        reviewer_accuracy=kept,
    )
    _dashboard(sheet, period, table.rows, appended(incoming, known, suggestions))
    progress(5, 5, "writing the sheet")
    sheet.commit()
    return summary


def _dashboard(
    sheet: SheetSession,
    period: Period,
    rows: Sequence[TimeRow],
    new: Sequence[tuple[TimeEntry, Suggestion | None]] = (),
) -> None:
    """The Dashboard tab refreshed, in the run's one write, from the records the run holds (functions/dashboard.py)."""
    invoices = [InvoiceRecord(*r) for r in sheet.invoice_records()]
    book, _ = sheet.book(stop_on=())  # problems in the tabs were reported by the run already
    never = [c.name for c in book.categories if not c.billable]
    runs = [RunRecord(*r) for r in sheet.run_records()]
    sheet.write_dashboard(build(period, rows, invoices, runs, non_billable=never, new=new))


def _sync(services: Services) -> sync.SyncOptions:
    s = services.settings
    if s is None:
        return sync.SyncOptions()
    return sync.SyncOptions(
        overlap=timedelta(minutes=s.sync_overlap_minutes), full_after=timedelta(hours=s.sync_full_after_hours)
    )


def _held_marks(
    marks: Sequence[SyncMark],
    before: dict[tuple[str, str], SyncMark],
    skipped: Sequence[SkippedRow],
    unmapped: Sequence[InputError],
) -> list[SyncMark]:
    """The new watermarks, except for a source some of whose records were skipped: it keeps its old mark (none
    on a first sync), so the skipped records are read again once they are fixed (a Clients mapping, a worklog's
    author), instead of being left behind the watermark."""
    refs = [s.where for s in skipped] + [e.location.entry or "" for e in unmapped if e.location]
    held = {ref.split(":")[0] for ref in refs if ":" in ref}
    out = []
    for m in marks:
        if m.source not in held:
            out.append(m)
        elif (m.source, m.period) in before:
            out.append(before[(m.source, m.period)])
    return out


def held_for_full(rows: Sequence[TimeRow]) -> bool:
    """A change held on an approved row, and the row is no longer approved: an incremental fetch would not send
    the entry again (it has not changed since), so this refresh pulls the month in full to apply it."""
    return any("Changed in the source after approval" in r.flags and not (r.approved or r.invoiced) for r in rows)


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


def _describe(
    services: Services, sheet: SheetSession, result: BillingResult, rows: list[TimeRow]
) -> tuple[BillingResult, DescribeReport]:
    """Every line's client-facing description: a person's edit from Preview, else Claude's, else offline."""
    book, _ = sheet.book()
    previous = previous_descriptions(sheet.tables.get("Preview"), [*result.drafts, *result.held_drafts.values()])
    writer = services.build_describer() if services.build_describer else None
    return describe_result(result, {r.entry.ref: r.entry for r in rows}, book, previous, writer)


def _describe_summary(summary: InvoicesSummary, described: DescribeReport, services: Services) -> None:
    model = services.settings.claude.ai_model if services.settings and described.usage.requests else ""
    summary.ai_notes.append(described.summary(model))
    summary.warnings += described.notes
    u = described.usage
    summary.ai_input_tokens += u.input_tokens + u.cache_write_tokens
    summary.ai_output_tokens += u.output_tokens
    summary.ai_cost += u.cost.quantize(Decimal("0.000001"))


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


def preview(services: Services, period: Period, progress: Progress = no_progress) -> PreviewSummary:
    """Compute every invoice of the period into the Preview tab, with warnings. Creates nothing."""
    calls = calls_so_far()
    with _locked(services, "preview"):
        return _preview(services, period, calls, progress)


def _preview(services: Services, period: Period, calls: dict[str, int], progress: Progress) -> PreviewSummary:
    started = time.perf_counter()
    services.sheet.ensure_layout()
    progress(1, 3, "reading the sheet")
    sheet = SheetSession(services.sheet, ["Time", *CONFIG_TABS, "Preview", "Invoices", "Runs", "Dashboard"])
    after_read(services.sheet, "preview")
    progress(2, 3, "computing the invoices")
    result, rows, warnings = _bill(services, period, sheet)
    result, described = _describe(services, sheet, result, rows)
    warnings += [str(e) for e in sheet.letterheads(services.settings, _logo_folders(services))[1]]
    summary = _invoices_summary("preview", services, period, result, warnings)
    summary.warnings += near_cell_limit(services.sheet)
    _describe_summary(summary, described, services)
    progress(3, 3, "writing the Preview tab")
    sheet.write_preview(result)
    summary.seconds = time.perf_counter() - started
    summary.measure(calls, ai_requests=described.usage.requests)
    sheet.log_run(
        summary,
        "ok",
        f"{len(result.drafts)} invoices ready, {len(result.held)} clients held: {summary.totals_text()}",
    )
    _dashboard(sheet, period, rows)
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
    sheet = SheetSession(services.sheet, ["Time", *CONFIG_TABS, "Preview", "Invoices", "Runs", "Dashboard"])
    after_read(services.sheet, "create_invoices")
    result, rows, warnings = _bill(services, period, sheet)
    result, described = _describe(services, sheet, result, rows)
    summary = _invoices_summary("create-invoices", services, period, result, warnings)
    summary.warnings += near_cell_limit(services.sheet)
    _describe_summary(summary, described, services)
    summary.dry_run = dry_run
    heads, head_problems = sheet.letterheads(services.settings, _logo_folders(services))
    if head_problems:
        raise InputErrors(head_problems, what="Agency and Clients tabs")
    drafts = heads.apply(result.drafts)  # the documents' sender and bill-to; not part of what is invoiced
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
        summary.measure(calls, ai_requests=described.usage.requests)
        sheet.log_run(summary, "partial", f"{len(exc.created)} created", errors=str(exc))
        sheet.commit()
        raise
    # Only now, after the accounting system confirmed, do the rows get their invoice numbers, and the milestones
    # billed the invoice that billed them (so they are never billed again).
    sheet.mark_invoiced(created, system)
    _mark_milestones(sheet, result, created)
    summary.add_created(created)
    docs = {str(Path(c.document).parent) for c in created if c.document}
    summary.documents = docs.pop() if len(docs) == 1 else ""
    summary.seconds = time.perf_counter() - started
    summary.measure(calls, ai_requests=described.usage.requests)
    sheet.log_run(
        summary,
        "ok",
        f"{summary.created} created, {summary.existing} already existed: {summary.totals_text()}",
    )
    # the rows as this run leaves them: what it just invoiced is no longer approved time waiting for an invoice
    number = {ref: c.number for c in created for ref in c.entry_refs}
    now = [r.model_copy(update={"invoice": number[r.entry.ref]}) if r.entry.ref in number else r for r in rows]
    _dashboard(sheet, period, now)
    sheet.commit()
    return summary


def _logo_folders(services: Services) -> list[Path]:
    """Where a logo's file name is looked for: the work folder, then the demo agency's config folder."""
    from .sheet.seed import DEFAULT_CONFIG

    return [*([services.settings.workdir] if services.settings else []), DEFAULT_CONFIG]


def _mark_milestones(sheet: SheetSession, result: BillingResult, created: Sequence[CreatedInvoice]) -> None:
    numbers = {c.client: c.number for c in created}
    sheet.mark_milestones(
        {loc: numbers[client] for client, locs in result.milestones.items() if client in numbers for loc in locs}
    )
