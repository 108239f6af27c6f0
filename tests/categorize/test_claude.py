"""The Claude stage, driven through the real anthropic SDK against the local Messages API emulator."""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.categorize.chain import Chain
from functions.categorize.classifier import OfflineClassifier
from functions.categorize.claude import ClaudeCategorizer, ClaudeSettings
from functions.categorize.claude_cost import estimate_cost
from functions.categorize.claude_prompt import answer_schema
from functions.models import Category, TimeEntry, TimeRow
from functions.ports import CategorizeContext, CategorizeReport
from tests.emulators.anthropic import AnthropicEmulator

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-ant-test-0123456789abcdefSECRET"


def _categories() -> tuple[Category, ...]:
    with open(ROOT / "functions/sample/config/Categories.csv", encoding="utf-8") as fh:
        return tuple(
            Category(
                name=r["Category"], meaning=r["Meaning"], billable=r["Billable"] == "TRUE", line_item=r["Line Item"]
            )
            for r in csv.DictReader(fh)
        )


CATEGORIES = _categories()
CTX = CategorizeContext(categories=CATEGORIES)


def entry(i: int | str, notes: str, client: str = "Acme Retail", task: str = "", project: str = "") -> TimeEntry:
    return TimeEntry(
        source="harvest",
        source_id=str(i),
        date=date(2026, 10, 1),
        client=client,
        person="Ana Ruiz",
        hours="1.5",
        notes=notes,
        task=task,
        project=project,
    )


@pytest.fixture
def emu() -> Iterator[AnthropicEmulator]:
    with AnthropicEmulator(api_key=KEY) as e:
        yield e


def claude(emu: AnthropicEmulator, **overrides: object) -> ClaudeCategorizer:
    values: dict[str, Any] = dict(
        anthropic_api_key=KEY, anthropic_base_url=emu.base_url, ai_max_retries=2, ai_request_timeout_seconds=5
    )
    values.update(overrides)
    c = ClaudeCategorizer.from_settings(ClaudeSettings(**values))
    assert c is not None
    c.ask_below = 2.0  # these tests are about what Claude is sent and answers: ask about every entry
    return c


ISSUE_NOTES = ["ACME-1423 fix null ptr on checkout", "mtg w/ client re: Q4", "misc"]


# -- the happy path ---------------------------------------------------------------------------------


def test_messy_notes_get_a_category_a_clean_description_and_a_confidence(emu: AnthropicEmulator) -> None:
    entries = [entry(i, n) for i, n in enumerate(ISSUE_NOTES)]
    report = CategorizeReport()
    out = claude(emu).suggest(entries, CTX, report)

    assert {ref: (s.category, s.source) for ref, s in out.items()} == {
        "harvest:0": ("Maintenance", "ai"),
        "harvest:1": ("Meetings", "ai"),
        "harvest:2": ("Internal", "ai"),
    }
    assert out["harvest:0"].description == "ACME-1423: fix null pointer on checkout"
    assert out["harvest:1"].description == "Meeting with client about Q4"
    assert not out["harvest:0"].low_confidence and out["harvest:2"].low_confidence  # "misc" is flagged
    assert report.requests == 1 and report.input_tokens > 0 and report.output_tokens > 0
    assert report.estimated_cost.endswith(" USD") and float(report.estimated_cost.split()[0]) > 0
    assert any("3 of 3 entries categorized" in n for n in report.info)  # usage is said, not warned


def test_request_has_the_real_shape_structured_output_and_a_cached_system_prompt(emu: AnthropicEmulator) -> None:
    claude(emu).suggest([entry(1, "wireframes for signup")], CTX, CategorizeReport())
    (req,) = emu.requests
    assert req.headers["authorization"] == f"Bearer {KEY}" and req.headers["anthropic-version"]
    body = req.body
    assert body["model"] == "claude-haiku-5-5"
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "- Data & Analytics: Reports, dashboards" in body["system"][0]["text"]
    fmt = body["output_config"]["format"]
    assert fmt["type"] == "json_schema"
    item = fmt["schema"]["$defs"]["CategorySuggestion"]
    assert item["properties"]["category"]["enum"] == [c.name for c in CATEGORIES]
    assert item["additionalProperties"] is False and set(item["required"]) >= {"id", "category", "confidence"}
    assert body["thinking"] == {"type": "disabled"} and "temperature" not in body


