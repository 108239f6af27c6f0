"""Time entries from the Harvest API v2 (the production TimeSource named "harvest-api").

A first contact makes: `GET /v2/users/me` (is the token allowed to see everyone's time?), `GET /v2/company`
(the account's web address, for links to entries), the pages of
`GET /v2/time_entries?from=..&to=..&per_page=2000` (following `links.next` as Harvest asks) and one pass over
`GET /v2/users` (email and role per person): 4 calls for a month of 2,000 entries, 13 for 20,000. The web
address and the people are the account's, not the month's, so the Sync tab keeps them (functions/sources/sync.py
hands a month without a mark the newest state of another month): every later sync, full or incremental
(`updated_since`), is `users/me` plus the entry pages, 2 calls a month of 2,000 entries. `/users` is read again
only when someone new appears or the people read is older than PEOPLE_MAX_AGE (a day), and `refresh --full`
reads everything again. Harvest has no feed of deleted entries, so deletions are flagged by the full syncs
(`refresh --full`, or every SYNC_FULL_AFTER_HOURS).

    >>> source = HarvestSource.from_settings(HarvestSettings())             # doctest: +SKIP
    >>> source.fetch(Period.parse("2026-10")).descriptions                  # doctest: +SKIP
    ('Harvest API (account 123): 812 entries in 2026-10',)

Choices a user should know:

- `source_id` is Harvest's entry id, so an entry edited in Harvest (hours, notes, anything) stays the same
  row of the sheet; a deleted entry is flagged "gone" by refresh, because a completed fetch covers the source.
- Hours are Harvest's `hours` (what was tracked), not `rounded_hours` (the account's invoice rounding), as in
  the CSV export; JSON numbers are read straight into Decimal, kept as Harvest gives them.
- A rate of 0 or null is "no rate" (as the CSV importer reads it); the currency is the client's currency.
- Only an Administrator's token sees every person's time. A Manager's token sees only the people they
  manage: the fetch works but does not claim to cover the source (so nothing is flagged gone), and the
  description says so. A Member's token is refused with a ConfigError.
- Retries: 429 waits for Retry-After, 5xx / timeouts / a broken page back off exponentially, all within
  `retry_budget_seconds`; 400/401/403/404/422 are never retried. The token is sent only to the configured
  base URL (a `links.next` pointing elsewhere is refused) and appears in no message, repr or log.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests
from pydantic import ValidationError

from ..errors import AuthError, ConfigError, InputError, InputErrors, Location, Terminal, Transient
from ..models import Period, TimeEntry
from ..money import D, NotAnAmount
from ..ports import ImportResult, Progress, SyncMark, no_progress
from ..settings import HarvestSettings
from ..transport import Budget, ErrorTable, Http, RetryLater, RetryPolicy

SOURCE = "harvest-api"
DEFAULT_BASE_URL = "https://api.harvestapp.com/v2"
TOKEN_HELP = "https://id.getharvest.com/developers"
MAX_PER_PAGE = 2000  # Harvest's maximum (a larger value is a 422)
PEOPLE_MAX_AGE = timedelta(hours=24)  # the cached emails and roles are read again after this


class HarvestApiError(Terminal):
    """Harvest refused a request in a way a retry will not fix (400, 422, an unexpected status)."""


@dataclass(frozen=True)
class _Person:
    email: str
    role: str


def _api_root(base_url: str) -> str:
    root = base_url.strip().rstrip("/")
    return root if root.endswith("/v2") else root + "/v2"


def _errors(account_id: str, root: str) -> ErrorTable:
    """Harvest's answers as errors; `{detail}` is Harvest's own error text, when it sends one."""
    host = urlsplit(root).netloc
    return ErrorTable(
        "Harvest",
        {
            "timeout": (RetryLater, "Harvest did not answer GET {what} in time"),
            # A dropped connection is as retryable as a timeout; an unreachable host, though, is usually a wrong
            # HARVEST_BASE_URL, so the message names it.
            "connection": (
                RetryLater,
                "Harvest could not be reached or dropped the connection for GET {what} "
                "({exc}; check HARVEST_BASE_URL if this persists)",
            ),
            429: (RetryLater, "Harvest's rate limit (100 requests per 15 s) held GET {what} back"),
            "5xx": (RetryLater, "Harvest answered GET {what} with a server error ({status})"),
            401: (
                AuthError,
                f"Harvest refused the token for account {account_id} (401{{detail}}). Check HARVEST_TOKEN: "
                f"create a Personal Access Token at {TOKEN_HELP} and make sure it is not revoked or expired "
                f"(docs/RUNBOOK.md#a-source-refuses-its-token).",
            ),
            403: (
                ConfigError,
                f"Harvest refused GET {{what}} for account {account_id} (403{{detail}}). Check "
                f"HARVEST_ACCOUNT_ID (the account id shown next to the token at {TOKEN_HELP}) and that "
                f"the token's user is an Administrator of that account.",
            ),
            404: (
                ConfigError,
                f"Harvest has no GET {{what}} at {host} (404{{detail}}). Check HARVEST_BASE_URL "
                f"(normally {DEFAULT_BASE_URL}) and HARVEST_ACCOUNT_ID.",
            ),
            400: (
                ConfigError,
                "Harvest refused GET {what} as a bad request (400{detail}). Check HARVEST_USER_AGENT "
                '(Harvest requires one like "Invoicing (ops@example.com)").',
            ),
            "other": (
                HarvestApiError,
                "Harvest refused GET {what} with status {status}{detail}; retrying will not help.",
            ),
            "elsewhere": (
                HarvestApiError,
                "Harvest answered with a next-page link to {host}, which is not the "
                "configured API ({configured}); refusing to send the token there. Check "
                "HARVEST_BASE_URL.",
            ),
            "gave up": (
                Transient,
                "{last}; gave up after {attempts} attempt(s) and {spent:.1f} s of waiting "
                "(HARVEST_RETRY_BUDGET_SECONDS={budget:g}). Nothing was changed; run refresh again "
                "later (docs/RUNBOOK.md#a-source-is-down).",
            ),
        },
        fields=lambda response: {"detail": _error_text(response)},
        default_retry_after=15.0,
    )  # Harvest's window; an HTTP-date Retry-After is not something it sends


class HarvestClient:
    """GETs against Harvest through the shared transport, on one requests.Session (kept-alive connections)."""

    def __init__(self, settings: HarvestSettings, sleep: Callable[[float], None] = time.sleep):
        self.root = _api_root(settings.base_url)
        self.account_id = settings.account_id
        self.budget_seconds = settings.retry_budget_seconds
        session = requests.Session()
        # The token lives only in the session's headers: never in URLs, messages or reprs.
        session.headers.update(
            {
                "Authorization": f"Bearer {settings.token.get_secret_value()}",
                "Harvest-Account-Id": settings.account_id,
                "User-Agent": settings.user_agent,
                "Accept": "application/json",
            }
        )
        policy = RetryPolicy(max_attempts=settings.max_attempts, backoff_seconds=0.5, max_backoff_seconds=30.0)
        self.http = Http(
            session,
            policy,
            _errors(settings.account_id, self.root),
            sleep=sleep,
            timeout=(settings.connect_timeout_seconds, settings.read_timeout_seconds),
            origin=self.root,
        )
        self._budget = Budget(self.budget_seconds)

    def __repr__(self) -> str:
        return f"HarvestClient(root={self.root!r}, account_id={self.account_id!r})"

    @property
    def calls(self) -> int:
        """Requests sent, retries included (for benchmarks and the Runs tab)."""
        return self.http.calls

    @property
    def retries(self) -> int:
        return self.http.retries

    def new_budget(self) -> None:
        """Start a fresh retry budget (once per fetch: a warm cloud instance reuses the client)."""
        self._budget = Budget(self.budget_seconds)

    def close(self) -> None:
        self.http.close()

    def get(self, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET a path under the API root (`/time_entries`) or a full `links.next` URL; the JSON body."""
        if url.startswith("/"):
            url = self.root + url
        return self.http.request(
            "GET", url, what=urlsplit(url).path, params=params, budget=self._budget, accept=_json_body
        )


