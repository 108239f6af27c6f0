"""Stripe plumbing for the Stripe adapter: settings, the official SDK's client, one retry policy, minor units.

The `stripe` SDK is the required client (imported lazily: ~0.14 s warm, paid only when ACCOUNTING=stripe). It runs
unmodified: `StripeClient(base_addresses={"api": ...})` aims it at the emulator, and its HTTP client is the
SDK's own `RequestsClient`, subclassed only to count each request in the call meter (functions/transport.py)
and to pass through the shared throttle. The SDK's own retries are off (`max_network_retries=0`): the
project's RetryPolicy retries 429s, 5xx and lost connections, always with the same Idempotency-Key, so a
repeat is replayed by Stripe, never done twice.

Amounts go to Stripe as integers in the currency's minor unit, computed exactly from Decimal:

    >>> to_minor(Decimal("1234.50"), "USD"), to_minor(Decimal("120000"), "JPY"), from_minor(123450, "usd")
    (123450, 120000, Decimal('1234.50'))
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from ..errors import AuthError, ConfigError, InputError, Terminal, Transient
from ..settings import Section
from ..transport import ErrorTable, GaveUp, RetryLater, RetryPolicy, Throttle, count_call

T = TypeVar("T")

# Stripe's zero-decimal currencies ("Zero-decimal currencies", docs.stripe.com/currencies): amounts are whole units.
ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
# Three-decimal currencies: sent in thousandths, and Stripe requires the last digit to be 0 (whole cents).
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


class StripeSettings(Section):
    """STRIPE_*: Stripe as the accounting target (docs/stripe.md). Only the API key is secret."""

    model_config = SettingsConfigDict(env_prefix="STRIPE_")

    api_key: SecretStr = SecretStr("")  # a restricted key (rk_...) with Customers, Invoices and Tax rates write
    base_url: str = ""  # e.g. http://127.0.0.1:8790 for the emulator; blank = api.stripe.com
    dashboard_url: str = "https://dashboard.stripe.com"  # links to each invoice (…/test for test mode)
    timeout_seconds: float = Field(30.0, gt=0)
    max_attempts: int = Field(5, ge=1)
    retry_base_seconds: float = 0.5
    max_concurrency: int = Field(8, ge=1, le=20)
    requests_per_second: int = Field(20, ge=1, le=100)  # Stripe allows 100/s live, 25/s in test mode
    sheet_url: str = ""  # where the Time rows are, written into each invoice's metadata


def exponent(currency: str) -> int:
    c = currency.upper()
    return 0 if c in ZERO_DECIMAL else 3 if c in THREE_DECIMAL else 2


def to_minor(amount: Decimal, currency: str, where: str = "") -> int:
    """An exact Decimal amount as Stripe's integer in the minor unit; anything finer is refused, never rounded."""
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value() or (currency.upper() in THREE_DECIMAL and int(scaled) % 10):
        unit = "whole units" if exponent(currency) == 0 else "whole cents"
        raise InputError(
            f"{where + ': ' if where else ''}{amount} {currency.upper()} is not a whole number of {unit}, "
            "which is all Stripe accepts; nothing was sent."
        )
    return int(scaled)


def from_minor(value: int, currency: str) -> Decimal:
    return Decimal(int(value)).scaleb(-exponent(currency)).quantize(Decimal(1).scaleb(-exponent(currency)))


def idempotency_key(*parts: str) -> str:
    """A deterministic Idempotency-Key (Stripe allows 255 characters): readable head, hashed tail."""
    head = parts[0][:40]
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
    return f"invoicing-{head}-{digest}"


class IdempotencyConflict(Terminal):
    """Stripe refused an Idempotency-Key reused with other parameters: the invoice changed within 24 hours."""


ERRORS = ErrorTable(
    "Stripe",
    {
        401: (
            AuthError,
            "Stripe refused the API key while {what} ({message}); set STRIPE_API_KEY to a valid key"
            " (docs/RUNBOOK.md#xero-or-stripe-refuses-its-credentials).",
        ),
        403: (ConfigError, "The Stripe API key may not do this ({what}: {message}); give it write access to it."),
        429: (RetryLater, "Stripe is rate-limiting {what}"),
        "5xx": (RetryLater, "Stripe answered HTTP {status} while {what}"),
        "connection": (RetryLater, "Stripe did not answer {what} ({message})"),
        "idempotency": (IdempotencyConflict, "{message}"),
        "other": (Terminal, "Stripe refused {what}: {message}"),
        "gave up": (Transient, "{last}; gave up after {attempts} attempt(s). Run it again later: nothing is doubled."),
    },
)


def _meter(throttle: Throttle) -> Any:
    """The SDK's RequestsClient, counting each request and passing it through the throttle."""
    import stripe

    class MeteredClient(stripe.RequestsClient):
        def request(self, method: str, url: str, headers: Any, post_data: Any = None, **kwargs: Any) -> Any:
            count_call("Stripe")
            with throttle.slot():
                return super().request(method, url, headers, post_data, **kwargs)

    return MeteredClient


class StripeApi:
    """The SDK client and `call()`, which runs one operation under the retry policy and the error table."""

    def __init__(self, settings: StripeSettings, sleep: Callable[[float], None] | None = None):
        import time

        self.settings = settings
        self.sleep = sleep or time.sleep
        self.policy = RetryPolicy(max_attempts=settings.max_attempts, backoff_seconds=settings.retry_base_seconds)
        self.throttle = Throttle(settings.max_concurrency, settings.requests_per_second, window=1.0)
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                import stripe

                key = self.settings.api_key.get_secret_value()
                if not key:
                    raise ConfigError("Set STRIPE_API_KEY (a restricted key, rk_..., see docs/stripe.md).")
                base: Any = {"api": self.settings.base_url.rstrip("/")} if self.settings.base_url else None
                http = _meter(self.throttle)(timeout=self.settings.timeout_seconds)
                self._client = stripe.StripeClient(
                    key,
                    base_addresses=base,
                    max_network_retries=0,
                    http_client=http,
                )
            return self._client

    def call(self, what: str, fn: Callable[[], T]) -> T:
        import stripe

        def attempt() -> T:
            try:
                return fn()
            except stripe.IdempotencyError as exc:
                raise ERRORS.error("idempotency", message=exc.user_message or str(exc)) from None
            except stripe.APIConnectionError as exc:
                raise ERRORS.error("connection", what=what, message=type(exc).__name__) from None
            except stripe.StripeError as exc:
                status = exc.http_status or 0
                retry_after = (exc.headers or {}).get("Retry-After") if status == 429 else None
                key: int | str = status if status in (401, 403, 429) or status >= 500 else "other"
                message = exc.user_message or str(exc)
                raise ERRORS.error(key, what=what, status=status, message=message, retry_after=retry_after) from None

        def give_up(why: GaveUp) -> BaseException:
            return ERRORS.error("gave up", last=why.last, attempts=why.attempts)

        return self.policy.run(attempt, give_up=give_up, sleep=self.sleep)
