"""API calls and wall time to pull a month of Toggl Track entries through the real source.

Runs `TogglSource` (requests) against the local Toggl emulator with a fixed latency per API call (100 ms by
default), for 2,000 and 20,000 entries in one month:

    .venv/bin/python -m benchmarks.toggl_calls                       # 2,000 and 20,000 at 50 rows a page
    .venv/bin/python -m benchmarks.toggl_calls --counts 2000 --page-sizes 50 200

Page size 50 is Toggl's documented default for the detailed report, and the emulator caps pages at it. Larger
sizes lift the emulator's cap: they show what the calls would be IF Toggl accepted them (not verified).
The figure that matters in production is the number of calls, against Toggl's hourly quota per user and
organization (Free 30, Starter 240, Premium 600 requests an hour).
"""

from __future__ import annotations

import argparse
import time

from functions.models import Period
from functions.sources.toggl import TogglSettings, TogglSource
from tests.emulators.toggl import TogglEmulator

QUOTAS = {"Free": 30, "Starter": 240, "Premium": 600}


def run(n: int, page_size: int, latency: float) -> dict:
    emu = TogglEmulator(seed=False, max_page_size=max(50, page_size))
    emu.seed(entries=n)
    emu.latency = latency
    emu.start()
    try:
        source = TogglSource.from_settings(
            TogglSettings(
                api_token=emu.token, workspace_id=emu.workspace_id, base_url=emu.base_url, page_size=page_size
            )
        )
        started = time.perf_counter()
        result = source.fetch(Period.parse("2026-10"))
        wall = time.perf_counter() - started
        assert len(result.entries) == n, (len(result.entries), n)
        return {
            "entries": n,
            "page_size": page_size,
            "calls": emu.count(),
            "report_calls": emu.count("/search/time_entries"),
            "name_calls": emu.count("/api/v9/"),
            "seconds": wall,
        }
    finally:
        emu.stop()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--counts", type=int, nargs="+", default=[2000, 20000])
    p.add_argument("--page-sizes", type=int, nargs="+", default=[50])
    p.add_argument("--latency", type=float, default=0.1)
    args = p.parse_args(argv)
    print(f"latency {args.latency * 1000:.0f} ms per call")
    print(f"{'entries':>8} {'page':>5} {'calls':>6} {'report':>7} {'names':>6} {'seconds':>8}  quota fit")
    for n in args.counts:
        for size in args.page_sizes:
            r = run(n, size, args.latency)
            fits = ", ".join(f"{plan} {'ok' if r['calls'] <= q else 'NO'}" for plan, q in QUOTAS.items())
            print(
                f"{r['entries']:>8} {r['page_size']:>5} {r['calls']:>6} {r['report_calls']:>7} "
                f"{r['name_calls']:>6} {r['seconds']:>8.1f}  {fits}"
            )


if __name__ == "__main__":
    main()
