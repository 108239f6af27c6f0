"""Every invoice line of a billing result gets its client-facing description: kept from Preview when a person
edited it (or when the line is unchanged since the preview that showed it), else written by Claude, else by
the offline writer. Lines that are not hours (fees, retainers, expenses, discounts) keep the text the Rules
tab gave them unless a person edits it.

Who wrote a line's text is recorded in Preview's "Description By" cell, which is also how an edit is told
from a written text on the next read:

- `ai 3f9a1c.7b2e4d` / `offline …` / `rules …`: written by the pipeline; the two codes are hashes of the
  line's facts and of the text. A text whose hash no longer matches was edited by a person.
- `edited 2026-10`: a person's text for this line of that period, kept by every later preview and used by
  create-invoices.

    >>> by_cell("offline", "abcdef123", "Checkout: fixes — 2 tasks")
    'offline abcdef.ef5549'
    >>> kept("Checkout: my words", "offline abcdef.ef5549", "abcdef123", "2026-10")
    ('Checkout: my words', 'edited 2026-10')
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..billing.book import RuleBook
from ..billing.engine import BillingResult
from ..models import InvoiceDraft, TimeEntry
from .facts import Job, LineFacts, Scrubber, Usage, distinguishers, line_facts
from .offline import OfflineWriter, Vocabulary

if TYPE_CHECKING:  # the Claude writer (and anthropic) is imported only when AI is on: see config.build_describer
    from .claude import ClaudeWriter

Previous = Mapping[tuple[str, int], tuple[str, str]]  # (client, line index) -> (text, Description By) in Preview


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:6]


def by_cell(source: str, content_key: str, text: str) -> str:
    return f"{source} {content_key[:6]}.{_h(text)}"


def kept(text: str, by: str, content_key: str, period: str) -> tuple[str, str] | None:
    """The (text, Description By) to keep from the last preview, or None when the line is to be written anew."""
    text = (text or "").strip()
    if not text:
        return None  # an emptied cell asks for a new description
    parts = (by or "").split()
    if parts[:1] == ["edited"]:
        return (text, by) if parts[1:] == [period] else None
    if len(parts) == 2 and parts[1].count(".") == 1:
        content, written = parts[1].split(".")
        if written != _h(text):
            return text, f"edited {period}"
        return (text, by) if content == content_key[:6] else None
    return text, f"edited {period}"  # a text with no record of who wrote it: a person's


@dataclass
class DescribeReport:
    """How the run's line descriptions were written."""

    by_source: Counter[str] = field(default_factory=Counter)  # ai, offline, rules, edited, kept
    usage: Usage = field(default_factory=Usage)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def summary(self, model: str = "") -> str:
        u = self.usage
        counts = ", ".join(f"{n} {k}" for k, n in sorted(self.by_source.items()))
        text = f"Line descriptions: {counts or 'none'}"
        if u.requests or u.cached:
            text += (
                f"; Claude{f' ({model})' if model else ''}: {u.written} written in {u.requests} requests, "
                f"{u.cached} from the cache, {u.input_tokens} input + {u.output_tokens} output tokens, "
                f"about {u.cost:.4f} USD"
            )
        return text + f" ({self.seconds:.2f} s)."


def describe_result(
    result: BillingResult,
    entries: Mapping[str, TimeEntry],
    book: RuleBook,
    previous: Previous,
    writer: ClaudeWriter | None = None,
) -> tuple[BillingResult, DescribeReport]:
    """The result with every draft line's `client_description` and `description_by` set."""
    started = time.perf_counter()
    report = DescribeReport()
    clients = sorted({c.name for c in book.clients} | {e.client for e in entries.values()})
    scrub = Scrubber(
        people=[e.person for e in entries.values()],
        clients=clients,
        secrets=writer.secrets if writer else (),
    )
    offline = OfflineWriter(Vocabulary(e.notes for e in entries.values()))
    drafts = [*result.drafts, *result.held_drafts.values()]

    # Pass 1: what is kept from Preview, and the facts of every hour line still to write.
    plan: dict[tuple[str, int], tuple[str, str, LineFacts | None]] = {}  # -> (text, by, facts to write)
    for d in drafts:
        settings = book.client(d.client)
        language = settings.language if settings else ""
        apart = distinguishers(d, entries)
        projects = {entries[r].project for ln in d.lines if ln.kind == "hours" for r in ln.entry_refs if r in entries}
        for n, line in enumerate(d.lines):
            facts = None
            if line.kind == "hours" and line.entry_refs:
                facts = line_facts(line, d.client, entries, scrub, language, apart.get(n, ""), len(projects) > 1)
                content = facts.content_key()
            else:
                content = _h(line.description) + "000000"
            prev = previous.get((d.client, n))
            keep = kept(prev[0], prev[1], content, d.period) if prev else None
            if keep is not None:
                plan[(d.client, n)] = (keep[0], keep[1], None)
                report.by_source["edited" if keep[1].startswith("edited") else "kept"] += 1
            elif facts is None:
                plan[(d.client, n)] = (line.description, by_cell("rules", content, line.description), None)
                report.by_source["rules"] += 1
            else:
                plan[(d.client, n)] = ("", content, facts)

    # Pass 2: Claude for the distinct facts left (cache first), the offline writer for the rest.
    jobs = [Job(key=by, client=c, facts=f) for (c, _), (_, by, f) in plan.items() if f is not None]
    answers: dict[str, str] = {}
    if writer is not None and jobs:
        answers, report.usage = writer.write(jobs, scrub, clients)
        if report.usage.problems:
            report.notes.append("Claude: " + "; ".join(dict.fromkeys(report.usage.problems)) + ".")
        if report.usage.stop_reason:
            report.notes.append(
                f"Claude stopped writing line descriptions: {report.usage.stop_reason}; the rest were written offline."
            )
    for key, (text, by, facts) in list(plan.items()):
        if facts is None:
            continue
        content = by
        if content in answers:
            text, source = answers[content], "ai"
        else:
            text, source = offline.write(facts), "offline"
        report.by_source[source] += 1
        plan[key] = (text, by_cell(source, content, text), None)

    def done(d: InvoiceDraft) -> InvoiceDraft:
        lines = tuple(
            line.model_copy(
                update={"client_description": plan[(d.client, n)][0], "description_by": plan[(d.client, n)][1]}
            )
            for n, line in enumerate(d.lines)
        )
        return d.model_copy(update={"lines": lines})

    out = replace(
        result,
        drafts=tuple(done(d) for d in result.drafts),
        held_drafts={k: done(d) for k, d in result.held_drafts.items()},
    )
    report.seconds = time.perf_counter() - started
    return out, report
