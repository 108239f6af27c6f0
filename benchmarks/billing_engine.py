"""Billing engine throughput: 100,000 synthetic Time rows across 500 clients, every rule family in use.

    .venv/bin/python benchmarks/billing_engine.py                # defaults: 100000 entries, 500 clients
    .venv/bin/python benchmarks/billing_engine.py --entries 20000 --clients 100 --tracemalloc

Prints seconds for building the rule book, computing the invoices and rendering Preview, and the peak
memory (process RSS high-water mark; with --tracemalloc also the Python heap peak of the engine call, which
slows it down). Deterministic (seeded), so runs compare.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from functions.billing.engine import compute_invoices
from functions.models import Period, TimeEntry, TimeRow
from functions.sheet.config_tabs import parse_book
from functions.sheet.preview_tab import preview_rows

CATEGORIES = [
    ["Category", "Meaning", "Billable", "Line Item"],
    ["Development", "", "TRUE", ""],
    ["Design", "", "TRUE", ""],
    ["Maintenance", "", "TRUE", ""],
    ["QA", "", "TRUE", "Quality Assurance"],
    ["Meetings", "", "TRUE", ""],
    ["Support", "", "TRUE", ""],
    ["Internal", "", "FALSE", ""],
]
ROLES = ["Developer", "Senior Developer", "Designer", "QA Engineer", "Project Manager"]
NOTES = [
    "bug fix in checkout",
    "implement search",
    "client call",
    "hotfix login",
    "mockups v2",
    "regression run",
    "code review",
    "sprint planning",
    "support ticket",
    "deploy",
]
PERIOD = Period(year=2026, month=10)


def build(entries: int, clients: int, seed: int = 7, only_october: bool = False) -> tuple[dict, list[TimeRow]]:
    rng = random.Random(seed)
    names = [f"Client {i:03d}" for i in range(clients)]
    people = [(f"Person {i:03d}", ROLES[i % len(ROLES)]) for i in range(max(20, clients // 5))]
    c = [
        [
            "Client",
            "Currency",
            "Terms",
            "Default Rate",
            "Detail",
            "Rounding",
            "Round Per",
            "Minimum Entry",
            "Minimum Fee",
            "Description",
            "Task Notes",
            "Tax Code",
        ]
    ]
    rates = [["Client", "Person", "Role", "Category", "Rate", "Effective From", "Effective To"]]
    rates += [["", "", role, "", str(100 + 10 * i), "", ""] for i, role in enumerate(ROLES)]
    rules = [
        [
            "Rule",
            "Client",
            "Project",
            "Field",
            "Pattern",
            "Category",
            "Line Item",
            "Hours",
            "Rate",
            "Amount",
            "Percent",
            "Rollover Cap",
            "Period",
            "Complete",
            "Description",
        ],
        ["rollup", "", "", "notes", "bug fix|hotfix|regression", "", "Maintenance", "", "", "", "", "", "", "", ""],
    ]
    for i, name in enumerate(names):
        c.append(
            [
                name,
                rng.choice(["USD", "USD", "EUR", "GBP"]),
                rng.choice(["Net 15", "Net 30", "Due on receipt"]),
                str(rng.choice([120, 135, 150])),
                rng.choice(["line item", "line item", "line item + person", "line item + week"]),
                rng.choice(["", "", "15 up", "6 nearest"]),
                rng.choice(["entry", "line"]),
                rng.choice(["", "15"]),
                rng.choice(["", "2000"]),
                "",
                rng.choice(["none", "summary"]),
                "TAX",
            ]
        )
        rates.append([name, people[i % len(people)][0], "", "", "175", "", ""])
        rates.append([name, "", "", "", "160", "2026-10-15", ""])
        family = i % 8
        if family == 1:
            rules.append(["tier", name, "", "", "", "", "", "40", "150", "", "", "", "", "", ""])
            rules.append(["tier", name, "", "", "", "", "", "", "120", "", "", "", "", "", ""])
        elif family == 2:
            rules.append(["retainer", name, "", "", "", "", "Retainer", "30", "140", "5000", "", "10", "", "", ""])
        elif family == 3:
            rules.append(["cap", name, "", "", "", "", "", "", "", "8000", "", "", "", "", ""])
        elif family == 4:
            rules.append(
                [
                    "fixed fee",
                    name,
                    "Fixed",
                    "",
                    "",
                    "",
                    "Fixed Project",
                    "",
                    "",
                    "6000",
                    "",
                    "",
                    "2026-10",
                    "",
                    "Fixed fee",
                ]
            )
        elif family == 5:
            rules.append(
                ["milestone", name, "Fixed", "", "", "", "", "", "", "3000", "", "", "2026-10", "TRUE", "Milestone 1"]
            )
        elif family == 6:
            rules.append(
                ["expense", name, "", "", "", "", "Hosting", "", "", "400", "10%", "", "2026-10", "", "Hosting"]
            )
            rules.append(["discount", name, "", "", "", "", "", "", "", "", "5%", "", "", "", "Discount"])
        elif family == 7:
            rules.append(["discount", name, "", "", "", "", "Meetings", "", "", "100", "", "", "", "", "Meetings"])
    tables = {"Clients": c, "Rates": rates, "Rules": rules, "Categories": CATEGORIES}
    rows: list[TimeRow] = []
    start = date(2026, 9, 1)
    cats = [r[0] for r in CATEGORIES[1:]]
    for n in range(entries):
        person, role = rng.choice(people)
        # September too by default (the engine reads last month for rollover and spikes).
        day = (
            date(2026, 10, 1) + timedelta(days=rng.randrange(31))
            if only_october
            else start + timedelta(days=rng.randrange(61))
        )
        entry = TimeEntry(
            source="bench",
            source_id=str(n),
            date=day,
            client=rng.choice(names),
            project=rng.choice(["Web", "Web", "Web", "Fixed"]),
            person=person,
            role=role,
            notes=rng.choice(NOTES),
            hours=Decimal(rng.randrange(5, 600)) / 100,
            billable=rng.random() > 0.05,
        )
        rows.append(TimeRow(row=n + 2, entry=entry, category=rng.choice(cats), approved=rng.random() > 0.1))
    return tables, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=500)
    ap.add_argument("--only-october", action="store_true", help="every entry in the billed month")
    ap.add_argument("--tracemalloc", action="store_true", help="also measure the engine's Python heap peak")
    args = ap.parse_args()

    t0 = time.perf_counter()
    tables, rows = build(args.entries, args.clients, only_october=args.only_october)
    t1 = time.perf_counter()
    book, errors = parse_book(tables)
    assert not errors, errors[:3]
    t2 = time.perf_counter()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if args.tracemalloc:
        tracemalloc.start()
    t3 = time.perf_counter()
    result = compute_invoices(rows, book, PERIOD, date(2026, 11, 1))
    t4 = time.perf_counter()
    heap_peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
    if args.tracemalloc:
        tracemalloc.stop()
    preview = preview_rows(result, None)
    t5 = time.perf_counter()
    in_period = sum(1 for r in rows if PERIOD.contains(r.entry.date))
    report = {
        "entries": len(rows),
        "entries_in_period": in_period,
        "clients": args.clients,
        "rule_rows": len(tables["Rules"]) - 1,
        "rate_rows": len(tables["Rates"]) - 1,
        "invoices": len(result.drafts),
        "held": len(result.held),
        "lines": sum(len(d.lines) for d in result.drafts),
        "preview_rows": len(preview),
        "seconds": {
            "generate": round(t1 - t0, 2),
            "parse_book": round(t2 - t1, 3),
            "compute_invoices": round(t4 - t3, 2),
            "preview_rows": round(t5 - t4, 2),
        },
        "entries_per_second": round(len(rows) / (t4 - t3)),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_before_engine_mb": round(rss_before / 1024, 1),
        "engine_heap_peak_mb": None if heap_peak is None else round(heap_peak / 2**20, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
