"""A small stateful emulator of the Asana API 1.0 (time tracking entries, tasks, milestones), test code only.

Shaped after Asana's public reference and the types of its SDKs (TimeTrackingEntry: gid, resource_type,
duration_minutes, entered_on, created_by, task, attributable_to, created_at; Task: gid, name, resource_subtype
default_task|milestone, completed, completed_at, modified_at): `Authorization: Bearer <personal access token>`;
`GET /api/1.0/time_tracking_entries?attributable_to|task&entered_on_start_date&entered_on_end_date`,
`GET /api/1.0/tasks/{gid}/time_tracking_entries`, `GET /api/1.0/tasks?project=&modified_since=`,
`GET /api/1.0/portfolios/{gid}/items`; every list answers `{"data": [...], "next_page": {"offset", "path",
"uri"} | null}` with `limit` 1..100 (else 400) and an opaque offset (a made-up one is a 400); errors are
`{"errors": [{"message": ...}]}`; a 429 carries Retry-After. A time entry's change also moves its task's
modified_at (what the source's re-sync relies on; the full sync catches anything else). Switches:

    emu.fail_next("429", retry_after="2"); emu.fail_next("500", path="time_tracking"); emu.fail_next("timeout")
    emu.fail_next("malformed")                 # a 200 whose body is cut in half
    emu.edit_entry(gid, duration_minutes=95); emu.delete_entry(gid); emu.complete(milestone_gid)

Run by hand: `python -m tests.emulators.asana --port 8772 [--entries 2000] [--period 2026-10]`.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from tests.emulators._server import TimeSourceEmulator, serve

PEOPLE = [
    ("1201000000000001", "Ana Ruiz", "ana@northwind.example"),
    ("1201000000000002", "Ben Okafor", "ben@northwind.example"),
    ("1201000000000003", "Dara Singh", "dara@northwind.example"),
]
PROJECTS = [("1202000000000001", "Acme Web"), ("1202000000000002", "Globex Platform")]
TASKS = ["Homepage redesign", "Checkout QA", "Content migration", "Analytics setup", "Launch checklist"]


@dataclass
class Fault:
    kind: str
    path: str = ""
    times: int = 1
    retry_after: str = "1"


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class AsanaEmulator(TimeSourceEmulator):
    title, default_port = "Asana API 1.0", 8772

    def __init__(
        self,
        token: str = "emu-asana-token",
        latency: float = 0.0,
        seed: bool = True,
        entries: int = 30,
        hang_seconds: float = 1.0,
        clock: Callable[[], datetime] | None = None,
    ):
        self.token, self.latency, self.hang_seconds = token, latency, hang_seconds
        self.clock = clock or (lambda: datetime.now(UTC))
        self.projects: dict[str, str] = {}
        self.tasks: dict[str, dict] = {}
        self.entries: dict[str, dict] = {}  # type: ignore[assignment]  # gids are strings in Asana
        self.portfolios: dict[str, list[str]] = {}
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.faults: list[Fault] = []
        self._ids = 1203000000000000
        self._lock = threading.RLock()
        if seed:
            self.seed(entries)

    def env(self) -> dict[str, str]:
        return {
            "TIME_SOURCE": "asana",
            "ASANA_BASE_URL": f"{self.base_url}/api/1.0",
            "ASANA_TOKEN": self.token,
            "ASANA_PROJECTS": ",".join(self.projects),
        }

    def summary(self) -> str:
        return f"{len(self.projects)} projects, {len(self.tasks)} tasks, {len(self.entries)} time entries"

    def fail_next(self, kind: str, path: str = "", times: int = 1, retry_after: str = "1") -> None:
        with self._lock:
            self.faults.append(Fault(kind, path, times, retry_after))

    def count(self, part: str = "") -> int:
        return sum(1 for _, p, _ in self.calls if part in p)

    # -- state ----------------------------------------------------------------------------------------
    def _gid(self) -> str:
        self._ids += 1
        return str(self._ids)

    def seed(self, entries: int = 30, period: str = "2026-10", rng_seed: int = 5) -> None:
        """Two projects, five tasks and one milestone each (Acme's completed mid-month), `entries` entries."""
        rng = random.Random(rng_seed)
        year, month = (int(x) for x in period.split("-"))
        mid = datetime(year, month, 15, 16, 0, tzinfo=UTC)
        with self._lock:
            for pgid, name in PROJECTS:
                self.projects[pgid] = name
                for t in TASKS:
                    self.add_task(pgid, t, modified=mid - timedelta(days=20))
                done = pgid == PROJECTS[0][0]
                self.add_task(
                    pgid, f"{name}: design sign-off", "milestone", completed=mid if done else None, modified=mid
                )
            self.portfolios["1204000000000001"] = list(self.projects)
            self.add_random_entries(entries, period, rng)

    def add_random_entries(self, n: int, period: str, rng: random.Random | None = None) -> None:
        rng = rng or random.Random(9)
        year, month = (int(x) for x in period.split("-"))
        first = date(year, month, 1)
        days = (date(year + (month == 12), month % 12 + 1, 1) - first).days
        tasks = [t for t in self.tasks.values() if t["resource_subtype"] == "default_task"]
        with self._lock:
            for _ in range(n):
                task = rng.choice(tasks)
                day = first + timedelta(days=rng.randrange(days))
                at = datetime(day.year, day.month, day.day, 18, 0, tzinfo=UTC)
                self.add_entry(task["gid"], rng.choice(PEOPLE), day, rng.randrange(1, 49) * 10, at=at)

    def add_task(
        self,
        project: str,
        name: str,
        subtype: str = "default_task",
        completed: datetime | None = None,
        modified: datetime | None = None,
    ) -> dict:
        with self._lock:
            gid = self._gid()
            self.tasks[gid] = {
                "gid": gid,
                "resource_type": "task",
                "name": name,
                "resource_subtype": subtype,
                "completed": completed is not None,
                "completed_at": _iso(completed) if completed else None,
                "modified_at": _iso(modified or self.clock()),
                "_project": project,
            }
            return self.tasks[gid]

    def add_entry(
        self, task: str, person: tuple[str, str, str], day: date, minutes: int, at: datetime | None = None
    ) -> dict:
        with self._lock:
            gid = self._gid()
            t = self.tasks[task]
            pgid = t["_project"]
            stamp = at or self.clock()
            self.entries[gid] = {
                "gid": gid,
                "resource_type": "time_tracking_entry",
                "duration_minutes": minutes,
                "entered_on": day.isoformat(),
                "created_by": {"gid": person[0], "resource_type": "user", "name": person[1], "email": person[2]},
                "task": {"gid": task, "resource_type": "task", "name": t["name"], "resource_subtype": "default_task"},
                "attributable_to": {"gid": pgid, "resource_type": "project", "name": self.projects[pgid]},
                "created_at": _iso(stamp),
            }
            t["modified_at"] = max(t["modified_at"], _iso(stamp))
            return self.entries[gid]

    def edit_entry(self, gid: str, at: datetime | None = None, **changes: Any) -> dict:
        with self._lock:
            e = self.entries[gid]
            e.update(changes)
            self.tasks[e["task"]["gid"]]["modified_at"] = _iso(at or self.clock())
            return e

    def delete_entry(self, gid: str, at: datetime | None = None) -> None:
        with self._lock:
            e = self.entries.pop(gid)
            self.tasks[e["task"]["gid"]]["modified_at"] = _iso(at or self.clock())

    def complete(self, task: str, at: datetime | None = None) -> None:
        with self._lock:
            stamp = _iso(at or self.clock())
            self.tasks[task].update(completed=True, completed_at=stamp, modified_at=stamp)

    # -- the API --------------------------------------------------------------------------------------
    def handle(self, path: str, query: dict[str, str], base: str) -> tuple[int, Any]:
        parts = path.removeprefix("/api/1.0").strip("/").split("/")
        if parts == ["time_tracking_entries"]:
            rows = list(self.entries.values())
            if query.get("attributable_to"):
                rows = [e for e in rows if e["attributable_to"]["gid"] == query["attributable_to"]]
            elif query.get("task"):
                rows = [e for e in rows if e["task"]["gid"] == query["task"]]
            else:
                return 400, {"errors": [{"message": "task, attributable_to, portfolio, user or workspace: required"}]}
            lo, hi = query.get("entered_on_start_date"), query.get("entered_on_end_date")
            rows = [e for e in rows if (not lo or e["entered_on"] >= lo) and (not hi or e["entered_on"] <= hi)]
            return self._page(rows, path, query, base)
        if len(parts) == 3 and parts[0] == "tasks" and parts[2] == "time_tracking_entries":
            if parts[1] not in self.tasks:
                return 404, {"errors": [{"message": "task: Unknown object: " + parts[1]}]}
            return self._page([e for e in self.entries.values() if e["task"]["gid"] == parts[1]], path, query, base)
        if parts == ["tasks"]:
            if not query.get("project"):
                return 400, {"errors": [{"message": "Must specify exactly one of project, tag, section or assignee"}]}
            if query["project"] not in self.projects:
                return 404, {"errors": [{"message": "project: Unknown object: " + query["project"]}]}
            rows = [t for t in self.tasks.values() if t["_project"] == query["project"]]
            if query.get("modified_since"):
                rows = [t for t in rows if t["modified_at"] >= query["modified_since"]]
            return self._page(rows, path, query, base)
        if len(parts) == 3 and parts[0] == "portfolios" and parts[2] == "items":
            items = [
                {"gid": p, "resource_type": "project", "name": self.projects[p]} for p in self.portfolios[parts[1]]
            ]
            return self._page(items, path, query, base)
        return 404, {"errors": [{"message": "Not found"}]}

    def _page(self, rows: list[dict], path: str, query: dict[str, str], base: str) -> tuple[int, Any]:
        try:
            limit = int(query.get("limit") or 100)
        except ValueError:
            return 400, {"errors": [{"message": "limit: Not a number"}]}
        if not 1 <= limit <= 100:
            return 400, {"errors": [{"message": "limit: Must be between 1 and 100"}]}
        start = 0
        if query.get("offset"):
            try:
                start = int(json.loads(base64.b64decode(query["offset"]))["o"])
            except (ValueError, KeyError, TypeError):
                return 400, {"errors": [{"message": "offset: Your pagination token is invalid."}]}
        rows = sorted(rows, key=lambda r: r["gid"])
        chunk = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows[start : start + limit]]
        nxt = None
        if start + limit < len(rows):
            token = base64.b64encode(json.dumps({"o": start + limit}).encode()).decode()
            rest = {k: v for k, v in query.items() if k != "offset"}
            nxt = {"offset": token, "path": f"{path}?" + urlencode({**rest, "offset": token})}
            nxt["uri"] = base + nxt["path"]
        return 200, {"data": chunk, "next_page": nxt}


