"""The service layer: refresh, preview and create_invoices. The CLI and the Cloud Functions call these.

Each function reads everything it needs from the sheet in one read, computes with the pure core, and
writes in one write. If anything is wrong it raises before writing, so a run that cannot finish changes
nothing. Invoices are marked in the sheet only after the accounting system confirmed them.

    services = bootstrap(Settings(workdir=Path("work")), source=csv_source([Path("oct.csv")]))
    refresh(services, Period.parse("2026-10"))
"""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .billing.book import RuleBook, parse_book
from .billing.engine import BillingResult, compute_invoices
from .billing.preview import preview_rows
from .categorize.chain import accuracy_by_source
from .config import Services
from .errors import InputError, InputErrors, PartialCreateError
from .models import CreatedInvoice, Period, TimeEntry, TimeRow
from .ports import CategorizeContext, CategorizeReport, Cell, CellBlock, Progress, no_progress
from .sheet.cells import is_blank, parse_bool, parse_date, parse_decimal, text
from .sheet.contract import HeaderMap, load_contract
from .sheet.merge import merge
from .sheet.tables import OUTPUT_KEYS, SOURCE_KEYS, parse_time_tab, row_values

CONFIG_TABS = ("Clients", "Rates", "Rules", "Categories")
DEFAULT_CONFIG = Path(__file__).parent / "sample" / "config"


# --- summaries ----------------------------------------------------------------------------------------

class Summary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str
    period: str
    run_id: str
    started: str = ""  # ISO time the run began (UTC)
    sheet: str
    seconds: float = 0.0
    warnings: list[str] = Field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ClientHours(BaseModel):
    entries: int
    billable_hours: Decimal
    non_billable_hours: Decimal


class RefreshSummary(Summary):
    sources: list[str] = Field(default_factory=list)
    imported: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    held_changes: int = 0
    gone: int = 0
    skipped_rows: list[str] = Field(default_factory=list)
    suggestions: dict[str, int] = Field(default_factory=dict)
    accuracy: dict[str, str] = Field(default_factory=dict)
    clients: dict[str, ClientHours] = Field(default_factory=dict)
    new_clients: list[str] = Field(default_factory=list)
    layout_changes: list[str] = Field(default_factory=list)
    ai_usage: str = ""


class InvoiceSummary(BaseModel):
    number: str | None  # None in a preview: not created yet
    client: str
    currency: str
    total: Decimal
    lines: int
    entries: int
    status: str  # draft | created | existing
    link: str = ""
    document: str = ""


class InvoicesSummary(Summary):
    invoices: list[InvoiceSummary] = Field(default_factory=list)
    held: dict[str, str] = Field(default_factory=dict)
    totals: dict[str, Decimal] = Field(default_factory=dict)  # per currency
    created: int = 0
    existing: int = 0
    dry_run: bool = False
    accounting: str = ""
    documents: str = ""


PreviewSummary = InvoicesSummary
CreateSummary = InvoicesSummary


# --- helpers --------------------------------------------------------------------------------------------

def _run_id(services: Services) -> dict[str, str]:
    """The run's id and start time, for the summary and the Runs tab."""
    now = services.clock().replace(microsecond=0)
    return {"run_id": now.strftime("%Y%m%d-%H%M%S"), "started": now.isoformat()}


def canonical(value: Cell) -> str:
    """One text per value, so that 1.5 (a float from xlsx), "1.50" and Decimal("1.5") compare equal."""
    if is_blank(value):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float, Decimal)):
        d = parse_decimal(value)
        return format(d.normalize(), "f") if d is not None else ""
    if isinstance(value, (datetime, date)):
        return text(value)
    return str(value)


def changed_cell_blocks(tab: str, changes: Mapping[tuple[int, int], Cell]) -> list[CellBlock]:
    """Group single-cell changes {(row, col): value} (1-based) into vertical runs, one block per run."""
    by_col: dict[int, list[int]] = defaultdict(list)
    for (r, c) in changes:
        by_col[c].append(r)
    blocks = []
    for c, rows in sorted(by_col.items()):
        rows.sort()
        start = prev = rows[0]
        for r in rows[1:] + [None]:  # type: ignore[list-item]
            if r is not None and r == prev + 1:
                prev = r
                continue
            blocks.append(CellBlock(tab, start, c, [[changes[(x, c)]] for x in range(start, prev + 1)]))
            if r is not None:
                start = prev = r
    return blocks


