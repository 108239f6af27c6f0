"""Asana time-tracking entries and milestones of mapped projects (the TimeSource named "asana").

A full sync of a month reads, per project, the time entries attributed to it in the month
(`GET /time_tracking_entries?attributable_to=P&entered_on_start_date&entered_on_end_date`) and its tasks
(`GET /tasks?project=P`, for the milestones). A re-sync asks each project only for the tasks modified since the
watermark (`GET /tasks?project=P&modified_since=...`): nothing changed is one request per project; each changed
task's entries are read again (`GET /tasks/{gid}/time_tracking_entries`). Pages follow `next_page.offset`.

    >>> source = AsanaSource.from_settings(AsanaSettings())                # doctest: +SKIP
    >>> source.fetch(Period.parse("2026-10")).descriptions                  # doctest: +SKIP
    ('Asana (2 projects): 812 time entries in 2026-10, 3 milestones',)

Choices a user should know:

- `source_id` is the time entry's gid; the date is its `entered_on`; hours are `duration_minutes` / 60, exact.
- The client is the project the entry is attributed to (`attributable_to`), by name or gid through the
  Clients tab (name or Tracker Keys); the task's name is the entry's task and notes, the link is the task's.
- Milestones (tasks with resource_subtype=milestone) come back with whether and when they were completed; a
  Rules milestone row whose Asana Milestone cell names one (gid or exact name) gets its Complete cell ticked
  when Asana completed it by the end of the month, unless a person already filled that cell.
- Asana has no feed of deleted time entries and no modified filter on them: a re-sync reads the entries of
  the tasks modified since the watermark (a time entry's change counts as one of its task here); deletions
  are flagged by the full syncs (`refresh --full`, or every SYNC_FULL_AFTER_HOURS).
- Bad records (no creator, negative or missing minutes) are located errors ("asana:1203...: has negative
  duration_minutes"); skipped and listed only with ASANA_SKIP_BAD_RECORDS (or --skip-bad-rows).
- The shared HTTP layer (functions/transport.py), not the `asana` SDK: see docs/asana.md for the figures.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

import requests

from ..errors import AuthError, ConfigError, InputError, InputErrors, Location, Terminal, Transient
from ..models import Period, TimeEntry
from ..money import hours_from_seconds
from ..ports import ImportResult, Progress, SkippedRow, SourceMilestone, SyncMark, no_progress
from ..settings import AsanaSettings
from ..transport import ErrorTable, RetryLater, RetryPolicy
from .json_api import JsonApi, error_text

SOURCE = "asana"
TOKEN_HELP = "https://app.asana.com/0/my-apps"
ENTRY_FIELDS = "duration_minutes,entered_on,created_by.name,created_by.email,task.name,attributable_to.name"
TASK_FIELDS = "name,resource_subtype,completed,completed_at,modified_at"


class AsanaApiError(Terminal):
    """Asana refused a request in a way a retry will not fix."""


def _errors() -> ErrorTable:
    return ErrorTable(
        "Asana",
        {
            "timeout": (RetryLater, "Asana did not answer {what} in time"),
            "connection": (RetryLater, "Asana could not be reached for {what} ({exc})"),
            429: (RetryLater, "Asana's rate limit held {what} back"),
            "5xx": (RetryLater, "Asana answered {what} with a server error ({status})"),
            401: (
                AuthError,
                f"Asana refused the token (401{{detail}}). Check ASANA_TOKEN: create a personal access token at "
                f"{TOKEN_HELP} (docs/RUNBOOK.md#a-source-refuses-its-token).",
            ),
            402: (
                ConfigError,
                "Asana refused {what} (402{detail}): time tracking needs an Asana plan that has it.",
            ),
            403: (ConfigError, "Asana does not let the token's user read {what} (403{detail})."),
            404: (ConfigError, "Asana has no {what} (404{detail}); check ASANA_PROJECTS and ASANA_PORTFOLIO."),
            400: (AsanaApiError, "Asana refused {what} as a bad request (400{detail})."),
            "other": (AsanaApiError, "Asana refused {what} with status {status}{detail}; retrying will not help."),
            "gave up": (
                Transient,
                "{last}; gave up after {attempts} attempt(s) and {spent:.1f} s of waiting "
                "(ASANA_RETRY_BUDGET_SECONDS={budget:g}). Nothing was changed; run refresh again later "
                "(docs/RUNBOOK.md#a-source-is-down).",
            ),
        },
        fields=lambda response: {"detail": error_text(response)},
        default_retry_after=30.0,
    )


class AsanaSource:
    """The TimeSource of the mapped Asana projects (or a portfolio's projects)."""

    name = SOURCE

    def __init__(self, settings: AsanaSettings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        session = requests.Session()
        session.headers.update(
            {
                "Authorization": f"Bearer {settings.token.get_secret_value().strip()}",
                "Accept": "application/json",
                "User-Agent": "invoicing-pipeline (asana source)",
            }
        )
        policy = RetryPolicy(max_attempts=settings.max_attempts, backoff_seconds=0.5, max_backoff_seconds=30.0)
        self.api = JsonApi(
            session,
            _errors(),
            settings.base_url,
            policy,
            settings.retry_budget_seconds,
            settings.timeout_seconds,
            sleep,
        )
        self.projects = [p.strip() for p in settings.projects.replace(" ", ",").split(",") if p.strip()]

    @classmethod
    def from_settings(cls, settings: AsanaSettings, sleep: Callable[[float], None] = time.sleep) -> AsanaSource:
        missing = [n for n, v in (("ASANA_TOKEN", settings.token.get_secret_value()),) if not v.strip()]
        if not settings.projects.strip() and not settings.portfolio.strip():
            missing.append("ASANA_PROJECTS (or ASANA_PORTFOLIO)")
        if missing:
            raise ConfigError(f"The Asana time source needs {', '.join(missing)}; see docs/asana.md.")
        return cls(settings, sleep)

    def __repr__(self) -> str:
        return f"AsanaSource(projects={self.projects!r}, portfolio={self.settings.portfolio!r})"

    @property
    def calls(self) -> int:
        return self.api.calls

    def fetch(self, period: Period, progress: Progress = no_progress) -> ImportResult:
        return self.fetch_changes(period, None, {}, progress)

    def fetch_changes(
        self, period: Period, since: datetime | None, state: Mapping[str, Any], progress: Progress = no_progress
    ) -> ImportResult:
        self.api.new_budget()
        projects = self._projects(state if since is not None else {})
        raw: dict[str, dict[str, Any]] = {}
        milestones: dict[str, SourceMilestone] = {}
        for n, project in enumerate(projects, start=1):
            params: dict[str, Any] = {"project": project, "opt_fields": TASK_FIELDS}
            if since is not None:
                params["modified_since"] = since.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            changed: list[str] = []
            for task in self._pages("/tasks", params, f"the tasks of project {project}"):
                if task.get("resource_subtype") == "milestone":
                    milestones[str(task["gid"])] = _milestone(task)
                else:
                    changed.append(str(task["gid"]))
            if since is None:
                query = {
                    "attributable_to": project,
                    "entered_on_start_date": period.start.isoformat(),
                    "entered_on_end_date": period.end.isoformat(),
                    "opt_fields": ENTRY_FIELDS + ",task.gid",
                }
                for e in self._pages("/time_tracking_entries", query, f"the time entries of project {project}"):
                    raw[str(e["gid"])] = {**e, "_project": project}
            else:
                for task_gid in changed:
                    path = f"/tasks/{task_gid}/time_tracking_entries"
                    for e in self._pages(path, {"opt_fields": ENTRY_FIELDS}, f"the time entries of task {task_gid}"):
                        raw[str(e["gid"])] = {**e, "_project": project, "task": {"gid": task_gid, **_obj(e, "task")}}
            progress(n, len(projects), f"Asana project {n} of {len(projects)}")
        entries, errors = [], []
        for gid, e in raw.items():
            try:
                entry = _entry(gid, e, set(projects))
            except InputError as exc:
                errors.append(exc)
                continue
            if entry is not None and period.contains(entry.date):
                entries.append(entry)
        skipped: tuple[SkippedRow, ...] = ()
        if errors:
            if not self.settings.skip_bad_records:
                raise InputErrors(errors, what="Asana time entries (ASANA_SKIP_BAD_RECORDS skips them)")
            skipped = tuple(SkippedRow(str(e.location), e.message) for e in errors)
        entries.sort(key=lambda e: (e.date, e.source_id))
        what = "time entries" if since is None else "changed time entries"
        return ImportResult(
            entries=tuple(entries),
            skipped=skipped,
            covers=(SOURCE,) if since is None else (),
            descriptions=(
                f"Asana ({len(projects)} projects): {len(entries)} {what} in {period}, {len(milestones)} milestones",
            ),
            incremental=(SOURCE,) if since is not None else (),
            marks=(SyncMark(SOURCE, str(period), "", state=_state(projects)),),
            milestones=tuple(milestones.values()),
        )

    def _projects(self, state: Mapping[str, Any]) -> list[str]:
        """ASANA_PROJECTS, and the projects of ASANA_PORTFOLIO (read once per full sync, then from the cache)."""
        projects = list(self.projects)
        if self.settings.portfolio.strip():
            cached = state.get("portfolio_projects")
            if isinstance(cached, list) and all(isinstance(p, str) for p in cached):
                found = cached
            else:
                path = f"/portfolios/{self.settings.portfolio.strip()}/items"
                items = self._pages(path, {"opt_fields": "name,resource_type"}, "the portfolio's items")
                found = [str(i["gid"]) for i in items if i.get("resource_type", "project") == "project"]
            projects += [p for p in found if p not in projects]
        return projects

    def _pages(self, path: str, params: dict[str, Any], what: str) -> Iterator[dict[str, Any]]:
        """Every record of a list, following next_page.offset until it is null."""
        query = {**params, "limit": self.settings.page_size}
        page = 0
        while True:
            page += 1
            body = self.api.get(path, query, what=f"{what} (page {page})")
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise Transient(f"Asana's answer for {what} has no data list; nothing was changed, run refresh again.")
            yield from (d for d in data if isinstance(d, dict) and d.get("gid"))
            nxt = body.get("next_page")
            offset = nxt.get("offset") if isinstance(nxt, dict) else None
            if not offset:
                return
            query = {**query, "offset": offset}
            if page > 10_000:
                raise AsanaApiError(f"Asana kept sending pages of {what}; stopped.")


def _state(projects: list[str]) -> str:
    return json.dumps({"portfolio_projects": projects}, separators=(",", ":"))


def _obj(raw: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


def _milestone(task: Mapping[str, Any]) -> SourceMilestone:
    done = str(task.get("completed_at") or "")
    try:
        completed_on: date | None = datetime.fromisoformat(done.replace("Z", "+00:00")).date() if done else None
    except ValueError:
        completed_on = None
    return SourceMilestone(
        SOURCE, str(task["gid"]), str(task.get("name") or ""), bool(task.get("completed")), completed_on
    )


def _entry(gid: str, e: Mapping[str, Any], projects: set[str]) -> TimeEntry | None:
    where = Location(entry=f"{SOURCE}:{gid}")
    project = _obj(e, "attributable_to")
    if project.get("gid") and str(project["gid"]) not in projects:
        return None  # attributed to another project's budget: that project bills it
    creator = _obj(e, "created_by")
    if not creator.get("name") and not creator.get("gid"):
        raise InputError("has no creator (field created_by)", where)
    minutes = e.get("duration_minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool):
        raise InputError(f"has no whole duration_minutes ({minutes!r}) (field duration_minutes)", where)
    if minutes < 0:
        raise InputError(f"has negative duration_minutes ({minutes}) (field duration_minutes)", where)
    try:
        day = date.fromisoformat(str(e.get("entered_on")))
    except ValueError:
        raise InputError(
            f'has entered_on "{e.get("entered_on")}", which is not a date (field entered_on)', where
        ) from None
    task = _obj(e, "task")
    project_gid = str(project.get("gid") or e.get("_project") or "")
    client = str(project.get("name") or project_gid)
    return TimeEntry(
        source=SOURCE,
        source_id=gid,
        date=day,
        client=client,
        project=client,
        task=str(task.get("name") or ""),
        person=str(creator.get("name") or creator.get("gid")),
        email=str(creator.get("email") or ""),
        notes=str(task.get("name") or ""),
        hours=hours_from_seconds(minutes * 60),
        url=f"https://app.asana.com/0/{project_gid}/{task['gid']}" if task.get("gid") else "",
        tags=(project_gid,) if project_gid else (),
    )
