"""The refresh half of the core alone: import + categorize + merge of a synthetic month, the sheet held in memory
(benchmarks.pipeline_scale's MemoryStore), with the refresh's own CPU seconds and peak RSS, and optionally every
suggestion and every cell the refresh wrote, to diff one version of the code against another.

    .venv/bin/python -m benchmarks.refresh_core 100000                    # one JSON line of figures
    .venv/bin/python -m benchmarks.refresh_core 100000 --dump /tmp/a.tsv  # ... and what it wrote, to diff

The dump holds one line per suggestion (ref, category, source, confidence, line item, description) and one
per row of every tab except Runs and Dashboard (they hold the run's own time).
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.pipeline_scale import ROOT, MemoryStore, Source, synthetic_entries


def run(n: int, dump: Path | None = None) -> dict:
    from functions import pipeline
    from functions.config import Settings, bootstrap
    from functions.models import Period
    from functions.sheet.session import SheetSession

    period = Period.parse("2026-10")
    entries = synthetic_entries(n)
    with tempfile.TemporaryDirectory() as tmp:
        store = MemoryStore()
        services = bootstrap(Settings(workdir=Path(tmp)), source=Source(entries), sheet=store)
        seeding = SheetSession(store, ["Categories"])
        seeding.seed_config(["Categories"], ROOT / "functions" / "sample" / "config")
        seeding.commit()
        said: dict = {}
        categorize = services.categorizer.suggest

        def kept(entries, ctx, report):  # what the categorizer said, for the dump
            out = categorize(entries, ctx, report)
            said.update(out)
            return out

        services.categorizer.suggest = kept  # type: ignore[method-assign]  # a benchmark's probe, not the code's
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t, c = time.perf_counter(), time.process_time()
        pipeline.refresh(services, period)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if dump is not None:
        with dump.open("w", encoding="utf-8") as f:
            for ref in sorted(said):
                s = said[ref]
                f.write(f"{ref}\t{s.category}\t{s.source}\t{s.confidence!r}\t{s.line_item}\t{s.description}\n")
            for name in sorted(store.tabs):
                if name not in ("Runs", "Dashboard"):
                    f.writelines(f"{name}\t{row!r}\n" for row in store.tabs[name])
    return {
        "entries": n,
        "refresh_s": round(wall, 2),
        "refresh_cpu_s": round(cpu, 2),
        "peak_rss_mb": round(peak, 1),
        "rss_before_mb": round(before, 1),
        "suggestions": len(said),
    }


def main(argv: list[str] | None = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    n = int(argv[0]) if argv else 100_000
    dump = Path(argv[argv.index("--dump") + 1]) if "--dump" in argv else None
    figures = run(n, dump)
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
