"""The Sync tab (each source's watermark per month) and the People tab (one person across the time tools).

Refresh reads both once, with the other tabs. The Sync tab is the pipeline's: it is rewritten in the same
commit as the Time rows it describes, so a run that fails moves no watermark. The People tab is people's:

    >>> people = parse_people([["Source", "Account", "Person", "Role"], ["jira", "ana@x.io", "Ana Ruiz", "Lead"]])
    >>> people.lookup("jira", "ana@x.io", "Ana R.")
    ('Ana Ruiz', 'Lead')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import InputError, InputErrors, Location
from ..models import Period, TimeEntry
from ..ports import Cell, CellBlock, SourceMilestone, SyncMark
from ..values import is_blank, text
from .contract import HeaderMap, load_contract


def parse_sync(rows: Sequence[Sequence[Cell]]) -> dict[tuple[str, str], SyncMark]:
    """(source, period) -> its mark; rows without a source, period or watermark are ignored (a person may
    clear one to force a full sync)."""
    if not rows:
        return {}
    hm = HeaderMap(load_contract().tab("Sync"), rows[0])
    marks: dict[tuple[str, str], SyncMark] = {}
    for r in rows[1:]:
        source, period, watermark = (text(hm.get(r, k)).strip() for k in ("source", "period", "watermark"))
        if source and period and watermark:
            marks[(source, period)] = SyncMark(
                source, period, watermark, text(hm.get(r, "full_sync")).strip(), text(hm.get(r, "state")).strip()
            )
    return marks


def sync_blocks(
    rows: Sequence[Sequence[Cell]], marks: Mapping[tuple[str, str], SyncMark], new: Iterable[SyncMark]
) -> list[CellBlock]:
    """The whole Sync tab rewritten with `new` over `marks` (blank rows where it held more before)."""
    tab = load_contract().tab("Sync")
    merged = dict(marks)
    for m in new:
        merged[(m.source, m.period)] = m
    body = [
        [m.source, m.period, m.watermark, m.full_sync, m.state]
        for m in sorted(merged.values(), key=lambda m: (m.period, m.source))
    ]
    hm = HeaderMap(tab, rows[0]) if rows else None
    if hm is None or [hm.index.get(k) for k in tab.keys()] != list(range(len(tab.columns))):
        header: list[Cell] = list(tab.headers)  # a moved column: the tab is the pipeline's, lay it out again
    else:
        header = list(rows[0])[: len(tab.columns)]
    width = len(tab.columns)
    blank: list[list[Cell]] = [[None] * width for _ in range(max(0, len(rows) - 1 - len(body)))]
    return [CellBlock("Sync", 1, 1, [header, *body, *blank])]


@dataclass
class People:
    """The People tab: (source or "", account casefolded) -> (person, role)."""

    by_account: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    def lookup(self, source: str, *accounts: str) -> tuple[str, str] | None:
        for account in accounts:
            key = account.strip().casefold()
            if not key:
                continue
            for s in (source, ""):
                found = self.by_account.get((s, key))
                if found:
                    return found
        return None

    def apply(self, entries: Iterable[TimeEntry]) -> tuple[TimeEntry, ...]:
        """Each entry with its mapped person (and role, when the row gives one); unmapped ones as they are."""
        if not self.by_account:
            return tuple(entries)
        out = []
        for e in entries:
            found = self.lookup(e.source, e.email, e.person)
            if found and (found[0] != e.person or (found[1] and found[1] != e.role)):
                e = e.model_copy(update={"person": found[0], "role": found[1] or e.role})
            out.append(e)
        return tuple(out)


def parse_people(rows: Sequence[Sequence[Cell]]) -> People:
    """The People tab; a row with an account but no person is an InputError naming its cell."""
    people = People()
    if not rows:
        return people
    hm = HeaderMap(load_contract().tab("People"), rows[0])
    problems = []
    for n, r in enumerate(rows[1:], start=2):
        source, account, person, role = (text(hm.get(r, k)).strip() for k in ("source", "account", "person", "role"))
        if not account and not person:
            continue
        if not account or not person:
            missing = "account" if not account else "person"
            where = Location(tab="People", cell=hm.cell(missing, n))
            problems.append(InputError(f"the row maps nobody: its {missing} is blank", where))
            continue
        sources = hm.tab.column("source").choices
        if source and source.casefold() not in sources:  # a misspelt source would silently map nobody
            where = Location(tab="People", cell=hm.cell("source", n))
            problems.append(InputError(f'"{source}" is not a source; write one of {", ".join(sources)}', where))
            continue
        people.by_account[(source.casefold(), account.casefold())] = (person, role)
    if problems:
        raise InputErrors(problems, what="People tab")
    return people


MAPPED_SOURCES = ("jira", "asana")  # sources whose projects are mapped to clients through the Clients tab


@dataclass
class ClientKeys:
    """The Clients tab as a map from a tracker's project (name, key or gid, casefolded) to the client."""

    by_key: dict[str, str] = field(default_factory=dict)

    def client_for(self, entry: TimeEntry) -> str | None:
        for key in (entry.client, *entry.tags):
            found = self.by_key.get(key.strip().casefold())
            if found:
                return found
        return None

    def apply(self, entries: Iterable[TimeEntry]) -> tuple[list[TimeEntry], list[InputError]]:
        """Entries of Jira and Asana with their client; one that maps to none is a located error."""
        out, errors = [], []
        for e in entries:
            if e.source not in MAPPED_SOURCES:
                out.append(e)
                continue
            client = self.client_for(e)
            if client is None:
                errors.append(
                    InputError(
                        f'is on the {e.source} project "{e.client}", which no client maps (field project): add '
                        f'"{e.client}" to a client\'s Tracker Keys in the Clients tab, or a Clients row named so',
                        Location(entry=e.ref),
                    )
                )
                continue
            out.append(e if client == e.client else e.model_copy(update={"client": client}))
        return out, errors


