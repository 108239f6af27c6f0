"""The HTTP side of the QuickBooks adapter: settings, OAuth tokens, throttles, and the python-quickbooks client.

python-quickbooks and intuit-oauth run unmodified. The one hook used is the client's `process_request`,
overridden in a subclass so that every call gets a timeout (the library sets none), the current access token,
the company's throttle (a transport.Throttle: 10 in flight, 500 a minute) and its HTTP status recorded: the
library folds a 429's fault code 3001 into a `ValidationException`, so retry decisions follow the status,
through `ERRORS` below, not the class.

    >>> s = QuickBooksSettings(_env_file=None, environment="production")
    >>> invoice_url(s, "145")
    'https://app.qbo.intuit.com/app/invoice?txnId=145'
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import requests
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException

from ..errors import AuthError, ConfigError, Terminal, Transient
from ..settings import QuickBooksSettings
from ..transport import ErrorTable, RetryLater, RetryPolicy, Throttle, count_call
from .qbo_tokens import RECONNECT, TokenSet, TokenStore, utcnow

APP_HOSTS = {"sandbox": "https://app.sandbox.qbo.intuit.com", "production": "https://app.qbo.intuit.com"}


def invoice_url(settings: QuickBooksSettings, txn_id: str) -> str:
    return f"{APP_HOSTS[settings.environment]}/app/invoice?txnId={txn_id}"


# -- errors --------------------------------------------------------------------------------------------
class QuickBooksUnavailable(Transient):
    """QuickBooks did not answer, throttled us, or failed on its side; running again is safe."""


class QuickBooksRejected(Terminal):
    """QuickBooks refused a request as invalid; the data must change first."""


def fault_text(exc: QuickbooksException) -> str:
    detail = str(exc.detail or "").strip()
    message = str(exc.message or "").strip()
    return f"{message}: {detail}" if detail and detail != message else message


# -- OAuth tokens ------------------------------------------------------------------------------------------
class QuickBooksAuth:
    """Hands out a valid access token, refreshing when needed; a refresh is stored before it is used."""

    def __init__(self, settings: QuickBooksSettings, store: TokenStore, clock: Callable[[], datetime] = utcnow):
        self.settings, self.store, self.clock = settings, store, clock
        self._lock = threading.Lock()
        self._tokens: TokenSet | None = None
        self.refreshes = 0

    def discovery(self) -> str:
        if self.settings.base_url:
            name = "openid_sandbox_configuration" if self.settings.environment == "sandbox" else "openid_configuration"
            return f"{self.settings.base_url.rstrip('/')}/.well-known/{name}/"
        return self.settings.environment

    def auth_client(self, refresh_token: str | None = None) -> Any:
        from intuitlib.client import AuthClient

        if not self.settings.client_id or not self.settings.client_secret.get_secret_value():
            raise ConfigError("QBO_CLIENT_ID and QBO_CLIENT_SECRET must be set (the keys of your Intuit app).")
        try:
            # intuit-oauth reads the discovery document here; an environment that is a URL is used as is.
            return AuthClient(
                self.settings.client_id,
                self.settings.client_secret.get_secret_value(),
                self.settings.redirect_uri,
                self.discovery(),
                refresh_token=refresh_token,
            )
        except requests.RequestException as exc:
            raise QuickBooksUnavailable("Could not reach Intuit's sign-in service; try again in a minute.") from exc

    def tokens(self) -> TokenSet:
        if self._tokens is None:
            tokens = self.store.load()
            if tokens is None:
                raise AuthError(
                    f"QuickBooks is not connected yet (nothing in {self.store.describe()}). "
                    "Connect with `python main.py connect quickbooks` (docs/RUNBOOK.md#connect-quickbooks)."
                )
            self._tokens = tokens
        return self._tokens

    def access_token(self) -> str:
        tokens = self.tokens()
        if tokens.access_expired(self.clock()):
            tokens = self.refresh(tokens.access_token)
        return tokens.access_token

    def refresh(self, stale_access_token: str) -> TokenSet:
        """Refresh once, even when several threads saw the same 401 at the same time."""
        from intuitlib.exceptions import AuthClientError

        with self._lock:
            current = self.tokens()
            if current.access_token != stale_access_token and not current.access_expired(self.clock()):
                return current  # another thread refreshed already
            if current.refresh_expires_at and datetime.fromisoformat(current.refresh_expires_at) <= self.clock():
                raise AuthError(f"The QuickBooks connection expired on {current.refresh_expires_at[:10]}. {RECONNECT}")
            client = self.auth_client(current.refresh_token)
            try:
                client.refresh()
            except AuthClientError as exc:
                if exc.status_code in (400, 401):
                    raise AuthError(
                        "QuickBooks no longer accepts the saved connection (the refresh token expired "
                        f"or access was revoked). {RECONNECT}"
                    ) from None
                raise QuickBooksUnavailable(
                    f"Intuit's token service answered HTTP {exc.status_code} while refreshing; try again in a minute."
                ) from None
            except requests.RequestException as exc:
                raise QuickBooksUnavailable("Could not reach Intuit's token service; try again.") from exc
            fresh = TokenSet.from_oauth(client, current.realm_id, self.settings.environment, self.clock())
            # Rotation: the old refresh token is now spent, so the new one must be stored before anything
            # else happens. If storing fails we raise, and never use a token we could lose.
            self.store.save(fresh)
            self._tokens = fresh
            self.refreshes += 1
            return fresh


# -- HTTP: throttles, timeouts, status ---------------------------------------------------------------------
# QuickBooks' answers as errors, for the shared transport (functions/transport.py). Retries happen per API
# operation (QuickBooksAccounting._call), not per HTTP request: the library parses each answer's faults,
# a 401 refreshes the token first, and an upload without a requestid must look before it sends again.
ERRORS = ErrorTable(
    "QuickBooks",
    {
        "timeout": (RetryLater, "QuickBooks did not answer in time"),
        "connection": (RetryLater, "the connection to QuickBooks dropped before it answered"),
        429: (RetryLater, "HTTP 429"),
        "5xx": (RetryLater, "HTTP {status}"),
        401: (AuthError, "QuickBooks refused the connection while {what}, even after a token refresh. " + RECONNECT),
        "auth": (AuthError, "QuickBooks refused access while {what} ({fault}). " + RECONNECT),
        "other": (QuickBooksRejected, "QuickBooks refused {what}: {fault}"),
        "gave up": (
            QuickBooksUnavailable,
            "QuickBooks kept failing while {what} ({last}, {attempts} attempts); nothing "
            "is lost: run create-invoices again later and it will pick up where it stopped "
            "(docs/RUNBOOK.md#quota-exhausted-or-429).",
        ),
    },
)


def retry_policy(settings: QuickBooksSettings) -> RetryPolicy:
    # jitter spreads the retries of concurrent workers; a Retry-After beyond two minutes is not waited out
    return RetryPolicy(
        max_attempts=settings.max_attempts,
        backoff_seconds=settings.retry_base_seconds,
        max_backoff_seconds=60.0,
        max_retry_after=120.0,
    )


_THROTTLES: dict[tuple, Throttle] = {}
_THROTTLES_LOCK = threading.Lock()


def shared_throttle(settings: QuickBooksSettings, realm: str) -> Throttle:
    """One throttle per company in this process: QuickBooks counts per company, not per client object."""
    key = (
        settings.base_url or settings.environment,
        realm,
        settings.max_concurrency,
        settings.requests_per_minute,
        settings.rate_window_seconds,
    )
    with _THROTTLES_LOCK:
        if key not in _THROTTLES:
            _THROTTLES[key] = Throttle(
                settings.max_concurrency, settings.requests_per_minute, settings.rate_window_seconds
            )
        return _THROTTLES[key]


class QuickBooksClient(QuickBooks):
    """python-quickbooks' client with our transport; everything else (URLs, JSON, faults) is the library's."""

    transport: Transport

    def upload_files(self, files: Sequence[tuple[dict[str, Any], str, bytes]]) -> list[dict[str, Any]]:
        """Several files in one `POST /upload`: the numbered parts file_metadata_NN (the Attachable as JSON) and
        file_content_NN (the bytes, base64), as the upload endpoint takes them; the library's own upload sends
        one pair. Answers the AttachableResponse entries, in the order sent; faults raise as the library's."""
        boundary = "-------------invoicing-" + secrets.token_hex(8)
        parts = []
        for n, (meta, content_type, content) in enumerate(files, start=1):
            parts += [
                f"--{boundary}",
                f'Content-Disposition: form-data; name="file_metadata_{n:02d}"',
                "Content-Type: application/json",
                "",
                json.dumps(meta),
                f"--{boundary}",
                f'Content-Disposition: form-data; name="file_content_{n:02d}"; filename="{meta.get("FileName", "")}"',
                f"Content-Type: {content_type}",
                "Content-Transfer-Encoding: base64",
                "",
                base64.b64encode(content).decode("ascii"),
            ]
        body = "\r\n".join([*parts, f"--{boundary}--", ""])
        url = f"{self.api_url}/company/{self.company_id}/upload"
        answer = self.make_request("POST", url, body, content_type=f"multipart/form-data; boundary={boundary}")
        return list(answer.get("AttachableResponse") or [])

    def process_request(
        self,
        request_type: str,
        url: str,
        headers: dict[str, str] | str = "",  # the library's defaults are "" for "none"
        params: dict[str, Any] | str = "",
        data: Any = "",
    ) -> requests.Response:
        return self.transport.send(
            request_type,
            url,
            headers if isinstance(headers, dict) else {},
            params if isinstance(params, dict) else {},
            data,
        )


