"""The offline writer: a clean client-facing line description from a line's facts, without AI.

It expands internal shorthand (wip, mtg, PR), fixes a typo when the notes themselves spell the word right
elsewhere ("mereg" -> "merge" when "merge" occurs more often), drops repeats and filler, keeps Jira keys,
and writes `Line item: a, b and c — 3 tasks` (`Project · Line item: …` when the invoice spans several
projects). It is also the fallback whenever Claude is off, slow, fails or refuses.

    >>> v = Vocabulary(["PR review + merge", "merge conflicts", "PR review + mereg"])
    >>> f = LineFacts("Development", ("Checkout",), (), ("PR review", "mereg", "wip"), ("CHK-12",), 3)
    >>> OfflineWriter(v).write(f)
    'Development: pull request review and merge (CHK-12) — 3 tasks'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from .facts import JIRA_KEY, LineFacts

MAX_PHRASES = 3
MAX_KEYS = 4
MAX_LENGTH = 160

# Internal shorthand of agency timesheets -> what a client reads. Whole words only, case-insensitive.
SHORTHAND: dict[str, str] = {
    "wip": "work in progress",
    "mtg": "meeting",
    "mtgs": "meetings",
    "pr": "pull request",
    "prs": "pull requests",
    "fb": "feedback",
    "w/": "with",
    "w/o": "without",
    "impl": "implementation",
    "config": "configuration",
    "env": "environment",
    "deps": "dependencies",
    "docs": "documentation",
    "doc": "documentation",
    "req": "requirements",
    "reqs": "requirements",
    "misc": "miscellaneous work",
    "admin": "administration",
    "pm": "project management",
    "dev": "development",
    "perf": "performance",
    "infra": "infrastructure",
    "db": "database",
    "auth": "authentication",
    "e2e": "end-to-end",
    "convo": "conversation",
    "prep": "preparation",
    "stdup": "stand-up",
    "standup": "stand-up",
    "sync": "sync meeting",
    "1:1": "check-in",
    "qa": "QA",
    "ui": "UI",
    "ux": "UX",
    "api": "API",
    "seo": "SEO",
    "cms": "CMS",
    "css": "CSS",
    "ga4": "GA4",
    "kpi": "KPI",
    "kpis": "KPIs",
    "ci": "CI",
    "v2": "version 2",
    "v3": "version 3",
    "re:": "",
    "todo": "",
    "tbd": "",
    "etc": "",
    "asap": "",
    "lol": "",
    "fyi": "",
}
_WORD = re.compile(r"[^\W\d_][\w'’]*", re.UNICODE)
_SHORT_RX = re.compile(
    r"(?<![\w/])(" + "|".join(re.escape(k) for k in sorted(SHORTHAND, key=len, reverse=True)) + r")(?![\w/])",
    re.IGNORECASE,
)
_SUFFIXES = ("s", "es", "ed", "ing", "d")
_FILLER = re.compile(r"(?<!\w)(?:stuff|things|etc\.?)(?!\w)", re.IGNORECASE)
# Phrases that say nothing a client can use on their own; dropped when the line has anything better.
GENERIC = {
    "cont'd",
    "contd",
    "continued",
    "done",
    "work in progress",
    "checked",
    "verify",
    "help",
    "ops",
    "more",
    "misc",
    "miscellaneous work",
    "looks ok now",
    "work",
    "stuff",
    "misc work",
    "tbd",
    "todo",
}

# "— 3 tasks" in a language (what Claude is asked to write); the offline writer keeps the notes' language.
TASKS: dict[str, tuple[str, str]] = {
    "en": ("task", "tasks"),
    "de": ("Aufgabe", "Aufgaben"),
    "fr": ("tâche", "tâches"),
    "es": ("tarea", "tareas"),
    "it": ("attività", "attività"),
    "nl": ("taak", "taken"),
    "pt": ("tarefa", "tarefas"),
}
_LANGUAGE_NAMES = {
    "english": "en",
    "german": "de",
    "deutsch": "de",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "spanish": "es",
    "español": "es",
    "espanol": "es",
    "italian": "it",
    "italiano": "it",
    "dutch": "nl",
    "nederlands": "nl",
    "portuguese": "pt",
    "português": "pt",
}
_AND = {"en": "and", "de": "und", "fr": "et", "es": "y", "it": "e", "nl": "en", "pt": "e"}


def language_code(language: str) -> str:
    """`de`, `de-AT`, `German` or `Deutsch` -> `de`; blank or unknown -> `en`."""
    text = (language or "").strip().casefold()
    code = _LANGUAGE_NAMES.get(text, text.split("-")[0].split("_")[0])
    return code if code in TASKS else "en"


class Vocabulary:
    """The words of a run's notes and how often each occurs: a rare word one edit away from a word written at
    least twice as often is taken for its typo. Transpositions count from 3 letters ("wpi" -> "wip"), other
    edits from 6, and a word never turns into its own plural or past tense."""

    def __init__(self, notes: Iterable[str]):
        # notes repeat: each distinct one is split into words once, its words counted as often as it occurs
        self.counts: Counter[str] = Counter()
        for note, times in Counter(n or "" for n in notes).items():
            for w in _WORD.findall(note):
                self.counts[w.casefold()] += times
        self._memo: dict[str, str] = {}
        self._letters: list[str] = []
        self._index: tuple[dict[str, list[tuple[str, int]]], dict[str, list[str]]] | None = None

    def fix(self, word: str) -> str:
        low = word.casefold()
        if low in self._memo:
            return self._memo[low]
        best = low
        mine = self.counts.get(low, 0)
        if len(low) >= 3 and low not in SHORTHAND and mine <= 2:  # a word written three times is no typo
            found: tuple[int, tuple[int | str, ...], str] | None = None  # (count, place in `_neighbours`, word)
            for other, transposed, place in self._near(low):
                n = self.counts.get(other, 0)
                if n < max(2, 2 * mine) or other == low:
                    continue
                if any(other == low + s or low == other + s for s in _SUFFIXES):
                    continue
                if transposed or len(low) >= 6 or (len(low) >= 4 and len(other) != len(low) and n >= 3 * max(mine, 1)):
                    # the most frequent wins, and among equals the one `_neighbours` yields first
                    if found is None or n > found[0] or (n == found[0] and place < found[1]):
                        found = (n, place, other)
            if found is not None:
                best = found[2]
        self._memo[low] = best
        return best

    def _near(self, word: str) -> Iterable[tuple[str, bool, tuple[int | str, ...]]]:
        """The words of `_neighbours(word)` written at least twice (no other can be taken for the right
        spelling), each with whether it is a transposition and its place in `_neighbours`' order, found
        through an index of the frequent words instead of by trying every letter at every place."""
        if self._index is None:
            self._index = self._build_index()
        inserted, substituted = self._index
        counts = self.counts
        for i in range(len(word) - 1):
            if word[i] != word[i + 1]:
                other = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
                if counts.get(other, 0) >= 2:
                    yield other, True, (0, i)
        if len(word) < 4:
            return
        for i in range(len(word)):
            other = word[:i] + word[i + 1 :]
            if counts.get(other, 0) >= 2:
                yield other, False, (1, i, 0)
        for other, i in inserted.get(word, ()):  # `word` is `other` with the letter at i missing
            yield other, False, (1, i, 1, other[i], 0)
        if len(word) >= 6:
            for i in range(len(word)):
                for other in substituted.get(word[:i] + "\x00" + word[i + 1 :], ()):
                    if other[i] != word[i]:
                        yield other, False, (1, i, 1, other[i], 1)

    def _build_index(self) -> tuple[dict[str, list[tuple[str, int]]], dict[str, list[str]]]:
        """Each frequent word by itself less one letter (with its place), and with one letter blanked out:
        the letter `_neighbours` would insert or substitute there (letters only: `_letters`)."""
        inserted: dict[str, list[tuple[str, int]]] = {}
        substituted: dict[str, list[str]] = {}
        for w, n in self.counts.items():
            if n < 2:
                continue
            for i, ch in enumerate(w):
                if not ch.isalpha():
                    continue
                less = w[:i] + w[i + 1 :]
                spots = inserted.setdefault(less, [])
                if not any(o == w for o, _ in spots):  # the first place that makes it is the one yielded first
                    spots.append((w, i))
                substituted.setdefault(w[:i] + "\x00" + w[i + 1 :], []).append(w)
        return inserted, substituted

    def _neighbours(self, word: str) -> Iterable[tuple[str, bool]]:
        """Every word one edit away that the notes contain, and whether the edit is a transposition."""
        if not self._letters:
            self._letters = sorted({ch for w in self.counts for ch in w if ch.isalpha()})
        for i in range(len(word) - 1):
            if word[i] != word[i + 1]:
                yield word[:i] + word[i + 1] + word[i] + word[i + 2 :], True
        if len(word) < 4:
            return
        for i in range(len(word) + 1):
            if i < len(word):
                yield word[:i] + word[i + 1 :], False  # a letter too many
            for ch in self._letters:
                yield word[:i] + ch + word[i:], False  # a letter missing
                if i < len(word) and ch != word[i] and len(word) >= 6:
                    yield word[:i] + ch + word[i + 1 :], False  # a wrong letter


def _fix_words(text: str, vocab: Vocabulary) -> str:
    def one(m: re.Match[str]) -> str:
        word = m.group(0)
        fixed = vocab.fix(word)
        if fixed == word.casefold():
            return word
        return fixed.upper() if word.isupper() and len(word) > 1 else fixed

    return _WORD.sub(one, text)


_NUMBERED = re.compile(r"(?<!\w)\d{1,2}\)\s*")  # "1) cart fix 2) perf"
_SYMBOLS = re.compile(r"[^\w\s'’:&.()/-]")  # emoji and stray symbols
_REPEATED = re.compile(r"\b(\w+) \1\b")  # "tests tests"
_SPACES = re.compile(r"\s+")


def _expand(text: str) -> str:
    out = _SHORT_RX.sub(lambda m: SHORTHAND[m.group(1).casefold()], text)
    out = _FILLER.sub(" ", out)
    if ")" in out:
        out = _NUMBERED.sub(" ", out)
    out = _SYMBOLS.sub(" ", out)
    if out.count("(") != out.count(")"):  # a bracket cut open where the note was split
        out = out.replace("(", " ").replace(")", " ")
    out = _REPEATED.sub(r"\1", out)
    out = _SPACES.sub(" ", out).strip(" .:;,-/")
    return out


def tidy(text: str, vocab: Vocabulary) -> str:
    """One phrase as a client reads it: typos fixed from the notes, shorthand expanded, spaces tidied."""
    return _expand(_fix_words(text, vocab))


def _norm(text: str) -> str:
    words = [w.casefold().rstrip("s") for w in _WORD.findall(text)]
    return " ".join(words)


_GENERIC_NORM = {_norm(g) for g in GENERIC}


def _join(parts: list[str], lang: str) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {_AND.get(lang, 'and')} " + parts[-1]


class OfflineWriter:
    """Writes a description from `LineFacts` (see the module docstring)."""

    def __init__(self, vocab: Vocabulary | None = None):
        self.vocab = vocab or Vocabulary(())
        self._tidy: dict[str, str] = {}
        self._said: dict[str, tuple[str, str]] = {}  # raw phrase -> (tidied, its normal form), once per run

    def tidy(self, text: str) -> str:
        if text not in self._tidy:
            self._tidy[text] = tidy(text, self.vocab)
        return self._tidy[text]

    def body(self, facts: LineFacts) -> str:
        """The summary of the work: the most frequent distinct phrases, in the order first written."""
        seen: dict[str, tuple[int, int, str]] = {}
        said = self._said
        for n, raw in enumerate(facts.phrases):
            found = said.get(raw)
            if found is None:
                phrase = self.tidy(raw)
                found = said[raw] = (phrase, _norm(phrase))
            phrase, key = found
            if not key:
                continue
            count, first, text = seen.get(key, (0, n, phrase))
            seen[key] = (count + 1, first, text)
        if any(k not in _GENERIC_NORM for k in seen):
            seen = {k: v for k, v in seen.items() if k not in _GENERIC_NORM}
        # a phrase inside a longer one says nothing more ("review" beside "code review"): " k " occurs once in
        # its own padded copy, so a second occurrence in the joined copies is inside another phrase (keys are
        # words and spaces: the separator occurs in none)
        every = "\x00".join(f" {o} " for o in seen)
        keys = [k for k in seen if every.count(f" {k} ") < 2]
        top = sorted(keys, key=lambda k: (-seen[k][0], seen[k][1]))[:MAX_PHRASES]
        parts = [seen[k][2] for k in sorted(top, key=lambda k: seen[k][1])]
        parts = [p[0].lower() + p[1:] if p[:1].isupper() and not p[:2].isupper() else p for p in parts]
        if not parts:
            parts = [tidy(t, self.vocab).lower() for t in facts.tasks[:2]] or [facts.line_item.lower()]
        # the notes are not translated offline, so their words are joined in the notes' own language (English
        # in practice): "header und footer" would mix two languages in one line; Claude writes the client's language
        text = _join(parts, "en")
        if len(keys) > MAX_PHRASES:
            text += " and related work"
        return text

    def write(self, facts: LineFacts) -> str:
        head = facts.line_item
        if facts.project_label:
            head = f"{facts.project_label} · {head}" if facts.project_label.casefold() != head.casefold() else head
        if facts.distinguish:
            head = f"{head} ({facts.distinguish})"
        keys = [k for k in facts.keys if JIRA_KEY.fullmatch(k)]
        refs = ""
        if keys:
            refs = (
                " (" + ", ".join(keys[:MAX_KEYS]) + (f" +{len(keys) - MAX_KEYS}" if len(keys) > MAX_KEYS else "") + ")"
            )
        one, many = TASKS["en"]  # like the joins above: one language per line (see body)
        tail = f" — {facts.count} {one if facts.count == 1 else many}" if facts.count else ""
        body = self.body(facts)
        room = MAX_LENGTH - len(head) - len(refs) - len(tail) - 2
        if len(body) > room:
            body = body[: max(room - 1, 10)].rsplit(" ", 1)[0].rstrip(" ,") + "…"
        body = body[:1].upper() + body[1:] if head == "" else body
        return f"{head}: {body}{refs}{tail}"
