"""The performance issue's table (issue 13), filled from what run_all measured: every figure, then and now.

`issue_table(month, outputs)` takes the production month's measurement (benchmarks.production_month.measure)
and the printed output of each benchmark module by module name and arguments, and returns Markdown lines. A
figure whose benchmark did not finish (or printed something unexpected) reads "not measured", never a guess.
"""

from __future__ import annotations

import json
import re
from typing import Any

NOT = "not measured"


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects a benchmark printed one per line (pipeline_scale's form); other lines are skipped."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def _find(rows: list[dict[str, Any]], key: str, value: object | None = None) -> dict[str, Any] | None:
    for r in rows:
        if key in r and (value is None or r[key] == value):
            return r
    return None


def _runs(row: dict[str, Any]) -> str:
    return f" (median of {row['runs']})" if row.get("runs", 1) > 1 else ""


def _workbook(row: dict[str, Any] | None) -> str:
    if row is None:
        return NOT
    return (
        f"refresh {row['refresh_new']} s (again {row['refresh_again']} s), preview {row['preview']} s, "
        f"create {row['create_invoices']} s, {row['peak_rss_mb']:.0f} MB peak{_runs(row)}"
    )


def _harvest_calls(text: str, entries: int = 2000) -> str:
    # the table's row "2000 | 2000 | 4 | 2 | 2 | ..." : entries, per_page, calls, new month calls, re-run calls
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) >= 5 and cells[0] == str(entries) and cells[1] == str(entries):
            return f"{cells[3]} a month ({cells[2]} at the first contact with the account, once; re-sync {cells[4]})"
    return NOT


def _claude(text: str) -> str:
    reqs = []
    for line in text.splitlines():
        # scenario, model, entries, to AI, requests, input, cache write, cache read, output, USD, seconds
        m = re.match(r"^(.+?)\s+\S+\s+(\d+)\s+(\d+)\s+(\d+)(\s+\d+){4}\s+[\d.]+\s+[\d.]+\s*$", line)
        if m:
            reqs.append(f"{m.group(1).split(':')[0]}: {m.group(4)} requests for {m.group(3)} entries sent")
    return "; ".join(dict.fromkeys(reqs)) if reqs else NOT  # the benchmark prints its table twice


def issue_table(month: dict[str, Any] | None, outputs: dict[str, str]) -> list[str]:
    scale = json_lines(outputs.get("benchmarks.pipeline_scale", ""))
    big = json_lines(outputs.get("benchmarks.pipeline_scale 100000", ""))
    core = _find(scale + big, "core_entries", 100000)
    w20, w100 = _find(scale, "entries", 20000), _find(big, "entries", 100000)
    if month:
        s, q = month["sheets_calls"], month["quickbooks_calls"]
        prod = f"{month['month_seconds_median']:.1f} s (median of {month['runs']})"
        sheets = f"{s['refresh']} / {s['preview']} / {s['create']} (+{s['refresh token']} token)"
        qbo = f"{q['create']} for {month['invoices']} invoices (budget {-(-month['invoices'] // 30) + 3})"
    else:
        prod = sheets = qbo = NOT
    core_text = (
        f"{core['core_s']} s wall, {core['core_cpu_s']} s CPU, {core['core_peak_rss_mb']:.0f} MB peak "
        f"(refresh {core['core_refresh_s']} s, billing {core['core_billing_s']} s){_runs(core)}"
        if core
        else NOT
    )
    harvest = _harvest_calls(outputs.get("benchmarks.harvest_calls", ""))
    claude = _claude(outputs.get("benchmarks.claude_usage", ""))
    xlsx = "offline default (xlsx),"
    rows = [
        ("production month, 25 clients, refresh + preview + create, 150 ms per call", "14.6 s", prod, "<= 8 s"),
        ("Sheets calls per refresh / preview / create", "4 / 4 / 4 (+1 token)", sheets, "<= 2 each"),
        ("QuickBooks calls per create of 25 invoices", "31", qbo, "<= ceil(invoices/30) + 3"),
        ("Harvest calls per month of 2,000 entries", "4", harvest, "2"),
        ("Claude calls", "ceil(distinct/50), 0 on a re-run", claude, "keep"),
        ("core, 100,000 entries (import + categorize + merge + billing)", "23 s, 610 MB", core_text, "<= 5 s, 400 MB"),
        (f"{xlsx} 20,000 entries, each command", "refresh 19.5 s, create 9.1 s, 359 MB", _workbook(w20), "<= 4 s"),
        (f"{xlsx} 100,000 entries", "refresh 99 s, create 40 s, 1.43 GB", _workbook(w100), "<= 20 s, 800 MB"),
    ]
    lines = [
        "## The issue's table (issue 13)",
        "",
        "Every figure as measured by this run (load at each benchmark's start in its section below; on this "
        "shared 2-CPU machine the load inflates wall time, CPU seconds much less).",
        "",
        "| figure | issue 13 | now | goal |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return lines + [""]
