"""Claude as a categorizer stage: messy task notes in, a category and a clean client-facing line out.

It implements the `Categorizer` port and sits in the chain after the Rules tab and the memory of past
corrections, before the offline classifier; it only sees what those left. To stay cheap it

- sends each distinct (redacted, normalized) description once per run, 50 to a request by default,
- keeps answers in an in-process cache and, when `AI_CACHE_PATH` is set, an on-disk JSON cache, so a
  re-run of the same month sends nothing (rows already in the Time tab are not asked for at all),
- puts the category list and examples learned from corrections in one system block marked for prompt
  caching, identical for every request of a run.

Answers come back through structured output (`output_config.format` with a JSON schema whose category is
an enum of the Categories tab). Whatever falls outside the schema (unknown category, missing, extra or
duplicated id, malformed JSON, a refusal, a truncated answer) is dropped for those entries only, which
then go to the next stage. 429, 5xx and timeouts are retried by the SDK's own backoff inside a time
budget; after that, or after a 400/401, no more requests are made this run and the report says why.
Nothing leaves the machine when `AI_ENABLED=false` or no key is set (`from_settings` returns None).

This module wires the stage; its parts are `claude_prompt` (what is sent and what is accepted back),
`claude_requests` (the batches, retries and time budget), `claude_cache` (answers kept between runs) and
`claude_cost` (prices).

    >>> s = ClaudeSettings(ai_enabled=True, anthropic_api_key=None)
    >>> ClaudeCategorizer.from_settings(s) is None
    True
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import anthropic

from ..models import Suggestion, TimeEntry
from ..ports import CategorizeContext, CategorizeReport
from ..settings import ClaudeSettings
from .claude_cache import AnswerCache, signature
from .claude_cost import estimate_cost, parse_cost
from .claude_prompt import Item, answer_schema, distinct_items, system_prompt
from .claude_requests import BatchResult, Request, anthropic_client, run_batches
from .redact import Pseudonyms

log = logging.getLogger(__name__)

# The newest Haiku when this was written (Oct 2026): built for high-volume classification, 0.10/0.50 USD
# per MTok, caches prefixes from 512 tokens. Override with AI_MODEL.
DEFAULT_MODEL = "claude-haiku-5-5"
# Measured on the generated agency month (benchmarks/categorize_quality.py): the offline chain is right on
# 99.3 % of what it shows at 0.9 or more; below 0.8 sit ~9 % of entries and most of its mistakes.
ASK_BELOW = 0.8


class ClaudeCategorizer:
    """The Claude stage of the categorize chain (see the module docstring)."""

    def __init__(
        self,
        settings: ClaudeSettings,
        client: anthropic.Anthropic | None = None,
        clock: Callable[[], float] = time.monotonic,
        ask_below: float | None = None,
    ):
        key = settings.anthropic_api_key
        if not settings.active or key is None:
            raise ValueError("ClaudeCategorizer needs AI_ENABLED and ANTHROPIC_API_KEY; use from_settings().")
        self.settings = settings
        self._key = key.get_secret_value().strip()
        self.client = client or anthropic_client(settings, self._key)
        self.clock = clock
        self._cache = AnswerCache(settings.ai_cache_path)
        # Only entries the offline stages are less sure of than this are asked about (chain.Chain runs this
        # stage after them); AI_ASK_BELOW (default ASK_BELOW).
        self.ask_below = float(ask_below if ask_below is not None else settings.ai_ask_below)

    @classmethod
    def from_settings(cls, settings: ClaudeSettings | None = None) -> ClaudeCategorizer | None:
        """The categorizer, or None when AI is disabled or there is no key (then nothing is sent)."""
        settings = settings or ClaudeSettings()
        return cls(settings) if settings.active else None

    def __repr__(self) -> str:  # never show the key
        return f"ClaudeCategorizer(model={self.settings.ai_model!r})"

    # -- the port -------------------------------------------------------------------------------
    def suggest(
        self, entries: Sequence[TimeEntry], ctx: CategorizeContext, report: CategorizeReport
    ) -> dict[str, Suggestion]:
        model = self.settings.ai_model
        allowed = [c.name for c in ctx.categories if c.name.strip()]
        if not entries:
            return {}
        if not allowed:
            report.notes.append("Claude was not asked: the Categories tab is empty.")
            return {}
        started = self.clock()
        pseudo = (
            Pseudonyms([e.client for e in entries] + [r.entry.client for r in ctx.history])
            if self.settings.ai_pseudonymize_clients
            else None
        )
        secrets = (self._key,)
        items, skipped = distinct_items(entries, pseudo, secrets)
        sig = signature(model, ctx)
        line_items = {c.line_item for c in ctx.categories if c.line_item} | {
            r.line_item for r in ctx.rules if r.line_item
        }

        answers: dict[str, dict[str, Any]] = {}
        cached = 0
        todo: list[Item] = []
        for item in items:
            hit = self._cache.get(sig, item.key)
            if hit is not None:
                answers[item.key] = hit
                cached += 1
            else:
                todo.append(item)

        totals = BatchResult()
        if todo:
            s = self.settings
            req = Request(
                client=self.client,
                clock=self.clock,
                model=model,
                system=system_prompt(ctx, pseudo, s.ai_examples, secrets),
                schema=anthropic.transform_schema(answer_schema(allowed)),
                allowed=allowed,
                line_items=line_items,
                effort=s.ai_effort,
                max_retries=s.ai_max_retries,
                request_timeout=s.ai_request_timeout_seconds,
                max_output_tokens=s.ai_max_output_tokens,
            )
            size = s.ai_batch_size
            batches = [todo[i : i + size] for i in range(0, len(todo), size)]
            n = len(batches)
            ctx.progress(0, n, f"Claude: {n} request(s) for {len(todo)} descriptions")

            def answered(done: int) -> None:
                ctx.progress(done, n, f"Claude: {done} of {n} request(s) answered")

            ran = run_batches(req, batches, started, s.ai_time_budget_seconds, s.ai_concurrency, answered)
            for r in ran:
                totals.add(r)
                for key, ai in r.answers.items():
                    answer: dict[str, Any] = {
                        "category": ai.category,
                        "line_item": ai.line_item or "",
                        "description": ai.description,
                        "confidence": ai.confidence,
                    }
                    answers[key] = answer
                    self._cache.put(sig, key, answer)
            self._cache.save()

        out: dict[str, Suggestion] = {}
        for item in items:
            value = answers.get(item.key)
            if value is None:
                continue
            suggestion = Suggestion(
                category=value["category"],
                source="ai",
                confidence=round(float(value["confidence"]), 2),
                line_item=value.get("line_item") or "",
                description=pseudo.reveal(value["description"]) if pseudo else value["description"],
            )
            for ref in item.refs:
                out[ref] = suggestion

        self._report(report, model, entries, out, len(items), len(todo), cached, skipped, totals)
        return out

    # -- reporting --------------------------------------------------------------------------------
    def _report(
        self,
        report: CategorizeReport,
        model: str,
        entries: Sequence[TimeEntry],
        out: dict[str, Suggestion],
        distinct: int,
        asked: int,
        cached: int,
        skipped: int,
        t: BatchResult,
    ) -> None:
        report.requests += t.requests
        # Tokens written to the prompt cache are input too (billed at 1.25x); reads are kept apart.
        report.input_tokens += t.input_tokens + t.cache_write_tokens
        report.output_tokens += t.output_tokens
        report.cache_read_tokens += t.cache_read_tokens
        cost = estimate_cost(model, t.input_tokens, t.output_tokens, t.cache_write_tokens, t.cache_read_tokens)
        if cost is not None:
            before = parse_cost(report.estimated_cost)
            report.estimated_cost = f"{before + cost:.6f} USD"
        left = len(entries) - len(out)
        note = (
            f"Claude ({model}): {len(out)} of {len(entries)} entries categorized; {distinct} distinct "
            f"descriptions, {cached} from the answer cache, {asked} asked in {t.requests} requests; tokens: "
            f"{t.input_tokens} input, {t.cache_write_tokens} cache write, {t.cache_read_tokens} cache read, "
            f"{t.output_tokens} output"
            + (f"; about {cost:.4f} USD" if cost is not None else "; cost unknown for this model")
            + "."
        )
        report.info.append(note)
        if t.problems:
            report.notes.append("Claude: " + "; ".join(dict.fromkeys(t.problems)) + ".")
        if t.stop_reason:
            report.notes.append(
                f"Claude stopped early: {t.stop_reason}. {left} entries fell back to the offline classifier."
            )
        elif left:
            report.notes.append(
                f"Claude left {left} entries to the offline classifier"
                + (f" ({skipped} had no text)." if skipped else ".")
            )
        log.info("claude: %s requests, %s entries placed, %s left", t.requests, len(out), left)