def parse_client_keys(rows: Sequence[Sequence[Cell]]) -> ClientKeys:
    keys = ClientKeys()
    if not rows:
        return keys
    hm = HeaderMap(load_contract().tab("Clients"), rows[0])
    for r in rows[1:]:
        client = text(hm.get(r, "client")).strip()
        if not client:
            continue
        keys.by_key.setdefault(client.casefold(), client)
        for key in text(hm.get(r, "tracker_keys")).split(","):
            if key.strip():
                keys.by_key[key.strip().casefold()] = client
    return keys


def milestone_cells(
    rules: Sequence[Sequence[Cell]], milestones: Iterable[SourceMilestone], period: Period
) -> tuple[dict[tuple[int, int], Cell], list[str]]:
    """{(row, col): True} for each Rules milestone row whose Asana Milestone Asana completed by the end of
    `period` and whose Complete cell is blank (a person's TRUE or FALSE there stands), and what was done."""
    done = {m.gid: m for m in milestones}
    by_name = {m.name.strip().casefold(): m for m in done.values() if m.name.strip()}
    if not rules or not done:
        return {}, []
    hm = HeaderMap(load_contract().tab("Rules"), rules[0])
    if "asana_milestone" not in hm.index or "complete" not in hm.index:
        return {}, []
    cells: dict[tuple[int, int], Cell] = {}
    said = []
    for n, r in enumerate(rules[1:], start=2):
        link = text(hm.get(r, "asana_milestone")).strip()
        if not link or text(hm.get(r, "rule")).strip().casefold() != "milestone":
            continue
        m = done.get(link) or by_name.get(link.casefold())
        if m is None or not m.completed or (m.completed_on is not None and m.completed_on > period.end):
            continue
        if not is_blank(hm.get(r, "complete")):
            continue  # a person filled it: theirs
        cells[(n, hm.index["complete"] + 1)] = True
        said.append(f'{hm.cell("complete", n)}: ticked, Asana completed the milestone "{m.name}" on {m.completed_on}')
    return cells, said
