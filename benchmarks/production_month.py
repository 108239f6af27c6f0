"""The production month end to end: refresh + preview + create-invoices of the sample agency (25 clients, its
three October exports) through Google Sheets (gspread) and QuickBooks (python-quickbooks), each against its
local emulator, with the same latency in front of every call (EMULATOR_LATENCY_MS, 150 ms by default).

    .venv/bin/python -m benchmarks.production_month              # 3 runs, 150 ms per call
    EMULATOR_LATENCY_MS=0 .venv/bin/python -m benchmarks.production_month --runs 1

Each run starts from fresh emulators and a fresh process state (no cached token): the sheet is set up and
its settings tabs seeded first (not timed, as setup-sheet does once); then the month is timed, the person's
review in between (not timed), and then the same three commands again (the re-run: nothing new).
Reports the wall time of the month and the exact API calls per command, first run and re-run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).resolve().parents[1] / "functions" / "sample"
PERIOD = "2026-10"


def _qbo(emu: Any, tmp: Path) -> Any:
    from functions.accounting import qbo_client
    from functions.accounting.qbo_tokens import FileTokenStore, TokenSet, utcnow
    from functions.accounting.quickbooks import QuickBooksAccounting, QuickBooksSettings

    qbo_client._THROTTLES.clear()
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
        _env_file=None, client_id=emu.oauth.client_id, client_secret=emu.oauth.client_secret, base_url=emu.base_url
    )
    return QuickBooksAccounting(settings, store)


def one_run() -> dict[str, Any]:
    from functions import auth, pipeline
    from functions.config import Settings, bootstrap, csv_source
    from functions.demo import review_as_person, sample_labels
    from functions.models import Period
    from functions.sheet.gsheets import GoogleSheet, GoogleSheetsSettings
    from functions.sheet.session import CONFIG_TABS, SheetSession
    from tests.emulators.google_certs import service_account_file
    from tests.emulators.quickbooks import QuickBooksEmulator
    from tests.emulators.sheets import SheetsEmulator

    auth._CREDENTIALS.clear()  # a fresh process: its first call fetches a token
    period = Period.parse(PERIOD)
    sheets, qbo_emu = SheetsEmulator(), QuickBooksEmulator()
    url = sheets.start()
    qbo_emu.start()
    sheets.create("month")
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            sa = service_account_file(tmp, url + "/token")
            gs = GoogleSheetsSettings(
                spreadsheet_id="month", credentials_file=sa, api_base_url=url, timeout_seconds=600
            )
            exports = sorted((SAMPLE / "exports").glob("*.csv"))
            services = bootstrap(
                Settings(workdir=tmp / "work", ai_enabled=False, _env_file=None),
                sheet=GoogleSheet.from_settings(gs),
                source=csv_source(exports),
                accounting=_qbo(qbo_emu, tmp),
            )
            # setup-sheet, once (not timed): the tabs and the agency's settings
            services.sheet.ensure_layout(setup=True)
            seed = SheetSession(services.sheet, list(CONFIG_TABS))
            seed.seed_config(CONFIG_TABS, SAMPLE / "config")
            seed.commit()
            out: dict[str, Any] = {"seconds": {}, "sheets": {}, "quickbooks": {}}
            labels = sample_labels()

            def step(name: str, fn: Any) -> Any:
                s_mark, q_mark = len(sheets.calls), len(qbo_emu.calls)
                started = time.perf_counter()
                result = fn()
                out["seconds"][name] = time.perf_counter() - started
                out["sheets"][name] = len([c for c in sheets.calls[s_mark:] if c["path"].startswith("/v4/")])
                out["sheets"][name + " token"] = len([c for c in sheets.calls[s_mark:] if c["path"] == "/token"])
                out["quickbooks"][name] = len(qbo_emu.calls[q_mark:])
                return result

            refreshed = step("refresh", lambda: pipeline.refresh(services, period))
            review_as_person(services, period, labels)  # the person, not timed
            step("preview", lambda: pipeline.preview(services, period))
            created = step("create", lambda: pipeline.create_invoices(services, period))
            step("refresh again", lambda: pipeline.refresh(services, period))
            step("preview again", lambda: pipeline.preview(services, period))
            again = step("create again", lambda: pipeline.create_invoices(services, period))
            out["entries"] = refreshed.imported
            out["clients"] = len(refreshed.clients)
            out["invoices"] = created.created
            out["invoices existing on re-run"] = again.existing
            out["files attached"] = len(qbo_emu.all("Attachable"))
            out["time_tab_rows"] = len(sheets.values("month", "Time")) - 1
            out["month_seconds"] = sum(out["seconds"][k] for k in ("refresh", "preview", "create"))
            return out
    finally:
        sheets.stop()
        qbo_emu.stop()


def measure(runs: int) -> dict[str, Any]:
    results = [one_run() for _ in range(runs)]
    first = results[0]
    return {
        "runs": runs,
        "latency_ms": float(os.environ.get("EMULATOR_LATENCY_MS", "0") or 0),
        "month_seconds_median": statistics.median(r["month_seconds"] for r in results),
        "month_seconds_all": [round(r["month_seconds"], 2) for r in results],
        "seconds_median": {k: statistics.median(r["seconds"][k] for r in results) for k in first["seconds"]},
        "sheets_calls": first["sheets"],
        "quickbooks_calls": first["quickbooks"],
        **{k: first[k] for k in ("entries", "clients", "invoices", "invoices existing on re-run", "files attached")},
        "time_tab_rows": first["time_tab_rows"],
    }


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3, help="runs to take the median of (default: %(default)s)")
    args = p.parse_args(argv)
    os.environ.setdefault("EMULATOR_LATENCY_MS", "150")
    print(json.dumps(measure(args.runs), indent=2, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