def _seed_blocks(tables: dict[str, list[list[Cell]]], names: Iterable[str], config_dir: Path) -> list[CellBlock]:
    """Fill empty config tabs from a folder of CSVs (embedded defaults, or the demo's), by header."""
    blocks = []
    contract = load_contract()
    for name in names:
        rows = tables.get(name) or []
        if len(rows) > 1 and any(not is_blank(v) for r in rows[1:] for v in r):
            continue  # people's data: never touched
        path = config_dir / f"{name}.csv"
        if not path.exists():
            continue
        with path.open(newline="", encoding="utf-8") as f:
            seed = list(csv.reader(f))
        if len(seed) < 2:
            continue
        tab = contract.tab(name)
        hm = HeaderMap(tab, rows[0] if rows else tab.headers)
        seed_hm = HeaderMap(tab, seed[0])
        values = [row_values(hm, {k: _seed_value(tab.column(k).type, seed_hm.get(r, k)) for k in seed_hm.index})
                  for r in seed[1:]]
        blocks.append(CellBlock(name, 2, 1, values))
        tables[name] = [rows[0] if rows else contract.tab(name).headers] + values
    return blocks


def _seed_value(kind: str, v: object) -> Cell:
    """A CSV cell as the sheet should hold it: numbers as numbers, dates as dates, TRUE/FALSE as booleans."""
    s = "" if v is None else str(v).strip()
    if not s:
        return None
    try:
        if kind in ("money", "hours", "number", "percent"):
            return parse_decimal(s)
        if kind == "date":
            return parse_date(s)
        if kind == "bool":
            return parse_bool(s)
    except ValueError:
        pass  # left as typed: validation reports it with its cell, like anything a person types
    return s


def _book(tables: dict[str, list[list[Cell]]], stop_on: Sequence[str] = CONFIG_TABS) -> tuple[RuleBook, list[str]]:
    """Parse the config tabs. Errors in the tabs named by `stop_on` stop the run; others become warnings."""
    book, errors = parse_book({name: tables.get(name) or [] for name in CONFIG_TABS})
    fatal = [e for e in errors if e.location is None or e.location.tab in stop_on]
    if fatal:
        raise InputErrors(fatal, what="settings tabs")
    return book, [str(e) for e in errors]


def _rows(tables: dict[str, list[list[Cell]]], name: str) -> list[list[Cell]]:
    """A tab's rows as read, with its header row even when the tab was empty."""
    rows = tables.setdefault(name, [])
    if not rows:
        rows.append(load_contract().tab(name).headers)
    return rows


def _append_row(tab: str, rows: list[list[Cell]], values: list[Cell]) -> CellBlock:
    block = CellBlock(tab, max(len(rows), 1) + 1, 1, [values])
    rows.append(values)
    return block


def _run_row(tables: dict[str, list[list[Cell]]], summary: Summary, status: str, detail: str,
             errors: str = "", ai_usage: str = "") -> CellBlock:
    rows = _rows(tables, "Runs")
    hm = HeaderMap(load_contract().tab("Runs"), rows[0])
    return _append_row("Runs", rows, row_values(hm, {
        "run_id": summary.run_id, "command": summary.command, "period": summary.period,
        "started": summary.started, "seconds": round(summary.seconds, 2), "status": status,
        "summary": detail, "errors": errors, "ai_usage": ai_usage}))


# --- refresh --------------------------------------------------------------------------------------------

