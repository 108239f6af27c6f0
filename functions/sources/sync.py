"""Incremental sync and several sources in one refresh.

Each API source keeps a watermark per month in the Sync tab (functions/sheet/sync_tab.py): when its last
successful sync started. The next refresh asks it only for what changed since a little before that (the
overlap window, SYNC_OVERLAP_MINUTES, catches edits saved while the last sync ran and clocks that disagree).
A month is pulled in full when it has no mark, with `refresh --full`, or when its last full sync is older
than SYNC_FULL_AFTER_HOURS (a source without a deletions feed, like Harvest, finds deletions only then).
A source's cache (the mark's `state`) is handed back on the next sync; a month without a mark gets the newest
cache of another month (what belongs to the account), and `refresh --full` gets none (everything is read again).

    result = sync.fetch(source, period, marks, now=datetime.now(UTC), full=False)

`MultiSource` runs several sources (`TIME_SOURCE=harvest,jira`): each entry keeps its own source; a source
that fails is reported in `failures` while the others land; when every source fails, the run stops.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import InvoicingError, Terminal
from ..models import Period
from ..ports import ImportResult, IncrementalSource, Progress, SyncMark, TimeSource, no_progress

DEFAULT_OVERLAP = timedelta(minutes=10)
DEFAULT_FULL_AFTER = timedelta(hours=24)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _state(mark: SyncMark | None) -> dict[str, Any]:
    if mark is None or not mark.state:
        return {}
    try:
        state = json.loads(mark.state)
    except json.JSONDecodeError:
        return {}  # a damaged cache is only a cache: the source fetches what it needs again
    return state if isinstance(state, dict) else {}


def _newest(marks: Mapping[tuple[str, str], SyncMark], name: str) -> SyncMark | None:
    """The source's most recently synced mark of any month: a month synced for the first time starts from its
    cache of what belongs to the account, not the month (Harvest's web address and people)."""
    own = [m for (source, _), m in marks.items() if source == name and m.state]
    return max(own, key=lambda m: (m.watermark, m.period), default=None)


@dataclass(frozen=True)
class SyncOptions:
    overlap: timedelta = DEFAULT_OVERLAP
    full_after: timedelta = DEFAULT_FULL_AFTER


def since_for(
    mark: SyncMark | None, now: datetime, full: bool, options: SyncOptions = SyncOptions()
) -> datetime | None:
    """The moment to ask for changes since, or None for a full fetch."""
    if full or mark is None:
        return None
    watermark, last_full = _parse(mark.watermark), _parse(mark.full_sync)
    if watermark is None or last_full is None or now - last_full > options.full_after:
        return None
    return watermark - options.overlap


def fetch_one(
    source: TimeSource,
    period: Period,
    marks: Mapping[tuple[str, str], SyncMark],
    now: datetime,
    full: bool = False,
    progress: Progress = no_progress,
    options: SyncOptions = SyncOptions(),
) -> ImportResult:
    """One source: incrementally when it can, with its new mark stamped `now`."""
    if not isinstance(source, IncrementalSource):
        return source.fetch(period, progress)
    mark = marks.get((source.name, str(period)))
    since = since_for(mark, now, full, options)
    result = source.fetch_changes(period, since, {} if full else _state(mark or _newest(marks, source.name)), progress)
    full_sync = stamp(now) if since is None else (mark.full_sync if mark else stamp(now))
    stamped = tuple(replace(m, watermark=stamp(now), full_sync=full_sync) for m in result.marks) or (
        SyncMark(source.name, str(period), stamp(now), full_sync),
    )
    return replace(result, marks=stamped)


class MultiSource:
    """Several sources in one refresh, each under its own name (`harvest`, `jira`)."""

    def __init__(self, sources: Sequence[tuple[str, TimeSource]]):
        self.sources = list(sources)

    def __repr__(self) -> str:
        return f"MultiSource({', '.join(label for label, _ in self.sources)})"

    def fetch(self, period: Period, progress: Progress = no_progress) -> ImportResult:
        return self.fetch_all(period, {}, datetime.now(UTC), full=True, progress=progress)

    def fetch_all(
        self,
        period: Period,
        marks: Mapping[tuple[str, str], SyncMark],
        now: datetime,
        full: bool = False,
        progress: Progress = no_progress,
        options: SyncOptions = SyncOptions(),
    ) -> ImportResult:
        results: list[ImportResult] = []
        failures: list[tuple[str, InvoicingError]] = []
        for label, source in self.sources:
            try:
                results.append(fetch_one(source, period, marks, now, full, progress, options))
            except InvoicingError as exc:
                failures.append((label, exc))
        if failures and not results:
            if len(failures) == 1:
                raise failures[0][1]
            raise SourcesFailed(failures)
        merged = combine(results)
        said = tuple(f"{label} could not be read, the other sources landed: {exc}" for label, exc in failures)
        return replace(merged, failures=said)


class SourcesFailed(Terminal):
    """Every source of a refresh failed; nothing was changed."""

    def __init__(self, failures: Sequence[tuple[str, InvoicingError]]):
        self.failures = list(failures)
        lines = "\n".join(f"  - {label}: {exc}" for label, exc in failures)
        super().__init__(f"No time source could be read; nothing was changed.\n{lines}")


def combine(results: Sequence[ImportResult]) -> ImportResult:
    return ImportResult(
        entries=tuple(e for r in results for e in r.entries),
        skipped=tuple(s for r in results for s in r.skipped),
        covers=tuple(c for r in results for c in r.covers),
        descriptions=tuple(d for r in results for d in r.descriptions),
        incremental=tuple(i for r in results for i in r.incremental),
        deleted=tuple(d for r in results for d in r.deleted),
        marks=tuple(m for r in results for m in r.marks),
        failures=tuple(f for r in results for f in r.failures),
    )


def fetch(
    source: TimeSource,
    period: Period,
    marks: Mapping[tuple[str, str], SyncMark],
    now: datetime,
    full: bool = False,
    progress: Progress = no_progress,
    options: SyncOptions = SyncOptions(),
) -> ImportResult:
    """What refresh calls: one source or several, incrementally where they can."""
    if isinstance(source, MultiSource):
        return source.fetch_all(period, marks, now, full, progress, options)
    return fetch_one(source, period, marks, now, full, progress, options)
