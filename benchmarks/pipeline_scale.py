"""Wall time and peak memory of the offline pipeline: the demo, and refresh / preview / create-invoices on
synthetic months of 2,000 and 20,000 entries, through the real workbook and ledger.

    .venv/bin/python -m benchmarks.pipeline_scale            # 2,000 and 20,000
    .venv/bin/python -m benchmarks.pipeline_scale 5000       # other sizes

Each size runs in its own process so that peak memory (ru_maxrss) belongs to that size alone.
"""

from __future__ import annotations

import json
import random
import resource
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
    def __init__(self, entries):
        self.entries = entries

    def fetch(self, period, progress=None):
        from functions.ports import ImportResult

        return ImportResult(entries=tuple(self.entries), covers=("bench",))


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
        times = {}
        t = time.perf_counter()
        pipeline.refresh(services, period)
        times["refresh_new"] = time.perf_counter() - t
        t = time.perf_counter()
        pipeline.refresh(services, period)
        times["refresh_again"] = time.perf_counter() - t
        # as a person: give every client a default rate, then approve the billable rows
        clients = services.sheet.read(["Clients"])["Clients"]
        rate_col = clients[0].index("Default Rate") + 1
        services.sheet.write([CellBlock("Clients", 2, rate_col, [[Decimal("120")] for _ in clients[1:]])])
        review_as_person(services, period)
        t = time.perf_counter()
        preview = pipeline.preview(services, period)
        times["preview"] = time.perf_counter() - t
        t = time.perf_counter()
        created = pipeline.create_invoices(services, period)
        times["create_invoices"] = time.perf_counter() - t
    return {
        "entries": n,
        "invoices": created.created,
        "preview_invoices": len(preview.invoices),
        **{k: round(v, 2) for k, v in times.items()},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
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


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        print(json.dumps(run_size(int(argv[1]))))
        return
    sizes = [int(a) for a in argv] or [2000, 20000]
    print(json.dumps(run_demo()))
    for n in sizes:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.pipeline_scale", "--one", str(n)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        print(out.strip())


if __name__ == "__main__":
    main(sys.argv[1:])
