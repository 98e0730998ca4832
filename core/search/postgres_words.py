"""Which of several words typed is the rarest, from the planner's own statistics (PostgreSQL).

A question of several words ("Елена Петровна Васильева") is answered by walking the B-tree
range of one word and checking the others among each client's words. Walking the commonest
word (Елена: 25,000 rows) to find two Васильевы costs hundreds of milliseconds; walking the
rarest costs a few. Counting each word's rows first costs as much as the mistake, so the
choice is made from ``pg_stats``: ANALYZE keeps the hundred commonest words of
``person_words`` / ``org_words`` with their shares, and every other word is rarer than those.
The statistics are read once per database every ten minutes (an estimate only decides which
word drives; a stale one costs time, never results). Before the first ANALYZE there are none,
and a whole word before a prefix, the longer first, is the guess.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.search.backend import Kind
from core.search.patterns import Clause

WORD_TABLES: dict[Kind, str] = {"organization": "org_words", "person": "person_words"}
STATS_SECONDS = 600.0
PREFIX_WORDS = 5
"""A prefix is counted as the common words it starts plus this many rare ones."""


@dataclass(frozen=True)
class WordStats:
    """What the planner's statistics say about how common the words of one kind are."""

    common: dict[str, float]
    """The commonest words and the share of word rows each has."""
    rare: float
    """The share of a word that is not among the commonest."""

    def share(self, group: tuple[str, ...]) -> float:
        """The estimated share of word rows matched by a group of padded choices."""
        total = 0.0
        for choice in group:
            word = choice.strip()
            if choice.endswith(" "):
                total += self.common.get(word, self.rare)
            else:
                total += sum(f for w, f in self.common.items() if w.startswith(word)) + PREFIX_WORDS * self.rare
        return total


_CACHE: dict[tuple[str, Kind], tuple[float, WordStats | None]] = {}


def word_stats(session: Session, kind: Kind) -> WordStats | None:
    """The statistics of the words of ``kind`` (cached a while; None before the first ANALYZE)."""
    key = (str(session.get_bind().engine.url), kind)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    row = session.execute(
        text(
            "SELECT s.most_common_vals::text::text[], s.most_common_freqs, s.n_distinct, c.reltuples "
            "FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename "
            "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = s.schemaname "
            "WHERE s.schemaname = 'search_index' AND s.tablename = :t AND s.attname = 'word'"
        ),
        {"t": WORD_TABLES[kind]},
    ).first()
    stats = None
    if row is not None and row[0]:
        words, shares, distinct, tuples = row
        distinct = distinct if distinct > 0 else -distinct * max(tuples, 1)
        rare = max(0.0, 1 - sum(shares)) / max(distinct - len(words), 1)
        stats = WordStats(dict(zip(words, shares, strict=True)), rare)
    _CACHE[key] = (time.monotonic() + STATS_SECONDS, stats)
    return stats


def rarest_first(clause: Clause, stats: WordStats | None) -> list[tuple[str, ...]]:
    """The groups of a words clause, the one likely to match the fewest rows first."""
    if stats is None:
        return sorted(clause.groups, key=lambda g: (not all(s.endswith(" ") for s in g), -max(map(len, g))))
    return sorted(clause.groups, key=stats.share)
