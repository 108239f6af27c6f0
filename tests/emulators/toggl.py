"""A small stateful emulator of Toggl Track's API v9 and Reports API v3, test code only.

Shaped after Toggl's public API reference: HTTP basic auth `TOKEN:api_token`; the workspace lists
`GET /api/v9/workspaces/{wid}` and `/projects`, `/clients`, `/workspace_users`, `/tasks`, `/tags` (paged with
`page` / `per_page`; tasks wrapped as `{"data": [...], "total_count": N}`); the detailed report
`POST /reports/api/v3/workspace/{wid}/search/time_entries` with `{"start_date", "end_date", "page_size",
"first_id", "first_row_number", "grouped": false}` answering a JSON list of rows (`user_id`, `username`,
`project_id`, `task_id`, `billable`, `description`, `tag_ids`, `hourly_rate_in_cents`, `currency`,
`time_entries: [{id, seconds, start, stop, at}]`, `row_number`) and the next page's cursor in the `X-Next-ID` /
`X-Next-Row-Number` headers; errors as a JSON string body. Switches for faults:

    emu.fail_next("429", retry_after="1")     # Too Many Requests with Retry-After
    emu.fail_next("500", path="search")       # a server error on the next report page
    emu.fail_next("401") / ("403") / ("404") / ("402")
    emu.fail_next("timeout")                  # hang past the client's timeout, then answer
    emu.fail_next("malformed", path="search") # a report page that is not JSON
    emu.fail_next("badrow", path="search")    # a report row without its time_entries
    emu.fail_next("400", path="search")       # Toggl refusing the request itself

Run it on its own, seeded with the demo agency (functions/sample/agency.json):

    python -m tests.emulators.toggl --port 8768 [--latency 0.1] [--entries 2000] [--period 2026-10]
"""

from __future__ import annotations

import base64
import json
import random
import re
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.emulators._server import TimeSourceEmulator, serve

_SAMPLE = Path(__file__).resolve().parents[2] / "functions" / "sample" / "agency.json"
TOKEN = "emu-toggl-token-0123456789abcdef"
WORKSPACE_ID = 4567890
CEST = timezone(timedelta(hours=2))


@dataclass
class FaultSwitch:
    kind: str  # 429 | 500 | 400 | 401 | 402 | 403 | 404 | timeout | malformed | badrow
    path: str = ""
    times: int = 1
    retry_after: str = "0"


