"""The one HTTP layer every adapter uses: a retry policy, Retry-After, a throttle and per-service error tables.

Harvest, Toggl, Google Sheets and QuickBooks each declare what is theirs (an `ErrorTable`: status or fault
code -> exception class and sentence, and a `RetryPolicy`: how often and how long) and send through the
same code, so every adapter retries, waits and gives up the same way:

- an attempt that fails in a way the next one may not raises `RetryLater` (a 429, a 5xx, a timeout, a
  dropped connection, a broken page); the policy retries exactly those, by type, never by message. Every
  other error, `Terminal` (400, 401, 403, 404, a validation fault) or not, is raised at once;
- the wait is the server's Retry-After (seconds or an HTTP date) when it sent one, else jittered
  exponential backoff; the policy stops at `max_attempts` or when the next wait would overrun the budget,
  and then raises the table's "gave up" error, a `Transient` that tells people to run again later;
- `sleep` and `clock` are parameters, so tests run the real loop without waiting.

    >>> table = ErrorTable("Example", {429: (RetryLater, "Example is rate-limiting {what}"),
    ...                                404: (ConfigError, "Example has no {what}"),
    ...                                "gave up": (Transient, "{last}; gave up after {attempts} attempts")})
    >>> http = Http(requests.Session(), RetryPolicy(max_attempts=3), table)   # doctest: +SKIP
    >>> http.request("GET", "https://api.example.com/v1/items", what="the items").json()  # doctest: +SKIP
    >>> parse_retry_after("7"), parse_retry_after("soon")
    (7.0, None)
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import tenacity

from .errors import ConfigError, Transient

T = TypeVar("T")
log = logging.getLogger(__name__)

__all__ = ["Budget", "ErrorTable", "GaveUp", "Http", "RetryLater", "RetryPolicy", "Throttle", "parse_retry_after"]


class RetryLater(Transient):
    """One attempt failed in a way a later attempt may not; `retry_after` is the server's hint in seconds."""

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


