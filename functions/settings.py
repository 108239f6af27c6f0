"""Every setting of the pipeline, one rule for all of them, and the root that hands out each section.

The rule (one base class, `Section`): a value given in code wins, then the environment, then a `.env`
file in the working directory, then the default. Secrets are `SecretStr` (never printed) and reach the
deployed functions as environment variables: deploy/functions.sh maps each Secret Manager secret to its
variable (`--set-secrets HARVEST_TOKEN=...`). The one secret the code itself reads from and writes to
Secret Manager is the QuickBooks token set, because Intuit rotates it: `QBO_TOKEN_STORE=secretmanager:...`
(functions/accounting/qbo_tokens.py).

Each setting has one name: the section's prefix plus the field, upper-cased (`HARVEST_TOKEN`), or the alias
written beside the field (`GOOGLE_SHEET_ID`). A value that cannot be right (a typo) is a `SettingError`,
one sentence per setting:

>>> import os; os.environ["SHEET"] = "gogle"
>>> Settings(_env_file=None)
Traceback (most recent call last):
functions.settings.SettingError: SHEET is "gogle"; use one of: xlsx, google (did you mean "google"?).
>>> del os.environ["SHEET"]

The root (`Settings`) holds what chooses the adapters; each adapter's section is read when first asked for
(`settings.harvest`, `.toggl`, `.google`, `.quickbooks`, `.claude`, `.cloud`). This module imports no
adapter, so reading settings costs milliseconds whatever the adapters need.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import types
import typing
from pathlib import Path
from typing import Any, ClassVar, Literal

import annotated_types
from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .accounting.qbo_tokens import DEFAULT_TOKEN_FILE
from .errors import ConfigError

if typing.TYPE_CHECKING:
    from .accounting.stripe_client import StripeSettings
    from .accounting.xero_client import XeroSettings

WORKBOOK_NAME = "invoicing.xlsx"
TIME_SOURCES = ("csv", "harvest", "toggl", "jira", "asana")
LEDGER_NAME = "ledger.sqlite"
DOCUMENTS_DIR = "invoices"


class SettingError(ConfigError, ValueError):
    """A setting has a value it cannot have; the message names it, what it is and what it may be."""


class Section(BaseSettings):
    """The one rule every settings class follows (see the module docstring)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingError(" ".join(_sentence(type(self), e) for e in exc.errors())) from None

    @classmethod
    def env_name(cls, field: str) -> str:
        """The one name of a field's setting: its alias, or the prefix and the field, upper-cased."""
        alias = cls.model_fields[field].validation_alias
        if isinstance(alias, str):
            return alias.upper()
        return f"{cls.model_config.get('env_prefix') or ''}{field}".upper()


# ------------------------------------------------------------------ the sections


class HarvestSettings(Section):
    """HARVEST_*: the Harvest API v2 time source (docs/harvest.md). Only the token is secret."""

    model_config = SettingsConfigDict(env_prefix="HARVEST_")

    account_id: str = ""
    token: SecretStr = SecretStr("")
    user_agent: str = ""  # "App name (contact email)", which Harvest requires on every request
    base_url: str = "https://api.harvestapp.com/v2"  # harvest.DEFAULT_BASE_URL; the emulator's URL in tests
    per_page: int = 2000  # Harvest's maximum, harvest.MAX_PER_PAGE
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 60.0
    retry_budget_seconds: float = 120.0  # the most a fetch spends waiting between retries
    max_attempts: int = 6  # per request


class TogglSettings(Section):
    """TOGGL_*: the Toggl Track time source (docs/toggl.md). Only the API token is secret."""

    model_config = SettingsConfigDict(env_prefix="TOGGL_")

    api_token: SecretStr | None = None  # Profile settings > API Token in Toggl Track
    workspace_id: int | None = None
    base_url: str = "https://api.track.toggl.com"  # toggl.DEFAULT_BASE_URL; the local emulator in tests
    page_size: int = Field(50, ge=1, le=1000)  # rows per report page; Toggl's documented default is 50
    timeout_seconds: float = Field(30.0, gt=0)
    retry_budget_seconds: float = Field(120.0, ge=0)  # total time a fetch may spend waiting to retry
    backoff_seconds: float = Field(1.0, ge=0)


