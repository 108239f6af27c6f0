"""The Anthropic emulator validates requests as the Messages API reference says, and the product checks its
AI_* settings at start with a sentence instead of meeting the 400 in production.

Each conformance test states the real behaviour and where it comes from; the anthropic SDK runs unmodified.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import anthropic
import pytest
from anthropic.types import ModelParam

from functions.categorize.claude import ClaudeCategorizer
from functions.categorize.claude_prompt import answer_schema
from functions.ports import CategorizeReport
from functions.settings import ClaudeSettings, SettingError
from tests.categorize.test_claude import CTX, KEY, claude, entry
from tests.emulators.anthropic import AnthropicEmulator

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def emu() -> Iterator[AnthropicEmulator]:
    with AnthropicEmulator(api_key=KEY) as e:
        yield e


@pytest.fixture
def client(emu: AnthropicEmulator) -> anthropic.Anthropic:
    # An explicit timeout: the SDK refuses a large max_tokens without one (it would ask for streaming).
    return anthropic.Anthropic(api_key=KEY, base_url=emu.base_url, max_retries=0, timeout=30)


def _refused(client: anthropic.Anthropic, **request: Any) -> str:
    body: dict[str, Any] = {"model": "claude-haiku-5-5", "max_tokens": 50, "messages": HI, **request}
    with pytest.raises(anthropic.BadRequestError) as err:
        client.messages.create(**body)
    assert err.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    return str(err.value.body["error"]["message"])  # type: ignore[index]


# -- the emulator ------------------------------------------------------------------------------------------
def test_an_effort_outside_the_levels_or_on_a_model_without_it_is_refused(client: anthropic.Anthropic) -> None:
    """anthropic SDK types/output_config_param.py: effort is one of low, medium, high, xhigh, max;
    platform.claude.com/docs/en/build-with-claude/effort: the parameter exists on the models it lists
    (claude-haiku-5-5 yes, Claude Haiku 4.5 not), `xhigh` and `max` only on the models named for them."""
    assert "output_config.effort" in _refused(client, output_config={"effort": "hihg"})
    assert "does not support the effort" in _refused(client, model="claude-haiku-4-5", output_config={"effort": "low"})
    assert "not supported" in _refused(client, output_config={"effort": "max"})
    ok = client.messages.create(model="claude-haiku-5-5", max_tokens=50, messages=HI, output_config={"effort": "low"})
    assert ok.stop_reason == "end_turn"


def test_a_thinking_type_the_api_does_not_have_is_refused(client: anthropic.Anthropic) -> None:
    """anthropic SDK types/thinking_config_param.py: thinking is enabled, disabled, adaptive or between_tools;
    platform.claude.com/docs/en/models/haiku-5-5/migration-guide: on Claude Haiku 5.5 send
    `{"type": "adaptive"}` instead of `{"type": "enabled", "budget_tokens": N}`."""
    assert "thinking.type" in _refused(client, thinking={"type": "sometimes"})
    assert "adaptive" in _refused(client, thinking={"type": "enabled", "budget_tokens": 1024})
    for kind in ("disabled", "adaptive"):
        client.messages.create(model="claude-haiku-5-5", max_tokens=50, messages=HI, thinking={"type": kind})


def test_a_structured_output_schema_must_close_every_object(client: anthropic.Anthropic) -> None:
    """platform.claude.com/docs/en/build-with-claude/structured-outputs, JSON Schema limitations:
    `additionalProperties` must be set to false for every object."""
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": True}
    message = _refused(client, output_config={"format": {"type": "json_schema", "schema": schema}})
    assert "additionalProperties" in message and "output_config.format.schema" in message
    nested = {"type": "object", "properties": {"x": {"type": "object"}}, "additionalProperties": False}
    assert "properties.x" in _refused(client, output_config={"format": {"type": "json_schema", "schema": nested}})
    product = answer_schema(["Development", "Design"]).model_json_schema()  # what the categorizer sends
    client.messages.create(
        model="claude-haiku-5-5",
        max_tokens=50,
        messages=HI,
        output_config={"format": {"type": "json_schema", "schema": product}},
    )


def test_max_tokens_above_the_models_output_limit_is_refused(client: anthropic.Anthropic) -> None:
    """platform.claude.com/docs/en/models/haiku-5-5/overview: Claude Haiku 5.5 writes up to 128K output
    tokens; the haiku-4-5 migration guide: Claude Haiku 4.5 up to 64k."""
    assert "128000" in _refused(client, max_tokens=128_001)
    assert "64000" in _refused(client, model="claude-haiku-4-5", max_tokens=64_001)
    client.messages.create(model="claude-haiku-5-5", max_tokens=128_000, messages=HI)


def test_an_unknown_model_is_not_found(client: anthropic.Anthropic) -> None:
    """The model ids the API knows are the SDK's list (anthropic types/model_param.py); another id answers
    404 not_found_error."""
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model="claude-haiku-55", max_tokens=50, messages=HI)


def test_answers_name_the_pinned_model_id_and_carry_rate_limit_headers(client: anthropic.Anthropic) -> None:
    """platform.claude.com/docs/en/about-claude/models/model-ids-and-versions: from the 4.6 generation on, ids
    are dateless and pinned; earlier models are reached through aliases of dated ids (the SDK lists
    claude-haiku-4-5 and claude-haiku-4-5-20251001). Rate-limit headers on every answer: docs.aws.amazon.com
    claude-platform "Rate limits and quotas" (anthropic-ratelimit-requests-limit/-remaining/-reset, RFC 3339,
    and the tokens, input-tokens, output-tokens families), as in tidyllm's recorded api.anthropic.com answer."""
    raw = client.messages.with_raw_response.create(model="claude-haiku-4-5", max_tokens=50, messages=HI)
    assert raw.parse().model == "claude-haiku-4-5-20251001"
    assert client.messages.create(model="claude-haiku-5-5", max_tokens=50, messages=HI).model == "claude-haiku-5-5"
    for family in ("requests", "tokens", "input-tokens", "output-tokens"):
        limit = int(raw.headers[f"anthropic-ratelimit-{family}-limit"])
        assert 0 <= int(raw.headers[f"anthropic-ratelimit-{family}-remaining"]) <= limit
        datetime.fromisoformat(raw.headers[f"anthropic-ratelimit-{family}-reset"])


