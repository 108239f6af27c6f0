"""What the Dashboard tab costs on the demo month against the local Sheets emulator: Sheets API calls and
seconds per run, with the dashboard and without it (its one call per job replaced by nothing).

    /work/main/.venv/bin/python -m benchmarks.dashboard_cost
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from functions import pipeline
from functions.config import Settings, bootstrap, csv_source
from functions.demo import DEMO_PERIOD, SAMPLE, review_as_person, sample_labels
from functions.models import Period
from functions.sheet.gsheets import GoogleSheet, GoogleSheetsSettings
from tests.emulators.google_certs import service_account_file
from tests.emulators.sheets import SheetsEmulator


def demo_month(emu: SheetsEmulator, work: Path, name: str) -> list[tuple[str, int, float, float]]:
    """(job, Sheets calls, seconds, seconds in the dashboard) for each run of the demo month."""
    emu.create(name, "Agency invoicing")
    work.mkdir(parents=True)
    sheet = GoogleSheet.from_settings(
        GoogleSheetsSettings(
            spreadsheet_id=name,
            credentials_file=service_account_file(work, emu.base_url + "/token"),
            api_base_url=emu.base_url,
        )
    )
    settings = Settings(workdir=work)
    period = Period.parse(DEMO_PERIOD)
    history = [p for p in sorted((SAMPLE / "history").glob("*.csv")) if "labels" not in p.name]
    services = bootstrap(settings, sheet=sheet, source=csv_source(history))
    pipeline.refresh(services, period.previous(), config_dir=SAMPLE / "config")
    review_as_person(services, period.previous(), sample_labels())
    pipeline.create_invoices(services, period.previous())
    services = bootstrap(settings, sheet=sheet, source=csv_source(sorted((SAMPLE / "exports").glob("*.csv"))))
    jobs: list[tuple[str, Callable[[], Any]]] = [
        ("refresh", lambda: pipeline.refresh(services, period, config_dir=SAMPLE / "config")),
        ("preview", lambda: pipeline.preview(services, period)),
        ("create-invoices", lambda: pipeline.create_invoices(services, period)),
        ("refresh again", lambda: pipeline.refresh(services, period, config_dir=SAMPLE / "config")),
    ]
    out = []
    for job, run in jobs:
        if job == "preview":
            review_as_person(services, period, sample_labels())
        emu.reset_calls()
        spent.clear()
        started = time.perf_counter()
        run()
        out.append((job, len(emu.sheets_calls()), time.perf_counter() - started, sum(spent)))
    return out


spent: list[float] = []


def main() -> None:
    real = pipeline._dashboard

    def timed(*args: Any) -> None:
        t = time.perf_counter()
        real(*args)
        spent.append(time.perf_counter() - t)

    with SheetsEmulator(require_auth=True) as emu, tempfile.TemporaryDirectory() as tmp:
        pipeline._dashboard = timed  # type: ignore[assignment]
        on = demo_month(emu, Path(tmp) / "on", "with-dashboard")
        pipeline._dashboard = lambda *args: None  # type: ignore[assignment]
        off = demo_month(emu, Path(tmp) / "off", "without-dashboard")
        pipeline._dashboard = real
    print(f"{'job':16} {'calls with':>10} {'without':>8} {'seconds with':>13} {'without':>8} {'dashboard s':>12}")
    for (job, calls, secs, dash), (_, calls0, secs0, _) in zip(on, off, strict=True):
        print(f"{job:16} {calls:>10} {calls0:>8} {secs:>13.2f} {secs0:>8.2f} {dash:>12.3f}")


if __name__ == "__main__":
    main()
