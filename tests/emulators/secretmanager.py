"""A stateful Secret Manager emulator: the few REST calls the product makes, with every version's state.

    GET  /v1/projects/P/secrets/S/versions/{N|latest}:access   payload of an ENABLED version
    POST /v1/projects/P/secrets/S:addVersion                     {"payload": {"data": base64}}
    GET  /v1/projects/P/secrets/S/versions?filter=state:ENABLED  newest first, pageSize/pageToken
    POST /v1/projects/P/secrets/S/versions/N:disable             ENABLED -> DISABLED
    POST /v1/projects/P/secrets/S/versions/N:destroy             -> DESTROYED, payload dropped

As the real API: `latest` is the most recently created version (accessing it when it is disabled fails
with 400 FAILED_PRECONDITION), names in answers carry the project *number*, and a secret must exist before
versions are added (`create_secret`; `auto_create=True` creates it on first use). `now` is a clock tests can
move; `fail` makes the next calls of one kind answer an error status.

    with SecretManagerEmulator() as sm:
        store = SecretManagerTokenStore("projects/p1/secrets/qbo", session=requests.Session(), endpoint=sm.base_url)
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

from ._server import LocalServer, serve

PROJECT_NUMBER = "123456789012"
_ROUTE = re.compile(r"^/v1/projects/([^/]+)/secrets/([^/:]+)(?:/versions(?:/([^/:]+))?)?(?::(\w+))?$")


@dataclass
class Version:
    number: int
    payload: bytes | None
    create_time: datetime
    state: str = "ENABLED"
    destroy_time: datetime | None = None


@dataclass
class Secret:
    versions: list[Version] = field(default_factory=list)


class SecretManagerEmulator(LocalServer):
    title = "Secret Manager"
    default_port = 8769

    def __init__(self, auto_create: bool = True, page_size: int = 0):
        self.secrets: dict[str, Secret] = {}
        self.auto_create = auto_create
        self.page_size = page_size  # >0: the server's own page size, to exercise pageToken
        self.clock = datetime(2026, 11, 1, tzinfo=UTC)
        self.calls: list[str] = []  # "access", "addVersion", "list", "disable", "destroy", in order
        self._failures: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    # -- what tests use -------------------------------------------------------------------------------
    def create_secret(self, name: str) -> None:
        self.secrets.setdefault(name.strip("/"), Secret())

    def now(self) -> datetime:
        return self.clock

    def advance(self, **delta: float) -> None:
        self.clock += timedelta(**delta)

    def fail(self, call: str, status: int = 503, times: int = 1) -> None:
        """The next `times` calls of one kind (addVersion, access, list, disable, destroy) answer `status`."""
        self._failures.setdefault(call, []).extend([status] * times)

    def states(self, name: str) -> dict[int, str]:
        return {v.number: v.state for v in self.secrets[name.strip("/")].versions}

    def enabled(self, name: str) -> list[int]:
        return [n for n, s in self.states(name).items() if s == "ENABLED"]

    def summary(self) -> str:
        return (
            f"{len(self.secrets)} secrets, created on first use" if self.auto_create else f"{len(self.secrets)} secrets"
        )

    def instructions(self, args: argparse.Namespace) -> list[str]:
        # No setting points the product at another Secret Manager endpoint; tests pass it to the store.
        return [
            "use it from Python: SecretManagerTokenStore(secret, session=requests.Session(), "
            f"endpoint={self.base_url!r})."
        ]

    # -- the API ----------------------------------------------------------------------------------------
    def handle(self, method: str, url: str, body: dict) -> tuple[int, dict]:
        parts = urlsplit(url)
        match = _ROUTE.match(parts.path)
        if not match:
            return _error(404, "NOT_FOUND", "no such method")
        project, secret_id, version_id, verb = match.groups()
        name = f"projects/{project}/secrets/{secret_id}"
        is_versions = "/versions" in parts.path
        kind = {
            ("GET", "access"): "access",
            ("POST", "addVersion"): "addVersion",
            ("POST", "disable"): "disable",
            ("POST", "destroy"): "destroy",
        }.get((method, verb or ""))
        if kind is None and method == "GET" and is_versions and version_id is None and verb is None:
            kind = "list"
        if kind is None:
            return _error(404, "NOT_FOUND", "no such method")
        with self._lock:
            self.calls.append(kind)
            pending = self._failures.get(kind)
            if pending:
                return _error(pending.pop(0), "UNAVAILABLE", "injected failure")
            secret = self.secrets.get(name)
            if secret is None and kind == "addVersion" and self.auto_create:
                secret = self.secrets[name] = Secret()
            if secret is None:
                return _error(404, "NOT_FOUND", f"Secret [{name}] not found or has no versions.")
            if kind == "addVersion":
                data = base64.b64decode(body["payload"]["data"])
                version = Version(len(secret.versions) + 1, data, self.now())
                secret.versions.append(version)
                return 200, self._version_json(project, secret_id, version)
            if kind == "list":
                return 200, self._list(project, secret_id, secret, parse_qs(parts.query))
            version = self._find(secret, version_id or "")
            if version is None:
                return _error(404, "NOT_FOUND", f"Secret Version [{name}/versions/{version_id}] not found.")
            if kind == "access":
                if version.state != "ENABLED":
                    return _error(400, "FAILED_PRECONDITION", f"Secret Version is in {version.state} state.")
                payload = base64.b64encode(version.payload or b"").decode("ascii")
                return 200, {"name": self._version_name(project, secret_id, version), "payload": {"data": payload}}
            if kind == "disable":
                if version.state == "DESTROYED":
                    return _error(400, "FAILED_PRECONDITION", "Secret Version is in DESTROYED state.")
                version.state = "DISABLED"
            else:  # destroy
                version.state, version.payload, version.destroy_time = "DESTROYED", None, self.now()
            return 200, self._version_json(project, secret_id, version)

    @staticmethod
    def _find(secret: Secret, version_id: str) -> Version | None:
        if version_id == "latest":
            return secret.versions[-1] if secret.versions else None
        if version_id.isdigit() and 0 < int(version_id) <= len(secret.versions):
            return secret.versions[int(version_id) - 1]
        return None

    def _list(self, project: str, secret_id: str, secret: Secret, query: dict[str, list[str]]) -> dict:
        versions = sorted(secret.versions, key=lambda v: v.number, reverse=True)  # newest first
        wanted = (query.get("filter") or [""])[0].strip()
        if wanted:
            match = re.fullmatch(r"state\s*[:=]\s*(\w+)", wanted)
            if not match:
                return {"error": "unsupported filter"}
            versions = [v for v in versions if v.state == match.group(1).upper()]
        size = int((query.get("pageSize") or ["0"])[0]) or self.page_size or len(versions) or 1
        if self.page_size:
            size = min(size, self.page_size)
        start = int((query.get("pageToken") or ["0"])[0])
        page = versions[start : start + size]
        out: dict = {"versions": [self._version_json(project, secret_id, v) for v in page], "totalSize": len(versions)}
        if start + size < len(versions):
            out["nextPageToken"] = str(start + size)
        if not page:
            del out["versions"]
        return out

    @staticmethod
    def _version_name(project: str, secret_id: str, version: Version) -> str:
        del project  # the real API answers with the project number, whatever the request named
        return f"projects/{PROJECT_NUMBER}/secrets/{secret_id}/versions/{version.number}"

    def _version_json(self, project: str, secret_id: str, version: Version) -> dict:
        out = {
            "name": self._version_name(project, secret_id, version),
            "createTime": version.create_time.isoformat().replace("+00:00", "Z"),
            "state": version.state,
            "etag": f'"{version.number}-{version.state}"',
        }
        if version.destroy_time:
            out["destroyTime"] = version.destroy_time.isoformat().replace("+00:00", "Z")
        return out


def _error(status: int, code: str, message: str) -> tuple[int, dict]:
    return status, {"error": {"code": status, "status": code, "message": message}}


class _Handler(BaseHTTPRequestHandler):
    emu: ClassVar[SecretManagerEmulator]

    def log_message(self, *args: object) -> None:
        return None

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else {}
        status, answer = self.emu.handle(method, self.path, body)
        if "error" in answer and isinstance(answer["error"], str):
            status, answer = _error(400, "INVALID_ARGUMENT", answer["error"])
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")


SecretManagerEmulator.handler = _Handler

if __name__ == "__main__":
    serve(SecretManagerEmulator)
