"""What each job reports: the summaries the CLI prints, `--json` returns and the Cloud Functions answer.

>>> InvoiceSummary(number=None, client="Acme", currency="USD", total=Decimal("10.00"), lines=1, entries=2,
...                status="draft").total
Decimal('10.00')
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from .billing.engine import BillingResult
from .models import CreatedInvoice
from .transport import calls_since


class Summary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str
    period: str
    run_id: str
    started: str = ""  # ISO time the run began (UTC)
    sheet: str
    seconds: float = 0.0
    warnings: list[str] = Field(default_factory=list)
    peak_memory_mb: float = 0.0  # the process's peak, for the function's memory setting
    api_calls: dict[str, int] = Field(default_factory=dict)  # requests sent per service in this run
    ai_input_tokens: int = 0
    ai_output_tokens: int = 0
    ai_cost: Decimal = Decimal("0")  # USD at list prices

    @field_serializer("seconds")
    def _rounded(self, seconds: float) -> float:
        return round(seconds, 2)  # 0.16, not 0.15662235100000999

    def measure(self, calls_before: Mapping[str, int], ai_requests: int = 0) -> None:
        """What the run cost, for the Runs tab and `python main.py cost`: the process's peak memory and the
        requests sent per service since `calls_before` (Claude's counted by the categorizer's report)."""
        self.peak_memory_mb = peak_memory_mb()
        self.api_calls = calls_since(calls_before)
        if ai_requests:
            self.api_calls["Claude"] = self.api_calls.get("Claude", 0) + ai_requests

    def as_json(self) -> dict[str, Any]:
        """The summary as JSON, `ok` first (a summary is a run that finished)."""
        return {"ok": True, **self.model_dump(mode="json")}


def peak_memory_mb() -> float:
    """The process's peak resident memory in MB (0 where the platform does not say, as on Windows)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def run_id(clock: Callable[[], datetime]) -> dict[str, str]:
    """The run's id and start time, for the summary and the Runs tab."""
    now = clock().replace(microsecond=0)
    return {"run_id": now.strftime("%Y%m%d-%H%M%S"), "started": now.isoformat()}


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
    source_failures: list[str] = Field(default_factory=list)  # a source of several that could not be read
    milestones: list[str] = Field(default_factory=list)  # Rules milestones ticked from the tracker (Asana)
    suggestions: dict[str, int] = Field(default_factory=dict)
    accuracy: dict[str, str] = Field(default_factory=dict)
    accuracy_by_month: dict[str, str] = Field(default_factory=dict)  # YYYY-MM -> kept per source, newest first
    clients: dict[str, ClientHours] = Field(default_factory=dict)
    new_clients: list[str] = Field(default_factory=list)
    layout_changes: list[str] = Field(default_factory=list)
    ai_usage: str = ""
    ai_notes: list[str] = Field(default_factory=list)  # what Claude did this run (not warnings)


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
    ai_notes: list[str] = Field(default_factory=list)  # how the line descriptions were written (not warnings)

    def totals_text(self) -> str:
        """`12,345.00 USD, 900.00 EUR`-style: the totals per currency in one phrase."""
        return ", ".join(f"{v} {k}" for k, v in self.totals.items())

    def add_result(self, result: BillingResult, warnings: list[str]) -> None:
        """The drafts, holds and warnings of a billing result (its issues already named by cell)."""
        self.warnings = warnings + [
            str(i) + (f" [{i.client}]" if i.client and i.client not in str(i) else "")
            for i in result.issues
            if i.level != "info"
        ]
        self.held = dict(result.held)
        self.invoices = [
            InvoiceSummary(
                number=None,
                client=d.client,
                currency=d.currency,
                total=d.total,
                lines=len(d.lines),
                entries=len(d.entry_refs),
                status="draft",
            )
            for d in result.drafts
        ]
        self.totals = totals(self.invoices)

    def add_created(self, created: Iterable[CreatedInvoice]) -> None:
        """The invoices the accounting system confirmed (created now or found there), their totals and counts."""
        done = list(created)
        self.invoices = [
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
            for c in done
        ]
        self.totals = totals(self.invoices)
        self.created = sum(1 for c in done if c.status == "created")
        self.existing = sum(1 for c in done if c.status == "existing")


PreviewSummary = InvoicesSummary
CreateSummary = InvoicesSummary


def totals(invoices: Iterable[InvoiceSummary]) -> dict[str, Decimal]:
    """The sum of the invoices per currency."""
    out: dict[str, Decimal] = defaultdict(lambda: Decimal("0"))
    for inv in invoices:
        out[inv.currency] += inv.total
    return dict(sorted(out.items()))