class TogglEmulator(TimeSourceEmulator):
    title, default_port = "Toggl Track API", 8768

    def __init__(
        self,
        token: str = TOKEN,
        workspace_id: int = WORKSPACE_ID,
        latency: float = 0.0,
        seed: bool = True,
        max_page_size: int = 50,
        hang_seconds: float = 1.0,
    ):
        self.token, self.workspace_id, self.latency = token, workspace_id, latency
        self.max_page_size, self.hang_seconds = max_page_size, hang_seconds
        self.workspace: dict[str, Any] = {
            "id": workspace_id,
            "name": "Northwind Digital",
            "default_currency": "USD",
            "default_hourly_rate": 110,
            "rounding": 0,
            "rounding_minutes": 0,
        }
        self.users: dict[int, dict] = {}
        self.clients: dict[int, dict] = {}
        self.projects: dict[int, dict] = {}
        self.tasks: dict[int, dict] = {}
        self.tags: dict[int, dict] = {}
        self.entries: dict[int, dict] = {}  # id -> {user_id, project_id, task_id, billable, description,
        #                                      tag_ids, start (aware datetime), seconds, stop, at}
        self.include_stop = True  # False: entries without a `stop` key, as some report answers have
        self.show_amounts = True  # False: rows without rates, as for a plan or role that hides amounts
        self.calls: list[tuple[str, str]] = []
        self.faults: list[FaultSwitch] = []
        self._ids = 1000
        self._lock = threading.RLock()
        if seed:
            self.seed()

    # -- lifecycle (start/stop: LocalServer) ----------------------------------------------------------
    def env(self) -> dict[str, str]:
        return {
            "TIME_SOURCE": "toggl",
            "TOGGL_API_TOKEN": self.token,
            "TOGGL_WORKSPACE_ID": str(self.workspace_id),
            "TOGGL_BASE_URL": self.base_url,
        }

    # -- run by hand: python -m tests.emulators.toggl ----------------------------------------------------
    def summary(self) -> str:
        return f"workspace {self.workspace_id}, {len(self.entries)} entries"

    # -- switches and inspection ----------------------------------------------------------------------
    def fail_next(self, kind: str, path: str = "", times: int = 1, retry_after: str = "0") -> None:
        with self._lock:
            self.faults.append(FaultSwitch(kind, path, times, retry_after))

    def count(self, path_part: str = "", method: str = "") -> int:
        return sum(1 for m, p in self.calls if path_part in p and (not method or m == method))

    def _take_fault(self, path: str) -> FaultSwitch | None:
        with self._lock:
            for f in self.faults:
                if f.path in path:
                    f.times -= 1
                    if f.times <= 0:
                        self.faults.remove(f)
                    return f
        return None

    # -- state ----------------------------------------------------------------------------------------
    def _id(self) -> int:
        with self._lock:
            self._ids += 1
            return self._ids

    def add_user(self, name: str, email: str) -> int:
        uid = self._id()
        self.users[uid] = {
            "id": self._id(),
            "user_id": uid,
            "workspace_id": self.workspace_id,
            "name": name,
            "email": email,
            "active": True,
            "admin": False,
            "rate": None,
        }
        return uid

    def add_client(self, name: str, archived: bool = False) -> int:
        cid = self._id()
        self.clients[cid] = {
            "id": cid,
            "wid": self.workspace_id,
            "name": name,
            "archived": archived,
            "at": "2026-01-05T10:00:00+00:00",
        }
        return cid

    def add_project(
        self,
        name: str,
        client_id: int | None,
        rate: float | None = None,
        currency: str | None = None,
        billable: bool = True,
        active: bool = True,
    ) -> int:
        pid = self._id()
        self.projects[pid] = {
            "id": pid,
            "workspace_id": self.workspace_id,
            "client_id": client_id,
            "cid": client_id,
            "name": name,
            "billable": billable,
            "active": active,
            "rate": rate,
            "currency": currency,
            "at": "2026-01-05T10:00:00+00:00",
        }
        return pid

    def add_task(self, name: str, project_id: int) -> int:
        tid = self._id()
        self.tasks[tid] = {
            "id": tid,
            "name": name,
            "project_id": project_id,
            "workspace_id": self.workspace_id,
            "active": True,
            "estimated_seconds": None,
        }
        return tid

    def add_tag(self, name: str) -> int:
        tid = self._id()
        self.tags[tid] = {"id": tid, "name": name, "workspace_id": self.workspace_id}
        return tid

    def add_entry(
        self,
        user_id: int,
        start: datetime,
        seconds: int,
        project_id: int | None = None,
        task_id: int | None = None,
        description: str = "",
        billable: bool = True,
        tag_ids: tuple[int, ...] = (),
        running: bool = False,
    ) -> int:
        eid = self._id() + 4_000_000_000  # Toggl's entry ids are large (int64)
        self.entries[eid] = {
            "id": eid,
            "user_id": user_id,
            "project_id": project_id,
            "task_id": task_id,
            "billable": billable,
            "description": description,
            "tag_ids": list(tag_ids),
            "start": start,
            "seconds": -int(start.timestamp()) if running else seconds,
            "running": running,
            "at": "2026-11-01T08:00:00+00:00",
        }
        return eid

    def edit_entry(self, entry_id: int, **changes: Any) -> None:
        """Change an entry as a person would in Toggl (seconds, description, project_id, billable...)."""
        with self._lock:
            self.entries[entry_id].update(changes)
            self.entries[entry_id]["at"] = datetime.now(UTC).isoformat(timespec="seconds")

    def delete_entry(self, entry_id: int) -> None:
        with self._lock:
            del self.entries[entry_id]

    def seed(self, entries: int = 48, period: str = "2026-10") -> None:
        """The demo agency: its people, clients and projects, a few tasks and tags, and `entries` entries in
        the period (plus a few either side of it). Deterministic."""
        agency = json.loads(_SAMPLE.read_text(encoding="utf-8"))
        self.people = [self.add_user(p["name"], p["email"]) for p in agency["people"]]
        rates = [None, 150, 125, None, 95]
        for i, c in enumerate(agency["clients"]):
            cid = self.add_client(c["name"])
            for j, name in enumerate(c["projects"]):
                rate = rates[(i + j) % len(rates)]
                self.add_project(name, cid, rate=rate, currency=c["currency"] if rate else None)
        self.project_ids = list(self.projects)
        self.internal = self.add_project("Internal", None, billable=False)
        for pid in self.project_ids[:6]:
            self.add_task("Development", pid)
            self.add_task("Design", pid)
        for name in ("urgent", "onsite", "meeting"):
            self.add_tag(name)
        self.generate(entries, period, rng=random.Random(2026))
        year, month = map(int, period.split("-"))
        rng = random.Random(7)
        first = datetime(year, month, 1, 10, 0, tzinfo=CEST)
        for offset in (-3, -1, 32, 35):  # outside the period, for the period filter
            self.add_entry(
                rng.choice(self.people),
                first + timedelta(days=offset),
                3600,
                rng.choice(self.project_ids),
                description="outside the period",
            )

    def generate(self, n: int, period: str = "2026-10", rng: random.Random | None = None) -> list[int]:
        rng = rng or random.Random(n)
        year, month = map(int, period.split("-"))
        days = ((date(year + month // 12, month % 12 + 1, 1)) - date(year, month, 1)).days
        task_ids, tag_ids = list(self.tasks), list(self.tags)
        notes = [
            "Sprint planning",
            "Code review",
            "Bug fix: checkout totals",
            "Design review",
            "Client call",
            "Deploy to staging",
            "Write tests",
            "Wireframes",
            "Standup",
            "Support ticket",
        ]
        made = []
        for _ in range(n):
            pid = rng.choice(self.project_ids + [self.internal])
            tasks = [t for t in task_ids if self.tasks[t]["project_id"] == pid]
            start = datetime(
                year,
                month,
                rng.randint(1, days),
                rng.randint(7, 18),
                rng.choice((0, 15, 30, 45)),
                rng.randint(0, 59),
                tzinfo=CEST,
            )
            made.append(
                self.add_entry(
                    rng.choice(self.people),
                    start,
                    rng.randint(6, 480) * 60 + rng.randint(0, 59),
                    pid,
                    rng.choice(tasks) if tasks and rng.random() < 0.6 else None,
                    rng.choice(notes),
                    billable=pid != self.internal and rng.random() < 0.9,
                    tag_ids=tuple(rng.sample(tag_ids, rng.randint(0, 2))) if tag_ids else (),
                )
            )
        return made

    # -- API answers ----------------------------------------------------------------------------------
    def report_row(self, e: dict, row_number: int) -> dict:
        project = self.projects.get(e["project_id"]) or {}
        user = self.users[e["user_id"]]
        rate = project.get("rate") or self.workspace["default_hourly_rate"]
        running = e.get("running")
        stop = None if running else (e["start"] + timedelta(seconds=e["seconds"])).isoformat()
        cents = int(round(rate * 100)) if e["billable"] else 0
        row = {
            "user_id": e["user_id"],
            "username": user["name"],
            "project_id": e["project_id"],
            "task_id": e["task_id"],
            "billable": e["billable"],
            "description": e["description"],
            "tag_ids": list(e["tag_ids"]),
            "billable_amount_in_cents": (cents * max(e["seconds"], 0)) // 3600 if e["billable"] else None,
            "hourly_rate_in_cents": cents or None,
            "currency": project.get("currency") or self.workspace["default_currency"],
            "time_entries": [
                {
                    "id": e["id"],
                    "seconds": e["seconds"],
                    "start": e["start"].isoformat(),
                    "stop": stop,
                    "at": e["at"],
                    "at_tz": e["at"],
                }
            ],
            "row_number": row_number,
        }
        if not self.include_stop:
            row["time_entries"][0].pop("stop")
        if not self.show_amounts:
            for key in ("billable_amount_in_cents", "hourly_rate_in_cents", "currency"):
                row.pop(key)
        return row

    def search(self, body: dict) -> tuple[int, Any, dict[str, str]]:
        try:
            start = date.fromisoformat(body["start_date"])
            end = date.fromisoformat(body.get("end_date") or body["start_date"])
        except (KeyError, TypeError, ValueError):
            return 400, "Invalid start_date or end_date", {}
        if end < start:
            return 400, "end_date must not be earlier than start_date", {}
        if (end - start).days > 366:
            return 400, "Maximum allowed date range is 366 days", {}
        size = min(int(body.get("page_size") or 50), self.max_page_size)
        first = int(body.get("first_row_number") or 1)
        with self._lock:
            chosen = sorted(
                (e for e in self.entries.values() if start <= e["start"].date() <= end),
                key=lambda e: (e["start"], e["id"]),
            )
        page = chosen[first - 1 : first - 1 + size]
        rows = [self.report_row(e, first + i) for i, e in enumerate(page)]
        headers = {}
        if first - 1 + size < len(chosen):
            nxt = chosen[first - 1 + size]
            headers = {"X-Next-ID": str(nxt["id"]), "X-Next-Row-Number": str(first + size)}
        return 200, rows, headers


_LIST = re.compile(r"^/api/v9/workspaces/(\d+)(?:/(projects|clients|workspace_users|users|tasks|tags))?/?$")
_SEARCH = re.compile(r"^/reports/api/v3/workspace/(\d+)/search/time_entries/?$")


class _Handler(BaseHTTPRequestHandler):
    emu: TogglEmulator
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle + delayed ACK add ~40 ms per call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args: Any) -> None:  # quiet in tests
        return None

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (its timeout); nothing to answer

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == self.emu.token and password == "api_token"

    def _handle(self, method: str) -> None:
        emu = self.emu
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with emu._lock:
            emu.calls.append((method, url.path))
        if emu.latency:
            time.sleep(emu.latency)
        fault = emu._take_fault(url.path)
        if fault:
            if fault.kind == "timeout":
                time.sleep(emu.hang_seconds)
            elif fault.kind == "429":
                return self._send(429, "Too Many Requests", {"Retry-After": fault.retry_after})
            elif fault.kind == "500":
                return self._send(500, "Internal Server Error")
            elif fault.kind == "401":
                return self._send(401, "Incorrect username and/or password")
            elif fault.kind == "402":
                return self._send(
                    402,
                    "You have hit your API quota",
                    {"X-Toggl-Quota-Remaining": "0", "X-Toggl-Quota-Resets-In": "1800"},
                )
            elif fault.kind == "403":
                return self._send(403, "Forbidden")
            elif fault.kind == "404":
                return self._send(404, "Not Found")
            elif fault.kind == "malformed":
                return self._send(200, None, raw=b'{"error": "<html>upstream</html>"')
            elif fault.kind == "badrow":  # valid JSON, but a row without its time entries
                return self._send(200, [{"user_id": 1, "username": "x", "description": "y"}])
            elif fault.kind == "400":
                return self._send(400, "Invalid page_size")
        if not self._authorized():
            return self._send(403 if self.headers.get("Authorization") else 401, "Incorrect username and/or password")
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        m = _SEARCH.match(url.path)
        if m and method == "POST":
            if int(m.group(1)) != emu.workspace_id:
                return self._send(403, "Forbidden: you are not a member of that workspace")
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self._send(400, "Invalid JSON body")
            status, payload, headers = emu.search(body)
            return self._send(status, payload, headers)
        m = _LIST.match(url.path)
        if m and method == "GET":
            if int(m.group(1)) != emu.workspace_id:
                return self._send(404, "Workspace not found")
            what = m.group(2)
            if what is None:
                return self._send(200, emu.workspace)
            items = {
                "projects": emu.projects,
                "clients": emu.clients,
                "workspace_users": emu.users,
                "users": emu.users,
                "tasks": emu.tasks,
                "tags": emu.tags,
            }[what]
            values = list(items.values())
            if what == "clients" and query.get("status", "active") != "both":
                values = [c for c in values if c["archived"] == (query.get("status") == "archived")]
            if what in ("projects", "tasks") and query.get("active", "true") != "both":
                values = [v for v in values if v["active"] == (query.get("active", "true") == "true")]
            page, per_page = int(query.get("page") or 1), min(int(query.get("per_page") or 151), 200)
            chunk = values[(page - 1) * per_page : page * per_page]
            if what == "tasks":
                return self._send(
                    200,
                    {
                        "data": chunk,
                        "page": page,
                        "per_page": per_page,
                        "total_count": len(values),
                        "sort_field": "name",
                        "sort_order": "ASC",
                    },
                )
            return self._send(200, chunk)
        return self._send(404, "Not Found")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


TogglEmulator.handler = _Handler


if __name__ == "__main__":
    serve(TogglEmulator)
