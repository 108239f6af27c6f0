"""Peak memory of refresh, preview and create-invoices on the Google-Sheets path, as a Cloud Function runs them.

Each job runs in a fresh process (as one function invocation does), through the production Google Sheets
adapter against the local Sheets emulator, which runs in this parent process so its state is not counted.
The child reports its peak RSS (VmHWM: what Cloud Functions' memory limit is measured against), the RSS
after imports, and with --trace the tracemalloc peak of Python allocations (slower). The per-entry figure
`(peak - after imports) / entries` is what functions/capacity.py uses to say before a run starts that a
month is too big for FUNCTION_MEMORY.

    .venv/bin/python -m benchmarks.cloud_memory               # 10,000 and 100,000 entries
    .venv/bin/python -m benchmarks.cloud_memory 20000 --trace
"""

from __future__ import annotations

import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.sheets_calls import PERIOD, SyntheticSource, _approve_everything
from tests.emulators.google_certs import service_account_file
from tests.emulators.sheets import SheetsEmulator


def _rss_mb() -> float:
    """This process's peak RSS (VmHWM). Not ru_maxrss: that survives exec, so a spawned child would report
    the parent's size at the fork, emulator state and all."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _job(job: str, n: int, sid: str, url: str, sa: str, work: str, trace: bool, out: Any) -> None:
    """One invocation: imports, then the job; sends back its figures."""
    import tracemalloc

    from functions.config import Settings, bootstrap
    from functions.pipeline import create_invoices, preview, refresh
    from functions.sheet.gsheets import GoogleSheet, GoogleSheetsSettings

    base = _rss_mb()
    source = SyntheticSource(n) if job.startswith("refresh") else None  # the fetched entries count too
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    sheet = GoogleSheet.from_settings(
        GoogleSheetsSettings(spreadsheet_id=sid, credentials_file=Path(sa), api_base_url=url, timeout_seconds=600)
    )
    overrides: dict[str, Any] = {"sheet": sheet}
    if source is not None:
        overrides["source"] = source
    services = bootstrap(Settings(workdir=Path(work), ai_enabled=False), **overrides)
    run = {"refresh": refresh, "refresh_again": refresh, "preview": preview, "create": create_invoices}[job]
    run(services, PERIOD)
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    out.put(
        {
            "job": job,
            "seconds": round(seconds, 1),
            "rss_after_imports_mb": round(base),
            "peak_rss_mb": round(_rss_mb()),
            "tracemalloc_peak_mb": round(traced) if traced is not None else None,
        }
    )


def measure(n: int, trace: bool = False) -> dict[str, Any]:
    from functions.sheet.gsheets import GoogleSheet, GoogleSheetsSettings
    from tests.seeding import seed_categories

    emu = SheetsEmulator()
    url = emu.start()
    sid = f"mem-{n}"
    emu.create(sid)
    ctx = mp.get_context("spawn")  # a fork would share the emulator's pages with the child
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        sa = service_account_file(Path(tmp), url + "/token")
        seed_categories(
            GoogleSheet.from_settings(GoogleSheetsSettings(spreadsheet_id=sid, credentials_file=sa, api_base_url=url))
        )
        for job in ("refresh", "approve", "refresh_again", "preview", "create"):
            if job == "approve":
                _approve_everything(emu, sid)
                continue
            q = ctx.Queue()
            p = ctx.Process(target=_job, args=(job, n, sid, url, str(sa), str(Path(tmp) / "work"), trace, q))
            p.start()
            got = q.get()
            p.join()
            results.append(got)
    emu.stop()
    peak = max(r["peak_rss_mb"] for r in results)
    base = min(r["rss_after_imports_mb"] for r in results)
    return {"entries": n, "jobs": results, "peak_rss_mb": peak, "kib_per_entry": round((peak - base) * 1024 / n, 1)}


def main(argv: list[str]) -> None:
    trace = "--trace" in argv
    sizes = [int(a.replace(",", "")) for a in argv if a != "--trace"] or [10_000, 100_000]
    for n in sizes:
        print(json.dumps(measure(n, trace)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
