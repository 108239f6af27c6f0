"""A small stateful emulator of the Harvest API v2 (the parts the time source reads), test code only.

Shaped after Harvest's public API reference: `Authorization: Bearer`, `Harvest-Account-Id` and `User-Agent` on
every request (a request without a User-Agent is a 400); `GET
/v2/time_entries?from&to&updated_since&page|cursor&per_page` (at most 2000, more is a 422) answering
`time_entries[]` with page, per_page, total_pages, total_entries, next_page, previous_page and
`links{first,next,previous,last}`, where `next` is a cursor link; entries newest first; `GET /v2/users`
(paginated the same way), `GET /v2/users/me`, `GET /v2/company`; error bodies `{"error": "invalid_token",
"error_description": ...}` (401), `{"status": 404, "error": "Not Found"}`; the rate limit of 100 requests per 15
s per token, answered with 429 and Retry-After. Switches for faults:

    emu.fail_next("429", retry_after="2")        # Too Many Requests with Retry-After: 2
    emu.fail_next("500", path="time_entries", times=2)
    emu.fail_next("401")                         # the token is refused once
    emu.fail_next("timeout")                     # hang past the client's read timeout, then answer nothing
    emu.fail_next("malformed")                   # a 200 whose body is truncated JSON
    emu.edit_entry(id, hours=Decimal("3.5"))     # what a person does in Harvest

Run it on its own with the demo agency's account (people, clients and projects of functions/sample/agency.json,
a few dozen entries in 2026-10 and a few around it):

    python -m tests.emulators.harvest --port 8767 [--latency 0.1] [--entries 2000] [--period 2026-10]
"""

from __future__ import annotations

import base64
import json
import random
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from tests.emulators._server import TimeSourceEmulator, serve

AGENCY = Path(__file__).resolve().parents[2] / "functions" / "sample" / "agency.json"
TASKS = ("Development", "Design", "Project Management", "QA Testing", "Meetings")
RATES = {"Principal Engineer": "185", "Senior Developer": "160", "Developer": "135", "QA Engineer": "110"}


@dataclass
class FaultSwitch:
    kind: str  # 429 | 500 | 401 | 403 | timeout | malformed
    path: str = ""  # substring of the request path it applies to
    times: int = 1
    retry_after: str = "1"


