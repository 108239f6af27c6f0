"""The Google Sheets API as gspread reaches it, through the shared HTTP layer.

Reaching the API: gspread's `HTTPClient` is the documented extension point (`Client(http_client=...)`);
`SheetsHTTPClient` subclasses it to (1) send every request to `api_base_url` instead of
https://sheets.googleapis.com when one is configured (the local emulator), keeping gspread's own URL
builders and request shapes untouched, and (2) send through the shared transport (functions/transport.py):
429, 408 and 5xx are retried with capped, fully jittered exponential backoff that honours Retry-After, and
`ERRORS` maps every other failure to a Terminal error. Every call is idempotent (absolute ranges, whole
values), so a retried write completes it; a failed batch leaves the sheet as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from gspread.http_client import HTTPClient
from gspread.urls import SPREADSHEETS_API_V4_BASE_URL

from ..errors import AuthError, ConfigError, Terminal, Transient
from ..transport import ErrorTable, Http, RetryLater, RetryPolicy

GOOGLE_API_ROOT = SPREADSHEETS_API_V4_BASE_URL.split("/v4/")[0]  # https://sheets.googleapis.com


class SheetsApiError(Terminal):
    """Google Sheets refused a request in a way a retry cannot fix (400, 404, ...)."""

    def __init__(self, message: str, code: int = 0, status: str = ""):
        super().__init__(message)
        self.code = code
        self.status = status


class SheetsUnavailable(Transient):
    """Google Sheets kept answering 429/5xx (or did not answer) after every retry."""


def _google_error(response: requests.Response) -> dict[str, Any]:
    """`{code, status, message}` from Google's error body (`status` is Google's word, e.g. RESOURCE_EXHAUSTED)."""
    try:
        err = response.json().get("error", {})
        return {
            "code": int(err.get("code", response.status_code)),
            "status": str(err.get("status", "")),
            "message": str(err.get("message", "")),
        }
    except (ValueError, AttributeError):
        return {"code": response.status_code, "status": "", "message": response.reason or ""}


_RETRY = (RetryLater, "{code} {status}: {message}")
ERRORS = ErrorTable(
    "Google Sheets",
    {
        408: _RETRY,
        429: _RETRY,
        500: _RETRY,
        502: _RETRY,
        503: _RETRY,
        504: _RETRY,
        "timeout": (RetryLater, "no answer ({exc})"),
        "connection": (RetryLater, "no answer ({exc})"),
        401: (
            AuthError,
            "Google Sheets refused the credentials for {what} ({status}: {message}); check the "
            "service-account key or application-default credentials (docs/RUNBOOK.md#service-accounts).",
        ),
        403: (
            AuthError,
            "Google Sheets denied {what} ({status}: {message}); share the spreadsheet with the "
            "service account as an Editor (docs/RUNBOOK.md#share-and-set-up-the-sheet).",
        ),
        404: (ConfigError, "Google Sheets found no such spreadsheet for {what} ({message}); check GOOGLE_SHEET_ID."),
        "other": (
            lambda message, f: SheetsApiError(message, f.get("code", 0), f.get("status", "")),
            "Google Sheets refused {what} with {code} {status}: {message}",
        ),
        "gave up": (
            SheetsUnavailable,
            "Google Sheets did not complete {what} after {attempts} attempts (last: {last}); "
            "nothing was left half-written, so run it again in a minute (docs/RUNBOOK.md#quota-exhausted-or-429).",
        ),
    },
    fields=_google_error,
)


def _what(method: str, url: str) -> str:
    """`values:batchUpdate`, `spreadsheets:batchUpdate`, `values.get`... for messages (no query, no token)."""
    path = urlsplit(url).path
    tail = path.rsplit("/", 1)[-1]
    if tail.startswith("values:"):
        return tail
    kind = "values" if "/values/" in path else "spreadsheets"
    if ":" in tail:
        return f"{kind}:{tail.split(':', 1)[1]}"
    return f"{kind}.{'update' if method.upper() == 'PUT' else 'get'}"


class EmulatorSession(requests.Session):
    """A requests session that sends what was meant for *.googleapis.com to `base_url` (a local emulator)."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        parts = urlsplit(str(url))
        if (parts.hostname or "").endswith("googleapis.com"):
            url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


class SheetsHTTPClient(HTTPClient):
    """gspread's HTTP client, pointed at `base_url`, sending through the shared transport (`ERRORS` above)."""

    def __init__(
        self,
        auth: Any,
        session: requests.Session | None = None,
        *,
        base_url: str = "",
        max_attempts: int = 5,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 32.0,
        timeout: float | None = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        super().__init__(auth, session)
        self.auth = auth
        self.base_url = base_url.rstrip("/")
        self.set_timeout(timeout)
        # full jitter: many sheets hitting the per-minute quota together should not retry together
        policy = RetryPolicy(
            max_attempts=max_attempts,
            backoff_seconds=backoff_seconds,
            max_backoff_seconds=max_backoff_seconds,
            jitter=1.0,
            max_retry_after=max_backoff_seconds,
        )
        self.transport = Http(self.session, policy, ERRORS, sleep=sleep)

    # what the benchmark and tests read: HTTP requests sent (retries included) and bytes each way
    calls = property(lambda self: self.transport.calls)
    bytes_sent = property(lambda self: self.transport.bytes_sent)
    bytes_received = property(lambda self: self.transport.bytes_received)

    def url(self, endpoint: str) -> str:
        if self.base_url and endpoint.startswith(GOOGLE_API_ROOT):
            return self.base_url + endpoint[len(GOOGLE_API_ROOT) :]
        return endpoint

    def request(
        self,
        method: str,
        endpoint: str,
        params: Any = None,
        data: Any = None,
        json: Any = None,
        files: Any = None,
        headers: Any = None,
    ) -> requests.Response:
        return self.transport.request(
            method,
            self.url(endpoint),
            what=_what(method, endpoint),
            json=json,
            params=params,
            data=data,
            files=files,
            headers=headers,
            timeout=self.timeout,
        )
