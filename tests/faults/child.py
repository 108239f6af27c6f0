"""Run the CLI in this process and SIGKILL it at a chosen step: `python -m tests.faults.child STEP N -- ARGS`.

A step is an event the interpreter itself reports (PEP 578 audit events, and SQLite's statement trace on
each connection), so nothing of the product is replaced: the real command runs until the N-th time the step
is reached, then the process dies as `kill -9` kills it, with no clean-up, no `finally`, no flush.

    sql:COMMIT        the ledger's COMMIT statement, before SQLite runs it (nothing committed)
    after:COMMIT      the first statement or file opened after the COMMIT (committed, nothing rendered)
    open:invoices/    a document (HTML or PDF) opened for writing: mid-render
    open:.xlsx        the workbook's new copy opened for writing: mid-save
    rename:.xlsx      the new copy written, just before it replaces the workbook
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from typing import Any


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def install(step: str, nth: int) -> None:
    kind, _, what = step.partition(":")
    seen = {"n": 0, "committed": False}

    def reached() -> None:
        seen["n"] += 1
        if seen["n"] >= nth:
            die()

    def trace(statement: str) -> None:
        text = statement.strip().upper()
        if kind == "sql" and text.startswith(what):
            reached()
        elif kind == "after":
            if seen["committed"]:
                die()
            if text.startswith(what):
                seen["committed"] = True

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open" and kind in ("open", "after") and isinstance(args[0], str | bytes | os.PathLike):
            path, mode = os.fsdecode(args[0]), str(args[1] or "r")
            writing = any(c in mode for c in "wax+")
            if kind == "after" and seen["committed"] and writing:
                die()
            if kind == "open" and writing and what in path:
                reached()
        elif event == "os.rename" and kind == "rename" and os.fsdecode(args[1]).endswith(what):
            reached()

    if kind in ("sql", "after"):
        # SQLite's own statement trace on every connection opened: observes, changes nothing
        connect = sqlite3.connect

        def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
            db = connect(*args, **kwargs)
            db.set_trace_callback(trace)
            return db

        sqlite3.connect = traced  # type: ignore[assignment]
    sys.addaudithook(hook)


def main(argv: list[str]) -> int:
    step, nth, sep, *args = argv
    assert sep == "--", "usage: python -m tests.faults.child STEP N -- ARGS"
    from functions.cli import main as cli

    install(step, int(nth))
    return cli(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
