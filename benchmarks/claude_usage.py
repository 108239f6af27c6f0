"""Claude requests, tokens and cost for a month of 2,000 entries: first run, then a re-run.

    .venv/bin/python benchmarks/claude_usage.py

Runs the real anthropic SDK against the local Messages API emulator (tests/emulators/anthropic.py), so
token counts are the emulator's estimate (ceil(characters / 4)) and costs are list prices applied to
them: good for comparing designs (batching, dedupe, caching, memory in front), not an invoice.

Scenarios, each on the messy labelled set of benchmarks/categorize_quality.py (2,000 entries):
- cold: the first month with Claude, no history: everything rules cannot place goes to Claude;
- warm: the previous month reviewed in the sheet: memory answers first, examples ride in the prompt;
- re-run of warm in the same process, and in a new process with AI_CACHE_PATH (disk cache);
- the confidence threshold on the demo's October with September reviewed: Claude asked about everything
  rules and memory leave, against only what the offline chain places below AI_ASK_BELOW (0.8);
- the real pipeline (refresh twice) on the demo agency's October exports, where a re-run asks nothing
  because rows already in the Time tab keep their suggestion.
Each for the default model and for claude-haiku-4-5 (whose prompt cache needs a 4,096-token prefix).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from categorize_quality import load_categories, messy_months, reviewed_history, sample_months  # noqa: E402 - imported after the sys.path setup above

from functions.categorize.chain import Chain  # noqa: E402 - imported after the sys.path setup above
from functions.categorize.classifier import OfflineClassifier  # noqa: E402 - imported after the sys.path setup above
from functions.categorize.claude import DEFAULT_MODEL, ClaudeCategorizer, ClaudeSettings  # noqa: E402 - imported after the sys.path setup above
from functions.categorize.memory import MemoryCategorizer  # noqa: E402 - imported after the sys.path setup above
from functions.categorize.rules import RulesCategorizer  # noqa: E402 - imported after the sys.path setup above
from functions.models import TimeEntry  # noqa: E402 - imported after the sys.path setup above
from functions.ports import CategorizeContext, CategorizeReport  # noqa: E402 - imported after the sys.path setup above
from tests.emulators.anthropic import AnthropicEmulator  # noqa: E402 - imported after the sys.path setup above
from tests.seeding import seed_categories  # noqa: E402 - imported after the sys.path setup above

HEADER = (
    f"{'scenario':<44} {'model':<17} {'entries':>7} {'to AI':>6} {'reqs':>5} {'input':>8} "
    f"{'c.write':>8} {'c.read':>8} {'output':>8} {'USD':>9} {'secs':>5}"
)


def _row(name: str, model: str, entries: int, to_ai: int, report: CategorizeReport, seconds: float) -> str:
    note = next((n for n in report.notes if n.startswith("Claude (")), "")
    write = int(note.split(" cache write")[0].rsplit(" ", 1)[-1]) if "cache write" in note else 0
    plain_input = report.input_tokens - write
    usd = report.estimated_cost.split()[0] if report.estimated_cost else "0"
    return (
        f"{name:<44} {model:<17} {entries:>7} {to_ai:>6} {report.requests:>5} {plain_input:>8} {write:>8} "
        f"{report.cache_read_tokens:>8} {report.output_tokens:>8} {usd:>9} {seconds:>5.1f}"
    )


def chain_run(name: str, claude: ClaudeCategorizer, entries: list[TimeEntry], ctx: CategorizeContext) -> str:
    report = CategorizeReport()
    t0 = time.perf_counter()
    front = Chain([RulesCategorizer(), MemoryCategorizer()]).suggest(entries, ctx, CategorizeReport())
    out = Chain([RulesCategorizer(), MemoryCategorizer(), claude, OfflineClassifier()]).suggest(entries, ctx, report)
    assert len(out) == len(entries)
    return _row(
        name, claude.settings.ai_model, len(entries), len(entries) - len(front), report, time.perf_counter() - t0
    )


def pipeline_runs(emu: AnthropicEmulator, model: str) -> list[str]:
    from functions.config import Settings, bootstrap
    from functions.models import Period
    from functions.pipeline import refresh
    from functions.sources.csv_exports import CsvSource

    rows = []
    with tempfile.TemporaryDirectory() as d:
        claude = ClaudeCategorizer(
            ClaudeSettings(anthropic_api_key=emu.api_key, anthropic_base_url=emu.base_url, ai_model=model)
        )
        services = bootstrap(
            Settings(workdir=Path(d), ai_enabled=False),
            source=CsvSource(sorted((ROOT / "functions/sample/exports").glob("october_*.csv"))),
            categorizer=Chain([RulesCategorizer(), MemoryCategorizer(), claude, OfflineClassifier()]),
        )
        seed_categories(services.sheet)  # the demo's categories, as `python main.py demo` seeds them
        for label in ("pipeline refresh, demo October", "pipeline refresh again (re-run)"):
            before = len(emu.requests)
            t0 = time.perf_counter()
            summary = refresh(services, Period.parse("2026-10")).as_json()
            secs = time.perf_counter() - t0
            rows.append(
                f"{label:<44} {model:<17} {summary['imported']:>7} "
                f"{summary['suggestions'].get('ai', 0):>6} {len(emu.requests) - before:>5}  "
                f"Runs tab AI Usage: {summary['ai_usage'] or '(none)'}  ({secs:.1f} s)"
            )
    return rows


def main() -> None:
    categories = load_categories()
    train, test = messy_months(2000)
    entries = list(test.entries)
    cold = CategorizeContext(categories=categories)
    warm = CategorizeContext(categories=categories, history=reviewed_history(train, categories)[0])
    sep, octo = sample_months()
    demo = list(octo.entries)
    demo_warm = CategorizeContext(categories=categories, history=reviewed_history(sep, categories)[0])
    print(HEADER)
    for model in (DEFAULT_MODEL, "claude-haiku-4-5"):
        with AnthropicEmulator() as emu, tempfile.TemporaryDirectory() as d:

            def settings(model: str = model, emu: AnthropicEmulator = emu, **kw: object) -> ClaudeSettings:
                return ClaudeSettings(
                    anthropic_api_key=emu.api_key,
                    anthropic_base_url=emu.base_url,
                    ai_model=model,
                    ai_effort="low" if model == DEFAULT_MODEL else "",
                    **kw,
                )

            print(chain_run("cold: first month, no history", ClaudeCategorizer(settings()), entries, cold))
            cache = Path(d) / "ai-cache.json"
            warm_claude = ClaudeCategorizer(settings(ai_cache_path=cache))
            print(chain_run("warm: previous month reviewed", warm_claude, entries, warm))
            print(chain_run("warm re-run, same process", warm_claude, entries, warm))
            print(
                chain_run(
                    "warm re-run, new process + disk cache",
                    ClaudeCategorizer(settings(ai_cache_path=cache)),
                    entries,
                    warm,
                )
            )
            # What the confidence threshold saves: the demo's October with September reviewed, Claude asked
            # about everything rules and memory leave (no threshold) against only what the offline chain is
            # unsure of (below AI_ASK_BELOW, 0.8 by default).
            for label, below in (("demo Oct, ask all memory leaves (no thr.)", 2.0), ("demo Oct, ask below 0.8", 0.8)):
                print(chain_run(label, ClaudeCategorizer(settings(), ask_below=below), demo, demo_warm))
            for line in pipeline_runs(emu, model):
                print(line)


if __name__ == "__main__":
    main()
