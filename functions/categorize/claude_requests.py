"""Sending a run's batches to Claude inside its time budget: one request per batch, its errors read into a
reason to stop, and refused or cut-off batches retried as halves.

429, 5xx and timeouts are retried by the SDK's own backoff; `BudgetGuard` keeps those retries inside the
run's time budget. After that, or after a 400/401, `stop_reason` says why no further request is made.
Nothing here raises: a categorizer must never crash the refresh.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import anthropic
from anthropic import APIRequest, CallNext, Middleware
from anthropic.types import MessageParam, OutputConfigParam, TextBlockParam, ThinkingConfigDisabledParam

from ..settings import ClaudeSettings
from ..transport import parse_retry_after
from .claude_prompt import AiItem, Item, check_answer, user_message

log = logging.getLogger(__name__)

_MAX_SPLITS = 2  # a refused or cut-off batch is retried as halves, then quarters, no further
_MAX_BACKOFF = 8.0  # the SDK's longest exponential backoff step


@dataclass
class BatchResult:
    answers: dict[str, AiItem] = field(default_factory=dict)  # by item key
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    problems: list[str] = field(default_factory=list)
    stop_reason: str = ""  # set when no further request should be made this run
    split: bool = False  # the batch as a whole failed in a way a smaller batch may not (refusal, cut off)

    def add(self, other: BatchResult) -> None:
        self.answers.update(other.answers)
        self.requests += other.requests
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_write_tokens += other.cache_write_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.problems.extend(other.problems)
        self.stop_reason = self.stop_reason or other.stop_reason


@dataclass(frozen=True)
class Request:
    """What every request of one run shares: the client, the prompt and schema, and the limits."""

    client: anthropic.Anthropic
    clock: Callable[[], float]
    model: str
    system: list[TextBlockParam]
    schema: dict[str, Any]
    allowed: Sequence[str]
    line_items: set[str]
    effort: Literal["", "low", "medium", "high"]  # "" for models without the effort control
    max_retries: int
    request_timeout: float
    max_output_tokens: int


def anthropic_client(settings: ClaudeSettings, key: str) -> anthropic.Anthropic:
    """The SDK client every Claude stage uses: the key, base URL, retries and timeout of the AI_* settings."""
    return anthropic.Anthropic(
        api_key=key,
        base_url=settings.anthropic_base_url or None,
        max_retries=settings.ai_max_retries,
        timeout=settings.ai_request_timeout_seconds,
    )


def run_batches(
    req: Request,
    batches: list[list[Item]],
    started: float,
    budget: float,
    concurrency: int,
    on_done: Callable[[int], None] | None = None,
) -> list[BatchResult]:
    """Ask for every batch within `budget` seconds from `started`; the first request goes alone, since it
    writes the prompt cache the others read. `on_done(n)` is told each time a batch is answered (n so far)."""
    stop = threading.Event()
    finished = [0]
    count_lock = threading.Lock()

    def counted(batch: list[Item]) -> BatchResult:
        result = run(batch)
        if on_done is not None:
            with count_lock:
                finished[0] += 1
                n = finished[0]
            on_done(n)
        return result

    def run(batch: list[Item], depth: int = 0) -> BatchResult:
        if stop.is_set():
            return BatchResult()
        remaining = budget - (req.clock() - started)
        if remaining <= 0:
            stop.set()
            return BatchResult(stop_reason=f"its time budget of {budget:g} s was used up")
        result = ask(req, batch, remaining)
        if result.stop_reason:
            stop.set()
        elif result.split and len(batch) > 1 and depth < _MAX_SPLITS:
            # One odd entry can make Claude refuse, or a long batch overflow the output limit:
            # halves keep the other entries from falling back with it.
            half = len(batch) // 2
            result.add(run(batch[:half], depth + 1))
            result.add(run(batch[half:], depth + 1))
        return result

    results = [counted(batches[0])]
    if len(batches) > 1 and not stop.is_set():
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            results.extend(pool.map(counted, batches[1:]))
    return results


def ask(req: Request, batch: list[Item], remaining: float) -> BatchResult:
    """One request for one batch, with `remaining` seconds of the budget left."""
    result = BatchResult()
    ids = {f"e{i + 1}": item for i, item in enumerate(batch)}
    output_config: OutputConfigParam = {"format": {"type": "json_schema", "schema": req.schema}}
    if req.effort:
        output_config["effort"] = req.effort
    # Share what is left of the budget between the attempts the SDK may make, so retries cannot run
    # far past it (only the backoff sleeps between attempts come on top).
    attempts = req.max_retries + 1
    timeout = min(req.request_timeout, max(1.0, remaining / attempts))
    deadline = req.clock() + remaining
    n = len(batch)
    messages: list[MessageParam] = [{"role": "user", "content": user_message(ids)}]
    thinking: ThinkingConfigDisabledParam = {"type": "disabled"}
    try:
        guard = BudgetGuard(deadline, req.clock)
        client = req.client.with_options(timeout=timeout, middleware=[*req.client.middleware, guard])
        raw = client.messages.with_raw_response.create(
            model=req.model,
            max_tokens=req.max_output_tokens,
            system=req.system,
            messages=messages,
            output_config=output_config,
            thinking=thinking,
        )
        message = raw.parse()
        result.requests = 1 + raw.retries_taken
    except Exception as exc:
        result.requests, result.stop_reason = call_failed(exc)
        return result

    usage = message.usage
    result.input_tokens = usage.input_tokens or 0
    result.output_tokens = usage.output_tokens or 0
    result.cache_write_tokens = usage.cache_creation_input_tokens or 0
    result.cache_read_tokens = usage.cache_read_input_tokens or 0

    if message.stop_reason == "refusal":
        result.problems.append(f"Claude declined to categorize a batch of {n} entries")
        result.split = True
        return result
    text = "".join(getattr(b, "text", "") for b in message.content if getattr(b, "type", "") == "text")
    if message.stop_reason == "max_tokens":
        result.problems.append(
            f"Claude's answer for {n} entries was cut off (AI_MAX_OUTPUT_TOKENS is "
            f"{req.max_output_tokens}); lower AI_BATCH_SIZE"
        )
        result.split = True
        return result
    try:
        data = json.loads(text)
        raw_items = data["suggestions"]
        if not isinstance(raw_items, list):
            raise TypeError("suggestions is not a list")
    except (ValueError, KeyError, TypeError):
        result.problems.append(f"Claude's answer for {n} entries was not the JSON asked for")
        return result

    result.answers, outside = check_answer(raw_items, ids, req.allowed, req.line_items)
    missing = n - len(result.answers)
    if missing or outside:
        result.problems.append(
            f"{outside} answer items were outside the schema and {missing} of {n} entries got no usable answer"
        )
    return result


def call_failed(exc: Exception) -> tuple[int, str]:
    """(requests made, why no further request should be made this run) for a Messages call that raised.

    Shared by every Claude stage (categorize, describe), so each reads an error the same way.
    """
    if isinstance(exc, anthropic.APIStatusError):
        retries = _retries_taken(exc)
        status = exc.status_code
        if status in (401, 403):
            return 1 + retries, f"the Anthropic API refused the key (HTTP {status}); check ANTHROPIC_API_KEY"
        if status in (408, 409, 429) or status >= 500:
            return 1 + retries, f"the Anthropic API kept failing (HTTP {status}) {_after(retries)}"
        # 400, 404, 413, 422: the request itself is wrong; retrying or sending more will not help.
        kind = _error_type(exc)
        return 1 + retries, (
            f"the Anthropic API rejected the request (HTTP {status}"
            f"{', ' + kind if kind else ''}); check AI_MODEL and AI_EFFORT"
        )
    if isinstance(exc, anthropic.APIConnectionError):
        retries = _retries_taken(exc)
        what = "a timeout" if isinstance(exc, anthropic.APITimeoutError) else "a connection error"
        return 1 + retries, f"the Anthropic API kept failing ({what}) {_after(retries)}"
    log.warning("Claude request failed unexpectedly: %s", type(exc).__name__)
    return 1, f"an unexpected {type(exc).__name__} while calling the Anthropic API"


def _after(retries: int) -> str:
    return f"after {retries} {'retry' if retries == 1 else 'retries'} within the time budget"


class BudgetGuard(Middleware):
    """Keeps the SDK's retries inside the time budget.

    This SDK honours any `retry-after`, even an hour; a Cloud Function cannot wait that long. Running
    inside the SDK's retry loop, once per attempt, this tells it not to retry (`x-should-retry: false`)
    when the wait it would make does not fit in what is left of the budget.
    """

    def __init__(self, deadline: float, clock: Callable[[], float]):
        self.deadline = deadline
        self.clock = clock

    def handle(self, request: APIRequest, call_next: CallNext) -> Any:
        response = call_next(request)
        http = response.http_response
        if not http.is_success:
            wait = _retry_after(http.headers) or _MAX_BACKOFF
            if self.clock() + wait >= self.deadline:
                http.headers["x-should-retry"] = "false"
        return response


def _retry_after(headers: Any) -> float | None:
    try:
        return float(headers.get("retry-after-ms")) / 1000.0  # Anthropic's own, finer header
    except (TypeError, ValueError):
        return parse_retry_after(headers.get("retry-after"))


def _retries_taken(exc: anthropic.APIError) -> int:
    """How many retries the SDK made before giving up: it numbers each attempt in a request header."""
    try:
        return int(exc.request.headers.get("x-stainless-retry-count", "0"))
    except (AttributeError, ValueError):
        return 0


def _error_type(exc: anthropic.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    err = body.get("error") if isinstance(body.get("error"), dict) else body
    kind = err.get("type") if isinstance(err, dict) else None
    return kind if isinstance(kind, str) and re.fullmatch(r"[a-z_]{1,40}", kind) else ""
