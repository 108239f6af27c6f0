"""API calls and wall time to pull a month of Harvest time entries through the real source.

Runs HarvestSource (requests) against the local Harvest emulator with a fixed latency per API call (100 ms by
default) and Harvest's rate limit (100 requests per 15 s, answered with 429 + Retry-After), for 2,000 and
20,000 entries in the month, at 2,000 entries a page (what the source asks for) and, for contrast, 100 a page
(what many clients use). "calls" is the first contact with the account (an empty Sync tab); "new month calls"
is the full pull of the next month, the account's web address and people from the Sync tab's cache of the
first; "re-run calls" is a refresh an hour later with nothing changed (`updated_since`):

    .venv/bin/python -m benchmarks.harvest_calls                       # full table
    .venv/bin/python -m benchmarks.harvest_calls --per-page 2000        # only the source's setting
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from functions.models import Period
from functions.sources import sync
from functions.sources.harvest import HarvestClient, HarvestSettings, HarvestSource
from tests.emulators.harvest import HarvestEmulator


def run(entries: int, per_page: int, latency: float) -> dict[str, object]:
    emu = HarvestEmulator(latency=latency, seed=False)
    emu.seed(entries, "2026-10")
    already = sum(e["spent_date"].startswith("2026-11") for e in emu.entries.values())  # the seed's edge days
    emu.add_random_entries(entries - already, "2026-11")
    emu.start()
    try:
        env = emu.env()
        settings = HarvestSettings(
            account_id=env["HARVEST_ACCOUNT_ID"],
            token=SecretStr(env["HARVEST_TOKEN"]),
            user_agent=env["HARVEST_USER_AGENT"],
            base_url=env["HARVEST_BASE_URL"],
            per_page=per_page,
            retry_budget_seconds=600,
            max_attempts=20,
        )
        client = HarvestClient(settings)
        source = HarvestSource(settings, client)
        period = Period.parse("2026-10")
        started = time.perf_counter()
        now = datetime.now(UTC)
        result = sync.fetch_one(source, period, {}, now)
        wall = time.perf_counter() - started
        assert len(result.entries) == entries, (len(result.entries), entries)
        first = client.calls
        # the next month's first (full) pull, with the Sync tab as refresh keeps it after October
        marks = {(m.source, m.period): m for m in result.marks}
        november = sync.fetch_one(source, Period.parse("2026-11"), marks, now + timedelta(minutes=5))
        assert len(november.entries) == entries, (len(november.entries), entries)
        new_month = client.calls - first
        # the re-run (refresh again with nothing changed): the watermark in the Sync tab, as refresh keeps it;
        # the emulator stamped every entry "now" when it was made, so date them back before the first sync
        for e in emu.entries.values():
            e["updated_at"] = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        sync.fetch_one(source, period, marks, now + timedelta(hours=1))
        return {
            "entries": entries,
            "per_page": per_page,
            "calls": first,
            "new month calls": new_month,
            "re-run calls": client.calls - first - new_month,
            "throttled (429)": emu.throttled,
            "wall s": f"{wall:.2f}",
        }
    finally:
        emu.stop()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--counts", default="2000,20000")
    p.add_argument("--per-page", default="2000,100")
    p.add_argument("--latency", type=float, default=0.1)
    args = p.parse_args(argv)
    rows = [
        run(n, pp, args.latency)
        for pp in (int(x) for x in args.per_page.split(","))
        for n in (int(x) for x in args.counts.split(","))
    ]
    headers = list(rows[0])
    print(f"Harvest API source, {args.latency * 1000:.0f} ms per call, rate limit 100 requests / 15 s")
    print(" | ".join(f"{h:>15}" for h in headers))
    for row in rows:
        print(" | ".join(f"{str(row[h]):>15}" for h in headers))


if __name__ == "__main__":
    main()