class JiraSettings(Section):
    """JIRA_*: Jira Cloud worklogs (docs/jira.md). The API token (or OAuth access token) is secret."""

    model_config = SettingsConfigDict(env_prefix="JIRA_")

    site: str = ""  # your-site.atlassian.net (links go to https://SITE/browse/KEY)
    email: str = ""  # the Atlassian account of the API token (Basic auth)
    api_token: SecretStr = SecretStr("")  # id.atlassian.com > Security > API tokens
    oauth_token: SecretStr = SecretStr("")  # OAuth 2.0 (3LO) access token instead of email + API token
    cloud_id: str = ""  # with OAuth: requests go to https://api.atlassian.com/ex/jira/{cloud_id}
    base_url: str = ""  # blank: https://SITE (or the OAuth gateway); the local emulator in tests
    client_by: Literal["project", "component", "label"] = "project"  # what names the client in the Clients tab
    billable_label: str = ""  # when set, only worklogs on issues with this label are billable
    chunk_size: int = Field(1000, ge=1, le=1000)  # worklog ids per POST /worklog/list (Jira's maximum)
    timeout_seconds: float = Field(30.0, gt=0)
    retry_budget_seconds: float = Field(120.0, ge=0)
    max_attempts: int = Field(6, ge=1)
    skip_bad_records: bool = False  # import the good worklogs and list the bad ones (like --skip-bad-rows)


class AsanaSettings(Section):
    """ASANA_*: Asana time-tracking entries and milestones (docs/asana.md). The token is secret."""

    model_config = SettingsConfigDict(env_prefix="ASANA_")

    token: SecretStr = SecretStr("")  # a personal access token (My settings > Apps > Developer apps)
    projects: str = ""  # project gids to read, comma separated; blank: every project of PORTFOLIO
    portfolio: str = ""  # a portfolio gid whose projects are read
    base_url: str = "https://app.asana.com/api/1.0"
    page_size: int = Field(100, ge=1, le=100)  # Asana's maximum limit
    timeout_seconds: float = Field(30.0, gt=0)
    retry_budget_seconds: float = Field(120.0, ge=0)
    max_attempts: int = Field(6, ge=1)
    skip_bad_records: bool = False


class GoogleSheetsSettings(Section):
    """GOOGLE_SHEET_ID and GOOGLE_SHEETS_*: the Google Sheet (docs/google.md)."""

    model_config = SettingsConfigDict(env_prefix="GOOGLE_SHEETS_")

    # .../spreadsheets/d/<id>/edit. Setting by field name (in code) also reads GOOGLE_SHEETS_SPREADSHEET_ID, the
    # name before GOOGLE_SHEET_ID: it keeps older deployments and .env files working, with a deprecation warning.
    spreadsheet_id: str = Field(default="", validation_alias="GOOGLE_SHEET_ID")
    credentials_file: Path | None = None  # a service-account JSON key; unset -> application-default credentials
    api_base_url: str = ""  # e.g. http://127.0.0.1:8089 for the local emulator (anonymous without a key file)
    timeout_seconds: float = 60.0
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 32.0

    @model_validator(mode="after")
    def _old_name(self) -> GoogleSheetsSettings:
        """GOOGLE_SHEETS_SPREADSHEET_ID still works, with a deprecation warning once a process (logged: the CLI's
        stderr, the functions' log)."""
        global _old_sheet_name_said
        if _old_sheet_name_said or not _given("GOOGLE_SHEETS_SPREADSHEET_ID"):
            return self
        _old_sheet_name_said = True
        newer = " and is ignored, since GOOGLE_SHEET_ID is set" if _given("GOOGLE_SHEET_ID") else ""
        logging.getLogger(__name__).warning(
            "GOOGLE_SHEETS_SPREADSHEET_ID is the old name of GOOGLE_SHEET_ID%s; rename it to GOOGLE_SHEET_ID "
            "(the old name will stop working in a later release).",
            newer,
        )
        return self


