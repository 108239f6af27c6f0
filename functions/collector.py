"""The cyclic garbage collector during a run: a session's run makes hundreds of thousands of records that live
until it commits, and no reference cycles, so the collector would only walk them over and over.

- `roomy()` (a session opens): young passes every 50,000 new objects instead of 700. With the default
  thresholds a 100,000-entry run spent 3.6 s walking its records; this took that to 1 s.
- `paused()` (reading tabs) and `@collector_paused` (categorizing, merging, writing the rows): no pass at all
  while they run; what is alive afterwards is frozen (gc.freeze) out of the collector's reach until the
  session commits, so its next pass does not walk it all either.
- `restore()` (the session commits): the records are the collector's again (a long-lived process frees
  their cycles) and the thresholds are what they were.

Reference counting frees everything as usual throughout.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

RUN_THRESHOLD = (50_000, 10, 10)
_default: tuple[int, int, int] | None = None

P = ParamSpec("P")
R = TypeVar("R")


def roomy() -> None:
    global _default
    current = gc.get_threshold()
    if current != RUN_THRESHOLD:
        _default = current
        gc.set_threshold(*RUN_THRESHOLD)


def in_run() -> bool:
    """A session is open (between `roomy` and `restore`): what is frozen now is unfrozen at its commit."""
    return gc.get_threshold() == RUN_THRESHOLD


def restore() -> None:
    gc.unfreeze()
    if _default:
        gc.set_threshold(*_default)


@contextmanager
def job() -> Iterator[None]:
    """Around a whole job: whatever happens inside (a session that raises before it commits included), the
    collector is as it was afterwards, nothing left frozen and the thresholds restored."""
    try:
        yield
    finally:
        restore()


@contextmanager
def paused() -> Iterator[None]:
    """No collection while the block runs; what is alive afterwards is frozen until the session commits."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was:
            gc.enable()


def collector_paused(f: Callable[P, R]) -> Callable[P, R]:
    """Run `f` with no collection, and the collector back as it was afterwards, raise or not. Inside a run,
    what `f` made and kept is frozen with the session's reads (see the module docstring); outside one
    nothing is frozen."""

    @functools.wraps(f)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        was = gc.isenabled()
        gc.disable()
        try:
            return f(*args, **kwargs)
        finally:
            if in_run():
                gc.freeze()
            if was:
                gc.enable()

    return run