def _json_body(response: requests.Response) -> dict[str, Any]:
    what = urlsplit(response.url).path
    try:
        # parse_float=Decimal: hours and rates never pass through a binary float.
        body = json.loads(response.content.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        why = exc.msg if isinstance(exc, json.JSONDecodeError) else exc
        raise RetryLater(f"Harvest sent a broken page for GET {what} (not JSON: {why})") from None
    if not isinstance(body, dict):
        raise RetryLater(f"Harvest sent a broken page for GET {what} (not a JSON object)")
    return body


def _error_text(response: requests.Response) -> str:
    """`: invalid_token - The access token ...` from Harvest's error body, if it has one (never the request)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [str(body[k]) for k in ("error", "error_description", "message") if body.get(k)]
    text = " - ".join(parts)[:300].rstrip(". ")
    return f": {text}" if text else ""


class HarvestSource:
    """The TimeSource over Harvest API v2 for one account."""

    def __init__(
        self,
        settings: HarvestSettings,
        client: HarvestClient | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.settings = settings
        self.per_page = min(max(1, settings.per_page), MAX_PER_PAGE)
        self.client = client or HarvestClient(settings)
        self.clock = clock  # when the people were read, for PEOPLE_MAX_AGE

    @classmethod
    def from_settings(cls, settings: HarvestSettings | None = None) -> HarvestSource:
        """Check the settings (all missing ones named at once) and build the source."""
        settings = settings or HarvestSettings()
        missing = [
            name
            for name, value in (
                ("HARVEST_ACCOUNT_ID", settings.account_id.strip()),
                ("HARVEST_TOKEN", settings.token.get_secret_value().strip()),
                ("HARVEST_USER_AGENT", settings.user_agent.strip()),
            )
            if not value
        ]
        if missing:
            raise ConfigError(
                f"The Harvest time source needs {', '.join(missing)}; see docs/harvest.md (the token "
                f"and account id come from {TOKEN_HELP})."
            )
        if not settings.account_id.strip().isdigit():
            raise ConfigError(f'HARVEST_ACCOUNT_ID must be the numeric account id, not "{settings.account_id}".')
        if "(" not in settings.user_agent:
            raise ConfigError(
                f'HARVEST_USER_AGENT should name the app and a contact, like "Invoicing '
                f'(ops@example.com)"; Harvest refuses requests without one. It is '
                f'"{settings.user_agent}".'
            )
        root = _api_root(settings.base_url)
        if urlsplit(root).scheme not in ("http", "https") or not urlsplit(root).netloc:
            raise ConfigError(f'HARVEST_BASE_URL is not a URL: "{settings.base_url}".')
        return cls(settings)

    def __repr__(self) -> str:
        return f"HarvestSource(account_id={self.settings.account_id!r}, base_url={self.client.root!r})"

    name = SOURCE

    def fetch(self, period: Period, progress: Progress = no_progress) -> ImportResult:
        return self.fetch_changes(period, None, {}, progress)

    def fetch_changes(
        self, period: Period, since: datetime | None, state: Mapping[str, Any], progress: Progress = no_progress
    ) -> ImportResult:
        """The period's entries (`since` None), or only those updated since then (`updated_since`). The token's
        access is checked every time; the account's web address and people come from `state` (the Sync tab's
        cache of an earlier sync, any month) when it has them, so a sync with a cache is two calls."""
        account = self.settings.account_id
        self.client.new_budget()
        me = self.client.get("/users/me")
        roles = set(me.get("access_roles") or [])
        if "administrator" in roles:
            complete = True
        elif "manager" in roles:
            complete = False
        else:
            raise ConfigError(
                f"The HARVEST_TOKEN of account {account} belongs to {me.get('first_name', '')} "
                f"{me.get('last_name', '')}, who is not an Administrator or Manager, so Harvest shows "
                f"only their own time. Use an Administrator's Personal Access Token."
            )
        web = str(state.get("web") or "")
        if not web:
            company = self.client.get("/company")
            web = str(company.get("base_uri") or "").rstrip("/")
        now = self.clock()
        people, people_at = _cached_people(state, now)
        rows: dict[str, dict[str, Any]] = {}
        params: dict[str, Any] = {"from": period.start.isoformat(), "to": period.end.isoformat()}
        if since is not None:
            params["updated_since"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        params["per_page"] = self.per_page
        for page_no, total_pages, page in self._pages("/time_entries", params, "time_entries"):
            for raw in page:
                if isinstance(raw, dict) and raw.get("id") is not None:
                    rows[str(raw["id"])] = raw  # an entry seen twice (edited while paging) counts once
            progress(page_no, total_pages, f"Harvest time entries, page {page_no} of {total_pages}")
        if not people or any(_user_id(raw) not in people for raw in rows.values()):
            people = self._people(progress)  # someone the cache does not know yet: one pass over the users
            people_at = now
        entries, errors = [], []
        for source_id, raw in rows.items():
            try:
                entry = _entry(source_id, raw, people, web)
            except InputError as exc:
                errors.append(exc)
                continue
            if period.contains(entry.date):
                entries.append(entry)
        if errors:
            raise InputErrors(errors, what=f"Harvest time entries of account {account}")
        entries.sort(key=lambda e: (e.date, int(e.source_id) if e.source_id.isdigit() else 0, e.source_id))
        note = "" if complete else " (a Manager's token: only the people they manage; nothing is flagged gone)"
        changed = f"{len(entries)} changed since {params['updated_since']}" if since else f"{len(entries)} entries"
        new_state = {
            "web": web,
            "people": {str(k): [p.email, p.role] for k, p in sorted(people.items())},
            "people_at": people_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        return ImportResult(
            entries=tuple(entries),
            covers=(SOURCE,) if complete and since is None else (),
            descriptions=(f"Harvest API (account {account}): {changed} in {period}{note}",),
            incremental=(SOURCE,) if since is not None else (),
            marks=(SyncMark(SOURCE, str(period), "", state=json.dumps(new_state, separators=(",", ":"))),),
        )

    def _people(self, progress: Progress) -> dict[int, _Person]:
        people: dict[int, _Person] = {}
        for page_no, total_pages, page in self._pages("/users", {"per_page": self.per_page}, "users"):
            for user in page:
                if isinstance(user, dict) and isinstance(user.get("id"), int):
                    roles = [str(r) for r in (user.get("roles") or []) if str(r).strip()]
                    people[user["id"]] = _Person(email=str(user.get("email") or ""), role=roles[0] if roles else "")
            progress(page_no, total_pages, f"Harvest users, page {page_no} of {total_pages}")
        return people

    def _pages(self, path: str, params: dict[str, Any], key: str) -> Iterator[tuple[int, int, list[Any]]]:
        """(page number, total pages, records) per page, following links.next until it is null."""
        url: str | None = path
        query: dict[str, Any] | None = params
        page_no = 0
        total_pages = 1
        while url:
            body = self.client.get(url, query)
            page_no += 1
            records = body.get(key)
            if not isinstance(records, list):
                raise Transient(
                    f"Harvest's GET {path} page {page_no} has no {key} list; nothing was changed, "
                    f"run refresh again later."
                )
            total_pages = max(int(body.get("total_pages") or 1), page_no)
            yield page_no, total_pages, records
            links = body.get("links") or {}
            url, query = (links.get("next") if isinstance(links, dict) else None), None
            if url and page_no >= total_pages + 10:
                raise HarvestApiError(
                    f"Harvest kept sending next-page links for GET {path} past page {page_no} "
                    f"(total_pages {total_pages}); stopped."
                )


def _user_id(raw: dict[str, Any]) -> int | None:
    user_id = _obj(raw, "user").get("id")
    return user_id if isinstance(user_id, int) else None


def _cached_people(state: Mapping[str, Any], now: datetime) -> tuple[dict[int, _Person], datetime]:
    """The people an earlier sync kept ({"1001": [email, role]}) and when they were read; ({}, now) when the
    cache is missing, damaged or older than PEOPLE_MAX_AGE (so that a changed email or role shows)."""
    cached = state.get("people")
    try:
        read_at = datetime.fromisoformat(str(state.get("people_at") or "").replace("Z", "+00:00"))
    except ValueError:
        return {}, now
    if not isinstance(cached, dict) or read_at.tzinfo is None or not timedelta(0) <= now - read_at <= PEOPLE_MAX_AGE:
        return {}, now
    people = {}
    for key, value in cached.items():
        if str(key).isdigit() and isinstance(value, list) and len(value) == 2:
            people[int(key)] = _Person(email=str(value[0]), role=str(value[1]))
    return people, read_at


def _obj(raw: dict[str, Any], key: str) -> dict[str, Any]:
    """The nested object `raw[key]` (Harvest's `{"id": ..., "name": ...}`), {} when absent or not an object."""
    obj = raw.get(key)
    return obj if isinstance(obj, dict) else {}


def _name(raw: dict[str, Any], key: str) -> str:
    return str(_obj(raw, key).get("name") or "").strip()


def _entry(source_id: str, raw: dict[str, Any], people: dict[int, _Person], web: str) -> TimeEntry:
    where = Location(entry=f"{SOURCE}:{source_id}")
    try:
        day = date.fromisoformat(str(raw.get("spent_date")))
    except ValueError:
        raise InputError(f'has spent_date "{raw.get("spent_date")}", which is not a date', where) from None
    try:
        hours = D(raw.get("hours"))  # as Harvest gives them; only a client's rule rounds
        rate_value = raw.get("billable_rate")
        rate = None if rate_value is None else D(rate_value)
    except NotAnAmount as exc:
        raise InputError(f"has a number Harvest should not send: {exc}", where) from None
    if hours < 0:
        raise InputError(f"has negative hours ({hours})", where)
    user, client, reference = _obj(raw, "user"), _obj(raw, "client"), _obj(raw, "external_reference")
    user_id = user.get("id")
    person = people.get(user_id) if isinstance(user_id, int) else None
    url = str(reference.get("permalink") or "")
    if not url and web and user_id is not None:
        url = f"{web}/time/day/{day:%Y/%m/%d}/{user_id}"
    try:
        return TimeEntry(
            source=SOURCE,
            source_id=source_id,
            date=day,
            client=_name(raw, "client"),
            project=_name(raw, "project"),
            task=_name(raw, "task"),
            person=str(user.get("name") or "").strip(),
            role=person.role if person else "",
            email=person.email if person else "",
            notes=str(raw.get("notes") or "").replace("\r\n", "\n"),
            hours=hours,
            billable=bool(raw.get("billable")),
            rate=rate if rate else None,
            currency=(str(client.get("currency") or "") or None),
            url=url,
        )
    except ValidationError as exc:
        raise InputError(f"cannot be read: {exc.errors()[0].get('msg', exc)}", where) from None
