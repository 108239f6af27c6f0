"""Wall time and peak memory of the offline pipeline: the demo, and refresh / preview / create-invoices on
synthetic months of 2,000 and 20,000 entries, through the real workbook and ledger; and the core alone
(import + categorize + merge + billing, the sheet held in memory) on 100,000 entries.

    .venv/bin/python -m benchmarks.pipeline_scale                 # demo, 2,000 and 20,000, core at 100,000
    .venv/bin/python -m benchmarks.pipeline_scale 5000 100000     # other sizes through the workbook
    .venv/bin/python -m benchmarks.pipeline_scale --core 100000   # only the core
    .venv/bin/python -m benchmarks.pipeline_scale --memory 20000  # heap bytes per parsed Time row
    .venv/bin/python -m benchmarks.pipeline_scale --repeat 3      # each figure the median of 3 runs

Each size runs in its own process so that peak memory (ru_maxrss) belongs to that size alone. `main(argv)`
prints one JSON line per measurement and returns them as a dict.
"""

from __future__ import annotations

import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTES = [
    "ACME-{n} fix null ptr on checkout",
    "mtg w/ client re: Q{q}",
    "PM stuff",
    "wireframes for cart v{n}",
    "hotfix: login regression",
    "code review PR #{n}",
    "deploy to staging",
    "copy edits homepage",
    "sprint planning",
    "misc",
    "analytics dashboard tweaks",
    "QA regression pass",
]


def synthetic_entries(n: int, clients: int = 50, seed: int = 7):
    from functions.models import TimeEntry

    rnd = random.Random(seed)
    people = [
        (f"Person {i}", rnd.choice(["Developer", "Designer", "Project Manager", "QA Engineer"])) for i in range(40)
    ]
    out = []
    for i in range(n):
        person, role = rnd.choice(people)
        out.append(
            TimeEntry(
                source="bench",
                source_id=f"b{i}",
                date=date(2026, 10, 1) + timedelta(days=rnd.randrange(31)),
                client=f"Client {rnd.randrange(clients):03d}",
                project="Retainer",
                person=person,
                role=role,
                notes=rnd.choice(NOTES).format(n=rnd.randrange(9999), q=rnd.randrange(1, 5)),
                hours=Decimal(rnd.choice(["0.25", "0.5", "1", "1.5", "2", "3.75"])),
                currency="USD",
            )
        )
    return out


class Source:
    """The synthetic month as a time source; `once` hands the entries over and keeps none (a source's fetch
    leaves nothing behind in a real run, so a later preview in the same process does not hold them)."""

    def __init__(self, entries, once: bool = False):
        self.entries = entries
        self.once = once

    def fetch(self, period, progress=None):
        from functions.ports import ImportResult

        result = ImportResult(entries=tuple(self.entries), covers=("bench",))
        if self.once:
            self.entries = []
        return result