_old_sheet_name_said = False


def _given(name: str) -> bool:
    """Whether a setting is in the environment or the .env file (either case)."""
    if any(k.upper() == name for k in os.environ):
        return True
    try:
        from dotenv import dotenv_values

        return any(k.upper() == name for k in dotenv_values(".env"))
    except (ImportError, OSError):
        return False


class QuickBooksSettings(Section):
    """QBO_*: QuickBooks Online (docs/quickbooks.md). The client secret is secret; the tokens live in
    QBO_TOKEN_STORE (a 0600 file, or Secret Manager in the cloud)."""

    model_config = SettingsConfigDict(env_prefix="QBO_")

    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    redirect_uri: str = "http://localhost:8000/callback"
    realm_id: str = ""  # the company; taken from the stored tokens when blank
    environment: Literal["sandbox", "production"] = "sandbox"
    base_url: str = ""  # e.g. http://127.0.0.1:8765 for the emulator: API under /v3, OAuth discovery under /.well-known
    token_store: str = f"file:{DEFAULT_TOKEN_FILE}"
    minor_version: int = 75
    batch_size: int = Field(30, ge=1, le=30)  # 1 = one invoice per call
    max_concurrency: int = Field(10, ge=1, le=10)
    requests_per_minute: int = Field(500, ge=1, le=500)
    rate_window_seconds: float = 60.0
    timeout_seconds: float = 60.0
    max_attempts: int = Field(6, ge=1)
    retry_base_seconds: float = 1.0
    income_account: str = "Services"  # for items made by --create-missing (Account Name or Id)
    attach_time_detail: bool = True
    sheet_url: str = ""  # where the Time rows are, written into each invoice's PrivateNote


