"""The typo fixer finds a word's neighbours through an index of the frequent words; it must pick exactly what
trying every edit in `_neighbours` order picks (the rule of `Vocabulary`), ties included."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from functions.describe.offline import _SUFFIXES, _WORD, SHORTHAND, Vocabulary

EXPORTS = Path(__file__).resolve().parents[2] / "functions" / "sample" / "exports"


def by_every_edit(vocab: Vocabulary, word: str) -> str:
    """`Vocabulary.fix` as the rule states it: every edit tried in `_neighbours` order, the first of the most
    frequent kept."""
    low = word.casefold()
    best, mine = low, vocab.counts.get(low, 0)
    if len(low) >= 3 and low not in SHORTHAND and mine <= 2:
        best_count = 0
        for other, transposed in vocab._neighbours(low):
            n = vocab.counts.get(other, 0)
            if n < max(2, 2 * mine) or n <= best_count or other == low:
                continue
            if any(other == low + s or low == other + s for s in _SUFFIXES):
                continue
            if transposed or len(low) >= 6 or (len(low) >= 4 and len(other) != len(low) and n >= 3 * max(mine, 1)):
                best, best_count = other, n
    return best


def _sample_notes() -> list[str]:
    notes = []
    for path in sorted(EXPORTS.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                notes += [v for k, v in row.items() if k and k.strip().casefold() in ("notes", "description") and v]
    return notes


def _typos(words: list[str], rnd: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        w = rnd.choice(words)
        i = rnd.randrange(len(w))
        edit = rnd.randrange(4)
        ch = rnd.choice("aeiourstlnxz1'")
        if edit == 0 and len(w) > 1:
            w = w[:i] + w[i + 1 :]
        elif edit == 1:
            w = w[:i] + ch + w[i:]
        elif edit == 2:
            w = w[:i] + ch + w[i + 1 :]
        elif i + 1 < len(w):
            w = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
        out.append(w)
    return out


def test_the_index_picks_what_every_edit_picks_on_the_sample_notes_and_their_typos():
    notes = _sample_notes()
    assert len(notes) > 100
    words = sorted({w.casefold() for n in notes for w in _WORD.findall(n)})
    typos = _typos(words, random.Random(13), 3000)
    vocab = Vocabulary(notes + typos[:300])  # some typos are in the notes themselves, once or twice
    checked = changed = 0
    for w in words + typos:
        expected = by_every_edit(vocab, w)
        assert vocab.fix(w) == expected, w
        checked += 1
        changed += expected != w.casefold()
    assert checked > 3000 and changed > 100  # the typos were really fixed, not only left alone


def test_ties_go_to_the_edit_tried_first():
    # "abcdefg" -> "abcdefh" (a wrong letter) and "abcdfeg" (a transposition) are both written twice:
    # transpositions are tried first
    vocab = Vocabulary(["abcdefh abcdefh abcdfeg abcdfeg", "xbcdefg xbcdefg xbcdefg"])
    assert vocab.fix("abcdefg") == by_every_edit(Vocabulary(vocab.counts.elements()), "abcdefg") == "xbcdefg"
    vocab = Vocabulary(["abcdefh abcdefh abcdfeg abcdfeg"])
    assert vocab.fix("abcdefg") == "abcdfeg"
    # two wrong letters, equally frequent: the earlier place wins, then the earlier letter
    vocab = Vocabulary(["zbcdefg zbcdefg abcdefz abcdefz abcdefa abcdefa"])
    assert vocab.fix("abcdefg") == by_every_edit(vocab, "abcdefg") == "zbcdefg"
    vocab = Vocabulary(["abcdefz abcdefz abcdefa abcdefa"])
    assert vocab.fix("abcdefg") == by_every_edit(vocab, "abcdefg") == "abcdefa"