def test_the_schema_limits_category_to_the_categories_tab() -> None:
    schema = answer_schema(["Design", "QA"])
    with pytest.raises(ValueError):
        schema.model_validate(
            {
                "suggestions": [
                    {"id": "e1", "category": "Astrology", "description": "x", "confidence": 0.5, "line_item": None}
                ]
            }
        )


# -- cheap --------------------------------------------------------------------------------------------


def test_each_distinct_description_is_sent_once_many_per_request(emu: AnthropicEmulator) -> None:
    distinct = [f"TASK-{i} implement endpoint {i}" for i in range(120)]
    entries = [
        entry(f"{i}-{k}", "  " + n.upper() + " ") if k else entry(f"{i}-{k}", n)
        for i, n in enumerate(distinct)
        for k in range(3)
    ]  # same note, other case and spacing
    report = CategorizeReport()
    out = claude(emu, ai_batch_size=50).suggest(entries, CTX, report)

    assert len(out) == 360 and {s.category for s in out.values()} == {"Development"}
    assert report.requests == 3 == len(emu.requests)
    sent = [
        json.loads(r.body["messages"][0]["content"].split("<entries>")[1].split("</entries>")[0]) for r in emu.requests
    ]
    # The first request goes alone (it writes the prompt cache); the other two run concurrently.
    assert len(sent[0]) == 50 and sorted(len(b) for b in sent[1:]) == [20, 50]
    assert len({item["notes"].casefold() for batch in sent for item in batch}) == 120


def test_a_rerun_makes_no_call_in_process_or_from_the_disk_cache(emu: AnthropicEmulator, tmp_path: Path) -> None:
    cache = tmp_path / "ai-cache.json"
    entries = [entry(i, n) for i, n in enumerate(ISSUE_NOTES + ["deploy to prod via terraform"])]
    first = claude(emu, ai_cache_path=cache)
    out1 = first.suggest(entries, CTX, CategorizeReport())
    assert len(emu.requests) == 1

    again = CategorizeReport()
    assert first.suggest(entries, CTX, again) == out1
    fresh = CategorizeReport()
    assert claude(emu, ai_cache_path=cache).suggest(entries, CTX, fresh) == out1  # a new process
    assert len(emu.requests) == 1 and again.requests == fresh.requests == 0
    assert any("4 from the answer cache" in n for n in fresh.info)
    answers = json.loads(cache.read_text())["answers"]
    # Keyed by hashes: the file holds Claude's answers (what the sheet shows), never the notes sent.
    assert len(answers) == 4 and all(len(k) == 32 and int(k, 16) >= 0 for k in answers)
    assert {a["category"] for a in answers.values()} == {"Maintenance", "Meetings", "Internal", "DevOps"}


def test_a_changed_category_list_is_not_answered_from_the_cache(emu: AnthropicEmulator, tmp_path: Path) -> None:
    entries = [entry(1, "fix login bug")]
    c = claude(emu, ai_cache_path=tmp_path / "c.json")
    c.suggest(entries, CTX, CategorizeReport())
    smaller = CategorizeContext(categories=tuple(x for x in CATEGORIES if x.name != "Maintenance"))
    out = c.suggest(entries, smaller, CategorizeReport())
    assert len(emu.requests) == 2 and out["harvest:1"].category != "Maintenance"


def _history(n: int) -> tuple[TimeRow, ...]:
    """Approved rows for many categories, plus one correction (suggested Meetings, person chose PM)."""
    words = {
        "Design": "mockups for screen",
        "QA": "regression run on build",
        "Content": "blog copy draft",
        "DevOps": "terraform module for env",
        "Development": "implement feature flag",
        "Support": "answer ticket from user",
    }
    rows = []
    for i in range(n):
        cat = list(words)[i % len(words)]
        rows.append(
            TimeRow(
                row=i + 2,
                entry=entry(f"h{i}", f"{words[cat]} {i}"),
                category=cat,
                approved=True,
                suggested_category=cat,
                suggested_by="model",
            )
        )
    rows.append(
        TimeRow(
            row=n + 2,
            entry=entry("h-fix", "weekly sync w/ acme"),
            category="Project Management",
            suggested_category="Meetings",
            suggested_by="ai",
            approved=True,
        )
    )
    return tuple(rows)


