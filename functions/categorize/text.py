"""Normalizing task notes so that the same work written two ways looks the same.

>>> normalize_notes("ACME-1423 Fix null ptr on checkout!!")
'fix null pointer on checkout'
>>> normalize_notes("mtg w/ client re: Q4")
'meeting with client re q#'
"""

from __future__ import annotations

import re
from functools import lru_cache

_TICKET = re.compile(r"\b[A-Za-z][A-Za-z0-9]{1,9}-\d+\b")
_URL = re.compile(r"https?://\S+")
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_HASHREF = re.compile(r"#\d+")
_NUMBER = re.compile(r"\d+")
_NONWORD = re.compile(r"[^\w#&]+")
_ABBREVIATIONS = {
    "mtg": "meeting",
    "mtgs": "meetings",
    "w": "with",
    "ptr": "pointer",
    "pm": "project management",
    "qa": "qa",
    "req": "request",
    "reqs": "requests",
    "reqts": "requirements",
    "impl": "implement",
    "cfg": "config",
    "conf": "config",
    "env": "environment",
    "deps": "dependencies",
    "dep": "dependency",
    "prod": "production",
    "stg": "staging",
    "db": "database",
    "perf": "performance",
    "ux": "ux",
    "ui": "ui",
    "wip": "work in progress",
    "fu": "follow up",
    "f/u": "follow up",
    "sync": "sync",
    "1:1": "one on one",
}
STOPWORDS = frozenset("a an the and or of to for on in at by re with from is it this that".split())


@lru_cache(maxsize=1 << 16)  # a month writes the same notes, names and tasks many times
def normalize_notes(text: str) -> str:
    s = text.casefold()
    s = s.replace("w/", "with ").replace("f/u", "follow up").replace("1:1", "one on one")
    s = _URL.sub(" ", s)
    s = _EMAIL.sub(" ", s)
    s = _TICKET.sub(" ", s)
    s = _HASHREF.sub(" ", s)
    s = _NUMBER.sub("#", s)
    words = [w for w in _NONWORD.split(s) if w and w != "_"]
    out: list[str] = []
    for w in words:
        out.append(_ABBREVIATIONS.get(w, w))
    return " ".join(out).strip()


def tokens(text: str) -> list[str]:
    """Content words of normalized text, for the classifier."""
    return [w for w in normalize_notes(text).split() if w not in STOPWORDS and w != "#" and len(w) > 1]


# Notes that say nothing about the kind of work: they mean what this person usually does on this project,
# so memory never carries them across clients or roles. In the six languages of concepts.txt (English,
# German, Spanish, French, Portuguese, Dutch), as agencies write them; a hashtag (`#wip`) counts as its word.
VAGUE_WORDS = frozenset(
    """wip work in progress misc miscellaneous continued cont cont'd contd see jira ticket tickets todo
    todos stuff various tasks task work working etc ongoing follow up followup same again weiter
    weitergemacht fortsetzung diverses sonstiges sonstige arbeiten aufgaben erledigt siehe varios varias
    seguimiento tareas trabajo continuación continuacion pendientes ver idem update updates suite voir
    divers tâches taches travail continuer continuation en cours diversos vários tarefas trabalho
    continuação andamento vervolg verder diversen overig overige zie taken werk bezig lopend""".split()
)
_JIRA = re.compile(r"\b([A-Z][A-Z0-9]{1,9})-\d+\b")


def is_vague(text: str) -> bool:
    """True for notes with no content word of their own ("wip", "misc", "weiter", "see JIRA-12", "")."""
    return all(w.lstrip("#") in VAGUE_WORDS for w in tokens(text))


def jira_projects(text: str) -> list[str]:
    """The project keys of the Jira issues a note names: `WEB-12 fix` -> ['WEB']."""
    return _JIRA.findall(text)


def char_grams(word: str, n: int = 3) -> list[str]:
    """Character n-grams of a word with its boundaries, so typos and inflections still share most grams:
    `char_grams("fehler")` -> ['<fe', 'feh', 'ehl', 'hle', 'ler', 'er>']."""
    w = f"<{word}>"
    return [w[i : i + n] for i in range(len(w) - n + 1)] if len(word) >= n else [w]
