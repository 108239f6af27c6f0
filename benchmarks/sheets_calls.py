"""How many Sheets API calls (and how many bytes and cells) a refresh and a create-invoices cost, by row count.

It runs the real pipeline through the production Google Sheets adapter (gspread) against the local Sheets
emulator, with a synthetic time source of N entries, the offline categorizer and the local ledger:

    setup (layout + categories) -> refresh #1 (N new rows) -> a person approves every row (one USER_ENTERED write,
    not counted) -> refresh #2 (nothing changed) -> preview -> create_invoices -> create_invoices again

    .venv/bin/python -m benchmarks.sheets_calls            # 200, 2,000 and 20,000 rows
    .venv/bin/python -m benchmarks.sheets_calls 500 5000   # other sizes

The count must not grow with rows; the payload does, and is compared with Google's 10 million cell limit.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from functions.config import Settings, bootstrap
from functions.models import Period, TimeEntry
from functions.pipeline import create_invoices, preview, refresh
from functions.ports import ImportResult, Progress, no_progress
from functions.sheet.contract import load_contract
from functions.sheet.gsheets import GoogleSheet, GoogleSheetsSettings
from tests.emulators.google_certs import service_account_file
from tests.emulators.sheets import CELL_LIMIT, SheetsEmulator
from tests.seeding import seed_categories

PERIOD = Period.parse("2026-10")
CLIENTS = [f"Client {c:02d}" for c in range(25)]
PEOPLE = [
    ("Ana Ruiz", "Principal Engineer"),
    ("Ben Okafor", "Senior Developer"),
    ("Chloe Martin", "Designer"),
    ("Dev Patel", "Developer"),
    ("Eva Novak", "Project Manager"),
    ("Femi Adeyemi", "QA Engineer"),
]
WORDS = [
    "fix login bug",
    "design review",
    "sprint planning",
    "API integration",
    "deploy to staging",
    "client call",
    "write tests",
    "refactor billing",
    "update docs",
    "performance tuning",
]


class SyntheticSource:
    """N entries spread over the period, 25 clients and 6 people (seeded, so runs compare)."""

    def __init__(self, n: int, seed: int = 7):
        rnd = random.Random(seed)
        self.entries = tuple(
            TimeEntry(
                source="bench",
                source_id=str(i),
                date=PERIOD.start + timedelta(days=rnd.randrange(28)),
                client=CLIENTS[i % len(CLIENTS)],
                project="Retainer",
                task="Development",
                person=(p := PEOPLE[rnd.randrange(len(PEOPLE))])[0],
                role=p[1],
                notes=f"{rnd.choice(WORDS)} #{i}",
                hours=f"{rnd.randrange(1, 16) / 4:.2f}",
                currency="USD",
            )
            for i in range(n)
        )

    def fetch(self, period: Period, progress: Progress = no_progress) -> ImportResult:
        return ImportResult(entries=self.entries, covers=("bench",), descriptions=(f"{len(self.entries)} synthetic",))


def _calls(emu: SheetsEmulator, mark: int) -> dict[str, Any]:
    calls = [c for c in emu.calls[mark:] if c["path"].startswith("/v4/")]
    kinds: dict[str, int] = {}
    for c in calls:
        tail = c["path"].rsplit("/", 1)[-1]
        name = tail.split(":", 1)[1] if ":" in tail and not tail.startswith("values") else tail
        key = f"{c['method']} {'get' if c['method'] == 'GET' and ':' not in tail else name}"
        kinds[key] = kinds.get(key, 0) + 1
    return {"calls": len(calls), "by_kind": kinds, "bytes_sent": sum(c["bytes"] for c in calls)}


def _approve_everything(emu: SheetsEmulator, sid: str) -> None:
    """The person's part, done straight in the emulator's state (not counted): approve rows, set rates."""
    ss = emu.spreadsheets[sid]
    time_tab = ss.sheet("Time")
    header = [time_tab.cells.get((0, c)) for c in range(time_tab.extent()[1])]
    approved = header.index("Approved")
    for r in range(1, time_tab.extent()[0]):
        time_tab.cells[(r, approved)] = True
    rates = ss.sheet("Rates")
    rate_header = [rates.cells.get((0, c)) for c in range(rates.extent()[1])]
    for i, client in enumerate(CLIENTS, start=1):
        rates.cells[(i, rate_header.index("Client"))] = client
        rates.cells[(i, rate_header.index("Rate"))] = 150


def measure(n: int) -> dict[str, Any]:
    emu = SheetsEmulator()
    url = emu.start()
    sid = f"bench-{n}"
    emu.create(sid)
    with tempfile.TemporaryDirectory() as tmp:
        sa = service_account_file(Path(tmp), url + "/token")
        sheet = GoogleSheet.from_settings(
            GoogleSheetsSettings(spreadsheet_id=sid, credentials_file=sa, api_base_url=url, timeout_seconds=600)
        )
        seed_categories(sheet)  # setup-sheet's part (not counted below: the counts start at refresh #1)
        services = bootstrap(
            Settings(workdir=Path(tmp) / "work", ai_enabled=False), sheet=sheet, source=SyntheticSource(n)
        )
        out: dict[str, Any] = {"rows": n}
        for label, run in [
            ("refresh_first", lambda: refresh(services, PERIOD)),
            ("approve", lambda: _approve_everything(emu, sid)),
            ("refresh_again", lambda: refresh(services, PERIOD)),
            ("preview", lambda: preview(services, PERIOD)),
            ("create", lambda: create_invoices(services, PERIOD)),
            ("create_again", lambda: create_invoices(services, PERIOD)),
        ]:
            mark = len(emu.calls)
            started = time.perf_counter()
            result = run()
            if label == "approve":
                continue
            out[label] = {**_calls(emu, mark), "seconds": round(time.perf_counter() - started, 2)}
            if label.startswith("create"):
                out[label]["invoices_created"] = getattr(result, "created", None)
        ss = emu.spreadsheets[sid]
        time_tab = ss.sheet("Time")
        rows, cols = time_tab.extent()
        out["time_tab_cells"] = rows * cols
        out["spreadsheet_grid_cells"] = ss.cell_count()
        out["share_of_10M_limit"] = f"{ss.cell_count() / CELL_LIMIT:.2%}"
        # the contract's Time width decides how many rows fit before Google's limit (other tabs are small)
        width = len(load_contract().tab("Time").columns)
        out["max_time_rows_under_limit"] = (
            CELL_LIMIT - (ss.cell_count() - time_tab.grid["rowCount"] * time_tab.grid["columnCount"])
        ) // width
    emu.stop()
    return out


def main(argv: list[str]) -> None:
    sizes = [int(a.replace(",", "")) for a in argv] or [200, 2_000, 20_000]
    results = [measure(n) for n in sizes]
    print(json.dumps(results, indent=2))
    print(
        "\nrows    | refresh#1 | refresh#2 | preview | create | create#2 "
        "| refresh#1 bytes | create bytes | grid cells (of 10M)"
    )
    for r in results:
        print(
            f"{r['rows']:>7} | {r['refresh_first']['calls']:>9} | {r['refresh_again']['calls']:>9} | "
            f"{r['preview']['calls']:>7} | {r['create']['calls']:>6} | {r['create_again']['calls']:>8} | "
            f"{r['refresh_first']['bytes_sent']:>15,} | {r['create']['bytes_sent']:>12,} | "
            f"{r['spreadsheet_grid_cells']:,} ({r['share_of_10M_limit']})"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