def test_the_system_prompt_is_cached_across_requests(emu: AnthropicEmulator) -> None:
    ctx = CategorizeContext(categories=CATEGORIES, history=_history(60))
    entries = [entry(i, f"implement endpoint number {i}") for i in range(150)]
    report = CategorizeReport()
    claude(emu, ai_batch_size=50, ai_examples=60).suggest(entries, ctx, report)
    usage = [r for r in emu.requests]
    assert len(usage) == 3
    prompts = {json.dumps(r.body["system"]) for r in usage}
    assert len(prompts) == 1  # identical prefix in every request of the run
    assert report.cache_read_tokens > 0  # requests 2 and 3 read what request 1 wrote
    assert any("cache write" in n and " 0 cache write" not in n for n in report.info)


# -- learns ------------------------------------------------------------------------------------------


def test_corrections_become_few_shot_examples_and_change_the_answer(emu: AnthropicEmulator) -> None:
    plain = claude(emu).suggest([entry(1, "weekly sync w/ acme")], CTX, CategorizeReport())
    assert plain["harvest:1"].category == "Meetings"

    ctx = CategorizeContext(categories=CATEGORIES, history=_history(12))
    learned = claude(emu).suggest([entry(1, "weekly sync w/ acme")], ctx, CategorizeReport())
    assert learned["harvest:1"].category == "Project Management"
    system = emu.requests[-1].body["system"][0]["text"]
    assert '- "weekly sync w/ acme" -> Project Management' in system


# -- anything outside the schema falls back, per entry -------------------------------------------------


@pytest.mark.parametrize(
    "fault,placed,note",
    [
        ("unknown_category", 2, "outside the schema"),
        ("missing_id", 2, "outside the schema"),
        ("duplicate_id", 2, "outside the schema"),
        ("extra_id", 3, "outside the schema"),
        ("malformed", 0, "not the JSON asked for"),
        ("empty", 0, "not the JSON asked for"),
    ],
)
def test_answers_outside_the_schema_are_dropped_not_fatal(
    emu: AnthropicEmulator, fault: str, placed: int, note: str
) -> None:
    emu.fail_next(fault)
    entries = [entry(i, n) for i, n in enumerate(ISSUE_NOTES)]
    report = CategorizeReport()
    out = claude(emu).suggest(entries, CTX, report)
    assert len(out) == placed
    if fault in ("unknown_category", "missing_id", "duplicate_id"):
        assert "harvest:0" not in out  # the emulator spoils the first entry only
    assert any(note in n for n in report.notes), report.notes
    assert report.requests == 1 and report.input_tokens > 0  # the usage of a bad answer still counts


@pytest.mark.parametrize("fault,note", [("refusal", "declined"), ("max_tokens", "cut off")])
def test_a_refused_or_cut_off_batch_is_asked_again_in_halves(emu: AnthropicEmulator, fault: str, note: str) -> None:
    emu.fail_next(fault)
    entries = [entry(i, n) for i, n in enumerate(ISSUE_NOTES + ["figma mockups"])]
    report = CategorizeReport()
    out = claude(emu).suggest(entries, CTX, report)
    assert len(out) == 4 and report.requests == 3  # the whole batch, then two halves of 2
    sent = [r.body["messages"][0]["content"].count('"id"') for r in emu.requests]
    assert sent == [4, 2, 2] and any(note in n for n in report.notes)


def test_splitting_stops_after_quarters(emu: AnthropicEmulator) -> None:
    emu.outage("refusal")
    report = CategorizeReport()
    out = claude(emu).suggest([entry(i, f"thing {i}") for i in range(8)], CTX, report)
    assert out == {} and [r.body["messages"][0]["content"].count('"id"') for r in emu.requests] == [8, 4, 2, 2, 4, 2, 2]
    assert any("8 entries fell back" in n or "left 8 entries" in n for n in report.notes)


def test_in_the_chain_what_claude_drops_gets_an_offline_suggestion(emu: AnthropicEmulator) -> None:
    emu.fail_next("malformed")
    entries = [entry(i, n) for i, n in enumerate(ISSUE_NOTES)]
    report = CategorizeReport()
    out = Chain([claude(emu), OfflineClassifier()]).suggest(entries, CTX, report)
    assert set(out) == {e.ref for e in entries} and {s.source for s in out.values()} == {"model"}
    assert report.by_source == {"model": 3}


# -- resilient ------------------------------------------------------------------------------------------


def test_429_and_500_are_retried_by_the_sdk(emu: AnthropicEmulator) -> None:
    emu.fail_next("429", "500")
    report = CategorizeReport()
    out = claude(emu, ai_max_retries=2).suggest([entry(1, "fix checkout bug")], CTX, report)
    assert out["harvest:1"].category == "Maintenance"
    assert [r.status for r in emu.requests] == [429, 500, 200] and report.requests == 3


