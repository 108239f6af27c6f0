"""Client-facing line descriptions for the demo agency's October: the offline writer's time, and Claude's
requests, tokens and cost on the first preview, a re-run, a new sheet with the same cache, and create-invoices.

    .venv/bin/python benchmarks/describe_month.py

Runs the real pipeline (refresh and review as the demo does, with AI off, then preview) and the real
anthropic SDK against the local Messages API emulator (tests/emulators/anthropic.py): token counts are the
emulator's estimate (ceil(characters / 4)) and costs are list prices applied to them.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from functions import pipeline  # noqa: E402 - imported after the sys.path setup above
from functions.config import Settings, bootstrap, csv_source  # noqa: E402 - imported after the sys.path setup above
from functions.demo import DEMO_PERIOD, SAMPLE, review_as_person, sample_labels  # noqa: E402 - imported after the sys.path setup above
from functions.models import Period  # noqa: E402 - imported after the sys.path setup above
from tests.emulators.anthropic import AnthropicEmulator  # noqa: E402 - imported after the sys.path setup above

KEY = "sk-ant-bench-0123456789abcdef"


def prepare(workdir: Path) -> None:
    """The demo's September (invoiced) and October (refreshed, reviewed, approved), no preview yet."""
    settings = Settings(workdir=workdir, ai_enabled=False)
    period = Period.parse(DEMO_PERIOD)
    history = [p for p in sorted((SAMPLE / "history").glob("*.csv")) if "labels" not in p.name]
    s = bootstrap(settings, source=csv_source(history))
    pipeline.refresh(s, period.previous(), config_dir=SAMPLE / "config")
    review_as_person(s, period.previous(), sample_labels())
    pipeline.create_invoices(s, period.previous())
    s = bootstrap(settings, source=csv_source(sorted((SAMPLE / "exports").glob("*.csv"))))
    pipeline.refresh(s, period, config_dir=SAMPLE / "config")
    review_as_person(s, period, sample_labels())


def run(label: str, workdir: Path, ai: bool, job: str = "preview") -> None:
    services = bootstrap(Settings(workdir=workdir, ai_enabled=ai))
    started = time.perf_counter()
    period = Period.parse(DEMO_PERIOD)
    summary = pipeline.preview(services, period) if job == "preview" else pipeline.create_invoices(services, period)
    seconds = time.perf_counter() - started
    calls = summary.api_calls.get("Claude", 0)
    print(f"{label:<44} {calls:>6} {summary.ai_input_tokens:>8} {summary.ai_output_tokens:>7} {summary.ai_cost:>10}")
    print(f"    {summary.ai_notes[0]} ({job} took {seconds:.1f} s)")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="describe-bench-"))
    base = tmp / "base"
    prepare(base)
    with AnthropicEmulator(api_key=KEY) as emu:
        os.environ.update(
            ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=emu.base_url, AI_CACHE_PATH=str(tmp / "ai-cache.json")
        )
        print(f"{'run':<44} {'calls':>6} {'input':>8} {'output':>7} {'USD':>10}")
        offline = tmp / "offline"
        shutil.copytree(base, offline)
        run("offline writer (AI off), first preview", offline, ai=False)
        first = tmp / "first"
        shutil.copytree(base, first)
        run("Claude, first preview", first, ai=True)
        run("Claude, preview again (same sheet)", first, ai=True)
        other = tmp / "other"
        shutil.copytree(base, other)
        run("Claude, a new sheet, same answer cache", other, ai=True)
        run("Claude, create-invoices after preview", first, ai=True, job="create-invoices")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
