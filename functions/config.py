"""Typed settings and the one place that wires adapters to ports (`bootstrap`).

Everything has an offline default: a local workbook, CSV exports, the offline categorizer and the SQLite
ledger in a work directory. Production adapters are chosen by environment variables:

    TIME_SOURCE=harvest|toggl (HARVEST_* / TOGGL_*: see docs/harvest.md, docs/toggl.md)
    SHEET=google        (GOOGLE_SHEET_ID, credentials: see docs/google.md)
    ACCOUNTING=quickbooks (QBO_*: see docs/quickbooks.md)
    AI_ENABLED=true + ANTHROPIC_API_KEY  (Claude in the categorizer chain: see docs/ai-categorization.md)

Adapters are imported only when chosen, so the offline path needs none of their set-up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from .categorize.chain import Chain
from .categorize.classifier import OfflineClassifier
from .categorize.memory import MemoryCategorizer
from .categorize.rules import RulesCategorizer
from .locks import FileLock
from .ports import Accounting, Categorizer, SheetStore, TimeSource

WORKBOOK_NAME = "invoicing.xlsx"
LEDGER_NAME = "ledger.sqlite"
DOCUMENTS_DIR = "invoices"


class Settings(BaseSettings):
    """Settings from the environment (and a `.env` file in the working directory, if present)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    workdir: Path = Path("invoicing-work")
    sheet: Literal["xlsx", "google"] = "xlsx"
    accounting: Literal["ledger", "quickbooks"] = "ledger"
    time_source: Literal["csv", "harvest", "toggl"] = "csv"  # where refresh pulls from when no --csv is given
    ai_enabled: bool = True  # Claude is used only when this is true AND an API key is set
    invoice_prefix: str = "INV-"
    agency_name: str = ""

    @property
    def workbook_path(self) -> Path:
        return self.workdir / WORKBOOK_NAME

    @property
    def ledger_path(self) -> Path:
        return self.workdir / LEDGER_NAME

    @property
    def documents_dir(self) -> Path:
        return self.workdir / DOCUMENTS_DIR


@dataclass
class Services:
    """The adapters one run uses. Tests and the CLI build it with `bootstrap` and may replace any part."""

    sheet: SheetStore
    source: TimeSource | None
    categorizer: Categorizer
    accounting: Accounting
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
    lock: Callable[[str], AbstractContextManager[Any]] | None = None
    settings: Settings | None = None


def build_categorizer(settings: Settings) -> Categorizer:
    """rules -> memory -> (Claude, when enabled and keyed) -> offline classifier."""
    stages: list[Categorizer] = [RulesCategorizer(), MemoryCategorizer()]
    if settings.ai_enabled:
        try:
            from .categorize.claude import ClaudeCategorizer, ClaudeSettings
        except ImportError:  # pragma: no cover - the module ships with the package
            ClaudeCategorizer = None  # type: ignore[assignment,misc]
        if ClaudeCategorizer is not None:
            claude = ClaudeCategorizer.from_settings(ClaudeSettings())
            if claude is not None:
                stages.append(claude)
    stages.append(OfflineClassifier())
    return Chain(stages)


def build_sheet(settings: Settings) -> SheetStore:
    if settings.sheet == "google":
        from .sheet.gsheets import GoogleSheet, GoogleSheetsSettings

        return GoogleSheet.from_settings(GoogleSheetsSettings())
    from .sheet.workbook import LocalWorkbook

    return LocalWorkbook(settings.workbook_path)


def build_accounting(settings: Settings, sheet: SheetStore | None = None) -> Accounting:
    if settings.accounting == "quickbooks":
        from .accounting.quickbooks import QuickBooksAccounting, QuickBooksSettings

        qbo = QuickBooksSettings()
        if not qbo.sheet_url and sheet is not None:  # each invoice's PrivateNote links back to the sheet
            qbo = qbo.model_copy(update={"sheet_url": sheet.describe()})
        return QuickBooksAccounting.from_settings(qbo)
    from .accounting.ledger import Ledger

    return Ledger(settings.ledger_path, settings.documents_dir, prefix=settings.invoice_prefix,
                  agency=settings.agency_name)


def build_source(settings: Settings, name: str | None = None) -> TimeSource | None:
    """The tracker API that refresh pulls from (TIME_SOURCE, or `name`); None for csv (files come per run)."""
    name = name or settings.time_source
    if name == "harvest":
        from .sources.harvest import HarvestSettings, HarvestSource

        return HarvestSource.from_settings(HarvestSettings())
    if name == "toggl":
        from .sources.toggl import TogglSettings, TogglSource

        return TogglSource.from_settings(TogglSettings())
    return None


def csv_source(paths: Sequence[Path], skip_bad_rows: bool = False) -> TimeSource:
    from .sources.csv_exports import CsvSource

    return CsvSource(list(paths), skip_bad_rows=skip_bad_rows)


def bootstrap(settings: Settings | None = None, **overrides: Any) -> Services:
    """Wire the adapters the settings choose; keyword overrides replace any of them (tests, the demo)."""
    settings = settings or Settings()
    parts: dict[str, Any] = {"settings": settings}
    for name, build in (("sheet", build_sheet), ("categorizer", build_categorizer)):
        parts[name] = overrides.pop(name) if name in overrides else build(settings)
    parts["accounting"] = (overrides.pop("accounting") if "accounting" in overrides
                           else build_accounting(settings, parts["sheet"]))
    parts["source"] = overrides.pop("source", None)
    lock_dir = settings.workdir
    parts["lock"] = overrides.pop("lock", lambda name: FileLock(lock_dir / f".{name}.lock", what=name))
    parts.update(overrides)
    return Services(**parts)
