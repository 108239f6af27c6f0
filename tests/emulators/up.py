"""Every emulator at once, for trying the production path on one machine: `python -m tests.emulators up`.

It starts, on 127.0.0.1, the Google Sheets API (one spreadsheet, `demo-sheet`, no sign-in), QuickBooks Online
with Intuit OAuth (already connected: a token file is written), the Anthropic Messages API, Harvest and
Toggl (the sample agency's October 2026), and prints one block of `export NAME=value` lines that point the
product at them (also written to `--env-file`). The spreadsheet gets the contract's tabs and the sample
agency's Clients, Rates, Rules and Categories, as a team that has set up its sheet would have. State lives
in memory until Ctrl+C. docs/emulators.md walks through refresh, review, preview and create against it.

Secret Manager and Google's ID-token certificates are not started: the CLI path uses neither (the QuickBooks
tokens are in a file here; ID tokens are what the deployed functions check, see tests/test_cloud.py).
"""

from __future__ import annotations

import argparse
import errno
import os
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from tests.emulators._server import LocalServer
from tests.emulators.anthropic import AnthropicEmulator
from tests.emulators.harvest import HarvestEmulator
from tests.emulators.quickbooks import QuickBooksEmulator
from tests.emulators.sheets import SheetsEmulator
from tests.emulators.toggl import TogglEmulator

if TYPE_CHECKING:
    from functions.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CONFIG = ROOT / "functions" / "sample" / "config"
SPREADSHEET = "demo-sheet"
PERIOD = "2026-10"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulators up",
        description="Start every emulator (Google Sheets, QuickBooks + Intuit OAuth, Anthropic, Harvest, Toggl) "
        "on 127.0.0.1 and print the environment that points the product at them. Stays up until Ctrl+C; "
        "docs/emulators.md walks through a month against them.",
    )
    parser.add_argument("command", choices=["up"], help="start them all")
    parser.add_argument(
        "--source",
        choices=["harvest", "toggl"],
        default="harvest",
        help="the time tracker refresh pulls from (default: %(default)s)",
    )
    parser.add_argument(
        "--env-file", type=Path, default=None, metavar="FILE", help="also write the export lines to FILE"
    )
    parser.add_argument(
        "--any-port",
        action="store_true",
        help="pick free ports instead of each emulator's default (8089, 8765, 8766, 8767, 8768)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the QuickBooks token file goes (default: a new temporary folder)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds added to every QuickBooks, Harvest and Toggl call, to watch the progress bars (default: 0)",
    )
    return parser


def start_all(args: argparse.Namespace) -> tuple[list[LocalServer], dict[str, str]]:
    """Start the emulators; their settings, in the order to export them."""
    sheets = SheetsEmulator(require_auth=False)
    sheets.create(SPREADSHEET)
    qbo = QuickBooksEmulator(latency=args.latency)
    claude = AnthropicEmulator(api_key="local-test-key")
    harvest = HarvestEmulator(latency=args.latency)
    toggl = TogglEmulator(latency=args.latency)
    servers: list[LocalServer] = [sheets, qbo, claude, harvest, toggl]
    started: list[LocalServer] = []
    try:
        for server in servers:
            server.start(0 if args.any_port else server.default_port)
            started.append(server)
    except OSError as exc:
        for server in started:
            server.stop()
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise SystemExit(
                f"Cannot listen on {server.default_port} for the {server.title} emulator ({exc.strerror}): "
                "stop what uses it (another emulator?), or pass --any-port."
            ) from None
        raise
    state = args.state_dir or Path(tempfile.mkdtemp(prefix="invoicing-emulators-"))
    env: dict[str, str] = {}
    env.update(sheets.env())
    env.update(qbo.env())
    env["QBO_TOKEN_STORE"] = "file:" + str(connect_quickbooks(qbo, state))
    env.update(claude.env())
    env.update(toggl.env())
    env.update(harvest.env())
    env["TIME_SOURCE"] = args.source
    seed_sheet(env)
    return servers, env


def connect_quickbooks(qbo: QuickBooksEmulator, state: Path) -> Path:
    """What `python main.py connect quickbooks` leaves behind: the emulator's tokens in a 0600 file."""
    from functions.accounting.qbo_tokens import FileTokenStore, TokenSet

    issued = qbo.oauth.issue()
    now = datetime.now(UTC)
    path = state / "qbo-tokens.json"
    FileTokenStore(path).save(
        TokenSet(
            access_token=issued["access_token"],
            refresh_token=issued["refresh_token"],
            realm_id=qbo.realm_id,
            access_expires_at=(now + timedelta(seconds=int(issued["expires_in"]))).isoformat(),
            refresh_expires_at=(now + timedelta(seconds=int(issued["x_refresh_token_expires_in"]))).isoformat(),
        )
    )
    return path


def seed_sheet(env: dict[str, str]) -> None:
    """The contract's tabs and the sample agency's settings tabs, written through the product's own adapter."""
    from functions.settings import Settings

    os.environ.update(env)  # read as the product will read them
    seed_settings(Settings())


def seed_settings(settings: Settings) -> None:
    """Set up the sheet of `settings` as a team that has set up its sheet has it: tabs and the sample's settings."""
    from functions.config import build_sheet
    from functions.sheet.session import CONFIG_TABS, SheetSession

    store = build_sheet(settings)
    store.ensure_layout(setup=True)
    session = SheetSession(store, list(CONFIG_TABS))
    session.seed_config(CONFIG_TABS, SAMPLE_CONFIG)
    session.commit()


def exports(env: dict[str, str]) -> str:
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # `kill` stops them as cleanly as Ctrl+C does


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    servers, env = start_all(args)
    try:
        lines = ["Emulators on 127.0.0.1 (state in memory until Ctrl+C):"]
        for server in servers:
            lines.append(f"  {server.title:<34} {server.base_url}  ({server.summary()})")
        lines += ["", "Point the product at them (paste into your shell):", exports(env).rstrip()]
        if args.env_file:
            args.env_file.write_text(exports(env), encoding="utf-8")
            lines += ["", f"(also written to {args.env_file}: `source {args.env_file}` in another shell)"]
        lines += [
            "",
            f"Then, in this repository: python main.py refresh --period {PERIOD}; python main.py review --period "
            f"{PERIOD} --list; python main.py review --period {PERIOD} --approve-all; python main.py preview "
            f"--period {PERIOD}; python main.py create-invoices --period {PERIOD} "
            "(docs/emulators.md).",
            "Ctrl+C stops them.",
        ]
        print("\n".join(lines), flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
