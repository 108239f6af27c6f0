"""The local HTTP server the API emulators share: start on 127.0.0.1 (port 0 = any free port), stop; and
`serve()`, the one command that runs an emulator by hand.

An emulator subclasses LocalServer, names its request handler class in `handler`, and reads the port
from `self.port`; the handler reaches the emulator's state through `self.emu`. In tests:

    with HarvestEmulator() as emu:        # or emu.start() ... emu.stop()
        ... emu.base_url ...

To be run by hand (`python -m tests.emulators.<name> --help`), an emulator also sets `title` and
`default_port` and may override `add_arguments`, `from_arguments`, `summary`, `env` and
`instructions`; its module ends with `if __name__ == "__main__": serve(TheEmulator)`.

Latency, the same way for every emulator: `EMULATOR_LATENCY_MS=150` in the environment (read when an
emulator starts) holds every HTTP request 150 ms before its handler runs, as a call to the real API from a
cloud function takes; `latency_ms` on an emulator instance overrides it. Benchmarks set it; tests leave it 0.
"""

from __future__ import annotations

import argparse
import errno
import os
import shlex
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar, TypeVar

E = TypeVar("E", bound="LocalServer")
T = TypeVar("T", bound="TimeSourceEmulator")


class LocalServer:
    handler: ClassVar[type[BaseHTTPRequestHandler]]
    title: ClassVar[str] = "API"  # what it emulates, for the command's help and first line
    default_port: ClassVar[int] = 0  # the command's --port default; each emulator has its own
    _server: ThreadingHTTPServer | None = None
    latency_ms: float | None = None  # None: EMULATOR_LATENCY_MS from the environment, read at start()

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        emulator = self
        delay = (self.latency_ms if self.latency_ms is not None else latency_from_env()) / 1000

        class Handler(self.handler):  # type: ignore[name-defined]  # the base is each emulator's handler, set per class
            emu = emulator

            def parse_request(self) -> bool:
                # every request of every emulator waits the same, before its handler sees it
                ok = super().parse_request()
                if ok and delay > 0:
                    time.sleep(delay)
                return ok

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self.base_url

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the emulator first"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self: E) -> E:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- run by hand (serve) --------------------------------------------------------------------------
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """The command's options besides --port."""

    @classmethod
    def from_arguments(cls: type[E], args: argparse.Namespace) -> E:
        return cls()

    def summary(self) -> str:
        """What it holds, for the first line ("account 1234567, 48 entries")."""
        return "state in memory"

    def env(self) -> dict[str, str]:
        """The settings that point the product's adapter at this emulator."""
        return {}

    def instructions(self, args: argparse.Namespace) -> list[str]:
        """Lines printed after the settings: what to run next."""
        return []


def latency_from_env() -> float:
    """EMULATOR_LATENCY_MS as a number of milliseconds (0 when unset); a bad value is said, not ignored."""
    raw = os.environ.get("EMULATOR_LATENCY_MS", "").strip()
    if not raw:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f'EMULATOR_LATENCY_MS is "{raw}"; give milliseconds, e.g. 150') from None
    if value < 0:
        raise ValueError(f"EMULATOR_LATENCY_MS is {raw}; latency cannot be negative")
    return value


class TimeSourceEmulator(LocalServer):
    """A time source's emulator (Harvest, Toggl): by hand, seeded with --entries entries in --period."""

    entries: dict[int, dict]

    def seed(self, entries: int = 48, period: str = "2026-10") -> None:
        """The demo agency's account with `entries` entries in `period` (each emulator has its own)."""
        raise NotImplementedError

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every API call")
        parser.add_argument("--entries", type=int, default=48, help="entries in the period (default: %(default)s)")
        parser.add_argument("--period", default="2026-10", help="the month they fall in (default: %(default)s)")

    @classmethod
    def from_arguments(cls: type[T], args: argparse.Namespace) -> T:
        emu = cls(latency=args.latency, seed=False)  # type: ignore[call-arg]  # the subclasses (Harvest, Toggl) take these
        emu.seed(args.entries, args.period)
        return emu

    def instructions(self, args: argparse.Namespace) -> list[str]:
        return [f"then run `python main.py refresh --period {args.period}`."]


def exports(env: dict[str, str]) -> list[str]:
    """Settings as lines to paste into a shell, one `export NAME=value` a line."""
    return [f"  export {name}={shlex.quote(value)}" for name, value in env.items()]


def serve(emulator: type[LocalServer], argv: Sequence[str] | None = None) -> None:
    """Run an emulator on 127.0.0.1 until Ctrl+C: print its URL and the settings that point the product at it."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)  # run as `python -m tests.emulators.<name>`
    parser = argparse.ArgumentParser(
        prog=f"python -m {spec.name}" if spec else None,
        description=f"Run the {emulator.title} emulator on 127.0.0.1. It prints its URL and the settings that "
        f"point the product at it; state lives in memory until Ctrl+C stops it.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=emulator.default_port,
        help="port to listen on; 0 picks a free one (default: %(default)s)",
    )
    emulator.add_arguments(parser)
    args = parser.parse_args(argv)
    emu = emulator.from_arguments(args)
    try:
        emu.start(args.port)
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        parser.exit(
            1,
            f"{parser.prog}: cannot listen on 127.0.0.1:{args.port} ({exc.strerror}); "
            f"pick another --port, or 0 for any free one\n",
        )
    env = emu.env()
    point = " Point the adapter at it with:" if env else ""
    lines = [
        f"{emulator.title} emulator on {emu.base_url} ({emu.summary()}).{point}",
        *exports(env),
        *emu.instructions(args),
        "Ctrl+C stops it.",
    ]
    print("\n".join(lines), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