class ClaudeSettings(Section):
    """AI_* and ANTHROPIC_*: the Claude stage of the categorizer (docs/ai-categorization.md)."""

    ai_enabled: bool = True  # only active with a key as well
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    ai_model: str = "claude-haiku-5-5"  # categorize.claude.DEFAULT_MODEL
    ai_batch_size: int = Field(50, ge=1, le=200)
    ai_time_budget_seconds: float = Field(120.0, gt=0)
    ai_request_timeout_seconds: float = Field(60.0, gt=0)
    ai_max_retries: int = Field(3, ge=0, le=10)
    ai_concurrency: int = Field(4, ge=1, le=16)
    ai_pseudonymize_clients: bool = False
    ai_cache_path: Path | None = None
    ai_examples: int = Field(40, ge=0, le=400)
    ai_effort: Literal["", "low", "medium", "high"] = "low"  # "" for models without the effort control
    ai_max_output_tokens: int = Field(6000, ge=256)
    ai_ask_below: float = Field(0.8, ge=0.0, le=2.0)  # only entries the offline stages place below this go to Claude
    # Client-facing invoice line descriptions (functions/describe, docs/line-descriptions.md): Claude writes
    # them when this and AI_ENABLED are true and a key is set, within their own time budget; else offline.
    ai_describe: bool = True
    ai_describe_time_budget_seconds: float = Field(30.0, gt=0)

    # What the Anthropic API accepts per model, so a wrong AI_* fails here with a sentence, not as a 400 in
    # production. Model ids: the anthropic SDK's list (types/model_param.py). Max output tokens:
    # platform.claude.com models overviews (None: not documented here, not checked). Effort: the models of
    # platform.claude.com build-with-claude/effort (low, medium and high are on every one of them).
    MODELS: ClassVar[dict[str, tuple[int | None, bool]]] = {
        "claude-haiku-5-5": (128_000, True),
        "claude-sonnet-5-5": (128_000, True),
        "claude-opus-5-5": (128_000, True),
        "claude-fable-5-1": (128_000, True),
        "claude-mythos-5-1": (None, True),
        "claude-fable-5-2": (None, True),
        "claude-mythos-5-2": (None, True),
        "claude-sonnet-5": (None, True),
        "claude-fable-5": (None, True),
        "claude-mythos-5": (None, True),
        "claude-opus-5": (None, True),
        "claude-opus-4-8": (None, True),
        "claude-opus-4-7": (None, True),
        "claude-mythos-preview": (None, True),
        "claude-opus-4-6": (None, True),
        "claude-sonnet-4-6": (None, True),
        "claude-haiku-4-5": (64_000, False),
        "claude-haiku-4-5-20251001": (64_000, False),
        "claude-opus-4-5": (None, True),
        "claude-opus-4-5-20251101": (None, True),
        "claude-sonnet-4-5": (None, False),
        "claude-sonnet-4-5-20250929": (None, False),
    }

    @field_validator("ai_cache_path", "anthropic_base_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @model_validator(mode="before")
    @classmethod
    def _default_effort_follows_the_model(cls, data: Any) -> Any:
        """Left unset, AI_EFFORT is "low" where the model has the effort control and blank where it has not."""
        if isinstance(data, dict) and "ai_effort" not in data:
            model = str(data.get("ai_model") or cls.model_fields["ai_model"].default)
            if not cls.MODELS.get(model, (None, True))[1]:
                data = {**data, "ai_effort": ""}
        return data

    @field_validator("ai_model")
    @classmethod
    def _a_model_the_api_knows(cls, v: str) -> str:
        if v not in cls.MODELS:
            close = _closest(v, list(cls.MODELS))
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise PydanticCustomError(
                "unknown_model", f"not a model the Anthropic API knows, such as claude-haiku-5-5{hint}"
            )
        return v

    @model_validator(mode="after")
    def _effort_and_output_fit_the_model(self) -> ClaudeSettings:
        limit, has_effort = self.MODELS[self.ai_model]
        if self.ai_effort and not has_effort:
            raise _cross_field(
                "AI_EFFORT and AI_MODEL",
                f'"{self.ai_effort}" cannot be used with {self.ai_model}, which has no effort control; set '
                'AI_EFFORT to "" (blank) or choose a model that has it',
            )
        if limit is not None and self.ai_max_output_tokens > limit:
            raise _cross_field(
                "AI_MAX_OUTPUT_TOKENS and AI_MODEL",
                f"{self.ai_max_output_tokens} is more than {self.ai_model} writes (at most {limit} output "
                "tokens); lower AI_MAX_OUTPUT_TOKENS",
            )
        return self

    @property
    def active(self) -> bool:
        return bool(self.ai_enabled and self.anthropic_api_key and self.anthropic_api_key.get_secret_value().strip())


def _cross_field(names: str, message: str) -> ValidationError:
    """A ValidationError about two settings together: Section turns it into "NAMES: message."."""
    return ValidationError.from_exception_data(
        "ClaudeSettings", [{"type": PydanticCustomError("settings", message), "loc": (names,), "input": None}]
    )


class CloudSettings(Section):
    """INVOICING_*: the deployed functions (deploy/ sets them). Lists are comma or space separated."""

    model_config = SettingsConfigDict(env_prefix="INVOICING_")

    allowed_callers: str = ""  # emails: the ops people using the menu, the Cloud Scheduler service account
    audiences: str = ""  # the functions' URLs (Scheduler's OIDC audience) and the Apps Script OAuth client id
    id_token_certs_url: str = ""  # blank: Google's (auth.GOOGLE_CERTS_URL); tests serve their own
    source_csv: str = ""  # CSV exports to import on refresh (paths or globs, e.g. a mounted bucket)

    @staticmethod
    def split(text: str) -> list[str]:
        return [part for part in text.replace(",", " ").split() if part]


# ------------------------------------------------------------------ the root

S = typing.TypeVar("S", bound=Section)


class Settings(Section):
    """What chooses the adapters, and each adapter's section, read when first asked for."""

    workdir: Path = Path("invoicing-work")
    sheet: Literal["xlsx", "google"] = "xlsx"
    accounting: Literal["ledger", "quickbooks", "stripe", "xero"] = "ledger"
    # where refresh pulls from when no --csv is given: one source, or several ("harvest,jira")
    time_source: str = "csv"
    sync_overlap_minutes: int = Field(10, ge=0, le=1440)  # an incremental sync re-reads this much before its mark
    sync_full_after_hours: float = Field(24.0, gt=0)  # a month's full re-sync at least this often (deletions)
    ai_enabled: bool = True  # Claude is used only when this is true AND an API key is set
    invoice_prefix: str = "INV-"
    agency_name: str = ""
    # the Agency tab's fallbacks (functions/sheet/agency_tab.py): a value in the tab wins
    agency_address: str = ""
    agency_contact: str = ""
    agency_email: str = ""
    agency_phone: str = ""
    agency_tax_id: str = ""
    agency_logo: str = ""
    agency_payment: str = ""
    agency_pay_link: str = ""
    agency_footer: str = ""

    @field_validator("invoice_prefix")
    @classmethod
    def _prefix_is_a_name(cls, v: str) -> str:
        # the prefix becomes part of each document's file name (invoices/INV-0001.html): a `/`, `\` or `..`
        # would write outside invoices/, so it is a short name of letters, digits, `-`, `_` and `.`
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,19}", v) or ".." in v:
            raise ValueError("use up to 20 letters, digits, -, _ or . starting with a letter or digit (no / or ..)")
        return v

    @field_validator("time_source")
    @classmethod
    def _known_sources(cls, v: str) -> str:
        names = [n.strip().lower() for n in v.replace(" ", ",").split(",") if n.strip()] or ["csv"]
        for name in names:
            if name not in TIME_SOURCES:
                close = _closest(name, list(TIME_SOURCES))
                hint = f' (did you mean "{close[0]}"?)' if close else ""
                which = f'"{name}" is not a source; ' if len(names) > 1 else ""
                several = " (or several, comma separated)" if len(names) > 1 else ""
                raise ValueError(f"{which}use one of: {', '.join(TIME_SOURCES)}{several}{hint}")
        if "csv" in names and len(names) > 1:
            raise ValueError("csv (files given per run) cannot be combined with API sources")
        return ",".join(dict.fromkeys(names))

    @property
    def time_sources(self) -> list[str]:
        """TIME_SOURCE as a list: ["harvest", "jira"]; [] for csv."""
        return [n for n in self.time_source.split(",") if n != "csv"]

    _sections: dict[type[Section], Section] = PrivateAttr(default_factory=dict)

    @property
    def workbook_path(self) -> Path:
        return self.workdir / WORKBOOK_NAME

    @property
    def ledger_path(self) -> Path:
        return self.workdir / LEDGER_NAME

    @property
    def documents_dir(self) -> Path:
        return self.workdir / DOCUMENTS_DIR

    def section(self, cls: type[S]) -> S:
        """One instance per root: the section is read (and checked) the first time it is asked for."""
        if cls not in self._sections:
            self._sections[cls] = cls()
        return typing.cast(S, self._sections[cls])

    @property
    def harvest(self) -> HarvestSettings:
        return self.section(HarvestSettings)

    @property
    def toggl(self) -> TogglSettings:
        return self.section(TogglSettings)

    @property
    def jira(self) -> JiraSettings:
        return self.section(JiraSettings)

    @property
    def asana(self) -> AsanaSettings:
        return self.section(AsanaSettings)

    @property
    def google(self) -> GoogleSheetsSettings:
        return self.section(GoogleSheetsSettings)

    @property
    def quickbooks(self) -> QuickBooksSettings:
        return self.section(QuickBooksSettings)

    @property
    def stripe(self) -> StripeSettings:
        from .accounting.stripe_client import StripeSettings  # the section lives beside its adapter

        return self.section(StripeSettings)

    @property
    def xero(self) -> XeroSettings:
        from .accounting.xero_client import XeroSettings  # the section lives beside its adapter

        return self.section(XeroSettings)

    @property
    def claude(self) -> ClaudeSettings:
        """The Claude section, switched by this root's AI_ENABLED (tests and the demo set it in code)."""
        claude = self.section(ClaudeSettings)
        if claude.ai_enabled != self.ai_enabled:
            claude = claude.model_copy(update={"ai_enabled": self.ai_enabled})
        return claude

    @property
    def cloud(self) -> CloudSettings:
        return self.section(CloudSettings)


