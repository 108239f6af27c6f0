"""Time entries of a whole Toggl Track workspace, pulled from the Reports API v3 (the production TimeSource).

Entries come from the detailed report (`POST /reports/api/v3/workspace/{wid}/search/time_entries`, ungrouped,
paged with the `X-Next-ID` / `X-Next-Row-Number` headers), so they are every member's entries that the token's
user may see (a workspace admin sees all). Names come from the Track API v9 lists of the workspace (projects,
clients, workspace users, tasks, tags), fetched once per run.

    >>> source = TogglSource.from_settings(TogglSettings())          # doctest: +SKIP
    >>> source.fetch(Period.parse("2026-10")).descriptions             # doctest: +SKIP
    ('Toggl Track API (workspace 4567): 812 entries in 2026-10',)

Choices a user should know:

- `source_id` is Toggl's time entry id, so an entry edited in Toggl (hours, notes, project) is the same row.
- The date is the calendar date of the entry's start as Toggl reports it (in the entry owner's time zone).
- Hours are the timer's seconds / 3600, exactly (`money.hours_from_seconds`); only a client's rule rounds.
  Running timers are skipped (and listed as skipped rows); they arrive with the next refresh once stopped.
- Rate and currency: the report row's `hourly_rate_in_cents` / `currency` when Toggl sends them, else the
  project's rate, else the workspace's default rate, with the project's or workspace's currency. A
  non-billable entry has no rate (as in Toggl's own exports).
- Toggl has no job role per person, so `role` is blank; there is no web page per entry, so `url` is blank.
- Retries: 429 waits for `Retry-After`; 5xx, timeouts and dropped connections back off exponentially; all
  within `TOGGL_RETRY_BUDGET_SECONDS`. 400/401/402/403/404 are never retried. The token is sent only as the
  basic-auth user name and never appears in a message, repr or log.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import requests

from ..errors import AuthError, ConfigError, InputError, Location, Terminal, Transient
from ..models import Period, TimeEntry
from ..money import D, hours_from_seconds, round_money
from ..ports import ImportResult, Progress, SkippedRow, no_progress
from ..settings import TogglSettings
from ..transport import ErrorTable, Http, RetryLater, RetryPolicy

SOURCE = "toggl-api"
DEFAULT_BASE_URL = "https://api.track.toggl.com"
MAX_ATTEMPTS = 10  # per request; the retry budget is what normally ends the retries


# ---------------------------------------------------------------------------------------------------------
# Toggl's answers, for the shared transport (functions/transport.py).


class TogglQuotaError(Transient):
    """The plan's hourly API quota is used up (HTTP 402); a later run will succeed."""


