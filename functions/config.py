"""The one place that wires adapters to ports (`bootstrap`), from the settings in functions/settings.py.

Everything has an offline default: a local workbook, CSV exports, the offline categorizer and the SQLite
ledger in a work directory. Production adapters are chosen by environment variables:

    TIME_SOURCE=harvest|toggl|jira|asana, or several: harvest,jira (HARVEST_* / TOGGL_* / JIRA_* / ASANA_*:
                see docs/harvest.md, docs/toggl.md, docs/jira.md, docs/asana.md)
    SHEET=google        (GOOGLE_SHEET_ID, credentials: see docs/google.md)
    ACCOUNTING=quickbooks (QBO_*: see docs/quickbooks.md)
    ACCOUNTING=stripe   (STRIPE_*: see docs/stripe.md)
    ACCOUNTING=xero     (XERO_*: see docs/xero.md)
    AI_ENABLED=true + ANTHROPIC_API_KEY  (Claude in the categorizer chain: see docs/ai-categorization.md)

Adapters are imported only when chosen, and each takes its own section of the settings
(`HarvestSource.from_settings(settings.harvest)`), so the offline path needs none of their set-up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .locks import store_lock
from .ports import Accounting, Categorizer, SheetStore, TimeSource
from .settings import Settings  # also imported from here by callers of bootstrap(Settings(...))


@dataclass
class Services:
    """The adapters one run uses. Tests and the CLI build it with `bootstrap` and may replace any part.

    The categorizer is built the first time it is used: only refresh categorizes, so preview and
    create_invoices never import the Claude stage (anthropic) or read its settings.
    """

    sheet: SheetStore
    source: TimeSource | None
    accounting: Accounting
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    lock: Callable[[str], AbstractContextManager[Any]] | None = None
    settings: Settings | None = None
    build_categorizer: Callable[[], Categorizer] | None = field(default=None, repr=False)
    _categorizer: Categorizer | None = field(default=None, init=False, repr=False)
    # The Claude writer of client-facing line descriptions (functions/describe), or None for the offline one.
    build_describer: Callable[[], Any] | None = field(default=None, repr=False)

    @property
    def categorizer(self) -> Categorizer:
        if self._categorizer is None:
            if self.build_categorizer is None:
                raise ValueError("Services has no categorizer: pass categorizer= or build_categorizer=.")
            self._categorizer = self.build_categorizer()
        return self._categorizer

    @categorizer.setter
    def categorizer(self, value: Categorizer) -> None:
        self._categorizer = value


def build_categorizer(settings: Settings) -> Categorizer:
    """rules -> memory -> (Claude, when enabled and keyed) -> offline classifier."""
    from .categorize.chain import Chain
    from .categorize.classifier import OfflineClassifier
    from .categorize.memory import MemoryCategorizer
    from .categorize.rules import RulesCategorizer

    stages: list[Categorizer] = [RulesCategorizer(), MemoryCategorizer()]
    if settings.ai_enabled:
        claude_settings = settings.claude  # read (and checked) only here, even without a key
        if claude_settings.active:
            from .categorize.claude import ClaudeCategorizer

            claude = ClaudeCategorizer.from_settings(claude_settings)
            if claude is not None:
                stages.append(claude)
    stages.append(OfflineClassifier())
    return Chain(stages)


def build_describer(settings: Settings) -> Any:
    """Claude for the line descriptions when AI_ENABLED, AI_DESCRIBE and a key say so; else None (offline)."""
    if not settings.ai_enabled:
        return None
    claude = settings.claude
    if not (claude.active and claude.ai_describe):
        return None
    from .describe.claude import ClaudeWriter

    return ClaudeWriter.from_settings(claude)


def build_sheet(settings: Settings) -> SheetStore:
    if settings.sheet == "google":
        from .sheet.gsheets import GoogleSheet

        return GoogleSheet.from_settings(settings.google)
    from .sheet.workbook import LocalWorkbook

    return LocalWorkbook(settings.workbook_path)


def build_accounting(settings: Settings, sheet: SheetStore | None = None) -> Accounting:
    if settings.accounting == "quickbooks":
        from .accounting.quickbooks import QuickBooksAccounting

        qbo = settings.quickbooks
        if not qbo.sheet_url and sheet is not None:  # each invoice's PrivateNote links back to the sheet
            qbo = qbo.model_copy(update={"sheet_url": sheet.describe()})
        return QuickBooksAccounting.from_settings(qbo)
    if settings.accounting == "stripe":
        from .accounting.stripe_accounting import StripeAccounting

        stripe = settings.stripe
        if not stripe.sheet_url and sheet is not None:  # each invoice's metadata links back to the sheet
            stripe = stripe.model_copy(update={"sheet_url": sheet.describe()})
        return StripeAccounting.from_settings(stripe)
    if settings.accounting == "xero":
        from .accounting.xero_accounting import XeroAccounting

        xero = settings.xero
        if not xero.sheet_url and sheet is not None:  # each invoice's Url links back to the sheet
            xero = xero.model_copy(update={"sheet_url": sheet.describe()})
        return XeroAccounting.from_settings(xero)
    from .accounting.ledger import Ledger

    return Ledger(
        settings.ledger_path, settings.documents_dir, prefix=settings.invoice_prefix, agency=settings.agency_name
    )


def build_source(
    settings: Settings, name: str | Sequence[str] | None = None, skip_bad_records: bool = False
) -> TimeSource | None:
    """The tracker API(s) refresh pulls from (TIME_SOURCE, or `name`: one or several); None for csv (files come
    per run). Several sources come back as one (sources/sync.MultiSource), each entry keyed by its own source."""
    names = ([name] if isinstance(name, str) else list(name or [])) or settings.time_sources
    names = list(dict.fromkeys(n for n in names if n and n != "csv"))
    if len(names) > 1:
        from .sources.sync import MultiSource

        built = [(n, build_source(settings, n, skip_bad_records)) for n in names]
        return MultiSource([(n, s) for n, s in built if s is not None])
    if not names:
        return None
    name = names[0]
    if name == "jira":
        from .sources.jira import JiraSource

        jira = settings.jira
        return JiraSource.from_settings(
            jira.model_copy(update={"skip_bad_records": True}) if skip_bad_records else jira
        )
    if name == "asana":
        from .sources.asana import AsanaSource

        asana = settings.asana
        return AsanaSource.from_settings(
            asana.model_copy(update={"skip_bad_records": True}) if skip_bad_records else asana
        )
    if name == "harvest":
        from .sources.harvest import HarvestSource

        return HarvestSource.from_settings(settings.harvest)
    if name == "toggl":
        from .sources.toggl import TogglSource

        return TogglSource.from_settings(settings.toggl)
    return None


def csv_source(paths: Sequence[Path], skip_bad_rows: bool = False) -> TimeSource:
    from .sources.csv_exports import CsvSource

    return CsvSource(list(paths), skip_bad_rows=skip_bad_rows)


def bootstrap(settings: Settings | None = None, job: str | None = None, **overrides: Any) -> Services:
    """Wire the adapters the settings choose; keyword overrides replace any of them (tests, the demo).

    Only what a run touches is built: the categorizer waits for its first use (see `Services`). `job`
    ("refresh", "preview", ...) says which run this is, so that the settings of what it will build later
    are checked now, before anything is written: a mistyped AI_BATCH_SIZE stops a refresh at the start.
    """
    settings = settings or Settings()
    if job == "refresh" and settings.ai_enabled and "categorizer" not in overrides:
        settings.claude  # noqa: B018 - reads and checks the section; imports nothing
    parts: dict[str, Any] = {"settings": settings}
    parts["sheet"] = overrides.pop("sheet") if "sheet" in overrides else build_sheet(settings)
    parts["accounting"] = (
        overrides.pop("accounting") if "accounting" in overrides else build_accounting(settings, parts["sheet"])
    )
    parts["source"] = overrides.pop("source", None)
    # one lock for every job that writes, the same whichever entry point runs it (functions/locks.py)
    parts["lock"] = overrides.pop("lock", None) or store_lock(parts["sheet"], settings.workdir)
    categorizer = overrides.pop("categorizer", None)
    parts["build_categorizer"] = overrides.pop("build_categorizer", lambda: build_categorizer(settings))
    parts["build_describer"] = overrides.pop("build_describer", lambda: build_describer(settings))
    parts.update(overrides)
    services = Services(**parts)
    if categorizer is not None:
        services.categorizer = categorizer
    return services