def refresh(services: Services, period: Period, progress: Progress = no_progress,
            config_dir: Path | None = None) -> RefreshSummary:
    """Pull entries from the source, suggest categories, and merge them into the Time tab."""
    started = time.perf_counter()
    summary = RefreshSummary(command="refresh", period=str(period), **_run_id(services),
                             sheet=services.sheet.describe())
    summary.layout_changes = services.sheet.ensure_layout()
    progress(1, 5, "reading the sheet")
    tables = services.sheet.read(["Time", *CONFIG_TABS, "Runs"])
    blocks = _seed_blocks(tables, ["Categories"] if config_dir is None else CONFIG_TABS,
                          config_dir or DEFAULT_CONFIG)
    book, warnings = _book(tables, stop_on=("Rules", "Categories"))
    summary.warnings += warnings

    table = parse_time_tab(tables["Time"] or [load_contract().tab("Time").headers])
    header_errors = [e for e in table.errors if e.location and e.location.cell == "1:1"]
    if header_errors:
        raise InputErrors(header_errors, what="Time tab")
    summary.warnings += [f"{e} (row kept as it is)" for e in table.errors]
    summary.warnings += [f"{cell}: row has no Source / Entry ID, so refresh leaves it alone" for cell in table.ignored]

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
    needs += [r.entry for r in table.rows if not r.suggested_category and not (r.approved or r.invoiced)
              and r.entry.ref not in {e.ref for e in needs}]
    report = CategorizeReport()
    ctx = CategorizeContext(categories=book.categories, rules=book.category_rules, history=tuple(table.rows))
    suggestions = services.categorizer.suggest(needs, ctx, report) if needs else {}
    summary.suggestions = dict(report.by_source)
    summary.warnings += report.notes
    if report.requests:
        summary.ai_usage = (f"{report.requests} requests, {report.input_tokens} input + {report.output_tokens} "
                            f"output tokens ({report.cache_read_tokens} cached), ~{report.estimated_cost}")
    summary.accuracy = {src: f"{kept}/{made} ({kept / made:.0%})"
                        for src, (kept, made) in accuracy_by_source(table.rows).items()}

    progress(4, 5, "merging")
    merged = merge(table.rows, incoming, suggestions, covers=covers, period=period)
    hm = table.header
    changes: dict[tuple[int, int], Cell] = {}
    raw = tables["Time"]
    owned = set(SOURCE_KEYS) | set(OUTPUT_KEYS)
    for row_number, cells in merged.updates.items():
        current = raw[row_number - 1] if row_number - 1 < len(raw) else []
        for key, value in cells.items():
            assert key in owned, f"merge tried to write the review column {key}"  # the core invariant
            i = hm.index.get(key)
            if i is None:
                continue
            old = current[i] if i < len(current) else None
            if canonical(old) != canonical(value):
                changes[(row_number, i + 1)] = value
    blocks += changed_cell_blocks("Time", changes)
    if merged.appends:
        first = max(len(raw), 1) + 1
        blocks.append(CellBlock("Time", first, 1, [row_values(hm, cells) for cells in merged.appends]))
    s = merged.stats
    summary.new, summary.updated, summary.unchanged = s.new, s.updated, s.unchanged
    summary.held_changes, summary.gone = s.held_changes, s.gone
    summary.clients = {c: ClientHours(entries=v.entries, billable_hours=v.billable_hours,
                                      non_billable_hours=v.non_billable_hours)
                       for c, v in sorted(merged.per_client.items())}
    blocks += _new_client_blocks(tables, incoming, summary)

    summary.seconds = time.perf_counter() - started
    detail = (f"{summary.imported} imported: {s.new} new, {s.updated} updated, {s.unchanged} unchanged, "
              f"{s.held_changes} changes held for review, {s.gone} gone from the source")
    if summary.skipped_rows:
        detail += f"; {len(summary.skipped_rows)} bad rows skipped: " + "; ".join(summary.skipped_rows[:20])
    if summary.suggestions:
        detail += "; suggestions " + ", ".join(f"{k} {v}" for k, v in sorted(summary.suggestions.items()))
    if summary.accuracy:
        detail += "; kept by reviewers " + ", ".join(f"{k} {v}" for k, v in summary.accuracy.items())
    blocks.append(_run_row(tables, summary, "ok", detail, ai_usage=summary.ai_usage))
    progress(5, 5, "writing the sheet")
    services.sheet.write(blocks)
    return summary


def _new_client_blocks(tables: dict[str, list[list[Cell]]], entries: Iterable[TimeEntry],
                       summary: RefreshSummary) -> list[CellBlock]:
    """Clients the Clients tab does not know yet get a row, so people only have to fill in the terms."""
    tab = load_contract().tab("Clients")
    rows = _rows(tables, "Clients")
    hm = HeaderMap(tab, rows[0])
    known = {text(hm.get(r, "client")).casefold() for r in rows[1:]}
    first_seen: dict[str, TimeEntry] = {}
    for e in entries:
        if not e.client.strip():  # time without a client (internal work): nothing to bill, no Clients row
            continue
        if e.client.casefold() not in known and e.client.casefold() not in first_seen:
            first_seen[e.client.casefold()] = e
    blocks = []
    for e in sorted(first_seen.values(), key=lambda e: e.client.casefold()):
        cells: dict[str, Cell] = {"client": e.client, "currency": e.currency or ""}
        if "active" in hm.index:
            cells["active"] = True
        blocks.append(_append_row("Clients", rows, row_values(hm, cells)))
        summary.new_clients.append(e.client)
    return blocks


# --- preview and create ---------------------------------------------------------------------------------

