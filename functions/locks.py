"""One lock for every job that writes to a sheet (refresh, preview, create-invoices): two cannot overlap,
the second is told to wait. Whatever the entry point (the CLI, a Cloud Function, the Lambda handler), a run
on the same store takes the same lock (`store_lock`):

- a local workbook: an OS file lock next to it (`.invoicing.xlsx.lock`), released by the OS if the process
  dies, so a crash never leaves a stale lock;
- a Google Sheet: no lock to take; every write is a compare-and-set on the version the run read
  (`GoogleSheet.lease` only names the run; sheet/gsheets_write.py), so of two runs at once the second's
  write is refused whole and it is told to run again, whichever process runs it; a crash holds nothing.

    with store_lock(services.sheet, workdir)("refresh"):
        ...
"""

from __future__ import annotations

import getpass
import os
import socket
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Any

from .errors import LockedError

if sys.platform == "win32":  # pragma: no cover - Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:  # POSIX
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class FileLock:
    """A non-blocking OS file lock; `what` is the job taking it (the holder's job is named to the next)."""

    def __init__(self, path: Path, what: str = "create-invoices"):
        self.path = Path(path)
        self.what = what
        self._fd: int | None = None

    def __enter__(self) -> FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            holder = os.read(fd, 200).decode(errors="replace").strip()
            os.close(fd)
            raise LockedError(
                f"Another run{f' ({holder})' if holder else ''} is writing to this sheet; "
                f"wait for it to finish, then run {self.what} again (docs/RUNBOOK.md#another-run-is-running)."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{self.what}, pid {os.getpid()}".encode())
        self._fd = fd
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None


def default_holder() -> str:
    """Who holds a lock, for the person told to wait: `ana@laptop, pid 4242`."""
    try:
        user = getpass.getuser()
    except Exception:
        user = "someone"
    return f"{user}@{socket.gethostname()}, pid {os.getpid()}"


def store_lock(sheet: Any, workdir: Path, holder: str = "") -> Callable[[str], AbstractContextManager[Any]]:
    """The lock of the store `sheet`: its lease when it has one (a Google Sheet), else a file lock next to
    the workbook (or in `workdir` for a store without a path)."""
    if callable(getattr(sheet, "lease", None)):
        who = holder or default_holder()
        return lambda job: sheet.lease(job, who)
    path = getattr(sheet, "path", None)
    lock_file = (
        Path(path).parent / f".{Path(path).name}.lock" if path is not None else Path(workdir) / ".invoicing.lock"
    )
    return lambda job: FileLock(lock_file, what=job)