# -- the product -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "env,sentence",
    [
        (
            {"AI_MODEL": "claude-haiku-55"},
            'AI_MODEL is "claude-haiku-55"; not a model the anthropic api knows, such as claude-haiku-5-5 '
            '(did you mean "claude-haiku-5-5"?).',
        ),
        (
            {"AI_MODEL": "claude-haiku-4-5", "AI_EFFORT": "medium"},
            'AI_EFFORT AND AI_MODEL: "medium" cannot be used with claude-haiku-4-5, which has no effort control; '
            'set AI_EFFORT to "" (blank) or choose a model that has it.',
        ),
        (
            {"AI_MAX_OUTPUT_TOKENS": "200000"},
            "AI_MAX_OUTPUT_TOKENS AND AI_MODEL: 200000 is more than claude-haiku-5-5 writes (at most 128000 "
            "output tokens); lower AI_MAX_OUTPUT_TOKENS.",
        ),
        ({"AI_EFFORT": "max"}, 'AI_EFFORT is "max"; use one of: "" (blank), low, medium, high.'),
    ],
)
def test_product_a_setting_the_api_would_refuse_stops_at_start_with_a_sentence(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], sentence: str
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingError) as err:
        ClaudeSettings(_env_file=None, anthropic_api_key=KEY)
    assert str(err.value) == sentence


def test_product_a_model_without_effort_gets_no_effort_by_default(emu: AnthropicEmulator) -> None:
    c = claude(emu, ai_model="claude-haiku-4-5")
    assert c.settings.ai_effort == ""
    report = CategorizeReport()
    out = c.suggest([entry(1, "fix checkout crash")], CTX, report)
    assert out and emu.requests[-1].status == 200
    assert "effort" not in (emu.requests[-1].body.get("output_config") or {})


def test_product_requests_pass_the_emulators_validation_with_the_defaults(emu: AnthropicEmulator) -> None:
    c = claude(emu)
    out = c.suggest([entry(i, f"implement thing {i}") for i in range(3)], CTX, CategorizeReport())
    assert len(out) == 3 and all(r.status == 200 for r in emu.requests)
    sent = emu.requests[-1].body
    assert sent["output_config"]["effort"] == "low" and sent["thinking"] == {"type": "disabled"}


def test_product_knows_every_model_the_sdk_lists() -> None:
    sdk = set(typing.get_args(typing.get_args(ModelParam)[0]))
    assert sdk == set(ClaudeSettings.MODELS), "update ClaudeSettings.MODELS from the models docs"


def test_product_categorizer_is_not_built_from_refused_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("AI_MODEL", "gpt-5")
    with pytest.raises(SettingError, match="AI_MODEL"):
        ClaudeCategorizer.from_settings(ClaudeSettings(_env_file=None))
