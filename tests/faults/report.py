"""A pytest plugin (named in the root conftest.py, so that the xdist controller loads it too) for the fault
suite: `recorded` notes each case's counts for the matrix (pytest's junit
properties, which pytest-xdist carries back from its workers), and at the end of a run the matrix tried is
printed to the terminal, whichever output options were given."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict

import pytest

from tests.faults.matrix import Case
from tests.faults.world import Counts


@pytest.fixture
def recorded(record_property) -> Callable[[Case, Counts], None]:
    def record(case: Case, counts: Counts) -> None:
        record_property("fault_case", case.id)
        record_property("fault_counts", json.dumps(asdict(counts)))

    return record


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    rows: list[tuple[str, str, dict[str, int]]] = []
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            props = dict(getattr(report, "user_properties", []))
            if "fault_case" in props and report.when == "call":
                rows.append((str(props["fault_case"]), outcome, json.loads(str(props["fault_counts"]))))
    if not rows:
        return
    totals: Counter[str] = Counter()
    out = sys.__stdout__ or sys.stdout
    out.write(f"\nfault matrix: {len(rows)} cases (target | job | step | fault -> counts after the re-run)\n")
    for case, outcome, counts in sorted(rows):
        totals.update(counts)
        bad = ", ".join(f"{k}={v}" for k, v in counts.items() if v) or "all 0"
        out.write(f"  {case} -> {outcome}: {bad}\n")
    out.write("totals: " + ", ".join(f"{k}={totals[k]}" for k in Counts.__dataclass_fields__) + "\n")
    out.flush()
