"""Xero plumbing for the Xero adapter: settings, OAuth 2.0 with rotating refresh tokens, the tenant, the SDK.

xero-python runs unmodified (imported lazily, ~0.06 s warm, only when ACCOUNTING=xero). Its API classes take a
`base_url`, which aims them at the emulator; its REST client is subclassed only to count each request in
the call meter and pass it through the throttle (Xero allows 60 calls a minute and 5,000 a day per tenant).

Tokens: Xero rotates refresh tokens (every refresh answers a new one). The refresh is ours, not the SDK's
(the SDK would call identity.xero.com whatever the base URL): it goes through functions/transport.py, and
the new token set is STORED before the new access token is used, in the same stores QuickBooks uses
(qbo_tokens.py: a 0600 file, or Secret Manager). The SDK is handed the token without an expiry, so it never
refreshes on its own. The tenant is XERO_TENANT_ID, or the one organisation `/connections` lists (by
XERO_TENANT_NAME when the grant reaches several); it is kept in the token set.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

import requests
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from ..errors import AuthError, ConfigError, Terminal, Transient
from ..settings import Section
from ..transport import ErrorTable, GaveUp, Http, RetryLater, RetryPolicy, Throttle, count_call
from .qbo_tokens import TokenSet, TokenStore, token_store_from_spec, utcnow

T = TypeVar("T")
DEFAULT_TOKEN_FILE = "~/.config/invoicing/xero-tokens.json"
RECONNECT = "Reconnect with `python main.py connect xero` (docs/RUNBOOK.md#xero-or-stripe-refuses-its-credentials)."
SCOPES = "offline_access accounting.transactions accounting.contacts accounting.settings accounting.attachments"


class XeroSettings(Section):
    """XERO_*: Xero as the accounting target (docs/xero.md). The client secret is secret; the tokens live in
    XERO_TOKEN_STORE (a 0600 file, or Secret Manager in the cloud)."""

    model_config = SettingsConfigDict(env_prefix="XERO_")

    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    redirect_uri: str = "http://localhost:8000/callback"
    tenant_id: str = ""  # blank: the organisation the connection reaches (XERO_TENANT_NAME when several)
    tenant_name: str = ""
    base_url: str = ""  # e.g. http://127.0.0.1:8791 for the emulator (identity, connections and the API)
    token_store: str = f"file:{DEFAULT_TOKEN_FILE}"
    sales_account: str = "200"  # AccountCode on every line (and the sales account of items made by --create-missing)
    batch_size: int = Field(50, ge=1, le=100)  # invoices per PUT /Invoices
    requests_per_minute: int = Field(60, ge=1, le=60)
    max_concurrency: int = Field(5, ge=1, le=5)  # Xero: at most 5 calls in progress per tenant
    timeout_seconds: float = Field(60.0, gt=0)
    max_attempts: int = Field(6, ge=1)
    retry_base_seconds: float = 1.0
    attach_time_detail: bool = True
    attach_pdf: bool = False  # Xero renders and sends its own invoice PDF; ours too costs a call per invoice
    sheet_url: str = ""  # the invoice's Url ("Go to" link in Xero) and its history note

    def url(self, kind: str) -> str:
        base = self.base_url.rstrip("/")
        real = {
            "token": "https://identity.xero.com/connect/token",
            "authorize": "https://login.xero.com/identity/connect/authorize",
            "connections": "https://api.xero.com/connections",
            "api": "https://api.xero.com/api.xro/2.0",
        }
        local = {"token": "/connect/token", "authorize": "/connect/authorize", "connections": "/connections"}
        if not base:
            return real[kind]
        return base + local.get(kind, "/api.xro/2.0")


IDENTITY_ERRORS = ErrorTable(
    "Xero identity",
    {
        400: (AuthError, "Xero refused the stored refresh token while {what}. " + RECONNECT),
        401: (
            AuthError,
            "Xero refused the client id or secret while {what}; check XERO_CLIENT_ID and XERO_CLIENT_SECRET"
            " (docs/RUNBOOK.md#xero-or-stripe-refuses-its-credentials).",
        ),
        429: (RetryLater, "Xero's identity service is rate-limiting {what}"),
        "5xx": (RetryLater, "Xero's identity service answered HTTP {status} while {what}"),
    },
)

ERRORS = ErrorTable(
    "Xero",
    {
        401: (AuthError, "Xero refused the access token while {what}. " + RECONNECT),
        403: (
            ConfigError,
            "Xero refused access to the organisation while {what}; reconnect and approve this organisation.",
        ),
        429: (RetryLater, "Xero is rate-limiting {what} (the per-{problem} limit)"),
        "5xx": (RetryLater, "Xero answered HTTP {status} while {what}"),
        "connection": (RetryLater, "Xero did not answer {what} ({exc})"),
        "other": (Terminal, "Xero refused {what} (HTTP {status}): {message}"),
        "gave up": (Transient, "{last}; gave up after {attempts} attempt(s). Run it again later: nothing is doubled."),
    },
    default_retry_after=60.0,
)


class XeroAuth:
    """The current token set: refreshed when it is about to expire, stored before it is used."""

    def __init__(self, settings: XeroSettings, store: TokenStore, clock: Callable[[], datetime] = utcnow):
        self.settings, self.store, self.clock = settings, store, clock
        self.http = Http(requests.Session(), RetryPolicy(max_attempts=3, backoff_seconds=0.2), IDENTITY_ERRORS)
        self._tokens: TokenSet | None = None
        self._lock = threading.Lock()
        self.refreshes = 0

    def tokens(self) -> TokenSet:
        with self._lock:
            if self._tokens is None:
                self._tokens = self._load()
            if self._tokens is None:
                raise AuthError(f"Xero is not connected yet ({self.store.describe()} holds no tokens). " + RECONNECT)
            if self._tokens.access_expired(self.clock(), margin=timedelta(seconds=120)):
                self._refresh_locked(self._tokens.access_token)
            return self._tokens

    def _load(self) -> TokenSet | None:
        try:
            return self.store.load()
        except AuthError:  # the shared store's sentence names QuickBooks; this one is Xero's
            raise AuthError(f"The Xero token store ({self.store.describe()}) is unreadable. " + RECONNECT) from None

    def refresh(self, stale: str) -> None:
        """After a 401: refresh once, unless another thread already did."""
        with self._lock:
            self._refresh_locked(stale)

    def _refresh_locked(self, stale: str) -> None:
        stored = self._load()  # another process may have rotated the token already
        now = self.clock()
        if stored is not None and stored.access_token != stale and not stored.access_expired(now):
            self._tokens = stored
            return
        current = stored or self._tokens
        if current is None:
            raise AuthError("Xero is not connected yet. " + RECONNECT)
        answer = self.http.request(
            "POST",
            self.settings.url("token"),
            what="refreshing the Xero access token",
            data={"grant_type": "refresh_token", "refresh_token": current.refresh_token},
            auth=(self.settings.client_id, self.settings.client_secret.get_secret_value()),
            timeout=self.settings.timeout_seconds,
        ).json()
        fresh = replace(
            current,
            access_token=answer["access_token"],
            refresh_token=answer.get("refresh_token") or current.refresh_token,
            access_expires_at=(now + timedelta(seconds=int(answer.get("expires_in", 1800)))).isoformat(),
            refresh_expires_at=(now + timedelta(days=60)).isoformat(),
        )
        self.store.save(fresh)  # stored before use: the old refresh token stops working soon
        self._tokens = fresh
        self.refreshes += 1

    def set_tenant(self, tenant_id: str) -> None:
        with self._lock:
            if self._tokens is not None and self._tokens.realm_id != tenant_id:
                self._tokens = replace(self._tokens, realm_id=tenant_id)
                self.store.save(self._tokens)


def _rest_client(throttle: Throttle) -> Any:
    from xero_python import rest

    class MeteredRest(rest.RESTClientObject):
        def request(self, *args: Any, **kwargs: Any) -> Any:
            count_call("Xero")
            with throttle.slot():
                return super().request(*args, **kwargs)

    return MeteredRest


class XeroApi:
    """The SDK's AccountingApi on our tokens, throttle and retry policy; `call()` runs one operation."""

    def __init__(self, settings: XeroSettings, store: TokenStore, sleep: Callable[[float], None] | None = None):
        self.settings = settings
        self.auth = XeroAuth(settings, store)
        self.sleep = sleep or time.sleep
        self.policy = RetryPolicy(max_attempts=settings.max_attempts, backoff_seconds=settings.retry_base_seconds)
        self.throttle = Throttle(settings.max_concurrency, settings.requests_per_minute, window=60.0)
        self._api: Any = None
        self._tenant = ""
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: XeroSettings) -> XeroApi:
        return cls(settings, token_store_from_spec(settings.token_store))

    @property
    def accounting(self) -> Any:
        with self._lock:
            if self._api is None:
                from xero_python.accounting import AccountingApi
                from xero_python.api_client import ApiClient, Configuration
                from xero_python.api_client.oauth2 import OAuth2Token

                config = Configuration(oauth2_token=OAuth2Token(client_id=self.settings.client_id))
                client = ApiClient(
                    config,
                    oauth2_token_getter=self._sdk_token,
                    oauth2_token_saver=lambda token: None,  # never asked: the SDK sees no expiry, so never refreshes
                )
                client.rest_client = _rest_client(self.throttle)(config)
                self._api = AccountingApi(client, base_url=self.settings.url("api"))
            return self._api

    def _sdk_token(self) -> dict[str, Any]:
        # no expires_at: "tokens without expiration considered always valid", so the SDK never refreshes itself
        token = self.auth.tokens().access_token
        return {"access_token": token, "token_type": "Bearer", "scope": SCOPES.split(), "expires_in": 1800}

    @property
    def tenant(self) -> str:
        if not self._tenant:
            self._tenant = self.settings.tenant_id or self.auth.tokens().realm_id or self._choose_tenant()
        return self._tenant

    def connections(self) -> list[dict[str, Any]]:
        def get() -> list[dict[str, Any]]:
            for attempt in (1, 2):
                token = self.auth.tokens().access_token
                count_call("Xero")
                with self.throttle.slot():
                    resp = requests.get(
                        self.settings.url("connections"),
                        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                        timeout=self.settings.timeout_seconds,
                    )
                if resp.status_code != 401 or attempt == 2:
                    break
                self.auth.refresh(token)
            if resp.status_code >= 400:
                raise ERRORS.for_response(resp, what="reading the organisations this connection reaches", message="")
            return list(resp.json())

        return self.policy.run(get, give_up=lambda why: ERRORS.error("gave up", last=why.last, attempts=why.attempts))

    def _choose_tenant(self) -> str:
        orgs = [c for c in self.connections() if c.get("tenantType", "ORGANISATION") == "ORGANISATION"]
        if self.settings.tenant_name:
            orgs = [c for c in orgs if str(c.get("tenantName", "")).casefold() == self.settings.tenant_name.casefold()]
        if len(orgs) != 1:
            names = ", ".join(sorted(str(c.get("tenantName")) for c in self.connections())) or "none"
            raise ConfigError(
                f"The Xero connection reaches {len(orgs)} matching organisation(s) ({names}); set XERO_TENANT_NAME "
                "or XERO_TENANT_ID to the one to invoice from."
            )
        tenant = str(orgs[0]["tenantId"])
        self.auth.set_tenant(tenant)
        return tenant

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """One operation under the policy: 429 waits Retry-After, 5xx and lost answers retry (writes carry an
        Idempotency-Key, so a repeat is replayed), a 401 refreshes once, other refusals raise at once."""
        from xero_python.exceptions import ApiException

        refreshed = False

        def attempt() -> T:
            nonlocal refreshed
            while True:
                stale = self.auth.tokens().access_token
                try:
                    return fn()
                except ApiException as exc:
                    status = int(exc.status or 0) if str(exc.status or "").isdigit() else _status(exc)
                    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
                    if status == 401 and not refreshed:
                        self.auth.refresh(stale)
                        refreshed = True
                        continue
                    key: int | str = status if status in (401, 403, 429) or status >= 500 else "other"
                    raise ERRORS.error(
                        key,
                        what=what,
                        status=status,
                        message=_message(exc),
                        problem=headers.get("x-rate-limit-problem", "minute"),
                        retry_after=headers.get("retry-after"),
                    ) from None
                except Exception as exc:  # urllib3's timeouts and dropped connections
                    if type(exc).__module__.startswith("urllib3"):
                        raise ERRORS.error("connection", what=what, exc=type(exc).__name__) from None
                    raise

        def give_up(why: GaveUp) -> BaseException:
            return ERRORS.error("gave up", last=why.last, attempts=why.attempts)

        return self.policy.run(attempt, give_up=give_up, sleep=self.sleep)


def _status(exc: Any) -> int:
    resp = getattr(exc, "http_resp", None)
    return int(getattr(resp, "status", 0) or 0)


def _message(exc: Any) -> str:
    """The validation messages of a 400, or the body's title (never the request: it may hold names)."""
    import json

    try:
        body = json.loads(getattr(getattr(exc, "http_resp", None), "data", b"") or b"{}")
    except ValueError:
        return str(getattr(exc, "reason", ""))
    messages = [
        str(v.get("Message"))
        for el in body.get("Elements", []) or []
        for v in el.get("ValidationErrors", []) or []
        if v.get("Message")
    ]
    return "; ".join(messages) or str(body.get("Detail") or body.get("Message") or body.get("Title") or "")
