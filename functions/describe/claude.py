"""Claude writes the client-facing line descriptions, through one forced tool call per batch of lines.

It shares the categorizer's parts rather than copying them: the SDK client and its retry and timeout
settings, the time-budget guard and the reading of API errors (categorize.claude_requests), the answer cache
(categorize.claude_cache, in its own file beside AI_CACHE_PATH), the prices (categorize.claude_cost) and the
redaction (categorize.redact, applied by `facts.Scrubber` before anything is sent). Only scrubbed facts are
sent; each answer is checked again (`Scrubber.leaks`) and any line whose answer is missing, too long, names
someone, or leaks anything gets the offline writer's description instead. A refusal, an error or the time
budget running out (AI_DESCRIBE_TIME_BUDGET_SECONDS) leaves the remaining lines to the offline writer too.

    >>> s = ClaudeSettings(ai_enabled=True, anthropic_api_key=None)
    >>> ClaudeWriter.from_settings(s) is None
    True
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import anthropic
from anthropic.types import MessageParam, TextBlockParam, ThinkingConfigDisabledParam, ToolParam

from ..categorize.claude_cache import AnswerCache
from ..categorize.claude_cost import estimate_cost
from ..categorize.claude_requests import BudgetGuard, anthropic_client, call_failed
from ..categorize.redact import Pseudonyms
from ..settings import ClaudeSettings
from .facts import Job, LineFacts, Scrubber, Usage
from .offline import MAX_LENGTH

TOOL_NAME = "write_line_descriptions"
PROMPT_VERSION = "2"

SYSTEM = """You write the line descriptions of invoices that a services agency sends to its clients.
For each line you get the line item, the project, the tasks, the team's timesheet notes (already cleaned of
names and personal data), Jira keys, the number of time entries, the client's language, and sometimes a role
or person that tells this line apart from another line of the same line item.

