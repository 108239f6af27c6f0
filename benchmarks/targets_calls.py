"""API calls and wall time to create invoices in Xero and in Stripe, first run and re-run.

Runs the real adapters (xero-python, stripe) against the local emulators with a fixed latency per API call
(150 ms by default), for 25 and 250 invoices:

    .venv/bin/python -m benchmarks.targets_calls                      # both targets, 25 and 250
    .venv/bin/python -m benchmarks.targets_calls --targets stripe --counts 25

Xero: invoices go in batches of 50 (PUT /Invoices); each new invoice gets its time-detail CSV (one upload
each, which Xero's 60 calls a minute then paces; `--no-attach` leaves them out). Stripe: one draft and one
add_lines per invoice, 8 in flight. A re-run finds every invoice and creates nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from benchmarks.quickbooks_calls import drafts
from functions.accounting.qbo_tokens import FileTokenStore, TokenSet, utcnow
from functions.accounting.stripe_accounting import StripeAccounting
from functions.accounting.stripe_client import StripeSettings
from functions.accounting.xero_accounting import XeroAccounting
from functions.accounting.xero_client import XeroApi, XeroSettings
from tests.emulators.stripe import API_KEY, StripeEmulator
from tests.emulators.xero import CLIENT_ID, CLIENT_SECRET, XeroEmulator


def xero(n: int, latency: float, attach: bool) -> tuple[object, object, object]:
    emu = XeroEmulator(latency=latency)
    emu.add_item("Development")
    for i in range(n):
        emu.add_contact(f"Bench Client {i:03d}")
    emu.start()
    tmp = Path(tempfile.mkdtemp(prefix="xero-bench-"))
    grant = emu.issue()
    store = FileTokenStore(tmp / "tokens.json")
    store.save(
        TokenSet(
            access_token=grant["access_token"],
            refresh_token=grant["refresh_token"],
            realm_id="",
            access_expires_at=(utcnow() + timedelta(minutes=30)).isoformat(),
        )
    )
    settings = XeroSettings(
        _env_file=None,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        base_url=emu.base_url,
        token_store=f"file:{tmp / 'tokens.json'}",
        attach_time_detail=attach,
    )
    return emu, lambda: XeroAccounting(XeroApi(settings, store)), lambda: len(emu.live())


def stripe(n: int, latency: float, attach: bool) -> tuple[object, object, object]:
    emu = StripeEmulator(latency=latency)
    for i in range(n):
        emu.add_customer(f"Bench Client {i:03d}")
    emu.start()
    settings = StripeSettings(_env_file=None, api_key=API_KEY, base_url=emu.base_url)
    return emu, lambda: StripeAccounting(settings), lambda: len(emu.live())


TARGETS = {"xero": xero, "stripe": stripe}


def run(target: str, n: int, latency: float, attach: bool) -> dict:
    emu, make, live = TARGETS[target](n, latency, attach)
    try:
        ds, entries = drafts(n)
        start = time.perf_counter()
        created = make().create_invoices(ds, entries)  # type: ignore[operator]
        wall = time.perf_counter() - start
        assert len(created) == n == live(), "every invoice exactly once"  # type: ignore[operator]
        calls = len(emu.calls)  # type: ignore[attr-defined]
        if target == "xero":
            emu._recent.clear()  # type: ignore[attr-defined]  # the re-run comes a minute later
        start = time.perf_counter()
        again = make().create_invoices(ds, entries)  # type: ignore[operator]
        assert all(c.status == "existing" for c in again) and live() == n  # type: ignore[operator]
        return {
            "calls": calls,
            "wall": wall,
            "rerun_calls": len(emu.calls) - calls,  # type: ignore[attr-defined]
            "rerun_wall": time.perf_counter() - start,
        }
    finally:
        emu.stop()  # type: ignore[attr-defined]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--targets", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    p.add_argument("--counts", type=int, nargs="+", default=[25, 250])
    p.add_argument("--latency", type=float, default=0.15)
    p.add_argument("--no-attach", action="store_true")
    args = p.parse_args()
    print(f"latency {args.latency * 1000:.0f} ms per API call; Xero attachments {'off' if args.no_attach else 'on'}\n")
    print("| target | invoices | API calls | wall s | re-run calls | re-run s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for target in args.targets:
        for n in args.counts:
            r = run(target, n, args.latency, not args.no_attach)
            print(
                f"| {target} | {n} | {r['calls']} | {r['wall']:.1f} | {r['rerun_calls']} | {r['rerun_wall']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
