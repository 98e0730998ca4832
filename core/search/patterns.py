"""Conditions on the index, written once for both databases.

A ``Clause`` asks one column of the index for substrings: every group must match, a group
matches when any of its substrings occurs. Because the index pads every value (`` name `` in
``names``, `` e-mail `` in ``emails``, ``| tag |`` in ``tags``), "a word starting with ива" is
the substring `` ива`` and "the whole word иван" is `` иван ``; the backends turn clauses into
FTS5 MATCH expressions (SQLite) or LIKE conditions served by pg_trgm (PostgreSQL).

Both engines need three characters to use their trigram index, so a clause is only asked when at
least one of its groups has nothing shorter; shorter groups then only narrow the rows found.
"""

from __future__ import annotations

from dataclasses import dataclass

COLUMNS = ("names", "emails", "phones", "tags")
MIN_INDEXED = 3


@dataclass(frozen=True)
class Clause:
    """All ``groups`` must occur in ``column``; a group is a choice of substrings."""

    column: str
    groups: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        if self.column not in COLUMNS:
            raise ValueError(f"no index column {self.column!r}")

    @property
    def indexed_groups(self) -> tuple[tuple[str, ...], ...]:
        """The groups a trigram index can look up (every choice at least three characters)."""
        return tuple(g for g in self.groups if g and all(len(s) >= MIN_INDEXED for s in g))

    @property
    def filter_groups(self) -> tuple[tuple[str, ...], ...]:
        """The groups too short for the index, checked on the rows the others found."""
        return tuple(g for g in self.groups if g and not all(len(s) >= MIN_INDEXED for s in g))

    @property
    def usable(self) -> bool:
        """True when the index can find the rows (some group is long enough)."""
        return bool(self.indexed_groups)

    @property
    def needs_distinct_words(self) -> bool:
        """True for a names clause of several groups, which the index alone cannot check fully."""
        return self.column == "names" and len(self.groups) > 1

    def accepts(self, name_key: str) -> bool:
        """True when every group matches a different word of ``name_key``.

        The index only knows that each group occurs somewhere, so "ivan ivanov" would match
        "sergey ivanov" (both groups in one word); this is the exact check on the rows it found.
        """
        words = name_key.split()
        tests = [[_word_test(s) for s in group] for group in self.groups]
        return _assign(tests, words, set())


def _word_test(substring: str):  # noqa: ANN202 - a predicate on one word
    """What a padded substring says about one word: is it (`` x ``), starts with it (`` x``), contains it."""
    core = substring.strip()
    if substring.startswith(" ") and substring.endswith(" "):
        return lambda word: word == core
    if substring.startswith(" "):
        return lambda word: word.startswith(core)
    return lambda word: core in word


def _assign(tests: list, words: list[str], used: set[int]) -> bool:  # noqa: ANN001
    if not tests:
        return True
    first, rest = tests[0], tests[1:]
    for i, word in enumerate(words):
        if i not in used and any(test(word) for test in first) and _assign(rest, words, used | {i}):
            return True
    return False


def words(tokens: tuple[str, ...] | list[str]) -> Clause:
    """Every token is a whole word of the name."""
    return Clause("names", tuple((f" {t} ",) for t in tokens))


def word_prefixes(tokens: tuple[str, ...] | list[str]) -> Clause:
    """Every token starts a word of the name."""
    return Clause("names", tuple((f" {t}",) for t in tokens))


def substrings(tokens: tuple[str, ...] | list[str]) -> Clause:
    """Every token occurs in the name (tokens too short for that must start a word)."""
    return Clause("names", tuple((t if len(t) >= MIN_INDEXED else f" {t}",) for t in tokens))


def choices(column: str, alternatives: list[tuple[str, ...]]) -> Clause:
    """One group per token, each a choice of substrings (the typo tier)."""
    return Clause(column, tuple(alternatives))


def single(column: str, text: str) -> Clause:
    """One substring in one column."""
    return Clause(column, ((text,),))
