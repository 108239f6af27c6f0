"""Cold start: how long until each Cloud Function is ready to serve, and the CLI's `--help`, in fresh processes.

"Ready" is what a new instance does before the first request's own work: functions-framework builds its app
from main.py for the entry point, and the request wires the services its command uses (cloud._services; for
refresh also the categorizer chain, which refresh calls). Nothing reaches the network: the production
settings point at addresses nobody listens on, and wiring makes no call. Each number is the median wall
time of N fresh interpreters (interpreter start-up included), so imports are never warm.

    .venv/bin/python -m benchmarks.import_time                      # this checkout, 5 runs each
    .venv/bin/python -m benchmarks.import_time --root ../other --repeat 9

The table also says which of anthropic, rich and flask each process imported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WATCHED = ("anthropic", "rich", "flask")

# The deployed configuration (deploy/functions.sh), aimed at closed ports; the secrets are placeholders.
# GOOGLE_SHEETS_SPREADSHEET_ID is the sheet id's name before it became GOOGLE_SHEET_ID: for --root on older code.
PRODUCTION = {
    "SHEET": "google",
    "GOOGLE_SHEET_ID": "bench-sheet",
    "GOOGLE_SHEETS_SPREADSHEET_ID": "bench-sheet",
    "GOOGLE_SHEETS_API_BASE_URL": "http://127.0.0.1:9",
    "ACCOUNTING": "quickbooks",
    "QBO_CLIENT_ID": "bench",
    "QBO_CLIENT_SECRET": "bench",
    "QBO_BASE_URL": "http://127.0.0.1:9",
    "TIME_SOURCE": "harvest",
    "HARVEST_ACCOUNT_ID": "1",
    "HARVEST_TOKEN": "bench",
    "HARVEST_USER_AGENT": "Bench (bench@example.com)",
    "HARVEST_BASE_URL": "http://127.0.0.1:9",
    "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
    "INVOICING_ALLOWED_CALLERS": "bench@example.com",
    "INVOICING_AUDIENCES": "https://bench.example",
}

CLOUD = """
import sys, time, json
import functions_framework
app = functions_framework.create_app(target={entry!r}, source="main.py")
from functions import cloud
services = cloud._services(cloud.CloudSettings(), {command!r}, "bench@example.com")
if {command!r} == "refresh":
    services.categorizer  # refresh calls it; the other jobs never do
print(json.dumps({{m: m in sys.modules for m in {watched!r}}}))
"""

CLI = """
import runpy, sys, json, contextlib, io
sys.argv = ["main.py", "--help"]
with contextlib.redirect_stdout(io.StringIO()):
    try:
        runpy.run_path("main.py", run_name="__main__")
    except SystemExit:
        pass
print(json.dumps({{m: m in sys.modules for m in {watched!r}}}))
"""

AI_ON = {"AI_ENABLED": "true", "ANTHROPIC_API_KEY": "bench-key"}
SCENARIOS = [
    # deploy/functions.sh gives all three functions the same settings: AI on, with its key
    ("preview", CLOUD.format(entry="preview", command="preview", watched=WATCHED), AI_ON),
    ("create_invoices", CLOUD.format(entry="create_invoices", command="create_invoices", watched=WATCHED), AI_ON),
    ("refresh, AI off", CLOUD.format(entry="refresh", command="refresh", watched=WATCHED), {"AI_ENABLED": "false"}),
    ("refresh, AI on", CLOUD.format(entry="refresh", command="refresh", watched=WATCHED), AI_ON),
    ("python main.py --help", CLI.format(watched=WATCHED), {}),
]


def run_once(root: Path, code: str, extra: dict[str, str], workdir: str) -> tuple[float, dict[str, bool]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON",))}
    env.update(PRODUCTION)
    env.update(extra)
    env.update({"WORKDIR": workdir, "QBO_TOKEN_STORE": f"file:{workdir}/tokens.json"})
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed in {root}:\n{done.stderr[-2000:]}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per entry (median reported)")
    args = parser.parse_args()
    print(f"{args.root}: median of {args.repeat} fresh processes")
    print(f"{'entry':<24}{'ready s':>9}   imported")
    with tempfile.TemporaryDirectory() as workdir:
        for name, code, extra in SCENARIOS:
            runs = [run_once(args.root.resolve(), code, extra, workdir) for _ in range(args.repeat)]
            seconds = statistics.median(wall for wall, _ in runs)
            imported = ", ".join(m for m, yes in runs[-1][1].items() if yes) or "-"
            print(f"{name:<24}{seconds:>9.2f}   {imported}")


if __name__ == "__main__":
    main()