def parse_retry_after(value: str | float | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After value: `"7"` -> 7.0, an HTTP date -> seconds until then (never
    negative); None for a missing or unreadable value (the caller then backs off on its own)."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return max(0.0, float(value)) if math.isfinite(value) else None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a date without a zone is read the same way
        return None
    return max(0.0, when.timestamp() - now())


# -- what a service says, as errors ------------------------------------------------------------------------
ErrorFactory = Callable[..., Exception]


class ErrorTable:
    """One service's answers as errors: status (or a fault name) -> (exception class, sentence).

    Keys are looked up exactly, then by class (`"5xx"`, `"4xx"`), then `"other"`. Special keys: `"timeout"`
    and `"connection"` (no answer; `{exc}` is the exception's type name), `"elsewhere"` (a URL off the
    configured origin: `{host}`, `{configured}`) and `"gave up"` (retries exhausted: `{last}`, `{attempts}`,
    `{spent}`, `{budget}`). Sentences are `str.format` templates over `{what}`,
    `{status}`, `{reason}`, whatever `fields(response)` reads from an error body, and the caller's context.
    A factory that is not an exception class is called as `factory(message, fields)`.
    """

    def __init__(
        self,
        service: str,
        rows: Mapping[int | str, tuple[ErrorFactory, str]],
        fields: Callable[[requests.Response], Mapping[str, Any]] | None = None,
        default_retry_after: float | None = None,
    ):
        self.service = service
        self.rows = dict(rows)
        self.fields = fields
        self.default_retry_after = default_retry_after  # a 429 without a readable Retry-After waits this
        self.rows.setdefault("other", (RuntimeError, service + " refused {what} (HTTP {status})"))
        self.rows.setdefault("gave up", (Transient, "{last}; gave up after {attempts} attempt(s)"))
        self.rows.setdefault(
            "elsewhere",
            (
                ConfigError,
                service + " would have sent {what} to {host}, which is not the configured API ({configured}); refused.",
            ),
        )
        for key in ("timeout", "connection"):
            self.rows.setdefault(key, (RetryLater, service + " did not answer {what} ({exc})"))

    def row(self, key: int | str) -> tuple[ErrorFactory, str]:
        if key in self.rows:
            return self.rows[key]
        if isinstance(key, int) and f"{key // 100}xx" in self.rows:
            return self.rows[f"{key // 100}xx"]
        return self.rows["other"]

    def error(self, key: int | str, *, retry_after: str | float | None = None, **fields: Any) -> Exception:
        factory, sentence = self.row(key)
        message = sentence.format_map(_Fields(fields))
        exc = factory(message) if isinstance(factory, type) else factory(message, fields)
        if isinstance(exc, RetryLater):
            exc.status = key if isinstance(key, int) else None
            exc.retry_after = parse_retry_after(retry_after)
            if exc.retry_after is None and key == 429:
                exc.retry_after = self.default_retry_after
        return exc

    def for_response(self, response: requests.Response, **context: Any) -> Exception:
        fields: dict[str, Any] = {"status": response.status_code, "reason": response.reason or "", **context}
        if self.fields is not None:
            fields.update(self.fields(response))
        return self.error(response.status_code, retry_after=response.headers.get("Retry-After"), **fields)

    def for_exception(self, exc: BaseException, **context: Any) -> Exception:
        key = "timeout" if isinstance(exc, requests.Timeout) else "connection"
        return self.error(key, exc=type(exc).__name__, **context)


class _Fields(dict):
    """Format fields where a missing one reads as empty, so a sentence never fails on the way out."""

    def __missing__(self, key: str) -> str:
        return ""


# -- the retry policy ------------------------------------------------------------------------------------
class Budget:
    """Seconds a caller may spend on retries, across one request or a whole fetch (start one per fetch).

    Spent is the waits asked for; with a `clock` it is the time since the start when that is more (the
    attempts' own time counts too). Stand-in sleeps in tests still count as waited."""

    def __init__(self, seconds: float = math.inf, clock: Callable[[], float] | None = None):
        self.seconds, self.clock = seconds, clock
        self.started = clock() if clock is not None else 0.0
        self.waited = 0.0

    def spent(self) -> float:
        elapsed = self.clock() - self.started if self.clock is not None else 0.0
        return max(self.waited, elapsed)

    def allows(self, wait: float) -> bool:
        return self.spent() + wait <= self.seconds


@dataclass(frozen=True)
class GaveUp:
    """Why the policy stopped: the last failure, the attempts made and the seconds spent."""

    last: BaseException
    attempts: int
    spent: float
    budget: float


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry `RetryLater` failures (see the module docstring).

    Backoff: `backoff_seconds * 2 ** (attempt - 1)`, capped at `max_backoff_seconds`, of which the fraction
    `jitter` is random (0.5: between half and all of it; 1.0: anywhere from 0, "full jitter"), so many
    workers hitting one limit do not retry in step. A Retry-After is honoured up to `max_retry_after`."""

    max_attempts: int = 5
    budget_seconds: float = math.inf
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    jitter: float = 0.5
    max_retry_after: float = math.inf

    def backoff(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        step = min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempt - 1))
        return step * (1.0 - self.jitter * rand())

    def wait_for(self, attempt: int, error: BaseException | None) -> float:
        hinted = getattr(error, "retry_after", None)
        if hinted is not None:
            return min(float(hinted), self.max_retry_after)
        return self.backoff(attempt)

    def run(
        self,
        attempt: Callable[[], T],
        *,
        give_up: Callable[[GaveUp], BaseException],
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] | None = None,
        budget: Budget | None = None,
        on_retry: Callable[[BaseException, float], None] | None = None,
    ) -> T:
        """`attempt()` until it returns, raises something other than RetryLater, or the policy gives up."""
        budget = budget if budget is not None else Budget(self.budget_seconds, clock)
        max_attempts = max(1, self.max_attempts)

        def stop(state: tenacity.RetryCallState) -> bool:
            return state.attempt_number >= max_attempts or not budget.allows(state.upcoming_sleep)

        def wait(state: tenacity.RetryCallState) -> float:
            return self.wait_for(state.attempt_number, state.outcome.exception() if state.outcome else None)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.info(
                "%s; retrying in %.1f s (attempt %d of %d)",
                error,
                state.upcoming_sleep,
                state.attempt_number + 1,
                max_attempts,
            )
            budget.waited += state.upcoming_sleep
            if on_retry is not None and error is not None:
                on_retry(error, state.upcoming_sleep)

        def gave_up(state: tenacity.RetryCallState) -> T:
            error = state.outcome.exception() if state.outcome else None
            assert error is not None
            raise give_up(GaveUp(error, state.attempt_number, budget.spent(), budget.seconds)) from None

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(RetryLater),
            stop=stop,
            wait=wait,
            sleep=sleep,
            before_sleep=before_sleep,
            retry_error_callback=gave_up,
        )
        return retrying(attempt)


# -- the throttle ----------------------------------------------------------------------------------------
class Throttle:
    """At most `concurrent` requests in flight and `per_window` in any `window` seconds.

    A request counts from when it starts until `window` after it *finished*: the server counts arrivals,
    which happen somewhere in between, so this never lets more through than the server allows."""

    def __init__(
        self,
        concurrent: int,
        per_window: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._slots = threading.BoundedSemaphore(concurrent)
        self._lock = threading.Lock()
        self._recent: deque[list[float]] = deque()  # [finish time], inf while in flight
        self.per_window, self.window = per_window, window
        self._clock, self._sleep = clock, sleep

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._slots:
            while True:
                with self._lock:
                    now = self._clock()
                    while self._recent and self._recent[0][0] <= now - self.window:
                        self._recent.popleft()
                    if len(self._recent) < self.per_window:
                        mine = [math.inf]
                        self._recent.append(mine)
                        break
                    oldest = min(r[0] for r in self._recent)
                    wait = oldest + self.window - now if oldest != math.inf else 0.01
                self._sleep(max(wait, 0.001))
            try:
                yield
            finally:
                with self._lock:
                    mine[0] = self._clock()
                    # keep the deque ordered by finish time so the front is always the first to expire
                    self._recent = deque(sorted(self._recent, key=lambda r: r[0]))


# -- the meter: API calls per service, for the Runs tab and the cost model --------------------------------
_CALLS: dict[str, int] = {}
_CALLS_LOCK = threading.Lock()


def count_call(service: str) -> None:
    """One request sent to `service` (retries count: each is billed and rate-limited)."""
    with _CALLS_LOCK:
        _CALLS[service] = _CALLS.get(service, 0) + 1


def calls_so_far() -> dict[str, int]:
    """Requests sent per service since this process started; a run reports the difference over itself.

    >>> before = calls_so_far(); count_call("Example"); count_call("Example")
    >>> calls_since(before)
    {'Example': 2}
    """
    with _CALLS_LOCK:
        return dict(_CALLS)


def calls_since(before: Mapping[str, int]) -> dict[str, int]:
    """Requests per service since `before` (a `calls_so_far()`), services with none left out."""
    now = calls_so_far()
    return {k: n - before.get(k, 0) for k, n in sorted(now.items()) if n - before.get(k, 0)}


# -- requests, through all of the above ------------------------------------------------------------------
class Http:
    """A requests session behind one service's policy, error table and (optionally) throttle.

    `request()` returns the response (or what `accept(response)` makes of it: it may raise RetryLater for
    a broken page) or raises the table's error. With `origin` set, a URL elsewhere is refused before any
    header (the token) leaves. Counts `calls` (requests sent, retries included), `retries` and bytes."""

    def __init__(
        self,
        session: requests.Session,
        policy: RetryPolicy,
        errors: ErrorTable,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] | None = None,
        timeout: float | tuple[float, float] | None = None,
        throttle: Throttle | None = None,
        origin: str | None = None,
    ):
        self.session, self.policy, self.errors = session, policy, errors
        self.sleep, self.clock, self.timeout, self.throttle = sleep, clock, timeout, throttle
        self.origin = _origin(origin) if origin else None
        self.calls = self.retries = self.bytes_sent = self.bytes_received = 0
        self._count = threading.Lock()

    def __repr__(self) -> str:
        return f"Http({self.errors.service}, {self.policy!r})"

    def close(self) -> None:
        self.session.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str = "",
        budget: Budget | None = None,
        accept: Callable[[requests.Response], Any] | None = None,
        context: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        fields = {"what": what, **(context or {})}
        if self.origin is not None and _origin(url) != self.origin:
            # a link to another host would carry the credentials there
            raise self.errors.error("elsewhere", host=_origin(url)[1], configured=self.origin[1], **fields)
        if self.timeout is not None:
            kwargs.setdefault("timeout", self.timeout)

        def attempt() -> Any:
            with self._count:
                self.calls += 1
            count_call(self.errors.service)
            try:
                if self.throttle is not None:
                    with self.throttle.slot():
                        response = self.session.request(method, url, **kwargs)
                else:
                    response = self.session.request(method, url, **kwargs)
            except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                raise self.errors.for_exception(exc, **fields) from None
            self._measure(response)
            if response.status_code >= 400:
                error = self.errors.for_response(response, **fields)
                response.close()
                raise error
            return accept(response) if accept is not None else response

        return self.policy.run(
            attempt,
            give_up=self.give_up(fields),
            sleep=self.sleep,
            clock=self.clock,
            budget=budget,
            on_retry=self._retried,
        )

    def give_up(self, fields: Mapping[str, Any]) -> Callable[[GaveUp], BaseException]:
        def build(why: GaveUp) -> BaseException:
            return self.errors.error(
                "gave up", last=why.last, attempts=why.attempts, spent=why.spent, budget=why.budget, **fields
            )

        return build

    def _retried(self, error: BaseException, wait: float) -> None:
        with self._count:
            self.retries += 1

    def _measure(self, response: requests.Response) -> None:
        body = response.request.body if response.request is not None else None
        with self._count:
            # bytes or text: our adapters never stream a request body, so there is nothing else to count
            self.bytes_sent += len(body) if isinstance(body, bytes | str) else 0
            self.bytes_received += len(response.content or b"")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc
