"""A run that cannot finish changes nothing: the work folder before and after, compared.

The workbook and the documents are compared byte for byte, the ledger row for row (every table of the
SQLite file, so a write that SQLite later rolled back into the same bytes still counts as unchanged only if
no row moved), and a refused run must leave no file behind that was not there.

    >>> before = snapshot(work); run(); assert_unchanged(before, work)    # doctest: +SKIP
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from functions.errors import InputErrors

Snapshot = dict[str, Any]


def ledger_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of a SQLite ledger, in rowid order."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: list(db.execute(f'SELECT * FROM "{t}" ORDER BY rowid')) for t in tables}


def snapshot(workdir: Path) -> Snapshot:
    """Each file of the work folder: its bytes, and for a SQLite ledger its rows as well."""
    files: Snapshot = {}
    for p in sorted(workdir.rglob("*")):
        if not p.is_file() or p.name.endswith(".lock"):  # the run's lock file holds no data
            continue
        key = str(p.relative_to(workdir))
        files[key] = p.read_bytes()
        if p.suffix == ".sqlite":
            files[key + " (rows)"] = ledger_rows(p)
    return files


def assert_unchanged(before: Snapshot, workdir: Path) -> None:
    after = snapshot(workdir)
    assert sorted(after) == sorted(before), "files appeared or vanished"
    assert [k for k in before if before[k] != after[k]] == [], "a refused run changed these files"


def refuses(run: Callable[[], object], workdir: Path, *words: str) -> InputErrors:
    """Runs `run`, which must raise InputErrors naming every one of `words`, and change nothing in `workdir`."""
    before = snapshot(workdir)
    with pytest.raises(InputErrors) as exc:
        run()
    assert_unchanged(before, workdir)
    text = str(exc.value)
    for w in words:
        assert w in text, f"{w!r} not in: {text}"
    assert "Traceback" not in text
    return exc.value
