"""Concepts of agency work in six languages: what lets a first month (no history yet) place notes written
in words the agency's categories never use.

`concepts.txt` lists concepts ("testing", "ads", "meeting" ...) with the words and phrases people write for
them in English, German, Spanish, French, Portuguese and Dutch. A category is mapped onto concepts through
its own name, meaning and keywords (the agency's words, not ours); a note, task or role is mapped the same
way; the offline classifier then sees both as the same `k:<concept>` features. So a category called
"Copy" meaning "site copy, articles" catches "Blogartikel schreiben", "rédaction page d'accueil" and a
"Content Writer"'s entries on day one.

A word matches a listed word exactly (accents and case aside), as an inflection (`implementing` ->
`implement`), as the head of a compound (`Startseitendesign` -> `design`, `regressietest` -> `test`), or
with one letter wrong (`campiagn`); phrases (`jour fixe`, `code review`) match before their words.

The file is read once, on first use (not at import), and every word's answer is cached.

    >>> concepts_of("Rédaction des textes pour la page d'accueil")
    [('content', 1.0), ('content', 1.0)]
    >>> concepts_of("QA Engineer")
    [('testing', 1.0), ('development', 1.0)]
"""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache
from pathlib import Path

from .text import VAGUE_WORDS, tokens

DATA = Path(__file__).with_name("concepts.txt")
MIN_STEM = 5  # a listed word this long also matches its inflections and compounds ending in it
MAX_SUFFIX = 4  # ...with up to this many letters more at the end (designs, implementing, Kampagnen)
MIN_HEAD = 4  # the shortest listed word a compound may end in (ontwerp in schermontwerp, test in regressietest)
MIN_FUZZY = 6  # words at least this long match with one letter wrong


def fold(word: str) -> str:
    """Case and accents folded: `Übersetzung` -> `ubersetzung`, `diseño` -> `diseno`."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class Lexicon:
    def __init__(self, lines: list[str]):
        self.words: dict[str, frozenset[str]] = {}
        self.phrases: dict[tuple[str, ...], frozenset[str]] = {}
        words: dict[str, set[str]] = {}
        phrases: dict[tuple[str, ...], set[str]] = {}
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#") or ":" not in line:
                continue
            name, _, rest = line.partition(":")
            for item in rest.split(","):
                toks = tuple(fold(t) for t in tokens(item))
                if len(toks) == 1:
                    words.setdefault(toks[0], set()).add(name.strip())
                elif toks:
                    phrases.setdefault(toks, set()).add(name.strip())
        self.words = {w: frozenset(c) for w, c in words.items()}
        self.phrases = {p: frozenset(c) for p, c in phrases.items()}
        self.vague = frozenset(fold(w) for w in VAGUE_WORDS)
        self.longest = max((len(p) for p in self.phrases), default=1)
        self._deletes: dict[str, set[str]] | None = None

    @property
    def deletes(self) -> dict[str, set[str]]:
        """Every listed word with one letter removed -> the words (built on the first unknown word)."""
        if self._deletes is None:
            self._deletes = {}
            for w in self.words:
                if len(w) >= MIN_FUZZY:
                    for i in range(len(w)):
                        self._deletes.setdefault(w[:i] + w[i + 1 :], set()).add(w)
        return self._deletes

    @property
    def names(self) -> set[str]:
        return {c for cs in (*self.words.values(), *self.phrases.values()) for c in cs}

    def word(self, raw: str) -> frozenset[str]:
        return _word(self, raw)

    def _match(self, w: str) -> frozenset[str]:
        if w in self.words:
            return self.words[w]
        for k in range(len(w) - 1, max(MIN_STEM, len(w) - MAX_SUFFIX) - 1, -1):  # an inflection
            if w[:k] in self.words:
                return self.words[w[:k]]
        for i in range(2, len(w) - MIN_HEAD + 1):  # the head of a compound: its longest listed ending
            if w[i:] in self.words:
                return self.words[w[i:]]
        if len(w) >= MIN_FUZZY:  # one letter wrong, missing, extra or two swapped
            near = set(self.deletes.get(w, ()))
            for i in range(len(w)):
                d = w[:i] + w[i + 1 :]
                if d in self.words:
                    near.add(d)
                near |= self.deletes.get(d, set())
            if near:
                return self.words[min(near, key=lambda x: (abs(len(x) - len(w)), x))]
        return frozenset()

    def concepts(self, text: str) -> list[tuple[str, float]]:
        """The concepts a text names, one weight of 1.0 per word or phrase, shared among the concepts that
        word belongs to."""
        toks = [fold(t) for t in tokens(text)]
        out: list[tuple[str, float]] = []
        i = 0
        while i < len(toks):
            for n in range(min(self.longest, len(toks) - i), 1, -1):
                words = tuple(toks[i : i + n])
                hit = self.phrases.get(words) or self.phrases.get((*words[:-1], words[-1].rstrip("s")))
                if hit:
                    out += [(c, 1.0 / len(hit)) for c in sorted(hit)]
                    i += n
                    break
            else:  # a vague word alone ("tickets", "updates", "weiter") says nothing of the kind of work
                hit = frozenset() if toks[i] in self.vague else self.word(toks[i])
                out += [(c, 1.0 / len(hit)) for c in sorted(hit)]
                i += 1
        return out

    def first(self, text: str) -> list[tuple[str, float]]:
        """The concepts of the first word or phrase that names any: what a role is about
        ("QA Engineer" -> testing, not development; "Motion Designer" -> video)."""
        got = self.concepts(text)
        return [x for x in got if x[1] == got[0][1]][: round(1 / got[0][1])] if got else []


@cache
def _word(lex: Lexicon, w: str) -> frozenset[str]:
    return lex._match(w)


@cache
def lexicon() -> Lexicon:
    return Lexicon(DATA.read_text(encoding="utf-8").splitlines())


def concepts_of(text: str) -> list[tuple[str, float]]:
    """`[(concept, weight)]` for the words and phrases of `text` that the lexicon knows."""
    return lexicon().concepts(text) if text.strip() else []


@lru_cache(maxsize=4096)
def role_concepts(role: str) -> tuple[tuple[str, float], ...]:
    """The concepts of a role's telling word: `QA Engineer` -> testing, `Senior Developer` -> development."""
    return tuple(lexicon().first(role)) if role.strip() else ()
