"""Claude writes line descriptions through the real anthropic SDK against the local Messages API emulator:
one forced tool call per batch, answers checked, cached by content, and the offline writer whenever Claude is
off, slow, failing, refusing or writes something a client must not read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from functions.billing.book import ClientSettings, RuleBook
from functions.billing.engine import BillingResult
from functions.describe.claude import TOOL_NAME, ClaudeWriter
from functions.describe.lines import describe_result
from functions.models import InvoiceDraft, InvoiceLine, TimeEntry
from functions.settings import ClaudeSettings
from tests.emulators.anthropic import AnthropicEmulator

KEY = "sk-ant-test-0123456789abcdefSECRET"


@pytest.fixture
def emu() -> Iterator[AnthropicEmulator]:
    with AnthropicEmulator(api_key=KEY) as e:
        yield e


def writer(emu: AnthropicEmulator, **overrides: Any) -> ClaudeWriter:
    values: dict[str, Any] = dict(
        anthropic_api_key=KEY, anthropic_base_url=emu.base_url, ai_max_retries=1, ai_request_timeout_seconds=5
    )
    values.update(overrides)
    w = ClaudeWriter.from_settings(ClaudeSettings(**values))
    assert w is not None
    return w


def entry(i: int, notes: str, client: str = "Acme Retail", person: str = "Ben Ortiz", role: str = "Developer"):
    return TimeEntry(
        source="csv",
        source_id=f"{client[:2]}{i}",
        date=date(2026, 10, 1 + i),
        client=client,
        project="Checkout",
        task="Development",
        person=person,
        role=role,
        notes=notes,
        hours=Decimal("2"),
    )


def month() -> tuple[BillingResult, dict[str, TimeEntry], RuleBook]:
    acme = [
        entry(1, "ACME-12 new invoice view"),
        entry(2, "PR review + merge w/ BO"),
        entry(3, "call jane@acme.example"),
    ]
    qa = [entry(4, "test plan checkout", person="Ana Ruiz", role="QA Engineer")]
    kunde = [entry(5, "Header gebaut", client="Lumen Energy"), entry(6, "Footer", client="Lumen Energy")]

    def draft(client: str, lines: list[tuple[list[TimeEntry], str]], currency: str = "USD") -> InvoiceDraft:
        return InvoiceDraft(
            client=client,
            customer="",
            period="2026-10",
            currency=currency,
            issue_date=date(2026, 11, 1),
            due_date=date(2026, 12, 1),
            lines=tuple(
                InvoiceLine(
                    description=f"Development — {len(es)} tasks",
                    line_item="Development",
                    quantity=Decimal(2 * len(es)),
                    unit_price=Decimal(rate),
                    amount=Decimal(2 * len(es)) * Decimal(rate),
                    entry_refs=tuple(e.ref for e in es),
                )
                for es, rate in lines
            ),
        )

    result = BillingResult(
        drafts=(draft("Acme Retail", [(acme, "150"), (qa, "90")]), draft("Lumen Energy", [(kunde, "120")], "EUR")),
        issues=(),
        held={},
        non_billable={},
        period="2026-10",
    )
    book = RuleBook(clients=(ClientSettings(name="Acme Retail"), ClientSettings(name="Lumen Energy", language="de")))
    return result, {e.ref: e for e in [*acme, *qa, *kunde]}, book


def texts(result: BillingResult) -> list[tuple[str, str]]:
    return [(line.client_description, line.description_by.split()[0]) for d in result.drafts for line in d.lines]


def test_claude_writes_every_line_with_one_forced_tool_call(emu):
    result, entries, book = month()
    out, report = describe_result(result, entries, book, {}, writer(emu))
    assert [s for _, s in texts(out)] == ["ai", "ai", "ai"]
    acme, qa, lumen = (t for t, _ in texts(out))
    assert acme.startswith("Development (Developer):") and "(ACME-12)" in acme and acme.endswith("— 3 tasks")
    assert qa.startswith("Development (QA Engineer):")
    assert lumen.endswith("— 2 Aufgaben")  # the Clients tab's Language, passed on
    assert report.usage.requests == 1 and report.by_source["ai"] == 3 and report.usage.cost > 0

    (req,) = emu.message_requests
    body = req.body
    assert body["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    assert body["tools"][0]["strict"] is True and body["thinking"] == {"type": "disabled"}
    sent = body["messages"][0]["content"]
    # nothing a client or Anthropic must not see: no person, initials, email or key
    for never in ("Ben", "Ortiz", " BO", "jane", "acme.example", KEY):
        assert never not in sent, never
    lines = json.loads(sent.split("<lines>")[1].split("</lines>")[0])
    assert [x["language"] for x in lines] == ["en", "en", "de"]


def test_a_rerun_costs_no_call_and_an_unchanged_line_is_read_from_the_cache(emu, tmp_path: Path):
    result, entries, book = month()
    cache = tmp_path / "ai-cache.json"
    first, _ = describe_result(result, entries, book, {}, writer(emu, ai_cache_path=cache))
    assert len(emu.message_requests) == 1
    again, report = describe_result(result, entries, book, {}, writer(emu, ai_cache_path=cache))  # a new process
    assert len(emu.message_requests) == 1 and report.usage.requests == 0 and report.usage.cached == 3
    assert texts(again) == texts(first)
    assert "Checkout" not in (tmp_path / "ai-cache-descriptions.json").read_text()  # hashes, not note text


@pytest.mark.parametrize("fault", ["refusal", "500", "timeout", "no_tool", "401"])
def test_when_claude_refuses_fails_or_is_slow_the_offline_writer_steps_in(emu, fault):
    emu.state.slow_seconds = 1.5
    if fault in ("500", "timeout"):
        emu.outage(fault)
    else:
        emu.fail_next(fault)
    result, entries, book = month()
    out, report = describe_result(
        result, entries, book, {}, writer(emu, ai_request_timeout_seconds=1, ai_max_retries=0)
    )
    assert [s for _, s in texts(out)] == ["offline"] * 3
    assert all(t for t, _ in texts(out)) and report.notes
    assert "ben" not in " ".join(t for t, _ in texts(out)).casefold().split()


@pytest.mark.parametrize(
    "leak", ["for Globex Corp", "by Ben", "(BO)", "[email]", "for Lumen Energy", "x" * 200], ids=str.__len__
)
def test_an_answer_that_leaks_is_not_used(emu, leak):
    result, entries, book = month()
    book = book.model_copy(update={"clients": (*book.clients, ClientSettings(name="Globex Corp"))})
    emu.fail_next("append:" + leak)
    out, report = describe_result(result, entries, book, {}, writer(emu))
    (first, source), *rest = texts(out)
    assert source == "offline" and leak not in first
    assert [s for _, s in rest] == ["ai", "ai"]
    assert "not used" in " ".join(report.notes)


def test_ai_describe_off_or_no_key_sends_nothing(emu):
    assert ClaudeWriter.from_settings(ClaudeSettings(anthropic_api_key=KEY, ai_describe=False)) is None
    assert ClaudeWriter.from_settings(ClaudeSettings(anthropic_api_key=None)) is None
    result, entries, book = month()
    out, report = describe_result(result, entries, book, {}, None)
    assert [s for _, s in texts(out)] == ["offline"] * 3 and not emu.requests
