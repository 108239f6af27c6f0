"""Worklogs from Jira Cloud (REST API v3) as time entries (the TimeSource named "jira").

A sync asks Jira which worklogs changed since its watermark (`GET /rest/api/3/worklog/updated?since=ms`,
following `nextPage` until `lastPage`), which were deleted (`GET /rest/api/3/worklog/deleted?since=ms`), reads
the changed ones in chunks of up to 1,000 ids (`POST /rest/api/3/worklog/list`), and the issues they are on in
one paged search (`POST /rest/api/3/search/jql`, `id in (...)`, fields summary, project, issuetype, labels,
parent, components). A re-sync with nothing changed is two requests.

    >>> source = JiraSource.from_settings(JiraSettings())               # doctest: +SKIP
    >>> source.fetch(Period.parse("2026-10")).descriptions                # doctest: +SKIP
    ('Jira Cloud (acme.atlassian.net): 812 worklogs in 2026-10',)

Choices a user should know:

- `source_id` is the worklog id; the date is the day the worklog `started`, in the offset Jira gives it.
- Hours are `timeSpentSeconds` / 3600 exactly; the comment (Atlassian Document Format) becomes plain text,
  after `KEY Summary: ` so the invoice line can say what the time was for; the link is SITE/browse/KEY.
- The client is the issue's Jira project name (JIRA_CLIENT_BY=project), or its first component or label;
  the Clients tab's Tracker Keys column maps it (and the project key) to a client. The project is the epic
  or parent's summary when the issue has one, else the Jira project name. The person is the author's display
  name (the People tab maps it, or the email when Jira shows it, to one person and role).
- A first sync of a month asks for worklogs changed since 31 days before it (Jira has no date filter on
  this feed); worklogs outside the month are read and left out.
- Bad records (no author, negative or missing time, no issue) are located errors ("jira:100234: has no
  author"); nothing lands unless JIRA_SKIP_BAD_RECORDS (or --skip-bad-rows) lists and skips them.
- Basic auth (JIRA_EMAIL + JIRA_API_TOKEN) against https://SITE, or an OAuth 2.0 (3LO) access token
  (JIRA_OAUTH_TOKEN + JIRA_CLOUD_ID) against api.atlassian.com; the token is in no message, repr or log.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests

from ..errors import AuthError, ConfigError, InputError, InputErrors, Location, Terminal, Transient
from ..models import Period, TimeEntry
from ..money import hours_from_seconds
from ..ports import ImportResult, Progress, SkippedRow, SyncMark, no_progress
from ..settings import JiraSettings
from ..transport import ErrorTable, RetryLater, RetryPolicy
from .json_api import JsonApi, error_text

SOURCE = "jira"
TOKEN_HELP = "https://id.atlassian.com/manage-profile/security/api-tokens"
FIELDS = ["summary", "project", "issuetype", "labels", "parent", "components"]
FIRST_SYNC_LOOKBACK = timedelta(days=31)
SEARCH_PAGE = 100  # issues per search page (what Jira returns with fields)
IDS_PER_SEARCH = 500  # issue ids per JQL (a JQL text stays far below Jira's request size limits)


class JiraApiError(Terminal):
    """Jira refused a request in a way a retry will not fix."""


def _errors(site: str) -> ErrorTable:
    return ErrorTable(
        "Jira",
        {
            "timeout": (RetryLater, "Jira did not answer {what} in time"),
            "connection": (RetryLater, "Jira could not be reached for {what} ({exc}; check JIRA_SITE)"),
            429: (RetryLater, "Jira's rate limit held {what} back"),
            "5xx": (RetryLater, "Jira answered {what} with a server error ({status})"),
            401: (
                AuthError,
                f"Jira refused the credentials for {site} (401{{detail}}). Check JIRA_EMAIL and JIRA_API_TOKEN "
                f"(create a token at {TOKEN_HELP}), or JIRA_OAUTH_TOKEN (docs/RUNBOOK.md#a-source-refuses-its-token).",
            ),
            403: (
                ConfigError,
                f"Jira does not let this account read {{what}} on {site} (403{{detail}}); it needs the Browse "
                "projects permission on the projects whose worklogs are billed.",
            ),
            404: (ConfigError, f"Jira has no {{what}} at {site} (404{{detail}}). Check JIRA_SITE and JIRA_BASE_URL."),
            400: (JiraApiError, "Jira refused {what} as a bad request (400{detail})."),
            "other": (JiraApiError, "Jira refused {what} with status {status}{detail}; retrying will not help."),
            "gave up": (
                Transient,
                "{last}; gave up after {attempts} attempt(s) and {spent:.1f} s of waiting "
                "(JIRA_RETRY_BUDGET_SECONDS={budget:g}). Nothing was changed; run refresh again later "
                "(docs/RUNBOOK.md#a-source-is-down).",
            ),
        },
        fields=lambda response: {"detail": error_text(response)},
        default_retry_after=10.0,
    )


def adf_text(node: Any) -> str:
    """Atlassian Document Format as plain text: paragraphs and list items on their own lines, mentions,
    emoji and links as their text. A plain string (Jira's v2 comments) is itself."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    out: list[str] = []
    _adf(node, out)
    lines = "".join(out).split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


_BLOCKS = {"paragraph", "heading", "listItem", "blockquote", "codeBlock", "rule", "tableRow", "panel"}


def _adf(node: Any, out: list[str]) -> None:
    if isinstance(node, list):
        for child in node:
            _adf(child, out)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    attrs = _obj(node, "attrs")
    if kind == "text":
        out.append(str(node.get("text") or ""))
    elif kind == "hardBreak":
        out.append("\n")
    elif kind == "mention":
        out.append(str(attrs.get("text") or ""))
    elif kind == "emoji":
        out.append(str(attrs.get("text") or attrs.get("shortName") or ""))
    elif kind in ("inlineCard", "blockCard"):
        out.append(str(attrs.get("url") or ""))
    elif kind == "listItem":
        out.append("- ")
    if kind in ("tableCell", "tableHeader") and out and not out[-1].endswith(("\n", " ")):
        out.append(" ")
    _adf(node.get("content"), out)
    if kind in _BLOCKS and out and not out[-1].endswith("\n"):
        out.append("\n")


class JiraSource:
    """The TimeSource of one Jira Cloud site's worklogs."""

    name = SOURCE

    def __init__(self, settings: JiraSettings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.site = _site(settings.site)
        session = requests.Session()
        session.headers.update({"Accept": "application/json", "User-Agent": "invoicing-pipeline (jira source)"})
        oauth = settings.oauth_token.get_secret_value().strip()
        if oauth:
            session.headers["Authorization"] = f"Bearer {oauth}"
            root = settings.base_url or f"https://api.atlassian.com/ex/jira/{settings.cloud_id}"
        else:
            pair = f"{settings.email}:{settings.api_token.get_secret_value()}".encode()
            session.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
            root = settings.base_url or f"https://{self.site}"
        policy = RetryPolicy(max_attempts=settings.max_attempts, backoff_seconds=0.5, max_backoff_seconds=30.0)
        self.api = JsonApi(
            session, _errors(self.site), root, policy, settings.retry_budget_seconds, settings.timeout_seconds, sleep
        )

    @classmethod
    def from_settings(cls, settings: JiraSettings, sleep: Callable[[float], None] = time.sleep) -> JiraSource:
        """Missing settings are named at once; no network here."""
        oauth = settings.oauth_token.get_secret_value().strip()
        needed = [("JIRA_SITE", settings.site)]
        if oauth:
            needed.append(("JIRA_CLOUD_ID", settings.cloud_id or settings.base_url))
        else:
            needed += [("JIRA_EMAIL", settings.email), ("JIRA_API_TOKEN", settings.api_token.get_secret_value())]
        missing = [name for name, value in needed if not str(value).strip()]
        if missing:
            raise ConfigError(
                f"The Jira time source needs {', '.join(missing)}; see docs/jira.md (an API token comes from "
                f"{TOKEN_HELP})."
            )
        if "." not in _site(settings.site):
            raise ConfigError(
                f'JIRA_SITE should be your site\'s address, like "acme.atlassian.net", not "{settings.site}".'
            )
        return cls(settings, sleep)

    def __repr__(self) -> str:
        return f"JiraSource(site={self.site!r})"

    @property
    def calls(self) -> int:
        return self.api.calls

    def fetch(self, period: Period, progress: Progress = no_progress) -> ImportResult:
        return self.fetch_changes(period, None, {}, progress)

    def fetch_changes(
        self, period: Period, since: datetime | None, state: Mapping[str, Any], progress: Progress = no_progress
    ) -> ImportResult:
        self.api.new_budget()
        full = since is None
        start = since or datetime.combine(period.start, datetime.min.time(), UTC) - FIRST_SYNC_LOOKBACK
        ms = int(start.timestamp() * 1000)
        changed = [v["worklogId"] for v in self._feed("/rest/api/3/worklog/updated", ms, "changed worklogs", progress)]
        deleted = [v["worklogId"] for v in self._feed("/rest/api/3/worklog/deleted", ms, "deleted worklogs", progress)]
        ids = list(dict.fromkeys(str(i) for i in changed if str(i) not in {str(d) for d in deleted}))
        worklogs = self._worklogs(ids, progress)
        in_period = [w for w in worklogs if _in(period, w)]
        issues = self._issues({str(w.get("issueId")) for w in in_period if w.get("issueId") is not None}, progress)
        entries, errors = [], []
        for w in in_period:
            try:
                entries.append(self._entry(w, issues))
            except InputError as exc:
                errors.append(exc)
        skipped: tuple[SkippedRow, ...] = ()
        if errors:
            if not self.settings.skip_bad_records:
                raise InputErrors(errors, what=f"Jira worklogs of {self.site} (JIRA_SKIP_BAD_RECORDS skips them)")
            skipped = tuple(SkippedRow(str(e.location), e.message) for e in errors)
        entries.sort(key=lambda e: (e.date, e.source_id))
        what = f"{len(entries)} worklogs" if full else f"{len(entries)} changed, {len(deleted)} deleted"
        return ImportResult(
            entries=tuple(entries),
            skipped=skipped,
            covers=(),  # the feed says what was deleted: no need to infer it from what is missing
            descriptions=(f"Jira Cloud ({self.site}): {what} in {period}",),
            incremental=(SOURCE,),
            deleted=tuple(f"{SOURCE}:{d}" for d in deleted),
            marks=(SyncMark(SOURCE, str(period), ""),),
        )

    # -- requests ---------------------------------------------------------------------------------------
    def _feed(self, path: str, since_ms: int, what: str, progress: Progress) -> Iterator[dict[str, Any]]:
        """The pages of a worklog id feed, following nextPage (on the configured site only) until lastPage."""
        url: str | None = path
        params: dict[str, Any] | None = {"since": since_ms}
        page = 0
        while url:
            body = self.api.get(url, params, what=f"{what} (page {page + 1})")
            page += 1
            values = body.get("values") if isinstance(body, dict) else None
            if not isinstance(values, list):
                raise Transient(
                    f"Jira's {what} page {page} has no values list; nothing was changed, run refresh again."
                )
            for v in values:
                if isinstance(v, dict) and v.get("worklogId") is not None:
                    yield v
            progress(page, page + (0 if body.get("lastPage") else 1), f"Jira {what}, page {page}")
            if body.get("lastPage", True) or not body.get("nextPage"):
                return
            url, params = str(body["nextPage"]), None
            if page > 10_000:
                raise JiraApiError(f"Jira kept sending pages of {what} past page {page}; stopped.")

    def _worklogs(self, ids: list[str], progress: Progress) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        size = self.settings.chunk_size
        chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
        for n, chunk in enumerate(chunks, start=1):
            body = self.api.post(
                "/rest/api/3/worklog/list", {"ids": [int(i) for i in chunk]}, what=f"worklogs (chunk {n})"
            )
            if not isinstance(body, list):
                raise Transient("Jira's worklog list is not a list; nothing was changed, run refresh again.")
            out += [w for w in body if isinstance(w, dict)]
            progress(n, len(chunks), f"Jira worklogs, {len(out)} of {len(ids)}")
        return out

    def _issues(self, ids: set[str], progress: Progress) -> dict[str, dict[str, Any]]:
        issues: dict[str, dict[str, Any]] = {}
        wanted = sorted(i for i in ids if i.isdigit())
        for start in range(0, len(wanted), IDS_PER_SEARCH):
            jql = f"id in ({','.join(wanted[start : start + IDS_PER_SEARCH])})"
            body: dict[str, Any] = {"jql": jql, "fields": FIELDS, "maxResults": SEARCH_PAGE}
            page = 0
            while True:
                page += 1
                answer = self.api.post("/rest/api/3/search/jql", body, what=f"the issues search (page {page})")
                found = answer.get("issues") if isinstance(answer, dict) else None
                if not isinstance(found, list):
                    raise Transient("Jira's issue search sent no issues list; nothing was changed, run refresh again.")
                for issue in found:
                    if isinstance(issue, dict) and issue.get("id") is not None:
                        issues[str(issue["id"])] = issue
                progress(len(issues), len(wanted), "Jira issues")
                token = answer.get("nextPageToken")
                if not token or answer.get("isLast"):
                    break
                body = {**body, "nextPageToken": token}
        return issues

    # -- mapping ----------------------------------------------------------------------------------------
    def _entry(self, w: dict[str, Any], issues: Mapping[str, dict[str, Any]]) -> TimeEntry:
        wid = str(w.get("id") or "?")
        where = Location(entry=f"{SOURCE}:{wid}")
        author = _obj(w, "author") or None
        if not author or not (author.get("displayName") or author.get("accountId")):
            raise InputError("has no author (field author)", where)
        day = _started_day(w)
        if day is None:
            raise InputError(f'has started "{w.get("started")}", which is not a date and time (field started)', where)
        seconds = w.get("timeSpentSeconds")
        if not isinstance(seconds, int) or isinstance(seconds, bool):
            raise InputError(f"has no whole timeSpentSeconds ({seconds!r}) (field timeSpentSeconds)", where)
        if seconds < 0:
            raise InputError(f"has negative time ({seconds} s) (field timeSpentSeconds)", where)
        issue = issues.get(str(w.get("issueId")))
        if issue is None:
            raise InputError(f"is on issue {w.get('issueId')}, which the search did not return (field issueId)", where)
        fields = _obj(issue, "fields")
        key = str(issue.get("key") or "")
        summary = str(fields.get("summary") or "").strip()
        project = _obj(fields, "project")
        parent = _obj(fields, "parent")
        parent_fields = _obj(parent, "fields")
        labels = tuple(str(x) for x in fields.get("labels") or [] if str(x).strip())
        components = [
            str(c.get("name")) for c in fields.get("components") or [] if isinstance(c, dict) and c.get("name")
        ]
        client = str(project.get("name") or project.get("key") or "")
        if self.settings.client_by == "component":
            client = components[0] if components else ""
        elif self.settings.client_by == "label":
            client = labels[0] if labels else ""
        if not client:
            raise InputError(f"is on {key}, which has no {self.settings.client_by} to name its client", where)
        comment = adf_text(w.get("comment"))
        notes = f"{key} {summary}" + (f": {comment}" if comment else "")
        issuetype = _obj(fields, "issuetype")
        billable = not self.settings.billable_label or self.settings.billable_label in labels
        return TimeEntry(
            source=SOURCE,
            source_id=wid,
            date=day,
            client=client,
            project=str(parent_fields.get("summary") or project.get("name") or ""),
            task=str(issuetype.get("name") or ""),
            person=str(author.get("displayName") or author.get("accountId")),
            email=str(author.get("emailAddress") or ""),
            notes=notes,
            hours=hours_from_seconds(seconds),
            billable=billable,
            url=f"https://{self.site}/browse/{key}" if key else "",
            tags=(str(project.get("key") or ""), *labels) if project.get("key") else labels,
        )


def _obj(raw: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The nested object raw[key], {} when it is absent or not an object."""
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


def _site(site: str) -> str:
    s = site.strip().rstrip("/")
    return urlsplit(s).netloc if "://" in s else s


def _in(period: Period, w: Mapping[str, Any]) -> bool:
    """In the month, or without a readable start (kept, so that it is reported, not silently dropped)."""
    day = _started_day(w)
    return day is None or period.contains(day)


def _started_day(w: Mapping[str, Any]) -> date | None:
    """The calendar day a worklog started, in the offset Jira wrote ("2026-10-05T09:30:00.000+0200")."""
    raw = str(w.get("started") or "")
    try:
        return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S.%f%z").date()
    except ValueError:
        try:
            return datetime.fromisoformat(raw).date()
        except ValueError:
            return None
