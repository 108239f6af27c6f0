"""The shared HTTP layer, through the real requests client, against a tiny scripted local server."""

from __future__ import annotations

import json
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from functions.errors import ConfigError, Terminal, Transient
from functions.transport import Budget, ErrorTable, Http, RetryLater, RetryPolicy, Throttle, parse_retry_after


class Script:
    """A local HTTP server that answers from a list: (status, headers, body, delay in seconds) per request,
    then 200 {"ok": true} once the list is used up. It records every request path."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str], str, float]] = []
        self.paths: list[str] = []
        script = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                script.paths.append(self.path)
                status, headers, body, delay = script.answers.pop(0) if script.answers else (200, {}, '{"ok": true}', 0)
                if delay:
                    time.sleep(delay)
                data = body.encode()
                try:
                    self.send_response(status)
                    for k, v in {"Content-Type": "application/json", **headers}.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout case)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def then(self, status: int, body: str = "{}", delay: float = 0, **headers: str) -> Script:
        self.answers.append((status, {k.replace("_", "-"): v for k, v in headers.items()}, body, delay))
        return self


@pytest.fixture
def server():
    s = Script()
    s.thread.start()
    yield s
    s.server.shutdown()
    s.server.server_close()


class ExampleRefused(Terminal):
    """The example service refused the request."""


class QuotaUsedUp(Transient):
    """Transient for the run, but not worth retrying now (like Toggl's hourly quota)."""


TABLE = ErrorTable(
    "Example",
    {
        429: (RetryLater, "Example is rate-limiting {what}"),
        "5xx": (RetryLater, "Example had a server error ({status}) on {what}"),
        "timeout": (RetryLater, "Example did not answer {what} in time"),
        400: (ExampleRefused, "Example refused {what} as a bad request: {detail}"),
        402: (QuotaUsedUp, "Example's quota is used up"),
        404: (ConfigError, "Example has no {what}"),
        "gave up": (Transient, "{last}; gave up after {attempts} attempts and {spent:.1f} s (budget {budget:g} s)"),
    },
    fields=lambda r: {"detail": r.json().get("message", "") if r.content else ""},
)


def http(server: Script, waits: list[float], timeout: float = 10.0, **policy: float) -> Http:
    """A client of the script. The timeout is generous, so a busy machine never turns an answer into a retry;
    the timeout tests pass a short one."""
    defaults = dict(max_attempts=4, backoff_seconds=0.5, max_backoff_seconds=8.0)
    return Http(
        requests.Session(),
        RetryPolicy(**{**defaults, **policy}),
        TABLE,
        sleep=waits.append,
        timeout=timeout,
        origin=server.url,
    )


def test_429_waits_the_retry_after_seconds_then_succeeds(server):
    server.then(429, Retry_After="7")
    waits: list[float] = []
    client = http(server, waits)
    assert client.request("GET", server.url + "/items", what="the items").json() == {"ok": True}
    assert waits == [7.0] and len(server.paths) == 2 and client.calls == 2 and client.retries == 1


def test_429_with_an_http_date_waits_until_that_date(server):
    server.then(429, Retry_After=formatdate(time.time() + 30, usegmt=True))
    waits: list[float] = []
    http(server, waits, budget_seconds=60).request("GET", server.url + "/items", what="the items")
    assert len(waits) == 1 and 28.0 < waits[0] <= 30.0  # the date has whole seconds


def test_a_retry_after_beyond_the_cap_is_cut_to_it(server):
    server.then(429, Retry_After="600")
    waits: list[float] = []
    http(server, waits, max_retry_after=5).request("GET", server.url + "/items")
    assert waits == [5.0]


def test_500_then_success_backs_off_within_the_jitter(server):
    server.then(500).then(503)
    waits: list[float] = []
    http(server, waits).request("GET", server.url + "/items")
    assert len(server.paths) == 3 and len(waits) == 2
    assert 0.25 <= waits[0] <= 0.5 and 0.5 <= waits[1] <= 1.0  # half to all of 0.5 s, then of 1 s


def test_a_timeout_is_retried(server):
    server.then(200, delay=1.0)
    waits: list[float] = []
    assert http(server, waits, timeout=0.3).request("GET", server.url + "/slow").json() == {"ok": True}
    assert len(waits) == 1 and len(server.paths) == 2


def test_timeouts_that_persist_give_up_as_transient_naming_the_last_failure(server):
    for _ in range(2):
        server.then(200, delay=1.0)
    with pytest.raises(Transient, match="did not answer the report in time; gave up after 2 attempts"):
        http(server, [], timeout=0.3, max_attempts=2).request("GET", server.url + "/slow", what="the report")


@pytest.mark.parametrize("status,error", [(400, ExampleRefused), (404, ConfigError)])
def test_400_and_404_are_never_retried(server, status, error):
    server.then(status, body=json.dumps({"message": "page_size must be below 1000"}))
    waits: list[float] = []
    client = http(server, waits)
    with pytest.raises(error) as info:
        client.request("GET", server.url + "/items", what="the items")
    assert isinstance(info.value, Terminal) and not isinstance(info.value, Transient)
    assert waits == [] and len(server.paths) == 1 and client.retries == 0
    if status == 400:
        assert str(info.value) == "Example refused the items as a bad request: page_size must be below 1000"


def test_a_transient_error_that_is_not_retry_later_is_raised_at_once(server):
    server.then(402)
    waits: list[float] = []
    with pytest.raises(QuotaUsedUp, match="quota is used up"):
        http(server, waits).request("GET", server.url + "/items")
    assert waits == [] and len(server.paths) == 1


def test_the_budget_stops_before_a_wait_that_would_overrun_it(server):
    server.then(429, Retry_After="5").then(429, Retry_After="5")
    waits: list[float] = []
    with pytest.raises(Transient) as info:
        http(server, waits, budget_seconds=8).request("GET", server.url + "/items", what="the items")
    assert waits == [5.0] and len(server.paths) == 2
    assert str(info.value) == ("Example is rate-limiting the items; gave up after 2 attempts and 5.0 s (budget 8 s)")
    assert not isinstance(info.value, RetryLater)  # the caller sees the service's sentence, not the attempt


def test_one_budget_spans_several_requests(server):
    server.then(429, Retry_After="3").then(200).then(429, Retry_After="3")
    waits: list[float] = []
    client = http(server, waits)
    budget = Budget(5)  # e.g. one per fetch: 3 s for the first page leave 2 s for the second
    client.request("GET", server.url + "/a", budget=budget)
    with pytest.raises(Transient, match="gave up after 1 attempts"):
        client.request("GET", server.url + "/b", budget=budget)
    assert waits == [3.0] and budget.waited == 3.0


def test_max_attempts_stops_endless_server_errors(server):
    for _ in range(10):
        server.then(500)
    waits: list[float] = []
    with pytest.raises(Transient, match=r"server error \(500\).*gave up after 3 attempts"):
        http(server, waits, max_attempts=3).request("GET", server.url + "/items", what="the items")
    assert len(server.paths) == 3 and len(waits) == 2


def test_a_broken_page_raised_by_accept_is_retried(server):
    server.then(200, body="<html>proxy error</html>")
    waits: list[float] = []

    def accept(response: requests.Response) -> dict:
        try:
            return response.json()
        except ValueError:
            raise RetryLater("Example sent a broken page") from None

    assert http(server, waits).request("GET", server.url + "/items", accept=accept) == {"ok": True}
    assert len(waits) == 1 and len(server.paths) == 2


def test_a_url_off_the_configured_origin_is_refused_before_anything_is_sent(server):
    session = requests.Session()
    session.headers["Authorization"] = "Bearer secret"
    client = Http(session, RetryPolicy(), TABLE, sleep=[].append, origin=server.url)
    with pytest.raises(ConfigError, match="not the configured API"):
        client.request("GET", "http://127.0.0.2:9/steal", what="page 2")
    assert client.calls == 0 and server.paths == []


def test_jitter_bounds():
    half = RetryPolicy(backoff_seconds=1.0, max_backoff_seconds=4.0, jitter=0.5)
    full = RetryPolicy(backoff_seconds=1.0, max_backoff_seconds=4.0, jitter=1.0)
    assert [half.backoff(n, rand=lambda: 0.0) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 4.0]  # capped at 4
    assert [half.backoff(n, rand=lambda: 1.0) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 2.0]
    assert full.backoff(3, rand=lambda: 1.0) == 0.0
    draws = [half.backoff(3) for _ in range(500)]
    assert all(2.0 <= d <= 4.0 for d in draws) and max(draws) - min(draws) > 1.0  # spread, not in step


def test_parse_retry_after():
    now = 1_800_000_000.0
    assert parse_retry_after("7") == 7.0 and parse_retry_after(" 2.5 ") == 2.5 and parse_retry_after(3) == 3.0
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(formatdate(now + 90, usegmt=True), now=lambda: now) == 90.0
    assert parse_retry_after(formatdate(now - 90, usegmt=True), now=lambda: now) == 0.0  # already past
    assert [parse_retry_after(v) for v in (None, "", "soon", "nan", "Wed, 99 Foo 2026")] == [None] * 5


def test_the_throttle_holds_requests_to_the_window():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    throttle = Throttle(concurrent=2, per_window=3, window=10.0, clock=lambda: now[0], sleep=sleep)
    starts = []
    for _ in range(5):
        with throttle.slot():
            starts.append(now[0])
            now[0] += 1.0  # each request takes a second
    # three in the first window; the fourth waits until the first finished plus the window
    assert starts[:3] == [0.0, 1.0, 2.0] and starts[3] == pytest.approx(11.0) and starts[4] == pytest.approx(12.0)
    assert slept and sum(slept) == pytest.approx(8.0)
