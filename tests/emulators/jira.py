"""A small stateful emulator of the Jira Cloud REST API v3 (the parts the worklog source reads), test code only.

Shaped after Atlassian's public reference and the shapes its SDKs type (ChangedWorklogs, Worklog, the
enhanced search): Basic auth (email + API token) or a Bearer token; `GET /rest/api/3/worklog/updated?since=ms`
and `/worklog/deleted?since=ms` answer `{values[{worklogId, updatedTime, properties}], since, until, self,
nextPage, lastPage}` with at most 1,000 values a page, oldest first, `since` inclusive, `nextPage` asking
`since=until`, and nothing changed in the last minute (Jira leaves it for the next call);
`POST /rest/api/3/worklog/list {"ids": [...]}` (at most 1,000, else 400) answers the worklogs that exist;
`POST /rest/api/3/search/jql {jql, fields, maxResults, nextPageToken}` takes `id in (...)` or `key in (...)`,
answers `{issues[{id, key, fields}], nextPageToken}` (no token on the last page; at most 100 issues a page
with fields) and refuses a `startAt` (400 "Invalid request payload"). Errors are `{"errorMessages": [...]}`.
Switches:

    emu.fail_next("429", retry_after="2")     # Too Many Requests with Retry-After
    emu.fail_next("500", path="worklog/list")
    emu.fail_next("timeout")                  # hang past the client's timeout
    emu.fail_next("malformed")                # a 200 whose body is cut in half
    emu.edit_worklog(id, timeSpentSeconds=5400); emu.delete_worklog(id)

Run by hand: `python -m tests.emulators.jira --port 8771 [--entries 2000] [--period 2026-10]`.
"""

from __future__ import annotations

import base64
import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from tests.emulators._server import TimeSourceEmulator, serve

PAGE = 1000
SEARCH_MAX = 100
SETTLE_MS = 60_000  # Jira does not return worklogs changed during the last minute
PEOPLE = [
    ("5b10a2844c20165700ede21g", "Ana Ruiz", "ana@northwind.example"),
    ("5b10ac8d82e05b22cc7d4ef5", "Ben Okafor", None),  # email hidden by the person's profile visibility
    ("5c3e9d1a7f2b4d0012ab34cd", "Chen Wei", "chen@northwind.example"),
]
PROJECTS = [("10000", "ACME", "Acme Web"), ("10001", "GLOBEX", "Globex Platform")]


@dataclass
class Fault:
    kind: str
    path: str = ""
    times: int = 1
    retry_after: str = "1"


class JiraEmulator(TimeSourceEmulator):
    title, default_port = "Jira Cloud REST API v3", 8771

    def __init__(
        self,
        email: str = "ops@northwind.example",
        token: str = "emu-jira-token",
        latency: float = 0.0,
        seed: bool = True,
        entries: int = 40,
        hang_seconds: float = 1.0,
        clock: Callable[[], int] | None = None,
    ):
        self.email, self.token, self.latency, self.hang_seconds = email, token, latency, hang_seconds
        self.clock = clock or (lambda: int(time.time() * 1000))
        self.issues: dict[str, dict] = {}
        self.worklogs: dict[str, dict] = {}
        self.deleted: dict[str, int] = {}  # worklog id -> when deleted (ms)
        self.entries = {}  # TimeSourceEmulator's name for what it holds: here the worklogs
        self.calls: list[tuple[str, str, Any]] = []
        self.faults: list[Fault] = []
        self._ids = 100_000
        self._lock = threading.RLock()
        if seed:
            self.seed(entries)

    # -- state --------------------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        return {
            "TIME_SOURCE": "jira",
            "JIRA_SITE": "northwind.atlassian.net",
            "JIRA_BASE_URL": self.base_url,
            "JIRA_EMAIL": self.email,
            "JIRA_API_TOKEN": self.token,
        }

    def summary(self) -> str:
        return f"{len(self.issues)} issues, {len(self.worklogs)} worklogs"

    def fail_next(self, kind: str, path: str = "", times: int = 1, retry_after: str = "1") -> None:
        with self._lock:
            self.faults.append(Fault(kind, path, times, retry_after))

    def count(self, part: str = "") -> int:
        return sum(1 for _, p, _ in self.calls if part in p)

    def seed(self, entries: int = 40, period: str = "2026-10", rng_seed: int = 11) -> None:
        """Two projects with a dozen issues each (some under an epic), and `entries` worklogs in `period`, each
        last changed an hour after it started (long settled)."""
        rng = random.Random(rng_seed)
        with self._lock:
            for pid, pkey, pname in PROJECTS:
                epic = self.add_issue(pkey, f"{pname} relaunch", "Epic", pid=pid, pname=pname)
                for n in range(12):
                    parent = epic if n % 3 == 0 else None
                    labels = ["billable"] if n % 4 else ["internal"]
                    self.add_issue(pkey, f"{rng.choice(TOPICS)} #{n}", rng.choice(TYPES), pid, pname, labels, parent)
            self.add_random_worklogs(entries, period, rng)

    def add_random_worklogs(self, n: int, period: str, rng: random.Random | None = None) -> None:
        rng = rng or random.Random(3)
        year, month = (int(x) for x in period.split("-"))
        first = date(year, month, 1)
        days = (date(year + (month == 12), month % 12 + 1, 1) - first).days
        issues = [i for i in self.issues.values() if i["fields"]["issuetype"]["name"] != "Epic"]
        with self._lock:
            for _ in range(n):
                day = first + timedelta(days=rng.randrange(days))
                started = datetime(day.year, day.month, day.day, 9 + rng.randrange(8), 0, tzinfo=UTC)
                self.add_worklog(
                    rng.choice(issues)["id"],
                    rng.choice(PEOPLE),
                    started,
                    rng.randrange(1, 33) * 900,
                    rng.choice(COMMENTS),
                    updated=int(started.timestamp() * 1000) + 3_600_000,
                )

    def _next_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    def add_issue(
        self,
        pkey: str,
        summary: str,
        issuetype: str = "Task",
        pid: str = "10000",
        pname: str = "Acme Web",
        labels: list[str] | None = None,
        parent: dict | None = None,
        components: list[str] | None = None,
    ) -> dict:
        with self._lock:
            iid = self._next_id()
            number = 1 + sum(1 for i in self.issues.values() if i["key"].startswith(pkey + "-"))
            fields: dict[str, Any] = {
                "summary": summary,
                "project": {"id": pid, "key": pkey, "name": pname, "projectTypeKey": "software"},
                "issuetype": {"id": "1", "name": issuetype, "subtask": False},
                "labels": labels or [],
                "components": [{"id": str(n), "name": c} for n, c in enumerate(components or [], 1)],
                "status": {"name": "In Progress"},
            }
            if parent is not None:
                fields["parent"] = {
                    "id": parent["id"],
                    "key": parent["key"],
                    "fields": {"summary": parent["fields"]["summary"], "issuetype": parent["fields"]["issuetype"]},
                }
            issue = {"id": iid, "key": f"{pkey}-{number}", "self": f"/rest/api/3/issue/{iid}", "fields": fields}
            self.issues[iid] = issue
            return issue

    def add_worklog(
        self,
        issue_id: str,
        person: tuple[str, str, str | None],
        started: datetime,
        seconds: int,
        comment: str = "",
        updated: int | None = None,
    ) -> dict:
        with self._lock:
            wid = self._next_id()
            account, name, email = person
            author: dict[str, Any] = {"accountId": account, "displayName": name, "active": True, "timeZone": "UTC"}
            if email:
                author["emailAddress"] = email
            stamp = updated if updated is not None else self.clock()
            self.worklogs[wid] = {
                "self": f"/rest/api/3/issue/{issue_id}/worklog/{wid}",
                "author": author,
                "updateAuthor": author,
                "comment": _adf(comment) if comment else None,
                "created": _iso(stamp),
                "updated": _iso(stamp),
                "started": started.strftime("%Y-%m-%dT%H:%M:%S.000%z"),
                "timeSpent": _spent(seconds),
                "timeSpentSeconds": seconds,
                "id": wid,
                "issueId": issue_id,
                "_updated_ms": stamp,
            }
            if self.worklogs[wid]["comment"] is None:
                del self.worklogs[wid]["comment"]
            self.entries[wid] = self.worklogs[wid]
            return self.worklogs[wid]

    def edit_worklog(self, wid: str, at: int | None = None, **changes: Any) -> dict:
        with self._lock:
            w = self.worklogs[wid]
            if "comment" in changes and isinstance(changes["comment"], str):
                changes["comment"] = _adf(changes["comment"])
            if "timeSpentSeconds" in changes:
                changes["timeSpent"] = _spent(int(changes["timeSpentSeconds"]))
            stamp = at if at is not None else self.clock()
            w.update(changes, updated=_iso(stamp), _updated_ms=stamp)
            return w

    def delete_worklog(self, wid: str, at: int | None = None) -> None:
        with self._lock:
            del self.worklogs[wid]
            self.entries.pop(wid, None)
            self.deleted[wid] = at if at is not None else self.clock()

    # -- the API --------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, str], body: Any, base: str) -> tuple[int, Any]:
        if method == "GET" and path in ("/rest/api/3/worklog/updated", "/rest/api/3/worklog/deleted"):
            try:
                since = int(query.get("since") or 0)
            except ValueError:
                return 400, {"errorMessages": ["The since parameter must be a number."]}
            settled = self.clock() - SETTLE_MS
            if path.endswith("updated"):
                changes = [(w["_updated_ms"], int(w["id"])) for w in self.worklogs.values()]
            else:
                changes = [(at, int(wid)) for wid, at in self.deleted.items()]
            rows = sorted((t, i) for t, i in changes if since <= t <= settled)[:PAGE]
            last = len([1 for t, _ in changes if since <= t <= settled]) <= PAGE
            until = rows[-1][0] if rows else since
            values = [{"worklogId": i, "updatedTime": t, "properties": []} for t, i in rows]
            return 200, {
                "values": values,
                "since": since,
                "until": until,
                "self": f"{base}{path}?since={since}",
                "lastPage": last,
                **({} if last else {"nextPage": f"{base}{path}?" + urlencode({"since": until})}),
            }
        if method == "POST" and path == "/rest/api/3/worklog/list":
            ids = body.get("ids") if isinstance(body, dict) else None
            if not isinstance(ids, list) or len(ids) > PAGE:
                return 400, {"errorMessages": ["Provide at most 1000 worklog ids in ids."]}
            found = [self.worklogs[str(i)] for i in ids if str(i) in self.worklogs]
            return 200, [{k: v for k, v in w.items() if not k.startswith("_")} for w in found]
        if method == "POST" and path == "/rest/api/3/search/jql":
            return self._search(body)
        return 404, {"errorMessages": ["Not found."]}

    def _search(self, body: Any) -> tuple[int, Any]:
        allowed = {"jql", "fields", "maxResults", "nextPageToken", "expand", "properties", "fieldsByKeys"}
        if not isinstance(body, dict) or set(body) - allowed:
            return 400, {
                "errorMessages": ["Invalid request payload. Refer to the REST API documentation and try again."]
            }
        m = re.fullmatch(r"\s*(id|key|issue)\s+in\s*\(([^)]*)\)\s*", str(body.get("jql") or ""), re.I)
        if not m:
            return 400, {"errorMessages": [f"Error in the JQL Query: {body.get('jql')!r} is not supported here."]}
        wanted = [x.strip().strip('"') for x in m.group(2).split(",") if x.strip()]
        by = "key" if m.group(1).lower() == "key" else "id"
        found = [i for i in sorted(self.issues.values(), key=lambda i: int(i["id"])) if i[by] in wanted]
        size = min(int(body.get("maxResults") or 50), SEARCH_MAX)
        offset = int(base64.b64decode(body["nextPageToken"]).decode()) if body.get("nextPageToken") else 0
        chunk = found[offset : offset + size]
        fields = body.get("fields") or ["*navigable"]
        issues = [
            {"id": i["id"], "key": i["key"], "self": i["self"], "fields": _pick(i["fields"], fields)} for i in chunk
        ]
        answer: dict[str, Any] = {"issues": issues}
        if offset + size < len(found):
            answer["nextPageToken"] = base64.b64encode(str(offset + size).encode()).decode()
        return 200, answer


TOPICS = ["Checkout flow", "Login page", "Search API", "Release notes", "Payment webhook", "Onboarding emails"]
TYPES = ["Task", "Bug", "Story"]
COMMENTS = ["Fixed the retry on timeouts", "Code review", "Pairing with @Ana on the webhook", "", "Deploy to staging"]


def _pick(fields: dict, wanted: list[str]) -> dict:
    if "*all" in wanted or "*navigable" in wanted:
        return fields
    return {k: v for k, v in fields.items() if k in wanted}


def _adf(text: str) -> dict:
    """Plain text as an Atlassian Document Format document: a paragraph per line, @Name as a mention."""
    content = []
    for line in text.split("\n"):
        parts: list[dict] = []
        for piece in re.split(r"(@\w+)", line):
            if piece.startswith("@"):
                parts.append({"type": "mention", "attrs": {"id": "5b10a2844c20165700ede21g", "text": piece}})
            elif piece:
                parts.append({"type": "text", "text": piece})
        content.append({"type": "paragraph", "content": parts})
    return {"type": "doc", "version": 1, "content": content}


def _spent(seconds: int) -> str:
    h, m = divmod(seconds // 60, 60)
    return " ".join(p for p in (f"{h}h" if h else "", f"{m}m" if m else "") if p) or "0m"


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class _Handler(BaseHTTPRequestHandler):
    emu: JiraEmulator
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        return None

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        emu = self.emu
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return self._send(400, {"errorMessages": ["Invalid JSON."]})
        with emu._lock:
            emu.calls.append((method, url.path, body if method == "POST" else query))
            fault = next((f for f in emu.faults if f.path in url.path and f.times > 0), None)
            if fault:
                fault.times -= 1
        if emu.latency:
            time.sleep(emu.latency)
        basic = "Basic " + base64.b64encode(f"{emu.email}:{emu.token}".encode()).decode()
        if self.headers.get("Authorization") not in (basic, f"Bearer {emu.token}"):
            return self._send(401, {"errorMessages": ["Client must be authenticated to access this resource."]})
        if fault and fault.kind == "429":
            return self._send(429, {"errorMessages": ["Rate limit exceeded."]}, {"Retry-After": fault.retry_after})
        if fault and fault.kind == "500":
            return self._send(500, {"errorMessages": ["Internal server error."]})
        if fault and fault.kind == "timeout":
            time.sleep(emu.hang_seconds)
            self.close_connection = True
            return None
        with emu._lock:
            status, payload = emu.handle(
                method, url.path.rstrip("/"), query, body, f"http://{self.headers.get('Host')}"
            )
        if fault and fault.kind == "malformed" and status == 200:
            data = json.dumps(payload).encode()
            return self._send(200, None, raw=data[: max(1, len(data) // 2)])
        self._send(status, payload)


JiraEmulator.handler = _Handler


if __name__ == "__main__":
    serve(JiraEmulator)
