"""The demo: the sample agency's September (as history) and October billed end to end, with this module
acting as the ops manager in between (fixing the categories the suggestions got wrong, ticking Approved).

    result = run_demo(Settings(workdir=Path("invoicing-demo")))
    result.created.created  # 25 the first time, 0 on every run after it
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import pipeline
from .config import Services, Settings, bootstrap, csv_source
from .models import Period
from .money import round_money
from .ports import Progress, no_progress
from .sheet.config_tabs import parse_book
from .sheet.contract import HeaderMap, load_contract
from .sheet.session import CONFIG_TABS, SheetSession
from .summaries import CreateSummary, InvoiceSummary, PreviewSummary, RefreshSummary, totals
from .values import parse_decimal, text

SAMPLE = Path(__file__).parent / "sample"
DEMO_PERIOD = "2026-10"


@dataclass(frozen=True)
class DemoResult:
    period: Period
    services: Services
    history: CreateSummary  # last month's invoices: created by this run, or already in the ledger
    refreshed: RefreshSummary
    review: dict[str, int]
    previewed: PreviewSummary
    created: CreateSummary  # this month's invoices: created by this run, or already in the ledger


def run_demo(settings: Settings, progress: Progress = no_progress) -> DemoResult:
    """Bill last month first, as the agency did (its invoices exist, its corrections teach the categorizer,
    retainer rollover and the hours-spike check have a month to compare with), then this month."""
    period = Period.parse(DEMO_PERIOD)
    previous = period.previous()
    labels = sample_labels()
    history = [p for p in sorted((SAMPLE / "history").glob("*.csv")) if "labels" not in p.name]
    services = bootstrap(settings, source=csv_source(history))
    progress(1, 5, f"{previous.label()}: refresh, review and invoice last month")
    pipeline.refresh(services, previous, config_dir=SAMPLE / "config")
    review_as_person(services, previous, labels)
    last_month = pipeline.create_invoices(services, previous)
    services = bootstrap(settings, source=csv_source(sorted((SAMPLE / "exports").glob("*.csv"))))
    progress(2, 5, f"{period.label()}: refresh the sample agency's exports")
    refreshed = pipeline.refresh(services, period, config_dir=SAMPLE / "config")
    progress(3, 5, "review: fixing categories and approving, as the ops manager would")
    review = review_as_person(services, period, labels)
    progress(4, 5, "preview")
    previewed = pipeline.preview(services, period)
    progress(5, 5, "create invoices")
    created = pipeline.create_invoices(services, period)
    listed = SheetSession(services.sheet, ["Invoices"])
    return DemoResult(
        period=period,
        services=services,
        history=with_earlier(last_month, invoices_listed(listed, previous)),
        refreshed=refreshed,
        review=review,
        previewed=previewed,
        created=with_earlier(created, invoices_listed(listed, period)),
    )


def invoices_listed(sheet: SheetSession, period: Period) -> list[InvoiceSummary]:
    """The invoices of `period` the Invoices tab lists (what an earlier run created), as `existing`."""
    rows = sheet.tables.get("Invoices") or []
    if len(rows) < 2:
        return []
    hm = HeaderMap(load_contract().tab("Invoices"), rows[0])
    out: list[InvoiceSummary] = []
    for r in rows[1:]:
        if text(hm.get(r, "period")) != str(period) or not text(hm.get(r, "number")):
            continue
        currency = text(hm.get(r, "currency"))
        out.append(
            InvoiceSummary(
                number=text(hm.get(r, "number")),
                client=text(hm.get(r, "client")),
                currency=currency,
                total=round_money(parse_decimal(hm.get(r, "total")) or Decimal("0"), currency),
                lines=int(parse_decimal(hm.get(r, "lines")) or 0),
                entries=int(parse_decimal(hm.get(r, "entries")) or 0),
                status="existing",
                link=text(hm.get(r, "link")),
            )
        )
    return out


def with_earlier(run: CreateSummary, listed: list[InvoiceSummary]) -> CreateSummary:
    """A create-invoices summary completed with the period's invoices an earlier run created, so that a
    re-run reports what the ledger holds (25 invoices, 25 already existed), not only what this run did."""
    done = {i.number for i in run.invoices}
    earlier = [i for i in listed if i.number not in done]
    if not earlier:
        return run
    invoices = [*run.invoices, *earlier]
    return run.model_copy(
        update={"invoices": invoices, "existing": run.existing + len(earlier), "totals": totals(invoices)}
    )


def demo_payload(result: DemoResult, settings: Settings) -> dict[str, Any]:
    """The demo's `--json` answer."""
    s = result.services
    return {
        "ok": True,
        "period": str(result.period),
        "workbook": s.sheet.describe(),
        "accounting": s.accounting.describe(),
        **(
            {"ledger": str(settings.ledger_path), "documents": str(settings.documents_dir)}
            if settings.accounting == "ledger"
            else {}
        ),
        "history": {
            "period": str(result.period.previous()),
            "created": result.history.created,
            "existing": result.history.existing,
        },
        "refresh": {
            k: result.refreshed.as_json()[k]
            for k in ("imported", "new", "updated", "unchanged", "suggestions", "accuracy")
        },
        "review": result.review,
        "preview": {
            "invoices": len(result.previewed.invoices),
            "held": result.previewed.held,
            "warnings": len(result.previewed.warnings),
        },
        "invoices": [i.model_dump(mode="json") for i in result.created.invoices],
        "totals": {k: str(v) for k, v in result.created.totals.items()},
        "created": result.created.created,
        "existing": result.created.existing,
    }


def review_as_person(services: Services, period: Period, labels: Mapping[str, str] | None = None) -> dict[str, int]:
    """What the ops manager does in the sheet: fix the categories the suggestions got wrong (from `labels`,
    entry ref -> the right category), then tick Approved on every billable row of the period. Writes only
    review cells, like a person."""
    sheet = SheetSession(services.sheet, ["Time", "Categories"])
    book, _ = parse_book({name: sheet.tables.get(name) or [] for name in CONFIG_TABS})
    billable_category = {c.name: c.billable for c in book.categories}
    changes: dict[int, dict[str, object]] = {}
    fixed = approved = 0
    for row in sheet.time().rows:
        if not period.contains(row.entry.date) or row.invoiced or row.approved:
            continue
        category = row.category
        want = (labels or {}).get(row.entry.ref)
        if want and want != category:
            changes.setdefault(row.row, {})["category"] = want
            category = want
            fixed += 1
        if row.entry.billable and billable_category.get(category, False):
            changes.setdefault(row.row, {})["approved"] = True
            approved += 1
    sheet.set_review(changes)
    sheet.commit()
    return {"categories_fixed": fixed, "approved": approved}


def sample_labels() -> dict[str, str]:
    """The sample's true categories (what a careful person would pick), by entry ref, both months."""
    labels: dict[str, str] = {}
    for path in (SAMPLE / "labels.csv", SAMPLE / "history" / "september_labels.csv"):
        with path.open(newline="", encoding="utf-8") as f:
            labels.update({f"{r['source']}:{r['entry_id']}": r["category"] for r in csv.DictReader(f)})
    return labels