def test_a_slow_answer_times_out_and_is_retried(emu: AnthropicEmulator) -> None:
    emu.state.slow_seconds = 1.5
    emu.fail_next("timeout")
    out = claude(emu, ai_request_timeout_seconds=0.5, ai_max_retries=1).suggest(
        [entry(1, "fix checkout bug")], CTX, CategorizeReport()
    )
    assert out["harvest:1"].category == "Maintenance" and len(emu.requests) == 2


def test_an_outage_stops_claude_for_the_run_and_the_chain_completes_offline(emu: AnthropicEmulator) -> None:
    emu.outage("529")
    entries = [entry(i, f"implement thing {i}") for i in range(120)]
    report = CategorizeReport()
    out = Chain([claude(emu, ai_batch_size=50, ai_max_retries=1), OfflineClassifier()]).suggest(entries, CTX, report)
    assert len(out) == 120 and report.by_source == {"model": 120}
    assert len(emu.requests) == 2  # the first batch and its one retry; the other batches were not sent
    assert report.requests == 2
    assert any(
        "stopped early" in n and "HTTP 529) after 1 retry" in n and "120 entries fell back" in n for n in report.notes
    ), report.notes


def test_the_time_budget_stops_further_requests() -> None:
    ticks = iter(range(0, 1000, 40))  # every clock read is 40 s later than the previous one
    with AnthropicEmulator(api_key=KEY) as e:
        c = ClaudeCategorizer(
            ClaudeSettings(
                anthropic_api_key=KEY,
                anthropic_base_url=e.base_url,
                ai_time_budget_seconds=100,
                ai_batch_size=10,
                ai_concurrency=1,
            ),
            clock=lambda: float(next(ticks)),
        )
        report = CategorizeReport()
        out = c.suggest([entry(i, f"implement thing {i}") for i in range(50)], CTX, report)
        assert 0 < len(e.requests) < 5 and len(out) == 10 * len(e.requests)
    assert any("time budget of 100 s" in n for n in report.notes)


@pytest.mark.parametrize(
    "overrides,status,hint",
    [
        ({"anthropic_api_key": "sk-ant-wrong-key-000000000000"}, 401, "ANTHROPIC_API_KEY"),
        ({"ai_model": "gpt-5"}, 404, "AI_MODEL"),
    ],
)
def test_a_rejected_request_is_not_retried_and_no_secret_is_reported(
    emu: AnthropicEmulator, caplog: pytest.LogCaptureFixture, overrides: dict[str, object], status: int, hint: str
) -> None:
    caplog.set_level(logging.DEBUG)
    report = CategorizeReport()
    model = overrides.pop("ai_model", None)
    c = claude(emu, ai_max_retries=3, **overrides)
    if model:  # a model the API no longer knows (settings refuse unknown ones at start: test_claude_conformance)
        c.settings = c.settings.model_copy(update={"ai_model": model})
    out = c.suggest([entry(i, f"implement thing {i}") for i in range(120)], CTX, report)
    assert out == {} and len(emu.requests) == 1 and emu.requests[0].status == status
    text = " ".join(report.notes) + caplog.text + repr(c) + repr(c.settings)
    assert hint in text and f"HTTP {status}" in text
    assert KEY not in text and "sk-ant-wrong" not in text


# -- private -----------------------------------------------------------------------------------------------


def test_disabled_or_keyless_means_no_categorizer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    assert ClaudeCategorizer.from_settings(ClaudeSettings()) is None
    assert ClaudeCategorizer.from_settings(ClaudeSettings(anthropic_api_key="  ")) is None
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("AI_ENABLED", "false")
    assert ClaudeCategorizer.from_settings(ClaudeSettings()) is None
    monkeypatch.setenv("AI_ENABLED", "true")
    monkeypatch.setenv("AI_MODEL", "claude-haiku-4-5")
    monkeypatch.setenv("AI_BATCH_SIZE", "20")
    monkeypatch.setenv("AI_EFFORT", "")
    monkeypatch.setenv("AI_CACHE_PATH", "")  # blank means no disk cache, not the current directory
    c = ClaudeCategorizer.from_settings(ClaudeSettings())
    assert c is not None and c.settings.ai_model == "claude-haiku-4-5" and c.settings.ai_batch_size == 20
    assert c.settings.ai_effort == "" and c.settings.ai_cache_path is None
    assert KEY not in repr(c.settings) and KEY not in str(c.settings.model_dump())


