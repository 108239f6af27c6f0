"""The narrow interfaces between the pure core and the outside world (ports).

Each port has an embedded implementation that works offline and production adapters; `config.bootstrap()`
is the one place that picks them. The core only ever sees these Protocols.

| port            | embedded                         | production                    |
| --------------- | -------------------------------- | ----------------------------- |
| TimeSource      | sources.csv_exports              | Harvest / Toggl APIs          |
| Categorizer     | categorize.chain (offline)       | categorize.claude             |
| SheetStore      | sheet.workbook (xlsx)            | sheet.gsheets (gspread)       |
| Accounting      | accounting.ledger (SQLite)       | accounting.quickbooks         |

Corrections (functions/reissue.py) need two more things of an accounting system, and nothing else: the
invoices it holds for a client and period, live and voided (`invoices_for`), and a void that keeps the
invoice, its number and its history (`void_invoice`). A new target (Xero, Stripe) implements these two
beside `check` and `create_invoices`; see docs/quickbooks.md, "Correcting an invoice".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

from .models import Category, CategoryRule, CreatedInvoice, InvoiceDraft, Period, Suggestion, TimeEntry, TimeRow

# A progress callback: (done, total, what) — long work calls it so the CLI can draw a bar.
Progress = Callable[[int, int, str], None]


def no_progress(done: int, total: int, what: str) -> None:
    return None


@dataclass(frozen=True)
class SkippedRow:
    """A source row that was not imported, and why (file, line, column named in `reason`)."""

    where: str
    reason: str


@dataclass(frozen=True)
class ImportResult:
    """What a source delivered: entries, rows skipped (only with --skip-bad-rows), and what it covers.

    `covers` lists the source names whose entries are complete for the period, so that a refresh may flag
    rows of those sources that are no longer there.
    """

    entries: tuple[TimeEntry, ...]
    skipped: tuple[SkippedRow, ...] = ()
    covers: tuple[str, ...] = ()
    descriptions: tuple[str, ...] = ()  # e.g. "october_harvest.csv: Harvest detailed export, 412 rows"
    # An incremental fetch (functions/sources/sync.py): the sources that sent only what changed (their other
    # rows are unchanged, not gone), the entry refs the source says were deleted, the watermarks to keep.
    incremental: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    marks: tuple[SyncMark, ...] = ()
    failures: tuple[str, ...] = ()  # a source of several that could not be read, as a sentence; the others landed
    milestones: tuple[SourceMilestone, ...] = ()  # milestones the source reports (Asana), for the Rules tab


@dataclass(frozen=True)
class SourceMilestone:
    """A milestone in the tracker (an Asana task with resource_subtype=milestone) and whether it is done."""

    source: str
    gid: str
    name: str
    completed: bool
    completed_on: date | None = None


@dataclass(frozen=True)
class SyncMark:
    """Where a source's last successful sync of a month stands (a row of the Sync tab).

    `watermark` is when that sync started (UTC, ISO 8601): the next one asks for what changed since a little
    before it (the overlap window). `state` is the source's small cache (JSON), e.g. Harvest's web address.
    """

    source: str
    period: str
    watermark: str
    full_sync: str = ""  # when the last full sync of the month started
    state: str = ""


@runtime_checkable
class TimeSource(Protocol):
    def fetch(self, period: Period, progress: Progress = no_progress) -> ImportResult: ...


@runtime_checkable
class IncrementalSource(Protocol):
    """A source that can send only what changed since a moment (`since` None: everything, a full fetch).

    `state` is what it cached at its last sync (the Sync tab's State cell, parsed); it hands its new state
    back in `ImportResult.marks` (watermarks are stamped by functions/sources/sync.py)."""

    name: str

    def fetch(self, period: Period, progress: Progress = no_progress) -> ImportResult: ...

    def fetch_changes(
        self, period: Period, since: datetime | None, state: Mapping[str, Any], progress: Progress = no_progress
    ) -> ImportResult: ...


@dataclass(frozen=True)
class CategorizeContext:
    """What a categorizer may use: the allowed categories, the Rules tab, and the Time tab's history."""

    categories: tuple[Category, ...]
    rules: tuple[CategoryRule, ...] = ()
    history: tuple[TimeRow, ...] = ()
    # long stages (Claude's requests) report their counts here: the CLI's bars, the Cloud Functions' logs
    progress: Progress = field(default=no_progress, compare=False, repr=False)


@dataclass
class CategorizeReport:
    """What a categorizer run did, for the Runs tab (counts per source; AI usage filled by the Claude one)."""

    by_source: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    estimated_cost: str = ""
    notes: list[str] = field(default_factory=list)  # what people should look at: they become warnings
    info: list[str] = field(default_factory=list)  # what the stage did (Claude's usage): said, not a warning


@runtime_checkable
class Categorizer(Protocol):
    def suggest(
        self, entries: Sequence[TimeEntry], ctx: CategorizeContext, report: CategorizeReport
    ) -> dict[str, Suggestion]:
        """Suggestions by entry ref. An entry it cannot place is simply absent (the next stage tries)."""
        ...


Cell = Any  # str | Decimal | int | float | bool | date | datetime | None


@dataclass(frozen=True)
class CellBlock:
    """A rectangle of values to write at (row, col), both 1-based, into a tab."""

    tab: str
    row: int
    col: int
    values: list[list[Cell]]


@runtime_checkable
class SheetStore(Protocol):
    """The spreadsheet: a local workbook or a Google Sheet, with the tabs of sheet_templates/."""

    def describe(self) -> str:
        """Where it is, for people: a path or a URL."""
        ...

    def ensure_layout(self, setup: bool = False) -> list[str]:
        """Create or upgrade the tabs of the contract without touching people's data; says what it changed.

        A run (`setup=False`) refuses, with InputErrors and before anything is written, a sheet whose settings
        tab was deleted or whose required header was renamed; only setup-sheet (`setup=True`) recreates a tab."""
        ...

    def read(self, tabs: Sequence[str]) -> dict[str, list[list[Cell]]]:
        """Every value of each tab, header row first, as one read."""
        ...

    def write(self, blocks: Sequence[CellBlock]) -> None:
        """Write all blocks as one operation: all land, or none (a retry completes it)."""
        ...


@runtime_checkable
class Accounting(Protocol):
    """Where invoices are created: the local ledger or QuickBooks Online. The source of truth for them."""

    def describe(self) -> str: ...

    def check(self, drafts: Sequence[InvoiceDraft], create_missing: bool = False) -> list[str]:
        """Everything that would stop creation (unmapped customers, items, tax codes), all at once."""
        ...

    def create_invoices(
        self,
        drafts: Sequence[InvoiceDraft],
        entries: Mapping[str, TimeEntry],
        progress: Progress = no_progress,
    ) -> list[CreatedInvoice]:
        """Create each draft exactly once; a draft whose (client, period) exists with the same contents
        comes back with status "existing"; different contents raise ConflictError (naming the client).

        `entries` maps every entry ref on the drafts' lines to its entry, for the time detail (documents,
        attachments)."""
        ...

    def invoices_for(self, draft: InvoiceDraft) -> list[InvoiceRecord]:
        """Every invoice the system holds for the draft's client and period, live and voided, oldest first
        (the draft names the customer; its contents do not matter)."""
        ...

    def void_invoice(self, record: InvoiceRecord, replaced_by: str = "") -> InvoiceRecord:
        """Void the invoice (never delete it: it keeps its number, with nothing left to pay) and, when
        `replaced_by` is given, record that invoice number as its replacement. Idempotent: voiding a voided
        invoice changes nothing but the link. Refuses (ConflictError) an invoice that is paid in part or
        in full. Returns the invoice as it is now."""
        ...


@dataclass(frozen=True)
class InvoiceRecord:
    """An invoice as the accounting system holds it now, for corrections.

    `paid` says why it counts as paid ("a payment is linked to it", "1,000.00 of 1,500.00 is still
    owed"), blank when nothing was paid; `replaced_by` / `replaces` are the invoice numbers the system
    recorded as the link between a voided invoice and its correction, blank where it records none."""

    number: str
    external_id: str
    client: str
    period: str
    key: str
    total: Decimal
    status: Literal["live", "void"]
    paid: str = ""
    replaced_by: str = ""
    replaces: str = ""
    memo: str = ""

    @property
    def live(self) -> bool:
        return self.status == "live"
