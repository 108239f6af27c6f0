"""Every benchmark, one command: writes benchmarks/RESULTS.md (machine, date, load, every figure, baselines).

    .venv/bin/python -m benchmarks.run_all                 # everything (minutes: the machine's load decides)
    .venv/bin/python -m benchmarks.run_all --quick         # the API-call figures and the production month only
    .venv/bin/python -m benchmarks.run_all --runs 5        # median of 5 instead of 3

Latency is injected the same way for every emulator: EMULATOR_LATENCY_MS (150 ms unless set), read by
tests/emulators/_server.py when any emulator starts. The production month and the call counts run here, in
this process; every other benchmark module of benchmarks/ runs as its own process (its own peak memory), with
a time limit, and its output goes into RESULTS.md as it printed it.

Naive baselines sit beside each call count as a ratio: Sheets one call per row read and per row written,
QuickBooks one query per customer and item and one create and one upload per invoice (measured: the
`single x1` mode of benchmarks/quickbooks_calls.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.issue_table import issue_table

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("EMULATOR_LATENCY_MS", "150")
LATENCY_S = str(float(os.environ["EMULATOR_LATENCY_MS"]) / 1000)
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
# module, arguments, what it measures, seconds allowed
OTHERS: list[tuple[str, list[str], str, int]] = [
    (
        "benchmarks.quickbooks_calls",
        ["--counts", "25", "--modes", "batch", "single x1", "--latency", LATENCY_S],
        "QuickBooks calls per create of 25 invoices, batched and naive (one call per invoice)",
        600,
    ),
    ("benchmarks.sheets_calls", ["200", "2000"], "Sheets calls and payload by row count", 900),
    # their own latency option off: EMULATOR_LATENCY_MS is the one switch
    ("benchmarks.harvest_calls", ["--latency", "0"], "Harvest calls per month", 900),
    ("benchmarks.toggl_calls", ["--latency", "0"], "Toggl calls per month", 900),
    ("benchmarks.claude_usage", [], "Claude calls, tokens and cost", 900),
    (
        "benchmarks.pipeline_scale",
        ["--repeat", "3"],
        "offline workbook, 2,000 and 20,000 entries, and the core at 100,000 (medians of 3)",
        2400,
    ),
    (
        "benchmarks.pipeline_scale",
        ["100000", "--repeat", "3"],
        "offline workbook, 100,000 entries (medians of 3)",
        3000,
    ),
    ("benchmarks.billing_engine", [], "core billing, 100,000 entries", 900),
    ("benchmarks.import_time", [], "cold start per entry point", 900),
    ("benchmarks.categorize_quality", [], "categorization quality", 600),
]
QUICK = {"benchmarks.quickbooks_calls"}


def machine() -> list[str]:
    load = os.getloadavg()
    return [
        f"- machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M UTC}",
        f"- load average at the start (1/5/15 min): {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}",
        f"- latency per API call, every emulator: {os.environ['EMULATOR_LATENCY_MS']} ms (EMULATOR_LATENCY_MS)",
    ]


def ratio(naive: float, ours: float) -> str:
    return f"{naive / ours:.0f}x fewer" if ours else "n/a"


def month_section(runs: int) -> tuple[list[str], dict[str, Any]]:
    from benchmarks.production_month import measure

    started = os.getloadavg()[0]
    m = measure(runs)
    s, q = m["sheets_calls"], m["quickbooks_calls"]
    rows = m["time_tab_rows"]
    # one call per row: read the rows one by one, write each new/marked row, plus a Runs row
    naive = {
        "refresh": 1 + rows + 1,
        "preview": 1 + rows + m["invoices"] + 1,
        "create": 1 + rows + rows + m["invoices"] + 1,
    }
    lat = float(os.environ["EMULATOR_LATENCY_MS"]) / 1000
    lines = [
        "## Production month: 25 clients, refresh + preview + create, every call behind the latency",
        "",
        f"The sample agency's October ({m['entries']:,} entries from its Harvest, Toggl and Clockify exports, "
        f"{m['clients']} clients), through gspread and python-quickbooks against the emulators; "
        f"{m['invoices']} invoices created, {m['files attached']} files attached. Median of {runs} runs "
        f"(load {started:.2f} when it started): the runs took {', '.join(f'{x} s' for x in m['month_seconds_all'])}.",
        "",
        "| figure | today (issue 13) | now | goal |",
        "| --- | --- | ---: | --- |",
        f"| production month, refresh + preview + create | 14.6 s | {m['month_seconds_median']:.1f} s | <= 8 s |",
    ]
    for k in ("refresh", "preview", "create"):
        lines.append(f"| {k} alone | | {m['seconds_median'][k]:.1f} s | |")
    lines += [
        "",
        "### API calls per command, exact (first run, then the re-run of the same month)",
        "",
        "| command | Sheets calls | token | naive (one call per row) | ratio | QuickBooks calls | naive | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    # QuickBooks, one call per thing: a customer and an item query, a create and an upload per invoice,
    # the tax codes and the terms
    qbo_naive = {"refresh": 0, "preview": 0, "create": 4 * m["invoices"] + 2}
    for k in ("refresh", "preview", "create"):
        qn = f"{qbo_naive[k]} | {ratio(qbo_naive[k], q[k])}" if qbo_naive[k] else "0 |"
        lines.append(
            f"| {k} | {s[k]} | {s[k + ' token']} | {naive[k]:,} ({naive[k] * lat:.0f} s of latency) | "
            f"{ratio(naive[k], s[k])} | {q[k]} | {qn} |"
        )
    for k in ("refresh again", "preview again", "create again"):
        lines.append(f"| {k} | {s[k]} | {s[k + ' token']} | | | {q[k]} | | |")
    budget = -(-m["invoices"] // 30) + 3
    lines += ["", f"QuickBooks budget for {m['invoices']} invoices: ceil(n/30) + 3 = {budget} calls."]
    lines += [
        "",
        "Before (issue 13): Sheets 4 / 4 / 4 per refresh / preview / create plus one token per run, and the "
        "five calls of the lease since; QuickBooks 31 per create of 25 invoices. The token is fetched once per "
        "process (at setup here, so 0 in every command above). `create again` has nothing left to invoice "
        "(every row is invoiced), so it reads the sheet once and asks QuickBooks nothing; the QuickBooks "
        "re-run of the same 25 drafts is measured below.",
        "",
    ]
    return lines, m


def run_module(module: str, args: list[str], limit: int) -> tuple[str, float, float]:
    started = time.perf_counter()
    load = os.getloadavg()[0]
    try:
        done = subprocess.run(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=limit,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        text = done.stdout.strip() or "(no output)"
        if done.returncode:
            text += f"\n\n(exit {done.returncode})\n" + "\n".join(done.stderr.strip().splitlines()[-12:])
    except subprocess.TimeoutExpired:
        text = f"(did not finish within {limit} s on this machine)"
    return text, time.perf_counter() - started, load


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3, help="runs of the production month (median; default 3)")
    p.add_argument("--quick", action="store_true", help="only the call counts and the production month")
    args = p.parse_args(argv)
    os.environ.setdefault("EMULATOR_LATENCY_MS", "150")
    out = ["# Benchmark results", "", "Written by `python -m benchmarks.run_all`; do not edit by hand.", ""]
    out += machine() + [""]
    lines, month = month_section(args.runs)
    outputs: dict[str, str] = {}
    for module, margs, what, limit in OTHERS:
        if args.quick and module not in QUICK:
            continue
        print(f"running {module} ...", file=sys.stderr, flush=True)
        text, took, load = run_module(module, margs, limit)
        sized = module == "benchmarks.pipeline_scale" and margs[:1] and margs[0].isdigit()  # "... 100000"
        outputs[f"{module} {margs[0]}" if sized else module] = text
        lines += [
            f"## {what}: `python -m {module} {' '.join(margs)}`".rstrip(),
            "",
            f"({took:.0f} s, load {load:.2f} at its start)",
            "",
            "```",
            text,
            "```",
            "",
        ]
        # what is measured so far, in case the run is stopped (a loaded machine can take longer than anyone waits)
        partial = [f"(Partial: the run was stopped, or is still running, after {module} {' '.join(margs)}.)", ""]
        RESULTS.write_text("\n".join(out + partial + issue_table(month, outputs) + lines), encoding="utf-8")
    out += issue_table(month, outputs) + lines
    load = os.getloadavg()
    out += [f"Load average at the end: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}", ""]
    RESULTS.write_text("\n".join(out), encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