def _compute(services: Services, period: Period, tables: dict[str, list[list[Cell]]]
             ) -> tuple[BillingResult, list[TimeRow], list[str]]:
    book, warnings = _book(tables)
    table = parse_time_tab(tables.get("Time") or [load_contract().tab("Time").headers])
    in_period = {r.row for r in table.rows if period.contains(r.entry.date)}
    blocking = [e for e in table.errors
                if e.location is None or e.location.cell == "1:1" or _row_of(e) in in_period or _row_of(e) == 0]
    if blocking:
        raise InputErrors(blocking, what="Time tab")
    issue_date = services.clock().date()
    previous = _previous_totals(tables.get("Invoices") or [], period.previous())
    result = compute_invoices(table.rows, book, period, issue_date, previous_totals=previous)
    return result, table.rows, warnings


def _row_of(error: InputError) -> int:
    cell = (error.location.cell if error.location else "") or ""
    digits = "".join(ch for ch in cell if ch.isdigit())
    return int(digits) if digits else 0


def _previous_totals(rows: list[list[Cell]], period: Period) -> dict[str, Decimal]:
    if len(rows) < 2:
        return {}
    hm = HeaderMap(load_contract().tab("Invoices"), rows[0])
    out: dict[str, Decimal] = {}
    for r in rows[1:]:
        if text(hm.get(r, "period")) == str(period):
            try:
                out[text(hm.get(r, "client"))] = parse_decimal(hm.get(r, "total")) or Decimal("0")
            except ValueError:
                continue
    return out


def _invoices_summary(command: str, services: Services, period: Period, result: BillingResult,
                      warnings: list[str]) -> InvoicesSummary:
    summary = InvoicesSummary(command=command, period=str(period), **_run_id(services),
                              sheet=services.sheet.describe(), accounting=services.accounting.describe())
    summary.warnings = warnings + [str(i) + (f" [{i.client}]" if i.client and i.client not in str(i) else "")
                                   for i in result.issues if i.level != "info"]
    summary.held = dict(result.held)
    for d in result.drafts:
        summary.invoices.append(InvoiceSummary(
            number=None, client=d.client, currency=d.currency, total=d.total, lines=len(d.lines),
            entries=len(d.entry_refs), status="draft"))
    summary.totals = _totals(summary.invoices)
    return summary


