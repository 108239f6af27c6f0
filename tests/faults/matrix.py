"""The fault matrix as data: which fault is injected at which step of which job, against which target.

A target is one row of TARGETS (an accounting system and a sheet); a new accounting emulator joins the
suite by adding its row and the steps its API has. `python -m tests.faults.matrix` runs the suite and writes
tests/faults/MATRIX.md (every case tried, its result and the counts after the re-run); the suite itself
checks that every case of the table is a test (test_matrix.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# target -> (accounting, sheet)
TARGETS = {
    "ledger": ("local SQLite ledger + documents", "local workbook"),
    "quickbooks": ("QuickBooks Online emulator (python-quickbooks)", "local workbook"),
    "google-sheets": ("local SQLite ledger + documents", "Google Sheets emulator (gspread)"),
    "harvest": ("local SQLite ledger + documents", "local workbook; time from the Harvest API v2 emulator"),
    "xero": ("Xero Accounting API emulator (xero-python)", "local workbook"),
    "stripe": ("Stripe API emulator (stripe SDK)", "local workbook"),
}

KILL = "SIGKILL"
HTTP_FAULTS = ("429", "500", "drop", "timeout", "token expired")

# (job, step, faults, target)
TABLE: list[tuple[str, str, tuple[str, ...], str]] = [
    # the local ledger: the process killed at each local write
    ("refresh", "workbook save (mid-write)", (KILL,), "ledger"),
    ("refresh", "workbook save (before the rename)", (KILL,), "ledger"),
    ("create-invoices", "ledger commit (before)", (KILL,), "ledger"),
    ("create-invoices", "ledger commit (after, before documents)", (KILL,), "ledger"),
    ("create-invoices", "document render", (KILL,), "ledger"),
    ("create-invoices", "workbook save (mid-write)", (KILL,), "ledger"),
    ("create-invoices", "workbook save (before the rename)", (KILL,), "ledger"),
    # QuickBooks: every API call of create-invoices
    ("create-invoices", "customer and invoice lookup (batch query)", (*HTTP_FAULTS, KILL), "quickbooks"),
    ("create-invoices", "invoice creation (batch create)", (*HTTP_FAULTS, KILL), "quickbooks"),
    ("create-invoices", "attachment upload", (*HTTP_FAULTS, KILL), "quickbooks"),
    ("create-invoices", "workbook save (mid-write)", (KILL,), "quickbooks"),
    # Google Sheets: every sheet call of refresh and create-invoices
    ("refresh", "sheet read", ("429", "500", "token expired"), "google-sheets"),
    ("refresh", "sheet write", ("429", "500", "drop", "token expired"), "google-sheets"),
    ("create-invoices", "sheet read", ("429", "500", "token expired"), "google-sheets"),
    ("create-invoices", "sheet write (invoice numbers)", ("429", "500", "drop", "token expired"), "google-sheets"),
    # Xero: every API call of create-invoices
    ("create-invoices", "contact lookup", HTTP_FAULTS, "xero"),
    ("create-invoices", "invoice lookup", HTTP_FAULTS, "xero"),
    ("create-invoices", "invoice creation (batch PUT)", HTTP_FAULTS, "xero"),
    ("create-invoices", "attachment upload", HTTP_FAULTS, "xero"),
    # Stripe: every API call of create-invoices
    ("create-invoices", "customer lookup", HTTP_FAULTS, "stripe"),
    ("create-invoices", "invoice lookup (search)", HTTP_FAULTS, "stripe"),
    ("create-invoices", "invoice creation", HTTP_FAULTS, "stripe"),
    ("create-invoices", "invoice lines", HTTP_FAULTS, "stripe"),
    # the time source's API calls (refresh)
    ("refresh", "time entries page", ("429", "500", "timeout", "token refused"), "harvest"),
]


@dataclass(frozen=True)
class Case:
    job: str
    step: str
    fault: str
    target: str

    @property
    def id(self) -> str:
        return f"{self.target}|{self.job}|{self.step}|{self.fault}"


def cases(target: str | None = None, fault: str | None = None, exclude_fault: str | None = None) -> list[Case]:
    return [
        Case(job, step, f, t)
        for job, step, faults, t in TABLE
        for f in faults
        if (target is None or t == target) and (fault is None or f == fault) and f != exclude_fault
    ]


def ids(items: list[Case]) -> list[str]:
    return [c.id for c in items]


def _results(junit: Path) -> Iterator[dict[str, object]]:
    for tc in ET.parse(junit).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in tc.iter("property")}
        if "fault_case" not in props:
            continue
        failed = any(child.tag in ("failure", "error") for child in tc)
        skipped = any(child.tag == "skipped" for child in tc)
        yield {
            "case": props["fault_case"],
            "counts": json.loads(props.get("fault_counts") or "{}"),
            "result": "skipped" if skipped else "failed" if failed else "passed",
        }


def write_markdown(results: list[dict[str, object]], out: Path) -> str:
    lines = [
        "# The fault matrix (written by `python -m tests.faults.matrix`)",
        "",
        "Each case: a fault at one step, then the same command run again; the counts are taken after the re-run.",
        "",
        "| target | job | step | fault | result | duplicates | lost entries | lost edits | invoiced w/o invoice |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    seen = {str(r["case"]): r for r in results}
    for case in cases():
        r = seen.get(case.id, {"result": "not run", "counts": {}})
        c: dict[str, int] = r["counts"]  # type: ignore[assignment]
        cols = [c.get(k, "") for k in ("duplicates", "lost_entries", "lost_edits", "invoiced_without_invoice")]
        cells = [case.target, case.job, case.step, case.fault, r["result"], *cols]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    passed = sum(1 for r in seen.values() if r["result"] == "passed")
    lines += ["", f"{len(cases())} cases in the table, {len(seen)} run, {passed} passed."]
    text = "\n".join(lines) + "\n"
    out.write_text(text, "utf-8")
    return text


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "faults.xml"
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "tests/faults", "-n", "2", "-p", "no:randomly", f"--junitxml={junit}"],
            cwd=Path(__file__).resolve().parents[2],
        )
        text = write_markdown(list(_results(junit)), Path(__file__).with_name("MATRIX.md"))
    print(text)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
