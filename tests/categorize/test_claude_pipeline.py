"""Claude inside a real refresh: local workbook, CSV exports, the full chain, the Messages API emulator."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from functions.categorize.chain import Chain
from functions.categorize.classifier import OfflineClassifier
from functions.categorize.claude import ClaudeCategorizer, ClaudeSettings
from functions.categorize.memory import MemoryCategorizer
from functions.categorize.rules import RulesCategorizer
from functions.config import Services, Settings, bootstrap
from functions.models import Period
from functions.pipeline import refresh
from functions.ports import CellBlock
from functions.sources.csv_exports import CsvSource
from tests.emulators.anthropic import AnthropicEmulator
from tests.seeding import seed_categories

ROOT = Path(__file__).resolve().parents[2]
OCTOBER = Period.parse("2026-10")


@pytest.fixture
def emu() -> Iterator[AnthropicEmulator]:
    with AnthropicEmulator(api_key="sk-ant-pipeline-test-key-0000") as e:
        yield e


def export(tmp_path: Path, name: str, rows: int, extra: Sequence[str] = ()) -> Path:
    """The first `rows` entries of the demo Harvest export (plus extra lines), as a new export file."""
    lines = (ROOT / "functions/sample/exports/october_harvest.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / name
    path.write_text("\r\n".join(lines[: rows + 1] + list(extra)) + "\r\n", encoding="utf-8")
    return path


def services(tmp_path: Path, emu: AnthropicEmulator, *exports: Path, **ai: Any) -> Services:
    claude = ClaudeCategorizer(
        ClaudeSettings(anthropic_api_key=emu.api_key, anthropic_base_url=emu.base_url, ai_max_retries=1, **ai),
        ask_below=2.0,  # ask about every entry the Time tab does not have yet (the threshold has its own test)
    )
    svc = bootstrap(
        Settings(workdir=tmp_path / "work", ai_enabled=False),
        source=CsvSource(exports),
        categorizer=Chain([RulesCategorizer(), MemoryCategorizer(), claude, OfflineClassifier()]),
    )
    seed_categories(svc.sheet)
    return svc


def time_tab(svc: Services) -> tuple[dict[str, int], list[list[object]]]:
    values = svc.sheet.read(["Time"])["Time"]
    header = {str(h): i for i, h in enumerate(values[0])}
    return header, [r for r in values[1:] if any(c not in (None, "") for c in r)]


def test_first_refresh_asks_claude_and_a_rerun_of_the_month_makes_no_call(
    tmp_path: Path, emu: AnthropicEmulator
) -> None:
    svc = services(tmp_path, emu, export(tmp_path, "oct.csv", 60))
    first = refresh(svc, OCTOBER).as_json()
    asked = len(emu.requests)
    assert asked >= 1 and first["suggestions"].get("ai", 0) > 0
    assert first["ai_usage"].startswith(f"{asked} requests") and "USD" in first["ai_usage"]

    header, rows = time_tab(svc)
    by = {str(r[header["Suggested By"]]) for r in rows}
    assert "ai" in by and all(r[header["Suggested Category"]] for r in rows)
    assert any(r[header["Suggested Description"]] for r in rows if r[header["Suggested By"]] == "ai")
    runs = svc.sheet.read(["Runs"])["Runs"]
    assert any("requests" in str(cell) for row in runs[1:] for cell in row)  # tokens and cost on the Runs tab

    again = refresh(svc, OCTOBER).as_json()
    assert len(emu.requests) == asked and again["suggestions"] == {} and again["ai_usage"] == ""


def test_a_persons_correction_reaches_the_next_prompt_as_an_example(tmp_path: Path, emu: AnthropicEmulator) -> None:
    svc = services(tmp_path, emu, export(tmp_path, "oct.csv", 30))
    refresh(svc, OCTOBER)
    header, rows = time_tab(svc)
    target = next(
        i
        for i, r in enumerate(rows)
        if r[header["Suggested By"]] == "ai" and r[header["Notes"]] and r[header["Suggested Category"]] != "Strategy"
    )
    notes = str(rows[target][header["Notes"]])
    svc.sheet.write([CellBlock(tab="Time", row=target + 2, col=header["Category"] + 1, values=[["Strategy"]])])

    newline = (
        "2026-10-30,Mosaic Media,CMS Migration,MOSA-CMS,Development,totally new kind of note,1.0,1.00,"
        "Yes,No,Yes,Ana,Ruiz,Principal Engineer,Yes,185.00,185.00,95.00,95.00,"
        "United States Dollar - USD,"
    )
    svc2 = services(tmp_path, emu, export(tmp_path, "oct2.csv", 30, [newline]))
    before = len(emu.requests)
    summary = refresh(svc2, OCTOBER).as_json()
    assert len(emu.requests) == before + 1 and summary["suggestions"] == {"ai": 1}
    system = emu.requests[-1].body["system"][0]["text"]
    assert "Examples from this agency's reviewed entries" in system
    example = next(line for line in system.splitlines() if line.endswith("-> Strategy"))
    assert notes.strip()[:20] in example


def test_when_claude_is_down_the_refresh_completes_offline_and_says_so(tmp_path: Path, emu: AnthropicEmulator) -> None:
    emu.outage("500")
    svc = services(tmp_path, emu, export(tmp_path, "oct.csv", 40))
    summary = refresh(svc, OCTOBER).as_json()
    assert summary["imported"] == 40 and "ai" not in summary["suggestions"]
    assert sum(summary["suggestions"].values()) == 40
    assert any("Claude stopped early" in w and "HTTP 500" in w for w in summary["warnings"])
    header, rows = time_tab(svc)
    assert len(rows) == 40 and all(r[header["Suggested Category"]] for r in rows)


def test_the_runs_tab_records_claudes_requests_tokens_and_cost(tmp_path: Path, emu: AnthropicEmulator) -> None:
    """What `python main.py cost` prices Claude from: the run's requests, tokens and dollars, in its Runs row."""
    svc = services(tmp_path, emu, export(tmp_path, "october.csv", 30))
    summary = refresh(svc, OCTOBER)
    runs = svc.sheet.read(["Runs"])["Runs"]
    row = dict(zip([str(h) for h in runs[0]], runs[-1], strict=False))
    assert summary.api_calls["Claude"] == len(emu.requests) > 0
    assert f"Claude {len(emu.requests)}" in str(row["API Calls"])
    assert row["AI Input Tokens"] == summary.ai_input_tokens > 0
    assert row["AI Output Tokens"] == summary.ai_output_tokens > 0
    assert 0 < float(row["AI Cost (USD)"]) < 1 and float(row["Peak Memory (MB)"]) > 10
    # what Claude did is said once, as information, never counted among the warnings
    assert any("entries categorized" in n for n in summary.ai_notes)
    assert not any("entries categorized" in w for w in summary.warnings)