def _error_text(response: requests.Response) -> str:
    """Toggl answers errors with a JSON string or plain text; keep it short for a sentence."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        body = body.get("message") or body.get("error") or body
    text = str(body).strip().strip('"')
    return text[:200]


def _fields(response: requests.Response) -> dict[str, str]:
    resets = response.headers.get("X-Toggl-Quota-Resets-In")
    return {
        "detail": _error_text(response),
        "when": f" it resets in {resets} s" if resets else " it resets within the hour",
    }


def _errors(ws: int, base_url: str) -> ErrorTable:
    """Toggl's answers as errors. 429 and 500/502/503/504 are retried; a used-up quota (402) is not: it
    resets within the hour, so the run stops with a sentence instead of waiting."""
    server_error = (RetryLater, "Toggl had a server error (HTTP {status})")
    return ErrorTable(
        "Toggl",
        {
            "timeout": (RetryLater, "Toggl did not answer in time"),
            "connection": (RetryLater, "Toggl dropped the connection"),
            429: (RetryLater, "Toggl is rate-limiting requests (HTTP 429)"),
            500: server_error,
            502: server_error,
            503: server_error,
            504: server_error,
            401: (
                AuthError,
                "Toggl refused the API token while reading {what} (HTTP 401); check TOGGL_API_TOKEN "
                "(Toggl Track > Profile settings > API Token; a reset token replaces the old one; "
                "docs/RUNBOOK.md#a-source-refuses-its-token).",
            ),
            402: (
                TogglQuotaError,
                f"Toggl's API quota for workspace {ws} is used up (HTTP 402 while reading {{what}});"
                "{when}. Run again later, or raise the quota with a higher Toggl plan "
                "(docs/RUNBOOK.md#quota-exhausted-or-429).",
            ),
            403: (
                AuthError,
                f"Toggl does not let this token's user read {{what}} of workspace {ws} (HTTP 403); check "
                "TOGGL_WORKSPACE_ID, and that the token (TOGGL_API_TOKEN) belongs to a workspace admin, "
                "since only admins may read everyone's time (docs/RUNBOOK.md#a-source-refuses-its-token).",
            ),
            404: (
                ConfigError,
                f"Toggl has no {{what}} for workspace {ws} (HTTP 404); check TOGGL_WORKSPACE_ID (the "
                f"number in track.toggl.com/{{{{id}}}}/...) and TOGGL_BASE_URL ({base_url}).",
            ),
            "other": (
                Terminal,
                f"Toggl refused the request for {{what}} of workspace {ws} (HTTP {{status}}: {{detail}}).",
            ),
            "gave up": (
                Transient,
                "{last} and still failed after {attempts} attempts in {spent:.0f} s (retry budget "
                "{budget:.0f} s, TOGGL_RETRY_BUDGET_SECONDS); try again later (docs/RUNBOOK.md#a-source-is-down).",
            ),
        },
        fields=_fields,
    )


# ---------------------------------------------------------------------------------------------------------
# The source.


class TogglSource:
    """The TimeSource of a Toggl Track workspace (Reports API v3 + Track API v9)."""

    name = SOURCE

    def __init__(
        self,
        api_token: str,
        workspace_id: int,
        base_url: str = DEFAULT_BASE_URL,
        page_size: int = 50,
        timeout: float = 30.0,
        retry_budget: float = 120.0,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.workspace_id = workspace_id
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self.session = requests.Session()
        self.session.auth = (api_token, "api_token")  # Toggl's basic auth: the token is the user name
        self.session.headers.update(
            {"User-Agent": "invoicing-pipeline (toggl-api source)", "Accept": "application/json"}
        )
        # The budget is per request and counts the attempts' own time too (a slow answer uses it up).
        policy = RetryPolicy(
            max_attempts=MAX_ATTEMPTS,
            budget_seconds=retry_budget,
            backoff_seconds=backoff,
            max_backoff_seconds=math.inf,
        )
        self.http = Http(
            self.session,
            policy,
            _errors(workspace_id, self.base_url),
            sleep=sleep,
            clock=time.monotonic,
            timeout=timeout,
            origin=self.base_url,
        )

    @classmethod
    def from_settings(cls, settings: TogglSettings, sleep: Callable[[float], None] = time.sleep) -> TogglSource:
        """No network here: the first fetch connects. Missing settings are named at once."""
        missing = [
            name
            for name, value in (("TOGGL_API_TOKEN", settings.api_token), ("TOGGL_WORKSPACE_ID", settings.workspace_id))
            if not value
        ]
        if missing or settings.api_token is None or settings.workspace_id is None:
            raise ConfigError(f"Set {' and '.join(missing)} to pull time from Toggl Track (see docs/toggl.md).")
        token = settings.api_token.get_secret_value().strip()
        if not token:
            raise ConfigError("TOGGL_API_TOKEN is empty; copy the API token from Toggl Track's Profile settings.")
        return cls(
            token,
            settings.workspace_id,
            settings.base_url or DEFAULT_BASE_URL,
            settings.page_size,
            settings.timeout_seconds,
            settings.retry_budget_seconds,
            settings.backoff_seconds,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        return f"TogglSource(workspace={self.workspace_id}, base_url={self.base_url!r})"

    def describe(self) -> str:
        return f"Toggl Track API (workspace {self.workspace_id})"

    # -- HTTP ----------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, f"{self.base_url}{path}", what=what, **kwargs)

    def _json(self, response: requests.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise InputError(
                f"answered {what} with something that is not JSON; nothing was imported",
                Location(entry=f"{SOURCE} workspace {self.workspace_id}"),
            ) from None

    def _malformed(self, what: str, why: str) -> InputError:
        return InputError(
            f"answered {what} with data that cannot be read ({why}); nothing was imported",
            Location(entry=f"{SOURCE} workspace {self.workspace_id}"),
        )

    def _list(self, path: str, what: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """A v9 list; pages with page/per_page while pages come back full. Tasks come wrapped in `data`."""
        out: list[dict[str, Any]] = []
        page, per_page = 1, 200
        while True:
            query = {**(params or {}), "page": page, "per_page": per_page}
            body = self._json(self._call("GET", path, what, params=query), what)
            items = body.get("data") if isinstance(body, dict) else body
            if items is None:
                items = []  # Toggl answers `null` for an empty list
            if not isinstance(items, list) or not all(isinstance(i, dict) and "id" in i for i in items):
                raise self._malformed(what, "expected a list of objects with ids")
            out.extend(items)
            if len(items) < per_page:
                return out
            page += 1

    # -- fetching ------------------------------------------------------------------------------------
    def _names(self) -> dict[str, Any]:
        wid = self.workspace_id
        base = f"/api/v9/workspaces/{wid}"
        workspace = self._json(self._call("GET", base, "the workspace"), "the workspace")
        if not isinstance(workspace, dict):
            raise self._malformed("the workspace", "expected an object")
        return {
            "workspace": workspace,
            # Archived projects, clients and tasks still carry last month's time, so ask for them too.
            "projects": {p["id"]: p for p in self._list(f"{base}/projects", "the projects", {"active": "both"})},
            "clients": {c["id"]: c for c in self._list(f"{base}/clients", "the clients", {"status": "both"})},
            "users": {
                u.get("user_id", u["id"]): u for u in self._list(f"{base}/workspace_users", "the workspace users")
            },
            "tasks": {t["id"]: t for t in self._list(f"{base}/tasks", "the tasks", {"active": "both"})},
            "tags": {t["id"]: t for t in self._list(f"{base}/tags", "the tags")},
        }

    def _pages(self, period: Period, progress: Progress) -> Iterator[list[dict[str, Any]]]:
        path = f"/reports/api/v3/workspace/{self.workspace_id}/search/time_entries"
        body: dict[str, Any] = {
            "start_date": period.start.isoformat(),
            "end_date": period.end.isoformat(),
            "grouped": False,
            "page_size": self.page_size,
            "order_by": "date",
            "order_dir": "ASC",
            "hide_amounts": False,
            "rounding": 0,
            "rounding_minutes": 0,
        }
        page = 0
        seen_cursors: set[tuple[str, str]] = set()
        while True:
            page += 1
            what = f"page {page} of the detailed report"
            response = self._call("POST", path, what, json=body)
            rows = self._json(response, what)
            if rows is None:
                rows = []
            if not isinstance(rows, list):
                raise self._malformed(what, "expected a list of report rows")
            yield rows
            headers = response.headers
            cursor = (headers.get("X-Next-ID", ""), headers.get("X-Next-Row-Number", ""))
            progress(page, page + (1 if cursor[1] else 0), f"Toggl report page {page}")
            if not cursor[1]:
                return
            if not cursor[1].isdigit() or (cursor[0] and not cursor[0].isdigit()):
                raise self._malformed(what, "the X-Next-Row-Number / X-Next-ID headers are not numbers")
            if cursor in seen_cursors:
                raise self._malformed(what, "the same page cursor came back twice")
            seen_cursors.add(cursor)
            body["first_row_number"] = int(cursor[1])
            if cursor[0]:
                body["first_id"] = int(cursor[0])

    def fetch(self, period: Period, progress: Progress = no_progress) -> ImportResult:
        names = self._names()
        entries: list[TimeEntry] = []
        skipped: list[SkippedRow] = []
        seen: set[str] = set()
        unnamed = 0
        for rows in self._pages(period, progress):
            for row in rows:
                time_entries = self._row_entries(row)
                if row.get("project_id") and row["project_id"] not in names["projects"]:
                    unnamed += len(time_entries)
                for te in time_entries:
                    entry_id = te.get("id") if isinstance(te, dict) else None
                    try:
                        entry = self._entry(row, te, names)
                    except _Skip as skip:
                        skipped.append(SkippedRow(f"{SOURCE}:{entry_id}", str(skip)))
                        continue
                    except (AttributeError, KeyError, TypeError, ValueError) as exc:
                        raise self._malformed("the detailed report", f"entry {entry_id}: {exc!r}") from None
                    # Toggl may repeat a row across pages when entries change during the pull; keep one.
                    if entry.source_id in seen or not period.contains(entry.date):
                        continue
                    seen.add(entry.source_id)
                    entries.append(entry)
        description = f"{self.describe()}: {len(entries)} entries in {period}"
        if skipped:
            description += f", {len(skipped)} running timers skipped"
        if unnamed:
            # Names are read before the report; a project created or deleted in between has none.
            description += f", {unnamed} on a project Toggl did not list (project left blank; refresh again)"
        return ImportResult(tuple(entries), tuple(skipped), (SOURCE,), (description,))

    def _row_entries(self, row: Any) -> list[dict[str, Any]]:
        if not isinstance(row, dict) or not isinstance(row.get("time_entries"), list):
            raise self._malformed("the detailed report", "a row has no time_entries list")
        return row["time_entries"]

    # -- mapping -------------------------------------------------------------------------------------
    def _entry(self, row: dict[str, Any], te: dict[str, Any], names: dict[str, Any]) -> TimeEntry:
        # A running timer has negative seconds (and a null stop); some report rows carry no `stop` key at all.
        if int(te["seconds"]) < 0 or ("stop" in te and te["stop"] is None):
            raise _Skip("is a running timer; it is imported once stopped")
        start = datetime.fromisoformat(str(te["start"]).replace("Z", "+00:00"))
        project = names["projects"].get(row.get("project_id")) or {}
        client = names["clients"].get(project.get("client_id")) or {}
        task = names["tasks"].get(row.get("task_id")) or {}
        user = names["users"].get(row.get("user_id")) or {}
        workspace = names["workspace"]
        billable = bool(row.get("billable"))
        rate, currency = self._rate(row, project, workspace) if billable else (None, None)
        tags = tuple(names["tags"][t]["name"] for t in row.get("tag_ids") or () if t in names["tags"])
        return TimeEntry(
            source=SOURCE,
            source_id=str(te["id"]),
            date=start.date(),
            client=client.get("name", ""),
            project=project.get("name", ""),
            task=task.get("name", ""),
            person=row.get("username") or user.get("name") or user.get("fullname") or f"user {row.get('user_id')}",
            email=user.get("email") or "",
            notes=row.get("description") or "",
            hours=hours_from_seconds(int(te["seconds"])),
            billable=billable,
            rate=rate,
            currency=currency,
            tags=tags,
        )

    @staticmethod
    def _rate(
        row: dict[str, Any], project: dict[str, Any], workspace: dict[str, Any]
    ) -> tuple[Decimal | None, str | None]:
        currency = row.get("currency") or project.get("currency") or workspace.get("default_currency") or None
        cents = row.get("hourly_rate_in_cents")
        if cents:
            return round_money(D(int(cents)) / 100, currency), currency
        for rate in (project.get("rate"), workspace.get("default_hourly_rate")):
            if rate:
                return round_money(D(rate), currency), currency
        return None, None


class _Skip(Exception):
    """An entry that is left out of this pull on purpose (a running timer)."""
