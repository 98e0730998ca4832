"""Typo tolerance: the vocabulary words within a small edit distance of a typed word.

The index asks the vocabulary for words sharing the most trigrams with the typed word (bounded:
``CANDIDATES`` rows); the exact decision is made here, by the optimal string alignment
distance (insertions, deletions, substitutions and swaps of neighbours each count one), so both
databases accept the same corrections. Short words tolerate one edit, long ones two; words
under four letters are not corrected at all (too many neighbours to mean anything).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.search.backend import SearchBackend

CANDIDATES = 40
MAX_CORRECTIONS = 5
MIN_LENGTH = 4


def max_edits(word: str) -> int:
    """How many edits a word of this length may contain: 0 below 4 letters, 1 up to 7, then 2."""
    if len(word) < MIN_LENGTH:
        return 0
    return 1 if len(word) <= 7 else 2


def osa_distance(a: str, b: str, limit: int) -> int:
    """The optimal string alignment distance of ``a`` and ``b``, or ``limit + 1`` when above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[-1], limit + 1)


def corrections(session: Session, backend: SearchBackend, word: str) -> list[str]:
    """The known words one or two edits from ``word`` (never ``word`` itself), closest first."""
    limit = max_edits(word)
    if not limit or word.isdigit():
        return []
    scored = []
    for candidate in backend.similar_words(session, word, CANDIDATES):
        distance = osa_distance(word, candidate, limit)
        if candidate != word and distance <= limit:
            # Fewer edits first; then words longer than the typed one (a letter left out is the
            # commonest slip, and the typed word may be unfinished), then the nearest length.
            scored.append((distance, len(candidate) < len(word), abs(len(candidate) - len(word)), candidate))
    return [s[-1] for s in sorted(scored)[:MAX_CORRECTIONS]]
