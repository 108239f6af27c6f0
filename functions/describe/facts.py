"""What a client-facing line description is written from, already made safe to show the client.

`Scrubber` knows the run's people and clients: it removes a person's name or initials, another client's name,
secrets and personal data (categorize.redact) from a note before any writer sees it, and `leaks()` checks a
finished description for the same things. `line_facts()` gathers one invoice line's facts: its project,
tasks, scrubbed note phrases, Jira keys, entry count, the client's language and, when several lines share the
line item, what tells this one apart (role or person).

    >>> s = Scrubber(people=["Ben Ortiz"], clients=["Acme", "Globex"])
    >>> s.phrases("numbers for ben; PR review + merge w/ BO", client="Acme")
    ['numbers', 'PR review', 'merge']
    >>> s.leaks("Checkout for Globex", client="Acme")
    'another client\\'s name ("Globex")'
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal

from ..categorize.redact import redact
from ..models import InvoiceDraft, InvoiceLine, TimeEntry

JIRA_KEY = re.compile(r"\b[A-Z][A-Z0-9]{1,9}-\d{1,6}\b")
_PLACEHOLDER = re.compile(r"\[(?:email|phone|secret|card|url|redacted)\]|\?\[redacted\]")
_URL = re.compile(r"\bhttps?://\S+", re.IGNORECASE)
_SPLIT = re.compile(r"\s*(?:;|\s\+\s|\+|,|\s/\s|\s&\s|\s-\s|\s–\s|\s—\s|\n|\|)\s*")
_MENTION = re.compile(r"@\w+")
_SPACES = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]")
_LINKERS = r"(?:for|with|w/|to|from|per|by|cc|ask|asked|ping|pinged|via|@)"


@dataclass(frozen=True)
class LineFacts:
    """One invoice line's facts for a writer: nothing here may not be shown to the client."""

    line_item: str
    projects: tuple[str, ...]
    tasks: tuple[str, ...]
    phrases: tuple[str, ...]  # scrubbed note phrases, one per note fragment, in the order written
    keys: tuple[str, ...]  # Jira keys, kept as written
    count: int  # time entries on the line
    language: str = ""  # the client's language from the Clients tab; blank = English
    distinguish: str = ""  # role or person that tells this line from others of the same line item
    project_label: str = ""  # the project, shown first when the invoice spans several projects

    def content_key(self) -> str:
        """A hash of everything a description depends on: same facts, same description (the cache key)."""
        # the fields one level deep (strings, tuples of strings, an int): what `asdict` gave, without its
        # recursive copy of every tuple
        blob = json.dumps({f.name: getattr(self, f.name) for f in fields(self)}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Job:
    """One distinct line to describe: its facts, its client (for the leak check) and its content key."""

    key: str
    client: str
    facts: LineFacts


@dataclass
class Usage:
    """What the Claude writer did this run, for the report and the Runs tab."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost: Decimal = Decimal("0")
    cached: int = 0
    written: int = 0
    problems: list[str] = field(default_factory=list)
    stop_reason: str = ""


def _alternatives(names: Iterable[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


class Scrubber:
    """Removes what a client must never read from note text, and finds it in a written description."""

    def __init__(self, people: Iterable[str], clients: Iterable[str], secrets: Sequence[str] = ()):
        self.secrets = tuple(secrets)
        names: set[str] = set()
        self.initials: set[str] = set()
        for person in {p.strip() for p in people if p and p.strip()}:
            parts = [w for w in re.split(r"[\s.]+", person) if w]
            names.add(person.casefold())
            names.update(w.casefold() for w in parts if len(w) >= 2)
            if len(parts) >= 2:
                self.initials.add("".join(w[0] for w in parts).upper())
        self.names = names
        self._names_rx = (
            re.compile(
                rf"(?:\b{_LINKERS}\s+)?(?<![\w-])(?:{_alternatives(names)})(?![\w-])",
                re.IGNORECASE,
            )
            if names
            else None
        )
        self._initials_rx = (
            re.compile(rf"(?:\b{_LINKERS}\s+)?\b(?:{'|'.join(sorted(self.initials))})\b") if self.initials else None
        )
        self.clients = sorted({c.strip() for c in clients if c and c.strip()}, key=len, reverse=True)
        self._others: dict[str, re.Pattern[str] | None] = {}
        self._memo: dict[tuple[str, str], str] = {}
        self._notes: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {}  # client -> note -> ...

    def _other_clients(self, client: str) -> list[str]:
        own = client.casefold()
        return [c for c in self.clients if c.casefold() != own and c.casefold() not in own]

    def _others_rx(self, client: str) -> re.Pattern[str] | None:
        if client not in self._others:
            others = self._other_clients(client)
            self._others[client] = (
                re.compile(rf"(?<!\w)(?:{_alternatives(others)})(?!\w)", re.IGNORECASE) if others else None
            )
        return self._others[client]

    def clean(self, text: str, client: str) -> str:
        """`text` without secrets, personal data, URLs, people or another client's name."""
        key = (text, client)
        if key not in self._memo:
            self._memo[key] = self._clean(text, client)
        return self._memo[key]

    def _clean(self, text: str, client: str) -> str:
        out = redact(text or "", self.secrets)
        if "://" in out:  # (a pass only where the pattern can match: every URL has one)
            out = _URL.sub(" ", out)
        if "[" in out:  # every placeholder has one
            out = _PLACEHOLDER.sub(" ", out)
        others = self._others_rx(client)
        if others is not None:
            out = others.sub(" ", out)
        if self._names_rx is not None:
            out = self._names_rx.sub(" ", out)
        if self._initials_rx is not None:
            out = self._initials_rx.sub(" ", out)
        if "@" in out:
            out = _MENTION.sub(" ", out)  # a mention of someone not on the team
        return _SPACES.sub(" ", out).strip()

    def phrases(self, text: str, client: str) -> list[str]:
        """The note split into its fragments ("PR review + merge" -> two), each scrubbed; empty ones dropped."""
        out = []
        own = {client.casefold(), client.split()[0].casefold()} if client.strip() else set()
        for part in _SPLIT.split(text or ""):
            cleaned = self.clean(part, client).strip(" .:;,-–—[]")
            if _LETTER.search(cleaned) and cleaned.casefold() not in own:
                out.append(cleaned)
        return out

    def notes_of(self, client: str) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        """The notes of `client` split and scrubbed so far (see `note`), by note."""
        mine = self._notes.get(client)
        if mine is None:
            mine = self._notes[client] = {}
        return mine

    def note(self, text: str, client: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(Jira keys, scrubbed phrases) of one note for a client's line; notes repeat, so each distinct
        (note, client) is split and scrubbed once per run."""
        mine = self.notes_of(client)
        found = mine.get(text)
        if found is None:
            found = mine[text] = (
                tuple(JIRA_KEY.findall(text)),
                tuple(self.phrases(JIRA_KEY.sub(" ", text), client)),
            )
        return found

    def leaks(self, text: str, client: str, allowed: str = "") -> str:
        """What in a written description must not reach the client ("" when nothing): a redaction, a secret,
        another client's name, a person's name or initials (`allowed` is the line's distinguisher)."""
        if _PLACEHOLDER.search(text) or re.search(r"client-[0-9a-f]{4}", text):
            return "a redacted placeholder"
        if redact(text, self.secrets) != text:
            return "personal data or a secret"
        others = self._others_rx(client)
        found = others.search(text) if others is not None else None
        if found:
            return f'another client\'s name ("{found.group(0)}")'
        free = text.replace(allowed, " ") if allowed else text
        if self._names_rx is not None:
            m = self._names_rx.search(free)
            if m:
                return "a person's name"
        if self._initials_rx is not None and self._initials_rx.search(free):
            return "a person's initials"
        return ""


_BAND = re.compile(r"\((first [^()]+|beyond [^()]+|included|overage)\)\s*$")
_WEEK = re.compile(r"week of \d{4}-\d{2}-\d{2}")


def _token(line: InvoiceLine) -> str:
    """What the engine's own text says sets the line apart: a tier band ("first 40 h", "beyond retainer") or
    the week of a per-week line."""
    band = _BAND.search(line.description)
    week = _WEEK.search(line.description)
    return ", ".join(t for t in (week.group(0) if week else "", band.group(1) if band else "") if t)


def distinguishers(draft: InvoiceDraft, entries: Mapping[str, TimeEntry]) -> dict[int, str]:
    """line index -> what tells it apart from the other hour lines of its line item: the week or tier band
    when the engine split by one, then the role when each such line has one role and they differ, else the
    person likewise, else the date of a one-entry line or the rate."""
    groups: dict[tuple[str, str], list[int]] = {}
    out: dict[int, str] = {}
    for n, line in enumerate(draft.lines):
        if line.kind == "hours":
            token = _token(line)
            if token:
                out[n] = token
            groups.setdefault((line.line_item.casefold(), token), []).append(n)
    for members in groups.values():
        if len(members) < 2:
            continue
        lines = [draft.lines[n] for n in members]
        extra: list[str] = []
        for attr in ("role", "person"):
            values = [{getattr(entries[r], attr).strip() for r in ln.entry_refs if r in entries} for ln in lines]
            singles = [next(iter(v)) if len(v) == 1 else "" for v in values]
            if all(singles) and len({s.casefold() for s in singles}) == len(singles):
                extra = singles
                break
        if not extra:
            dates = [ln.service_date.isoformat() if ln.service_date and len(ln.entry_refs) == 1 else "" for ln in lines]
            rates = [f"at {ln.unit_price.normalize():f}/h" for ln in lines]
            if all(dates) and len(set(dates)) == len(dates):
                extra = dates
            elif len(set(rates)) == len(rates):
                extra = rates
            else:
                extra = [f"{d or r}" for d, r in zip(dates, rates, strict=True)]
        for n, more in zip(members, extra, strict=True):
            out[n] = ", ".join(t for t in (out.get(n, ""), more) if t)
    return out


def line_facts(
    line: InvoiceLine,
    client: str,
    entries: Mapping[str, TimeEntry],
    scrub: Scrubber,
    language: str = "",
    distinguish: str = "",
    show_project: bool = False,
) -> LineFacts:
    """The facts of one hour line, every note scrubbed (see `Scrubber`)."""
    found_entry = entries.get
    items = [e for e in map(found_entry, line.entry_refs) if e is not None]
    phrases: list[str] = []
    keys: list[str] = []
    note = scrub.note
    seen = scrub.notes_of(client)
    for e in items:
        text = e.notes.strip() or e.task.strip()
        found, said = seen.get(text) or note(text, client)
        keys.extend(found)
        phrases.extend(said)
    # each distinct project and task scrubbed once, in the order first written (cleaning is the same for equals)
    projects = tuple(
        dict.fromkeys(scrub.clean(p, client) for p in dict.fromkeys(e.project for e in items) if p.strip())
    )
    tasks = tuple(dict.fromkeys(scrub.clean(t, client) for t in dict.fromkeys(e.task for e in items) if t.strip()))
    return LineFacts(
        line_item=line.line_item,
        projects=projects,
        tasks=tasks,
        phrases=tuple(phrases),
        keys=tuple(dict.fromkeys(keys)),
        count=len(items),
        language=language,
        distinguish=distinguish,
        project_label=", ".join(projects) if show_project else "",
    )