class Transport:
    """Sends the library's requests: bearer token, timeout, the company's throttle; status kept per thread."""

    def __init__(self, settings: QuickBooksSettings, auth: QuickBooksAuth):
        self.settings, self.auth = settings, auth
        self.http = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=settings.max_concurrency, max_retries=0)
        self.http.mount("https://", adapter)
        self.http.mount("http://", adapter)
        self.throttle: Throttle | None = None  # the company's, known once the realm is
        self.local = threading.local()
        self.calls = 0
        self._count_lock = threading.Lock()

    def send(
        self, method: str, url: str, headers: Mapping[str, str], params: Mapping[str, Any], data: Any
    ) -> requests.Response:
        self.local.status, self.local.retry_after = None, None
        token = self.auth.access_token()
        self.local.token = token
        headers = {**headers, "Authorization": f"Bearer {token}"}
        if self.throttle is None:
            self.throttle = shared_throttle(self.settings, self.auth.tokens().realm_id)
        with self.throttle.slot():
            with self._count_lock:
                self.calls += 1
            count_call("QuickBooks")
            try:
                resp = self.http.request(
                    method,
                    url,
                    headers=headers,
                    params=params,
                    data=data.encode("utf-8") if isinstance(data, str) else data,
                    timeout=self.settings.timeout_seconds,
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                raise ERRORS.for_exception(exc) from exc
        self.local.status = resp.status_code
        self.local.retry_after = resp.headers.get("Retry-After")
        return resp