class _Handler(BaseHTTPRequestHandler):
    emu: AsanaEmulator
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        return None

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        emu = self.emu
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with emu._lock:
            emu.calls.append(("GET", url.path, query))
            fault = next((f for f in emu.faults if f.path in url.path and f.times > 0), None)
            if fault:
                fault.times -= 1
        if emu.latency:
            time.sleep(emu.latency)
        if self.headers.get("Authorization") != f"Bearer {emu.token}":
            return self._send(401, {"errors": [{"message": "Not Authorized"}]})
        if fault and fault.kind == "429":
            return self._send(
                429,
                {"errors": [{"message": "You have made too many requests recently."}]},
                {"Retry-After": fault.retry_after},
            )
        if fault and fault.kind == "500":
            return self._send(500, {"errors": [{"message": "Server Error", "phrase": "6 sad squid snuggle softly"}]})
        if fault and fault.kind == "timeout":
            time.sleep(emu.hang_seconds)
            self.close_connection = True
            return None
        with emu._lock:
            status, payload = emu.handle(url.path.rstrip("/"), query, f"http://{self.headers.get('Host')}")
        if fault and fault.kind == "malformed" and status == 200:
            data = json.dumps(payload).encode()
            return self._send(200, None, raw=data[: max(1, len(data) // 2)])
        self._send(status, payload)


AsanaEmulator.handler = _Handler


if __name__ == "__main__":
    serve(AsanaEmulator)