def test_personal_data_secrets_and_pseudonymized_clients_never_reach_the_api(emu: AnthropicEmulator) -> None:
    entries = [
        entry(
            1,
            "mtg w/ jane.doe@acme-retail.com re: Acme Retail Q4 plan, call +1 (415) 555-0134",
            project="Acme Retail replatform",
        ),
        entry(2, f"debug staging login, pwd: Hunter22 key {KEY} https://x.acme.com/r?token=abc123", client="Globex"),
    ]
    out = claude(emu, ai_pseudonymize_clients=True).suggest(entries, CTX, CategorizeReport())
    sent = json.dumps(emu.requests[0].body)
    for secret in ("jane.doe", "555-0134", "Hunter22", KEY, "abc123", "Acme Retail", "Globex", "acme-retail"):
        assert secret not in sent, secret
    assert "[email]" in sent and "[phone]" in sent and "client-" in sent
    assert "Acme Retail" in out["harvest:1"].description  # the alias is mapped back for the sheet
    assert out["harvest:1"].category == "Meetings"


def test_entries_with_no_text_are_left_to_the_next_stage(emu: AnthropicEmulator) -> None:
    report = CategorizeReport()
    out = claude(emu).suggest([entry(1, ""), entry(2, "fix bug")], CTX, report)
    assert set(out) == {"harvest:2"} and any("1 had no text" in n for n in report.notes)


def test_cost_estimate_uses_list_prices() -> None:
    # Haiku 4.5: 1 / 5 / 1.25 / 0.10 USD per MTok.
    assert estimate_cost("claude-haiku-4-5-20251001", 1_000_000, 100_000, 0, 1_000_000) == Decimal("1.6")
    assert estimate_cost("some-future-model", 1, 1, 0, 0) is None


# -- never crashes ---------------------------------------------------------------------------------------

FAULT_NAMES = [
    "429",
    "500",
    "529",
    "malformed",
    "refusal",
    "unknown_category",
    "missing_id",
    "extra_id",
    "duplicate_id",
    "max_tokens",
    "empty",
    None,
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    faults=st.lists(st.sampled_from(FAULT_NAMES), max_size=4),
    notes=st.lists(st.sampled_from(ISSUE_NOTES + ["fix bug", "", "figma", "deploy"]), min_size=1, max_size=12),
)
def test_whatever_the_api_does_suggest_returns_valid_suggestions_or_nothing(
    emu: AnthropicEmulator, faults: list[str | None], notes: list[str]
) -> None:
    emu.state.faults.clear()
    for f in faults:
        if f:
            emu.fail_next(f)
    entries = [entry(i, n) for i, n in enumerate(notes)]
    report = CategorizeReport()
    out = claude(emu, ai_max_retries=0, ai_batch_size=4).suggest(entries, CTX, report)
    names = {c.name for c in CATEGORIES}
    assert set(out) <= {e.ref for e in entries if e.notes}
    assert all(s.category in names and s.source == "ai" and 0 <= s.confidence <= 1 for s in out.values())
    assert report.info or report.notes  # every run says what it did (its usage, and any problem)


def test_a_retry_after_longer_than_the_budget_is_not_waited_for(emu: AnthropicEmulator) -> None:
    emu.state.retry_after = "3600"  # this SDK would sleep an hour
    emu.outage("429")
    report = CategorizeReport()
    started = time.monotonic()
    out = claude(emu, ai_max_retries=5, ai_time_budget_seconds=30).suggest([entry(1, "fix bug")], CTX, report)
    assert time.monotonic() - started < 5
    assert out == {} and len(emu.requests) == 1
    assert report.requests == 1 and any("kept failing (HTTP 429) after 0 retries" in n for n in report.notes)


def test_a_short_retry_after_within_the_budget_is_honoured(emu: AnthropicEmulator) -> None:
    emu.state.retry_after = "0.2"
    emu.fail_next("429")
    started = time.monotonic()
    out = claude(emu, ai_max_retries=2).suggest([entry(1, "fix bug")], CTX, CategorizeReport())
    assert out["harvest:1"].category == "Maintenance" and len(emu.requests) == 2
    assert time.monotonic() - started >= 0.2


def test_an_unreachable_api_falls_back_after_the_sdk_retries() -> None:
    down = AnthropicEmulator(api_key=KEY)
    url = down.start()
    down.stop()  # the port was bound and released: nothing listens there now
    c = ClaudeCategorizer(ClaudeSettings(anthropic_api_key=KEY, anthropic_base_url=url, ai_max_retries=1))
    report = CategorizeReport()
    assert c.suggest([entry(1, "fix bug")], CTX, report) == {}
    assert report.requests == 2
    assert any("kept failing (a connection error) after 1 retry" in n for n in report.notes), report.notes