Write one short description per line that the client understands, in the format
"Line item: what was done — N tasks", for example "Development: new invoice view, code review and fixes — 3 tasks"
(N is the number of entries). When a line has a "project_label", start with it: "Checkout · Development: ...".
Rules:
- Summarize the work in plain words; expand internal shorthand (wip, mtg, PR, fb), fix typos, drop repeats.
- Keep Jira keys exactly as given (e.g. CHK-12).
- Never write a person's name, initials, nicknames, another company's name, or anything in [brackets].
- When a line has a "distinguish" value, put it in the description right after the project, in parentheses.
- Write in the line's language (an ISO code or name; blank means English), the count word too ("Aufgaben").
- At most 140 characters. No quotes, no markdown, one line.
Answer only by calling the tool write_line_descriptions once with every line id."""


def describe_cache_path(path: Path | None) -> Path | None:
    """The descriptions' cache file beside the categorizer's (AI_CACHE_PATH), or None when that is unset."""
    return path.with_name(f"{path.stem}-descriptions{path.suffix or '.json'}") if path else None


def tool() -> ToolParam:
    return {
        "name": TOOL_NAME,
        "description": "Record the client-facing description of every invoice line, one item per line id.",
        "input_schema": {
            "type": "object",
            "properties": {
                "lines": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string", "description": "the line id as given, e.g. l3"},
                            "description": {"type": "string", "description": "the client-facing description"},
                        },
                        "required": ["id", "description"],
                        "additionalProperties": False,
                    },
                }
            },
            "required": ["lines"],
            "additionalProperties": False,
        },
        "strict": True,
    }


class ClaudeWriter:
    """Writes descriptions for jobs with Claude; what it cannot write is left out of the answer."""

    def __init__(
        self,
        settings: ClaudeSettings,
        client: anthropic.Anthropic | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        key = settings.anthropic_api_key
        if not settings.active or key is None:
            raise ValueError("ClaudeWriter needs AI_ENABLED and ANTHROPIC_API_KEY; use from_settings().")
        self.settings = settings
        self._key = key.get_secret_value().strip()
        self.client = client or anthropic_client(settings, self._key)
        self.clock = clock
        self.cache = AnswerCache(describe_cache_path(settings.ai_cache_path))
        self.signature = hashlib.sha256(f"{settings.ai_model}\n{PROMPT_VERSION}\n{SYSTEM}".encode()).hexdigest()[:16]

    @classmethod
    def from_settings(cls, settings: ClaudeSettings | None = None) -> ClaudeWriter | None:
        """The writer, or None when AI or AI_DESCRIBE is off or there is no key (then nothing is sent)."""
        settings = settings or ClaudeSettings()
        return cls(settings) if settings.active and settings.ai_describe else None

    def __repr__(self) -> str:  # never show the key
        return f"ClaudeWriter(model={self.settings.ai_model!r})"

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._key,)

    def write(self, jobs: Sequence[Job], scrub: Scrubber, clients: Sequence[str] = ()) -> tuple[dict[str, str], Usage]:
        """content key -> description for the jobs Claude answered well (from the cache or asked now)."""
        usage = Usage()
        out: dict[str, str] = {}
        todo: list[Job] = []
        for job in {j.key: j for j in jobs}.values():
            hit = self.cache.get(self.signature, job.key)
            if hit is not None and isinstance(hit.get("description"), str):
                out[job.key] = hit["description"]
                usage.cached += 1
            else:
                todo.append(job)
        if not todo:
            return out, usage
        s = self.settings
        pseudo = Pseudonyms(clients) if s.ai_pseudonymize_clients else None
        started = self.clock()
        budget = s.ai_describe_time_budget_seconds
        for i in range(0, len(todo), s.ai_batch_size):
            remaining = budget - (self.clock() - started)
            if remaining <= 0:
                usage.stop_reason = f"its time budget of {budget:g} s was used up"
            if usage.stop_reason:
                break
            batch = todo[i : i + s.ai_batch_size]
            for key, text in self._ask(batch, remaining, scrub, pseudo, usage).items():
                out[key] = text
                usage.written += 1
                self.cache.put(self.signature, key, {"description": text})
        self.cache.save()
        cost = estimate_cost(
            s.ai_model, usage.input_tokens, usage.output_tokens, usage.cache_write_tokens, usage.cache_read_tokens
        )
        usage.cost = cost if cost is not None else Decimal("0")
        return out, usage

    def _ask(
        self, batch: list[Job], remaining: float, scrub: Scrubber, pseudo: Pseudonyms | None, usage: Usage
    ) -> dict[str, str]:
        s = self.settings
        ids = {f"l{n}": job for n, job in enumerate(batch, start=1)}
        lines = []
        for line_id, job in ids.items():
            f = job.facts
            item: dict[str, Any] = {
                "id": line_id,
                "line_item": f.line_item,
                "project": ", ".join(f.projects),
                "tasks": list(f.tasks),
                "notes": list(dict.fromkeys(f.phrases)),
                "jira_keys": list(f.keys),
                "entries": f.count,
                "language": f.language or "en",
            }
            if f.distinguish:
                item["distinguish"] = f.distinguish
            if f.project_label:
                item["project_label"] = f.project_label
            lines.append(item)
        payload = json.dumps(lines, ensure_ascii=False)
        if pseudo:
            payload = pseudo.hide(payload)
        messages: list[MessageParam] = [{"role": "user", "content": f"<lines>{payload}</lines>"}]
        system: list[TextBlockParam] = [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
        thinking: ThinkingConfigDisabledParam = {"type": "disabled"}
        timeout = min(s.ai_request_timeout_seconds, max(1.0, remaining / (s.ai_max_retries + 1)))
        try:
            guard = BudgetGuard(self.clock() + remaining, self.clock)
            client = self.client.with_options(timeout=timeout, middleware=[*self.client.middleware, guard])
            raw = client.messages.with_raw_response.create(
                model=s.ai_model,
                max_tokens=s.ai_max_output_tokens,
                system=system,
                messages=messages,
                tools=[tool()],
                tool_choice={"type": "tool", "name": TOOL_NAME},
                thinking=thinking,
            )
            message = raw.parse()
            usage.requests += 1 + raw.retries_taken
        except Exception as exc:
            n, usage.stop_reason = call_failed(exc)
            usage.requests += n
            return {}
        u = message.usage
        usage.input_tokens += u.input_tokens or 0
        usage.output_tokens += u.output_tokens or 0
        usage.cache_write_tokens += u.cache_creation_input_tokens or 0
        usage.cache_read_tokens += u.cache_read_input_tokens or 0
        if message.stop_reason == "refusal":
            usage.problems.append(f"Claude declined to describe a batch of {len(batch)} lines")
            return {}
        if message.stop_reason == "max_tokens":
            usage.problems.append(f"Claude's answer for {len(batch)} lines was cut off (AI_MAX_OUTPUT_TOKENS)")
            return {}
        answer = next(
            (b.input for b in message.content if b.type == "tool_use" and b.name == TOOL_NAME),
            None,
        )
        items = answer.get("lines") if isinstance(answer, dict) else None
        if not isinstance(items, list):
            usage.problems.append(f"Claude did not call {TOOL_NAME} for {len(batch)} lines")
            return {}
        out: dict[str, str] = {}
        rejected: list[str] = []
        for item in items:
            if not isinstance(item, dict) or item.get("id") not in ids or not isinstance(item.get("description"), str):
                continue
            job = ids[item["id"]]
            text = " ".join(item["description"].split())
            if pseudo:
                text = pseudo.reveal(text)
            why = check(text, job, scrub)
            if why:
                rejected.append(why)
                continue
            out[job.key] = _with_keys(text, job.facts)
        if rejected:
            usage.problems.append(
                f"{len(rejected)} of Claude's descriptions were not used ({'; '.join(dict.fromkeys(rejected))})"
            )
        missing = len(batch) - len(out) - len(rejected)
        if missing:
            usage.problems.append(f"Claude gave no usable description for {missing} of {len(batch)} lines")
        return out


def check(text: str, job: Job, scrub: Scrubber) -> str:
    """Why a written description cannot be used ("" when it can)."""
    if not text:
        return "an empty description"
    if len(text) > MAX_LENGTH:
        return f"longer than {MAX_LENGTH} characters"
    leak = scrub.leaks(text, job.client, allowed=job.facts.distinguish)
    if leak:
        return leak
    if job.facts.distinguish and job.facts.distinguish.casefold() not in text.casefold():
        return "the role or person that tells the line apart is missing"
    return ""


def _with_keys(text: str, facts: LineFacts) -> str:
    """The Jira keys Claude dropped, put back: a client matches lines to tickets by them."""
    missing = [k for k in facts.keys[:4] if k not in text]
    return f"{text} ({', '.join(missing)})" if missing else text