# ------------------------------------------------------------------ one sentence per wrong setting


def _sentence(cls: type[Section], error: Any) -> str:
    loc = error.get("loc") or ()
    name = str(loc[0]) if loc else ""
    field = next(
        (
            f
            for f, info in cls.model_fields.items()
            if name in (f, info.validation_alias) or name.upper() == cls.env_name(f)
        ),
        None,
    )
    if field is None:
        return f"{name.upper() or cls.__name__}: {error.get('msg', 'is not valid')}."
    info = cls.model_fields[field]
    given = error.get("input")
    shown = "set (the value is secret and not shown)" if _is_secret(info) else f'"{given}"'
    return f"{cls.env_name(field)} is {shown}; {_allowed(info, given, error)}."


def _is_secret(info: FieldInfo) -> bool:
    return "SecretStr" in repr(info.annotation)


def _kinds(annotation: Any) -> list[Any]:
    """The types a field accepts, with Optional and unions taken apart."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [k for arg in typing.get_args(annotation) for k in _kinds(arg)]
    return [annotation]


def _allowed(info: FieldInfo, given: Any, error: Any) -> str:
    kinds = [k for k in _kinds(info.annotation) if k is not type(None)]
    choices = [str(c) for k in kinds if typing.get_origin(k) is Literal for c in typing.get_args(k)]
    if choices:
        shown = [c if c else '"" (blank)' for c in choices]
        close = _closest(str(given), [c for c in choices if c])
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        return f"use one of: {', '.join(shown)}{hint}"
    if bool in kinds:
        close = _closest(str(given), ["true", "false"])
        return "use one of: true, false" + (f' (did you mean "{close[0]}"?)' if close else "")
    if int in kinds:
        return f"use a whole number{_bounds(info)}"
    if float in kinds:
        return f"use a number{_bounds(info)}"
    return str(error.get("msg", "it is not valid")).removeprefix("Value error, ").lower()


def _closest(given: str, choices: list[str]) -> list[str]:
    given = given.strip().lower()
    if not given:
        return []
    starts = [c for c in choices if c.startswith(given) or given.startswith(c)]
    return starts[:1] or difflib.get_close_matches(given, choices, n=1, cutoff=0.6)


def _bounds(info: FieldInfo) -> str:
    low: object = None  # the bounds as the field declares them (int, float or Decimal)
    high: object = None
    low_open = high_open = False
    for m in info.metadata:
        if isinstance(m, annotated_types.Ge):
            low = m.ge
        elif isinstance(m, annotated_types.Gt):
            low, low_open = m.gt, True
        elif isinstance(m, annotated_types.Le):
            high = m.le
        elif isinstance(m, annotated_types.Lt):
            high, high_open = m.lt, True
    if low is not None and high is not None and not (low_open or high_open):
        return f" from {low} to {high}"
    parts = []
    if low is not None:
        parts.append(f"above {low}" if low_open else f"of at least {low}")
    if high is not None:
        parts.append(f"below {high}" if high_open else f"of at most {high}")
    return " " + " and ".join(parts) if parts else ""
