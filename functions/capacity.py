"""Before a run starts: is the month too big for the memory the function was deployed with?

A Cloud Function that runs out of memory is killed mid-run with no sentence for anyone. So when
FUNCTION_MEMORY is set (deploy/functions.sh passes it to the functions; set it in the CLI to check a
month before deploying), refresh, preview and create-invoices first count the Time tab's rows and
estimate the run's peak from figures measured by benchmarks/cloud_memory.py (Google-Sheets path,
against the Sheets emulator, each job in a fresh process as one invocation is):

    peak MiB ~= BASE_MIB + rows * KIB_PER_ENTRY / 1024, and the run needs that plus HEADROOM

    >>> estimate_mib(100_000) > 1024
    True
    >>> smallest_fitting(estimate_mib(100_000))
    '2Gi'

If the estimate does not fit, the run stops before it reads or writes anything, with what to set.
"""

from __future__ import annotations

import os
from typing import Any

from .cost import memory_gib
from .errors import ConfigError

# Measured by benchmarks/cloud_memory.py (docs/RUNBOOK.md#month-too-big-for-the-function): a job's process
# is 63 MB after imports; the first refresh of a month, the heaviest job, peaks at 265 MB for 20,000 entries
# and 1,012 MB for 100,000 (10.3 and 9.7 KiB an entry; preview 374 MB, create-invoices 467 MB at 100,000).
# The offline workbook path peaks at 1,110 MB for 100,000 (docs/workbook.md): 10.7 KiB an entry. 11 covers both.
BASE_MIB = 65.0
KIB_PER_ENTRY = 11.0
HEADROOM = 1.25  # notes' length, another source's pages, the categorizer's working set vary by agency
SIZES = ("256Mi", "512Mi", "1Gi", "2Gi", "4Gi", "8Gi", "16Gi", "32Gi")  # Cloud Functions (2nd gen) steps


class TooBigForFunction(ConfigError):
    """The month's rows need more memory than FUNCTION_MEMORY gives; nothing was read or written."""


def estimate_mib(rows: int) -> float:
    return (BASE_MIB + rows * KIB_PER_ENTRY / 1024) * HEADROOM


def smallest_fitting(needed_mib: float) -> str | None:
    for size in SIZES:
        if memory_gib(size) * 1024 >= needed_mib:
            return size
    return None


def check(rows: int, memory: str, job: str) -> None:
    """Raise TooBigForFunction when `rows` Time rows would not fit in `memory` (e.g. "512Mi")."""
    have = memory_gib(memory) * 1024
    need = estimate_mib(rows)
    if need <= have:
        return
    fits = smallest_fitting(need)
    what = (
        f"set FUNCTION_MEMORY={fits} and deploy again (deploy/functions.sh)"
        if fits
        else "no Cloud Function is that big: run it from the CLI"
    )
    raise TooBigForFunction(
        f"The Time tab holds {rows:,} rows; {job} would need about {need:,.0f} MiB, more than the "
        f"{memory} this function has (FUNCTION_MEMORY), so it did not start and nothing was changed. "
        f"To run it, {what}, or move closed, invoiced months out with `python main.py archive` "
        "(docs/RUNBOOK.md#month-too-big-for-the-function)."
    )


def time_rows(sheet: Any) -> int | None:
    """The Time tab's rows (header excluded), read cheaply: from the state a Google Sheet's every read brings
    (no call of its own; None before the run's first read, when `after_read` checks instead), the sheet's
    dimension for a workbook. None when the store cannot say (then no check is made)."""
    if hasattr(sheet, "known_rows"):
        rows = sheet.known_rows("Time")
        return None if rows is None else max(int(rows) - 1, 0)
    path = getattr(sheet, "path", None)
    if path is None or not os.path.exists(path):
        return 0 if path is not None else None
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return max((wb["Time"].max_row or 1) - 1, 0) if "Time" in wb.sheetnames else 0
    finally:
        wb.close()


def after_read(sheet: Any, job: str, memory: str | None = None) -> None:
    """The same check right after a Google Sheet run's one read, before any work or write: on a cold instance
    the grid sizes arrive with that read, so the check costs no Sheets call of its own."""
    if hasattr(sheet, "known_rows"):
        precheck(sheet, job, memory)


def precheck(sheet: Any, job: str, memory: str | None = None) -> None:
    """The check against FUNCTION_MEMORY (or `memory`), when set; a no-op otherwise."""
    memory = memory if memory is not None else os.environ.get("FUNCTION_MEMORY", "").strip()
    if not memory:
        return
    rows = time_rows(sheet)
    if rows is not None:
        check(rows, memory, job)