def _totals(invoices: Iterable[InvoiceSummary]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(lambda: Decimal("0"))
    for inv in invoices:
        totals[inv.currency] += inv.total
    return dict(sorted(totals.items()))


def preview(services: Services, period: Period) -> PreviewSummary:
    """Compute every invoice of the period into the Preview tab, with warnings. Creates nothing."""
    started = time.perf_counter()
    services.sheet.ensure_layout()
    tables = services.sheet.read(["Time", *CONFIG_TABS, "Preview", "Invoices", "Runs"])
    result, _, warnings = _compute(services, period, tables)
    summary = _invoices_summary("preview", services, period, result, warnings)
    old = tables.get("Preview") or []
    new_rows = preview_rows(result, old)
    width = len(load_contract().tab("Preview").columns)
    blank = [[None] * width for _ in range(max(0, len(old) - 1 - len(new_rows)))]
    blocks = [CellBlock("Preview", 1, 1, [load_contract().tab("Preview").headers] + new_rows + blank)]
    summary.seconds = time.perf_counter() - started
    blocks.append(_run_row(tables, summary, "ok",
                           f"{len(result.drafts)} invoices ready, {len(result.held)} clients held: "
                           + ", ".join(f"{v} {k}" for k, v in summary.totals.items())))
    services.sheet.write(blocks)
    return summary


def create_invoices(services: Services, period: Period, dry_run: bool = False, create_missing: bool = False,
                    progress: Progress = no_progress) -> CreateSummary:
    """Create the period's invoices exactly once, then write their numbers back into the sheet."""
    lock = services.lock("create-invoices") if services.lock and not dry_run else nullcontext()
    with lock:
        return _create(services, period, dry_run, create_missing, progress)


def _create(services: Services, period: Period, dry_run: bool, create_missing: bool,
            progress: Progress) -> CreateSummary:
    started = time.perf_counter()
    services.sheet.ensure_layout()
    tables = services.sheet.read(["Time", *CONFIG_TABS, "Invoices", "Runs"])
    result, rows, warnings = _compute(services, period, tables)
    summary = _invoices_summary("create-invoices", services, period, result, warnings)
    summary.dry_run = dry_run
    drafts = list(result.drafts)
    problems = services.accounting.check(drafts, create_missing=create_missing and not dry_run)
    if problems:
        raise InputErrors([InputError(p) for p in problems], what=f"mapping to {services.accounting.describe()}")
    if dry_run or not drafts:
        summary.seconds = time.perf_counter() - started
        return summary
    entries = {r.entry.ref: r.entry for r in rows}
    try:
        created = services.accounting.create_invoices(drafts, entries, progress)
    except PartialCreateError as exc:
        # Some exist, some were refused: mark the ones that exist now, then report the rest.
        done = _write_back_blocks(tables, rows, exc.created, services.accounting.describe())
        services.sheet.write(done + [_run_row(tables, summary, "partial", f"{len(exc.created)} created",
                                              errors=str(exc))])
        raise
    # Only now, after the accounting system confirmed, do the rows get their invoice numbers.
    blocks = _write_back_blocks(tables, rows, created, services.accounting.describe())
    summary.invoices = [InvoiceSummary(
        number=c.number, client=c.client, currency=c.currency, total=c.total, lines=c.line_count,
        entries=len(c.entry_refs), status=c.status, link=c.url, document=c.document) for c in created]
    summary.totals = _totals(summary.invoices)
    summary.created = sum(1 for c in created if c.status == "created")
    summary.existing = sum(1 for c in created if c.status == "existing")
    docs = {str(Path(c.document).parent) for c in created if c.document}
    summary.documents = docs.pop() if len(docs) == 1 else ""
    summary.seconds = time.perf_counter() - started
    blocks.append(_run_row(tables, summary, "ok", f"{summary.created} created, {summary.existing} already existed: "
                           + ", ".join(f"{v} {k}" for k, v in summary.totals.items())))
    services.sheet.write(blocks)
    return summary


def _write_back_blocks(tables: dict[str, list[list[Cell]]], rows: Sequence[TimeRow],
                       created: Sequence[CreatedInvoice], system: str) -> list[CellBlock]:
    hm = HeaderMap(load_contract().tab("Time"), tables["Time"][0])
    by_ref = {r.entry.ref: r.row for r in rows}
    col = hm.index["invoice"] + 1
    changes = {(by_ref[ref], col): inv.number for inv in created for ref in inv.entry_refs if ref in by_ref}
    blocks = changed_cell_blocks("Time", changes)
    inv_tab = load_contract().tab("Invoices")
    inv_rows = _rows(tables, "Invoices")
    ihm = HeaderMap(inv_tab, inv_rows[0])
    listed = {text(ihm.get(r, "key")) for r in inv_rows[1:]}
    for inv in created:
        if inv.key in listed:
            continue
        blocks.append(_append_row("Invoices", inv_rows, row_values(ihm, {
            "number": inv.number, "client": inv.client, "period": inv.period, "currency": inv.currency,
            "total": inv.total, "lines": inv.line_count, "entries": len(inv.entry_refs), "status": inv.status,
            "system": system.split(" ")[0] if system.startswith("local") else system, "external_id": inv.external_id,
            "link": inv.url, "created_at": inv.created_at.isoformat() if inv.created_at else "", "key": inv.key})))
    return blocks


# --- the demo's "person" --------------------------------------------------------------------------------

def review_as_person(services: Services, period: Period, labels: Mapping[str, str] | None = None) -> dict[str, int]:
    """What the ops manager does in the sheet, done in the demo: fix categories the suggestions got wrong
    (from `labels`, entry ref -> the right category), then tick Approved on every billable row of the period.
    Writes only review cells, like a person."""
    tables = services.sheet.read(["Time", "Categories"])
    book, _ = parse_book({name: tables.get(name) or [] for name in CONFIG_TABS})
    billable_category = {c.name: c.billable for c in book.categories}
    table = parse_time_tab(tables["Time"])
    hm = table.header
    cat_col, ok_col = hm.index["category"] + 1, hm.index["approved"] + 1
    changes: dict[tuple[int, int], Cell] = {}
    fixed = approved = 0
    for row in table.rows:
        if not period.contains(row.entry.date) or row.invoiced or row.approved:
            continue
        category = row.category
        want = (labels or {}).get(row.entry.ref)
        if want and want != category:
            changes[(row.row, cat_col)] = want
            category = want
            fixed += 1
        if row.entry.billable and billable_category.get(category, False):
            changes[(row.row, ok_col)] = True
            approved += 1
    services.sheet.write(changed_cell_blocks("Time", changes))
    return {"categories_fixed": fixed, "approved": approved}
