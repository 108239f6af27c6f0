"""API calls and wall time to create invoices in QuickBooks, batched versus one invoice per call.

Runs the real adapter (python-quickbooks + intuit-oauth) against the local emulator with a fixed latency per
API call (150 ms by default, about what a QuickBooks call takes from a cloud function), for 25 and 250 invoices:

    .venv/bin/python -m benchmarks.quickbooks_calls                # full table
    .venv/bin/python -m benchmarks.quickbooks_calls --counts 25     # quicker

Modes: `batch` (30 invoices per batch request, 10 requests in flight), `single x10` (one invoice per call,
10 in flight), `single x1` (one invoice per call, one at a time: what a naive loop does). Each created
invoice also gets its time-detail CSV attached (25 files per upload request); `--no-attach` leaves that out.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from functions.accounting import qbo_client
from functions.accounting.qbo_tokens import FileTokenStore, TokenSet, utcnow
from functions.accounting.quickbooks import QuickBooksAccounting, QuickBooksSettings
from functions.models import InvoiceDraft, InvoiceLine, TimeEntry
from tests.emulators.quickbooks import QuickBooksEmulator

MODES = {
    "batch": dict(batch_size=30, max_concurrency=10),
    "single x10": dict(batch_size=1, max_concurrency=10),
    "single x1": dict(batch_size=1, max_concurrency=1),
}


def drafts(n: int) -> tuple[list[InvoiceDraft], dict[str, TimeEntry]]:
    out, entries = [], {}
    for i in range(n):
        client = f"Bench Client {i:03d}"
        refs = []
        for j in range(3):
            e = TimeEntry(
                source="harvest",
                source_id=f"{i}-{j}",
                date=date(2026, 10, 1 + j),
                client=client,
                person="Ana Ruiz",
                notes="work",
                hours="2.5",
            )
            entries[e.ref] = e
            refs.append(e.ref)
        lines = (
            InvoiceLine(
                description="Development - Oct 2026",
                line_item="Development",
                quantity=Decimal("7.5"),
                unit_price=Decimal("150"),
                amount=Decimal("1125.00"),
                entry_refs=tuple(refs),
            ),
        )
        out.append(
            InvoiceDraft(
                client=client,
                customer="",
                period="2026-10",
                currency="USD",
                issue_date=date(2026, 11, 1),
                due_date=date(2026, 12, 1),
                terms="Net 30",
                lines=lines,
            )
        )
    return out, entries


def run(n: int, mode: str, latency: float, attach: bool) -> dict:
    qbo_client._THROTTLES.clear()
    emu = QuickBooksEmulator()
    emu.latency_ms = latency * 1000  # the one latency switch every emulator shares (tests/emulators/_server.py)
    for i in range(n):
        emu._insert("Customer", {"DisplayName": f"Bench Client {i:03d}", "CurrencyRef": {"value": "USD"}})
    emu.start()
    try:
        tmp = Path(tempfile.mkdtemp(prefix="qbo-bench-"))
        tokens = emu.oauth.issue()
        store = FileTokenStore(tmp / "tokens.json")
        store.save(
            TokenSet(
                access_token=tokens["access_token"],
                refresh_token=tokens["refresh_token"],
                realm_id=emu.realm_id,
                access_expires_at=(utcnow() + timedelta(hours=1)).isoformat(),
            )
        )
        settings = QuickBooksSettings(
            _env_file=None,
            client_id=emu.oauth.client_id,
            client_secret=emu.oauth.client_secret,
            base_url=emu.base_url,
            attach_time_detail=attach,
            **MODES[mode],
        )
        qbo = QuickBooksAccounting(settings, store)
        ds, entries = drafts(n)
        start = time.perf_counter()
        qbo.check(ds)
        created = qbo.create_invoices(ds, entries)
        wall = time.perf_counter() - start
        assert len(created) == n == len(emu.all("Invoice")), "every invoice exactly once"
        first = {
            "calls": len(emu.calls),
            "queries": emu.count("/query") + emu.count("/batch#query"),
            "uploads": emu.count("/upload"),
            "creates": emu.count("/batch#create") + emu.count("/invoice"),
        }
        # The rerun comes "a minute later": QuickBooks' per-minute budget (and ours) starts afresh.
        qbo_client._THROTTLES.clear()
        emu._recent.clear()
        rerun_start = time.perf_counter()
        calls_before = len(emu.calls)
        again = QuickBooksAccounting(settings, store).create_invoices(ds, entries)
        assert all(c.status == "existing" for c in again) and len(emu.all("Invoice")) == n
        return {
            "n": n,
            "mode": mode,
            **first,
            "throttled": emu.throttled,
            "wall": wall,
            "rerun_calls": len(emu.calls) - calls_before,
            "rerun_wall": time.perf_counter() - rerun_start,
        }
    finally:
        emu.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--counts", type=int, nargs="+", default=[25, 250])
    p.add_argument("--latency", type=float, default=0.15)
    p.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    p.add_argument("--no-attach", action="store_true")
    args = p.parse_args()
    print(f"latency {args.latency * 1000:.0f} ms per API call; attachments {'off' if args.no_attach else 'on'}\n")
    print("| invoices | mode | API calls | queries | create calls | uploads | 429s | wall s | rerun calls | rerun s |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in args.counts:
        for mode in args.modes:
            r = run(n, mode, args.latency, not args.no_attach)
            print(
                f"| {n} | {mode} | {r['calls']} | {r['queries']} | {r['creates']} | {r['uploads']} | "
                f"{r['throttled']} | {r['wall']:.1f} | {r['rerun_calls']} | {r['rerun_wall']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