class HarvestEmulator(TimeSourceEmulator):
    title, default_port = "Harvest API v2", 8767

    def __init__(
        self,
        account_id: str = "1234567",
        token: str = "emu-harvest-token",
        latency: float = 0.0,
        seed: bool = True,
        entries: int = 48,
        rate_limit: int = 100,
        window: float = 15.0,
        hang_seconds: float = 2.0,
        subdomain: str = "northwind",
    ):
        self.account_id, self.token, self.latency = account_id, token, latency
        self.rate_limit, self.window, self.hang_seconds = rate_limit, window, hang_seconds
        self.subdomain = subdomain
        self.users: dict[int, dict] = {}
        self.clients: dict[int, dict] = {}
        self.projects: dict[int, dict] = {}
        self.tasks: dict[int, dict] = {}
        self.entries: dict[int, dict] = {}
        self.me_id = 0
        self.calls: list[tuple[str, str, dict[str, str]]] = []  # (method, path, query) of every request
        self.headers_seen: list[dict[str, str]] = []
        self.faults: list[FaultSwitch] = []
        self.throttled = 0
        self._ids = 1000
        self._lock = threading.RLock()
        self._recent: deque[float] = deque()
        if seed:
            self.seed(entries)

    # -- lifecycle (start/stop: LocalServer) ----------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    def env(self) -> dict[str, str]:
        """The environment that points HarvestSettings at this emulator."""
        return {
            "TIME_SOURCE": "harvest",
            "HARVEST_BASE_URL": self.base_url,
            "HARVEST_ACCOUNT_ID": self.account_id,
            "HARVEST_TOKEN": self.token,
            "HARVEST_USER_AGENT": "Invoicing tests (ops@northwind.example)",
        }

    # -- run by hand: python -m tests.emulators.harvest --------------------------------------------------
    def summary(self) -> str:
        return f"account {self.account_id}, {len(self.entries)} entries"

    # -- switches and inspection ----------------------------------------------------------------------
    def fail_next(self, kind: str, path: str = "", times: int = 1, retry_after: str = "1") -> None:
        with self._lock:
            self.faults.append(FaultSwitch(kind, path, times, retry_after))

    def count(self, path_part: str = "") -> int:
        return sum(1 for _, p, _ in self.calls if path_part in p)

    # -- the account --------------------------------------------------------------------------------------
    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def seed(self, entries: int = 48, period: str = "2026-10", rng_seed: int = 7) -> None:
        """The demo agency: its people as users (the first one an Administrator, the token's owner), its clients
        and projects, five tasks, and `entries` entries in `period` plus a few in the months around it."""
        agency = json.loads(AGENCY.read_text(encoding="utf-8"))
        with self._lock:
            for i, person in enumerate(agency["people"]):
                first, _, last = person["name"].partition(" ")
                uid = self._next_id()
                self.users[uid] = {
                    "id": uid,
                    "first_name": first,
                    "last_name": last,
                    "email": person["email"],
                    "telephone": "",
                    "timezone": "Eastern Time (US & Canada)",
                    "is_contractor": False,
                    "is_active": True,
                    "weekly_capacity": 126000,
                    "default_hourly_rate": float(RATES.get(person["role"], "120")),
                    "cost_rate": None,
                    "roles": [person["role"]] if person.get("role") else [],
                    "access_roles": ["administrator"] if i == 0 else ["member"],
                    "created_at": "2024-01-08T09:00:00Z",
                    "updated_at": "2026-09-01T09:00:00Z",
                }
                if i == 0:
                    self.me_id = uid
            for c in agency["clients"]:
                cid = self._next_id()
                self.clients[cid] = {"id": cid, "name": c["name"], "currency": c.get("currency") or "USD"}
                for pname in c.get("projects", []):
                    pid = self._next_id()
                    code = "".join(w[0] for w in re.findall(r"[A-Za-z]+", pname)).upper()[:4] + str(pid)[-2:]
                    self.projects[pid] = {"id": pid, "name": pname, "code": code, "client_id": cid}
            for tname in TASKS:
                tid = self._next_id()
                self.tasks[tid] = {"id": tid, "name": tname}
            self.add_random_entries(entries, period, rng_seed)
            # A few entries outside the period, for the period filter.
            year, month = (int(x) for x in period.split("-"))
            before = date(year, month, 1) - timedelta(days=1)
            after = date(year + (month == 12), month % 12 + 1, 1)
            for day in (before, before - timedelta(days=3), after, after + timedelta(days=4)):
                self._random_entry(random.Random(day.toordinal()), day)

    def add_random_entries(self, n: int, period: str, rng_seed: int = 7) -> None:
        rng = random.Random(rng_seed)
        year, month = (int(x) for x in period.split("-"))
        first = date(year, month, 1)
        days = (date(year + (month == 12), month % 12 + 1, 1) - first).days
        with self._lock:
            for _ in range(n):
                self._random_entry(rng, first + timedelta(days=rng.randrange(days)))

    def _random_entry(self, rng: random.Random, day: date) -> dict:
        user = rng.choice(list(self.users.values()))
        project = rng.choice(list(self.projects.values()))
        task = rng.choice(list(self.tasks.values()))
        billable = rng.random() > 0.15
        role = user["roles"][0] if user["roles"] else ""
        hours = Decimal(rng.randrange(1, 33)) / 4  # quarter hours, 0.25 .. 8
        notes = rng.choice(
            [
                "Checkout flow fixes",
                "Sprint planning",
                "Code review — payments",
                "QA of release 2.3",
                "Wireframes for onboarding",
                "Client call re: scope",
                "",
            ]
        )
        return self.add_entry(
            user_id=user["id"],
            project_id=project["id"],
            task_id=task["id"],
            spent_date=day,
            hours=hours,
            notes=notes,
            billable=billable,
            billable_rate=Decimal(RATES.get(role, "120")) if billable else None,
            permalink=(
                f"https://github.com/northwind/app/issues/{rng.randrange(1, 900)}" if rng.random() < 0.2 else None
            ),
        )

    def add_entry(
        self,
        user_id: int,
        project_id: int,
        task_id: int,
        spent_date: date,
        hours: Decimal,
        notes: str = "",
        billable: bool = True,
        billable_rate: Decimal | None = None,
        permalink: str | None = None,
    ) -> dict:
        with self._lock:
            eid = self._next_id()
            user, project, task = self.users[user_id], self.projects[project_id], self.tasks[task_id]
            client = self.clients[project["client_id"]]
            stamp = _now()
            self.entries[eid] = {
                "id": eid,
                "spent_date": spent_date.isoformat(),
                "hours": hours,
                "hours_without_timer": hours,
                "rounded_hours": _round_up(hours),
                "notes": notes or None,
                "is_locked": False,
                "locked_reason": None,
                "is_closed": False,
                "is_billed": False,
                "timer_started_at": None,
                "started_time": None,
                "ended_time": None,
                "is_running": False,
                "billable": billable,
                "budgeted": True,
                "billable_rate": billable_rate,
                "cost_rate": None,
                "created_at": stamp,
                "updated_at": stamp,
                "user": {"id": user["id"], "name": f"{user['first_name']} {user['last_name']}"},
                "client": {"id": client["id"], "name": client["name"], "currency": client["currency"]},
                "project": {"id": project["id"], "name": project["name"], "code": project["code"]},
                "task": {"id": task["id"], "name": task["name"]},
                "user_assignment": {"id": user["id"] * 10, "is_project_manager": False, "is_active": True},
                "task_assignment": {"id": task["id"] * 10, "billable": billable, "is_active": True},
                "invoice": None,
                "external_reference": None
                if not permalink
                else {
                    "id": str(eid),
                    "group_id": "1",
                    "account_id": "1",
                    "permalink": permalink,
                    "service": "github.com",
                    "service_icon_url": "https://proxy.harvestfiles.net/github.png",
                },
            }
            return self.entries[eid]

    def edit_entry(self, entry_id: int, **changes: Any) -> dict:
        """Change an entry as a person would in Harvest (hours, notes, billable...); updated_at moves."""
        with self._lock:
            entry = self.entries[entry_id]
            if "hours" in changes:
                changes["hours_without_timer"] = changes["hours"]
                changes["rounded_hours"] = _round_up(changes["hours"])
            if isinstance(changes.get("spent_date"), date):
                changes["spent_date"] = changes["spent_date"].isoformat()
            entry.update(changes, updated_at=_now())
            return entry

    def delete_entry(self, entry_id: int) -> None:
        with self._lock:
            del self.entries[entry_id]

    # -- the API ------------------------------------------------------------------------------------------
    def handle(self, path: str, query: dict[str, str], base: str) -> tuple[int, Any]:
        if path == "/v2/users/me":
            return 200, self.users[self.me_id]
        if path == "/v2/company":
            return 200, {
                "base_uri": f"https://{self.subdomain}.harvestapp.com",
                "full_domain": f"{self.subdomain}.harvestapp.com",
                "name": "Northwind Digital",
                "is_active": True,
                "week_start_day": "Monday",
                "time_format": "decimal",
                "currency": "USD",
                "wants_timestamp_timers": False,
                "plan_type": "business-v4",
            }
        if path == "/v2/users":
            users = sorted(self.users.values(), key=lambda u: u["id"])
            if query.get("is_active") in ("true", "false"):
                users = [u for u in users if u["is_active"] == (query["is_active"] == "true")]
            return self._page("users", users, path, query, base)
        if path == "/v2/time_entries":
            rows = list(self.entries.values())
            try:
                lo = date.fromisoformat(query["from"]) if query.get("from") else date.min
                hi = date.fromisoformat(query["to"]) if query.get("to") else date.max
            except ValueError:
                return 422, {"message": "from and to must be dates (YYYY-MM-DD)"}
            rows = [e for e in rows if lo <= date.fromisoformat(e["spent_date"]) <= hi]
            if query.get("user_id"):
                rows = [e for e in rows if str(e["user"]["id"]) == query["user_id"]]
            if query.get("updated_since"):
                # Harvest: "Only return time entries that have been updated since the given date and time"
                # (ISO 8601, UTC); the same-format strings compare in time order.
                try:
                    since = datetime.fromisoformat(query["updated_since"].replace("Z", "+00:00"))
                except ValueError:
                    return 422, {"message": "updated_since must be an ISO 8601 date and time"}
                rows = [e for e in rows if datetime.fromisoformat(e["updated_at"].replace("Z", "+00:00")) >= since]
            rows.sort(key=lambda e: (e["spent_date"], e["created_at"], e["id"]), reverse=True)
            return self._page("time_entries", rows, path, query, base)
        return 404, {"status": 404, "error": "Not Found"}

    def _page(self, key: str, rows: list[dict], path: str, query: dict[str, str], base: str) -> tuple[int, Any]:
        try:
            per_page = int(query.get("per_page") or 2000)
        except ValueError:
            return 422, {"message": "per_page must be a number"}
        if not 1 <= per_page <= 2000:
            return 422, {"message": "per_page must be between 1 and 2000"}
        total = len(rows)
        total_pages = max(1, -(-total // per_page))
        if query.get("cursor"):
            try:
                offset = int(json.loads(base64.urlsafe_b64decode(query["cursor"]))["after"]["offset"])
            except (ValueError, KeyError, TypeError):
                return 422, {"message": "cursor is invalid"}
            page = offset // per_page + 1
            by_cursor = True
        else:
            page = int(query.get("page") or 1)
            offset = (page - 1) * per_page
            by_cursor = False
        chunk = rows[offset : offset + per_page]
        filters = {k: v for k, v in query.items() if k not in ("page", "cursor", "per_page", "ref")}

        def link(**extra: Any) -> str:
            return f"{base}{path}?" + urlencode({**filters, **extra, "per_page": per_page})

        has_next = offset + per_page < total
        first_or_last = page in (1, total_pages)
        cursor = base64.urlsafe_b64encode(json.dumps({"after": {"offset": offset + per_page}}).encode()).decode()
        return 200, {
            key: chunk,
            "per_page": per_page,
            "total_pages": total_pages,
            "total_entries": total,
            # Harvest leaves page/next/previous null on cursor pages other than the first and last.
            "next_page": (page + 1 if has_next else None) if (first_or_last or not by_cursor) else None,
            "previous_page": (page - 1 if page > 1 else None) if (first_or_last or not by_cursor) else None,
            "page": page if (first_or_last or not by_cursor) else None,
            "links": {
                "first": link(page=1, ref="first"),
                "next": link(cursor=cursor, ref="next_cursor") if has_next else None,
                "previous": link(page=page - 1, ref="previous") if page > 1 else None,
                "last": link(page=total_pages, ref="last"),
            },
        }


def _round_up(hours: Decimal) -> Decimal:
    """Harvest's default invoice rounding of an account: up to the next quarter hour."""
    quarters = -(-(hours * 4) // 1)
    return Decimal(quarters) / 4


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dumps(obj: Any) -> bytes:
    text = json.dumps(obj, ensure_ascii=False, default=lambda o: f"@@{o}@@" if isinstance(o, Decimal) else str(o))
    return re.sub(r'"@@(-?[\d.E+-]+)@@"', r"\1", text).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    emu: HarvestEmulator
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        return None

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else _dumps(body)
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-Id", f"emu-{time.monotonic_ns()}")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        emu = self.emu
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with emu._lock:
            emu.calls.append(("GET", url.path, query))
            emu.headers_seen.append(dict(self.headers.items()))
            now = time.monotonic()
            while emu._recent and emu._recent[0] <= now - emu.window:
                emu._recent.popleft()
            emu._recent.append(now)
            over = len(emu._recent) > emu.rate_limit
            wait = max(1, int(emu._recent[0] + emu.window - now + 0.999)) if over else 0
            fault = next((f for f in emu.faults if f.path in url.path and f.times > 0), None)
            if fault:
                fault.times -= 1
        if emu.latency:
            time.sleep(emu.latency)
        if not self.headers.get("User-Agent"):
            return self._send(400, {"status": 400, "error": "Bad Request", "message": "Missing User-Agent header"})
        if self.headers.get("Authorization", "") != f"Bearer {emu.token}" or (fault and fault.kind == "401"):
            return self._send(
                401,
                {
                    "error": "invalid_token",
                    "error_description": "The access token provided is "
                    "expired, revoked, malformed or invalid for other reasons.",
                },
            )
        if self.headers.get("Harvest-Account-Id", "") != emu.account_id or (fault and fault.kind == "403"):
            return self._send(
                403, {"error": "forbidden", "error_description": "The token is not authorized for this account."}
            )
        if over or (fault and fault.kind == "429"):
            emu.throttled += 1
            return self._send(
                429,
                {"status": 429, "error": "Too Many Requests"},
                {"Retry-After": str(wait) if over or fault is None else fault.retry_after},
            )
        if fault and fault.kind == "500":
            return self._send(500, {"status": 500, "error": "Internal Server Error"})
        if fault and fault.kind == "timeout":
            time.sleep(emu.hang_seconds)
            self.close_connection = True
            return None
        base = f"http://{self.headers.get('Host')}"
        with emu._lock:
            status, payload = emu.handle(url.path.rstrip("/"), query, base)
        if fault and fault.kind == "malformed" and status == 200:
            data = _dumps(payload)
            return self._send(200, None, raw=data[: max(1, len(data) // 2)])
        self._send(status, payload)


HarvestEmulator.handler = _Handler


if __name__ == "__main__":
    serve(HarvestEmulator)
