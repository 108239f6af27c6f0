"""A JSON API client on the shared HTTP layer, for the Jira and Asana sources.

One requests.Session (kept-alive connections) with the credentials in its headers only, the transport's retry
policy (429 waits for Retry-After; 5xx, timeouts and broken pages back off; 4xx never retried), one retry budget
per fetch, bodies read with `parse_float=Decimal` so no number passes through a binary float, and a refusal to
follow a link off the configured origin (the credentials would go with it).

    api = JsonApi(session, errors, root="https://acme.atlassian.net", policy=RetryPolicy(max_attempts=6))
    api.get("/rest/api/3/worklog/updated", {"since": 0})
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests

from ..transport import Budget, ErrorTable, Http, RetryLater, RetryPolicy


class JsonApi:
    def __init__(
        self,
        session: requests.Session,
        errors: ErrorTable,
        root: str,
        policy: RetryPolicy,
        budget_seconds: float,
        timeout: float,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.root = root.rstrip("/")
        self.service = errors.service
        self.budget_seconds = budget_seconds
        self.http = Http(session, policy, errors, sleep=sleep, timeout=timeout, origin=self.root)
        self._budget = Budget(budget_seconds)

    def __repr__(self) -> str:
        return f"JsonApi({self.service}, root={self.root!r})"

    @property
    def calls(self) -> int:
        """Requests sent, retries included (for benchmarks)."""
        return self.http.calls

    def new_budget(self) -> None:
        self._budget = Budget(self.budget_seconds)

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, url: str, what: str, **kwargs: Any) -> Any:
        """The JSON body of `method url` (a path under the root, or a full link the API gave)."""
        if url.startswith("/"):
            url = self.root + url
        return self.http.request(method, url, what=what, budget=self._budget, accept=self._json, **kwargs)

    def get(self, url: str, params: dict[str, Any] | None = None, what: str = "") -> Any:
        return self.call("GET", url, what or urlsplit(url).path, params=params)

    def post(self, url: str, body: Any, what: str = "") -> Any:
        return self.call("POST", url, what or urlsplit(url).path, json=body)

    def _json(self, response: requests.Response) -> Any:
        what = urlsplit(response.url).path
        try:
            return json.loads(response.content.decode("utf-8"), parse_float=Decimal)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            why = exc.msg if isinstance(exc, json.JSONDecodeError) else exc
            raise RetryLater(f"{self.service} sent a broken page for {what} (not JSON: {why})") from None


def error_text(response: requests.Response) -> str:
    """`: Issue does not exist` from an Atlassian (`errorMessages`) or Asana (`errors[].message`) error body."""
    try:
        body = response.json()
    except ValueError:
        return ""
    parts: list[str] = []
    if isinstance(body, dict):
        parts += [str(m) for m in body.get("errorMessages") or [] if m]
        errors = body.get("errors")
        if isinstance(errors, dict):
            parts += [f"{k}: {v}" for k, v in errors.items()]
        elif isinstance(errors, list):
            parts += [str(e.get("message")) for e in errors if isinstance(e, dict) and e.get("message")]
        if body.get("message"):
            parts.append(str(body["message"]))
    text = "; ".join(parts)[:300].rstrip(". ")
    return f": {text}" if text else ""