def run_size(n: int) -> dict:
    from functions import pipeline
    from functions.config import Settings, bootstrap
    from functions.demo import review_as_person
    from functions.models import Period
    from functions.ports import CellBlock
    from functions.sheet.session import SheetSession

    period = Period.parse("2026-10")
    entries = synthetic_entries(n)
    with tempfile.TemporaryDirectory() as tmp:
        services = bootstrap(Settings(workdir=Path(tmp)), source=Source(entries))
        services.sheet.ensure_layout()  # the agency's categories first (here the demo's), as setup-sheet does
        seeding = SheetSession(services.sheet, ["Categories"])
        seeding.seed_config(["Categories"], ROOT / "functions" / "sample" / "config")
        seeding.commit()
        times: dict[str, float] = {}
        cpu: dict[str, float] = {}  # CPU seconds of this process: what a loaded machine does not inflate
        t, c = time.perf_counter(), time.process_time()
        pipeline.refresh(services, period)
        times["refresh_new"], cpu["refresh_new"] = time.perf_counter() - t, time.process_time() - c
        t, c = time.perf_counter(), time.process_time()
        pipeline.refresh(services, period)
        times["refresh_again"], cpu["refresh_again"] = time.perf_counter() - t, time.process_time() - c
        # as a person: give every client a default rate, then approve the billable rows
        clients = services.sheet.read(["Clients"])["Clients"]
        rate_col = clients[0].index("Default Rate") + 1
        services.sheet.write([CellBlock("Clients", 2, rate_col, [[Decimal("120")] for _ in clients[1:]])])
        review_as_person(services, period)
        t, c = time.perf_counter(), time.process_time()
        preview = pipeline.preview(services, period)
        times["preview"], cpu["preview"] = time.perf_counter() - t, time.process_time() - c
        t, c = time.perf_counter(), time.process_time()
        created = pipeline.create_invoices(services, period)
        times["create_invoices"], cpu["create_invoices"] = time.perf_counter() - t, time.process_time() - c
    return {
        "entries": n,
        "invoices": created.created,
        "preview_invoices": len(preview.invoices),
        **{k: round(v, 2) for k, v in times.items()},
        **{f"{k}_cpu": round(v, 2) for k, v in cpu.items()},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


class MemoryStore:
    """The sheet held in memory (a list of rows per tab), so the core is measured without any file."""

    def __init__(self) -> None:
        from functions.sheet.contract import load_contract

        self.tabs: dict[str, list[list]] = {t.name: [list(t.headers)] for t in load_contract().tabs}

    def describe(self) -> str:
        return "memory"

    def ensure_layout(self, setup: bool = False) -> list[str]:
        return []

    def read(self, tabs):
        return {name: [list(r) for r in self.tabs.get(name, [])] for name in tabs}

    def write(self, blocks) -> None:
        for b in blocks:
            rows = self.tabs.setdefault(b.tab, [])
            first = b.row - 1
            if first >= len(rows) and b.col == 1:  # rows appended past the end: taken as they are
                rows.extend([] for _ in range(first - len(rows)))
                rows.extend(list(values) for values in b.values)
                continue
            for r, values in enumerate(b.values, start=first):
                while len(rows) <= r:
                    rows.append([])
                row = rows[r]
                if len(row) < b.col - 1 + len(values):
                    row.extend([None] * (b.col - 1 + len(values) - len(row)))
                row[b.col - 1 : b.col - 1 + len(values)] = values


def run_core(n: int) -> dict:
    """import + categorize + merge (refresh) and billing (preview) on n entries, the sheet in memory."""
    from functions import pipeline
    from functions.config import Settings, bootstrap
    from functions.demo import review_as_person
    from functions.models import Period
    from functions.ports import CellBlock
    from functions.sheet.session import SheetSession

    period = Period.parse("2026-10")
    source = Source(synthetic_entries(n), once=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = MemoryStore()
        services = bootstrap(Settings(workdir=Path(tmp)), source=source, sheet=store)
        seeding = SheetSession(store, ["Categories"])
        seeding.seed_config(["Categories"], ROOT / "functions" / "sample" / "config")
        seeding.commit()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t, c = time.perf_counter(), time.process_time()
        pipeline.refresh(services, period)
        refresh_s, refresh_cpu = time.perf_counter() - t, time.process_time() - c
        clients = store.tabs["Clients"]
        rate_col = clients[0].index("Default Rate") + 1
        store.write([CellBlock("Clients", 2, rate_col, [[Decimal("120")] for _ in clients[1:]])])
        review_as_person(services, period)
        t, c = time.perf_counter(), time.process_time()
        preview = pipeline.preview(services, period)
        preview_s, preview_cpu = time.perf_counter() - t, time.process_time() - c
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "core_entries": n,
        "core_invoices": len(preview.invoices),
        "core_refresh_s": round(refresh_s, 2),
        "core_billing_s": round(preview_s, 2),
        "core_s": round(refresh_s + preview_s, 2),
        "core_cpu_s": round(refresh_cpu + preview_cpu, 2),
        "core_peak_rss_mb": round(peak, 1),
        "core_rss_before_mb": round(before, 1),
    }


def memory_per_entry(n: int = 20000) -> dict:
    """Python heap bytes per Time row held after parsing the tab (tracemalloc), records and cells apart."""
    import tracemalloc

    from functions.sheet.contract import HeaderMap, load_contract
    from functions.sheet.tables import parse_time_tab, row_values, source_cells

    tab = load_contract().tab("Time")
    hm = HeaderMap(tab, tab.headers)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    values = [tab.headers] + [row_values(hm, source_cells(e)) for e in synthetic_entries(n)]
    cells = tracemalloc.get_traced_memory()[0]
    table = parse_time_tab(values)
    parsed = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(table.rows) == n
    return {
        "entries": n,
        "cells_bytes_per_row": round((cells - base) / n),
        "records_bytes_per_row": round((parsed - cells) / n),
    }


def run_demo() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "main.py", "demo", "--workdir", tmp, "--json"], cwd=ROOT, check=True, capture_output=True
        )
        wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"demo_wall_s": round(wall, 2), "demo_peak_rss_mb": round(peak, 1)}


def _child(args: list[str], repeat: int = 1) -> dict:
    """The figures of `args` run in a fresh process, `repeat` times: each number is the median of the runs,
    "runs" says how many, and "<key>_runs" lists every run's seconds of the command figures."""
    runs = []
    for _ in range(max(1, repeat)):
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.pipeline_scale", *args],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    if len(runs) == 1:
        return runs[0]
    figures: dict = {"runs": len(runs)}
    for key, value in runs[0].items():
        if isinstance(value, float):  # seconds and megabytes; counts (ints) are the same in every run
            figures[key] = round(statistics.median(r[key] for r in runs), 2)
            if key.endswith("_s") or key in ("refresh_new", "refresh_again", "preview", "create_invoices"):
                figures[f"{key}_runs"] = [r[key] for r in runs]
        else:
            figures[key] = value
    return figures


def main(argv: list[str] | None = None) -> dict:
    """Run the measurements of `argv` (see the module docstring), print each, and return them:
    {"demo": {...}, "20000": {...}, "core_100000": {...}}."""
    argv = list(sys.argv[1:] if argv is None else argv)
    repeat = 1
    if "--repeat" in argv:  # each size (and the core) run this many times in fresh processes, medians printed
        at = argv.index("--repeat")
        repeat = int(argv[at + 1])
        del argv[at : at + 2]
    if argv[:1] == ["--one"]:
        figures = run_size(int(argv[1]))
        print(json.dumps(figures))
        return figures
    if argv[:1] == ["--memory"]:
        figures = memory_per_entry(int(argv[1]) if len(argv) > 1 else 20000)
        print(json.dumps(figures))
        return figures
    if argv[:1] == ["--core-one"]:
        figures = run_core(int(argv[1]))
        print(json.dumps(figures))
        return figures
    results: dict[str, dict] = {}
    if argv[:1] == ["--core"]:
        for n in [int(a) for a in argv[1:]] or [100_000]:
            results[f"core_{n}"] = _child(["--core-one", str(n)], repeat)
            print(json.dumps(results[f"core_{n}"]))
        return results
    sizes = [int(a) for a in argv] or [2000, 20000]
    results["demo"] = run_demo()
    print(json.dumps(results["demo"]))
    for n in sizes:
        results[str(n)] = _child(["--one", str(n)], repeat)
        print(json.dumps(results[str(n)]))
    if not argv:
        results["core_100000"] = _child(["--core-one", "100000"], repeat)
        print(json.dumps(results["core_100000"]))
    return results


if __name__ == "__main__":
    main()
