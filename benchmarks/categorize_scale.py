"""Time and memory of the offline categorizer (Rules tab -> memory -> classifier) alone, at scale.

    .venv/bin/python -m benchmarks.categorize_scale                 # 2,000, 20,000 and 100,000 entries
    .venv/bin/python -m benchmarks.categorize_scale 20000 --runs 3  # median of 3 runs of one size

Per size, in fresh processes (so caches and peak memory belong to that run alone): CPU seconds of a first
refresh (no history: the synthetic month of benchmarks/pipeline_scale.py) and of the next one (that month
reviewed as history, a new month to place), and the Python heap peak of each above what was held before
(tracemalloc, in a process of its own since tracing slows the run). Prints one JSON line per size.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _month(n: int, seed: int):
    from benchmarks.pipeline_scale import synthetic_entries

    return synthetic_entries(n, seed=seed)


def one(n: int, trace: bool) -> dict[str, float]:
    from benchmarks.categorize_quality import load_categories, offline
    from functions.models import TimeRow
    from functions.ports import CategorizeContext, CategorizeReport

    categories = load_categories()
    first, second = _month(n, 7), _month(n, 8)
    second = [e.model_copy(update={"source_id": f"n{e.source_id}"}) for e in second]
    out: dict[str, float] = {}
    history: tuple[TimeRow, ...] = ()
    for name, entries in (("first", first), ("next", second)):
        ctx = CategorizeContext(categories=categories, history=history)
        if trace:
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
        c = time.process_time()
        got = offline().suggest(entries, ctx, CategorizeReport())
        if not trace:  # tracing slows the run: its time is not the run's
            out[f"{name}_cpu_s"] = round(time.process_time() - c, 3)
        else:
            out[f"{name}_peak_mb"] = round((tracemalloc.get_traced_memory()[1] - base) / 2**20, 1)
            tracemalloc.stop()
        history = tuple(
            TimeRow(
                row=i + 2,
                entry=e,
                category=got[e.ref].category,
                approved=True,
                suggested_category=got[e.ref].category,
                suggested_by=got[e.ref].source,
            )
            for i, e in enumerate(entries)
        )
    return out


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[2000, 20000, 100000])
    parser.add_argument("--runs", type=int, default=3, help="runs per size; the median is printed")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        figures = one(int(args.one[0]), args.one[1] == "trace")
        print(json.dumps(figures))
        return {"one": figures}
    results: dict[str, dict[str, float]] = {}
    for n in args.sizes:
        runs = []
        for mode in ["time"] * args.runs + ["trace"]:
            cmd = [sys.executable, "-m", "benchmarks.categorize_scale", "--one", str(n), mode]
            done = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        keys = sorted({k for r in runs for k in r})
        results[str(n)] = {"entries": n, **{k: statistics.median(r[k] for r in runs if k in r) for k in keys}}
        print(json.dumps(results[str(n)]))
    return results


if __name__ == "__main__":
    main()