def test_the_emulator_speaks_the_sdks_error_and_usage_shapes(emu: AnthropicEmulator) -> None:
    import anthropic

    client = anthropic.Anthropic(api_key=KEY, base_url=emu.base_url, max_retries=0)
    emu.fail_next("429")
    with pytest.raises(anthropic.RateLimitError) as caught:
        client.messages.create(model="claude-haiku-5-5", max_tokens=50, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.request_id and caught.value.request_id.startswith("req_")
    body = caught.value.body
    assert isinstance(body, dict) and body["error"]["type"] == "rate_limit_error"
    message = client.messages.create(
        model="claude-haiku-5-5",
        max_tokens=50,
        messages=[{"role": "user", "content": "hi"}],
        system=[{"type": "text", "text": "x" * 4000, "cache_control": {"type": "ephemeral"}}],
    )
    assert message.usage.cache_creation_input_tokens == 1000 and message.usage.cache_read_input_tokens == 0
    again = client.messages.create(
        model="claude-haiku-5-5",
        max_tokens=50,
        messages=[{"role": "user", "content": "hello"}],
        system=[{"type": "text", "text": "x" * 4000, "cache_control": {"type": "ephemeral"}}],
    )
    assert again.usage.cache_read_input_tokens == 1000 and again.usage.cache_creation_input_tokens == 0
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(
            model="claude-haiku-5-5",
            max_tokens=50,
            extra_body={"temperature": 0.2},
            messages=[{"role": "user", "content": "hi"}],
        )


def test_ai_ask_below_sets_the_threshold_below_which_claude_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """AI_ASK_BELOW is a setting like any other: read from the environment, checked, handed to the stage."""
    from functions.categorize.claude import ASK_BELOW
    from functions.settings import SettingError

    monkeypatch.setenv("AI_ASK_BELOW", "0.5")
    assert ClaudeCategorizer(ClaudeSettings(_env_file=None, anthropic_api_key="sk-ant-test")).ask_below == 0.5
    monkeypatch.delenv("AI_ASK_BELOW")
    assert ClaudeSettings(_env_file=None).ai_ask_below == ASK_BELOW  # one default
    monkeypatch.setenv("AI_ASK_BELOW", "lots")
    with pytest.raises(SettingError, match="AI_ASK_BELOW"):
        ClaudeSettings(_env_file=None)


def test_the_role_rides_along_splits_a_question_only_between_roles_and_a_rerun_costs_nothing(
    emu: AnthropicEmulator, tmp_path: Path
) -> None:
    def by(i: int, notes: str, role: str) -> TimeEntry:
        return entry(i, notes, task="Client work", project="Shop").model_copy(update={"role": role})

    entries = [by(1, "review", "Developer"), by(2, "Review", "Developer"), by(3, "review", "Designer")]
    entries.append(by(4, "wip", ""))
    history = (
        TimeRow(row=2, entry=by(9, "wireframes", "Designer"), category="Design", approved=True),
        TimeRow(row=3, entry=by(8, "endpoint", ""), category="Development", approved=True),
    )
    ctx = CategorizeContext(categories=CATEGORIES, history=history)
    cache = tmp_path / "ai-cache.json"
    out = claude(emu, ai_cache_path=cache).suggest(entries, ctx, CategorizeReport())

    assert len(out) == 4 and len(emu.requests) == 1
    body = emu.requests[0].body
    sent = json.loads(body["messages"][0]["content"].split("<entries>")[1].split("</entries>")[0])
    # one question per (notes, task, role): the developer's two "review"s are one, the designer's another
    assert sorted((s["notes"], s["role"], s["task"], s["project"]) for s in sent) == [
        ("review", "Designer", "Client work", "Shop"),
        ("review", "Developer", "Client work", "Shop"),
        ("wip", "", "Client work", "Shop"),
    ]
    system = body["system"][0]["text"]
    assert '- "wireframes" (task: Client work, role: Designer) -> Design' in system
    assert '- "endpoint" (task: Client work) -> Development' in system
    rerun = CategorizeReport()
    assert claude(emu, ai_cache_path=cache).suggest(entries, ctx, rerun) == out  # a new process, the disk cache
    assert rerun.requests == 0 and len(emu.requests) == 1
