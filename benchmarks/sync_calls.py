"""Requests and wall time of an incremental sync, per API source, for a month of 2,000 entries.

Each source runs its real client code (requests, the shared transport) against its local emulator with a fixed
latency per request (150 ms by default), through functions/sources/sync.py as refresh does: a first sync (no
watermark), a re-sync after 20 entries changed, and a re-sync with nothing changed. Timestamps are set by the
benchmark, so the overlap window (10 minutes) does not re-read the 20 edits on the third run.

    .venv/bin/python -m benchmarks.sync_calls                    # harvest, jira, asana; 2,000 entries; 150 ms
    .venv/bin/python -m benchmarks.sync_calls --sources jira --entries 20000 --latency 0.05
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from functions.models import Period
from functions.ports import SyncMark, TimeSource
from functions.settings import AsanaSettings, HarvestSettings, JiraSettings
from functions.sources import sync
from functions.sources.asana import AsanaSource
from functions.sources.harvest import HarvestClient, HarvestSource
from functions.sources.jira import JiraSource
from tests.emulators.asana import AsanaEmulator
from tests.emulators.harvest import HarvestEmulator
from tests.emulators.jira import JiraEmulator

OCT = Period.parse("2026-10")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


class Bench:
    """One source's emulator and source, with `edit(n, at)` doing what people do in the tool."""

    def __init__(self, name: str, entries: int, latency: float):
        self.name, self.now = name, T0
        if name == "harvest":
            self.emu: Any = HarvestEmulator(seed=False, rate_limit=10_000)
            self.emu.seed(entries, "2026-10")
            for e in self.emu.entries.values():
                e["updated_at"] = "2026-11-01T08:00:00Z"
        elif name == "jira":
            self.emu = JiraEmulator(seed=False, clock=lambda: _ms(self.now))
            self.emu.seed(entries, "2026-10")
        else:
            self.emu = AsanaEmulator(seed=False, clock=lambda: self.now)
            self.emu.seed(0, "2026-10")
            for project in list(self.emu.projects):  # a project of 100 tasks, ~10 entries a task in the month
                for n in range(95):
                    self.emu.add_task(project, f"Task {n}", modified=T0 - timedelta(days=30))
            self.emu.add_random_entries(entries, "2026-10")
        self.emu.start()
        self.emu.latency = latency
        self.source = self._source()

    def _source(self) -> TimeSource:
        env = self.emu.env()
        if self.name == "harvest":
            s = HarvestSettings(
                account_id=env["HARVEST_ACCOUNT_ID"],
                token=SecretStr(env["HARVEST_TOKEN"]),
                user_agent=env["HARVEST_USER_AGENT"],
                base_url=env["HARVEST_BASE_URL"],
            )
            return HarvestSource(s, HarvestClient(s))
        if self.name == "jira":
            return JiraSource.from_settings(
                JiraSettings(
                    site=env["JIRA_SITE"],
                    base_url=env["JIRA_BASE_URL"],
                    email=env["JIRA_EMAIL"],
                    api_token=SecretStr(env["JIRA_API_TOKEN"]),
                )
            )
        return AsanaSource.from_settings(
            AsanaSettings(
                token=SecretStr(env["ASANA_TOKEN"]), base_url=env["ASANA_BASE_URL"], projects=env["ASANA_PROJECTS"]
            )
        )

    def edit(self, n: int, at: datetime) -> None:
        ids = list(self.emu.entries)[:n]
        for i in ids:
            if self.name == "harvest":
                self.emu.edit_entry(i, notes="edited")
                self.emu.entries[i]["updated_at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
            elif self.name == "jira":
                self.emu.edit_worklog(i, at=_ms(at), timeSpentSeconds=1800)
            else:
                self.emu.edit_entry(i, at=at, duration_minutes=45)

    def calls(self) -> int:
        return len(self.emu.calls)

    def stop(self) -> None:
        self.emu.stop()


def run(name: str, entries: int, latency: float) -> list[dict[str, object]]:
    bench = Bench(name, entries, latency)
    marks: dict[tuple[str, str], SyncMark] = {}
    rows = []
    try:
        steps: list[tuple[str, timedelta, Callable[[], None]]] = [
            ("first sync", timedelta(0), lambda: None),
            ("20 changed", timedelta(hours=2), lambda: bench.edit(20, T0 + timedelta(hours=1))),
            ("nothing changed", timedelta(hours=4), lambda: None),
        ]
        for label, offset, before in steps:
            before()
            bench.now = T0 + offset
            start_calls = bench.calls()
            started = time.perf_counter()
            result = sync.fetch_one(bench.source, OCT, marks, bench.now)
            wall = time.perf_counter() - started
            marks.update({(m.source, m.period): m for m in result.marks})
            rows.append(
                {
                    "source": name,
                    "run": label,
                    "entries": len(result.entries),
                    "requests": bench.calls() - start_calls,
                    "wall s": f"{wall:.2f}",
                }
            )
    finally:
        bench.stop()
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--sources", default="harvest,jira,asana")
    p.add_argument("--entries", type=int, default=2000)
    p.add_argument("--latency", type=float, default=0.15)
    args = p.parse_args(argv)
    rows = [row for name in args.sources.split(",") for row in run(name.strip(), args.entries, args.latency)]
    print(f"{args.entries} entries in the month, {args.latency * 1000:.0f} ms per request")
    headers = list(rows[0])
    print(" | ".join(f"{h:>15}" for h in headers))
    for row in rows:
        print(" | ".join(f"{row[h]!s:>15}" for h in headers))


if __name__ == "__main__":
    main()
