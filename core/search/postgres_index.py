"""The PostgreSQL index: tables in schema ``search_index``, B-tree words and pg_trgm GIN indexes.

A clause is answered by the structure that suits it (see the migration for the tables):

- whole words and word prefixes of names (`` иван `` / `` ива``): the (word, id) B-tree of
  ``person_words`` / ``org_words``: ``word = 'иван'`` or ``word LIKE 'ива%'``. An ordered range
  scan stops at the LIMIT, so the commonest surname costs what a rare one costs; a trigram GIN
  index would first build the bitmap of every row containing it (40 ms for "иванов" at a
  million clients, against under one). With several words, the rarest drives and the others
  are looked up among each client's words (``postgres_words``).
- substrings of names: the pg_trgm GIN index of ``persons`` / ``orgs`` (``names LIKE '%ова%'``).
- e-mails: a B-tree on the padded value for prefixes (``value LIKE ' ivan.p%'``, asked in
  index order), the GIN index for substrings; phones: the GIN index (``value LIKE
  '%1234567%'``, digits anywhere). Points are kept per owner kind (``person_points``,
  ``org_points``), so the persons' e-mails are never searched for an organization's.
- tags: the GIN index of ``person_tags`` / ``org_tags`` with ILIKE (pg_trgm folds case).

All the clauses of a tier, for both kinds, go in one statement (a UNION ALL of LIMITed parts).
The B-trees use the C collation and queries say so, so that a LIKE prefix is a byte range
whatever the database's collation.

The typo lookup asks the vocabulary ``search_index.words`` with the similarity operator ``%``
over its own GIN index: a few thousand short rows instead of a million names, which is why
typos are not searched with ``%`` on the names themselves (their common trigrams would pull
in a large part of the table).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from core.search.backend import BASE_TABLES, Ask, Kind, Row, Scope, scope_sql
from core.search.patterns import Clause
from core.search.postgres_words import WordStats, rarest_first, word_stats

NAMES: dict[Kind, str] = {"organization": "search_index.orgs", "person": "search_index.persons"}
WORDS: dict[Kind, str] = {"organization": "search_index.org_words", "person": "search_index.person_words"}
TAGS: dict[Kind, str] = {"organization": "search_index.org_tags", "person": "search_index.person_tags"}
POINTS: dict[Kind, str] = {"organization": "search_index.org_points", "person": "search_index.person_points"}
POINT_KINDS = {"emails": "('email', 'domain')", "phones": "('phone')"}
POINT_OWNER: dict[Kind, str] = {"person": "person_id", "organization": "organization_id"}
SIMILARITY = "0.3"
WORD_ROWS = 3
"""A client has a row per word, so a word query reads this many rows per place (and drops repeats)."""


def _escape(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _any(tests: list[str]) -> str:
    return "(" + " OR ".join(tests) + ")"


class _Sql:
    """Collects bound parameters under unique names while the statement is written."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return ":" + name

    def starts(self, column: str, choice: str, *, indexed: bool = True) -> str:
        """A padded choice on a B-tree column: `` x `` is the word, `` x`` starts the word or value.

        ``indexed=False`` tests an expression no index has (``word || ''``): for a prefix looked up
        among one client's words, where the (id) index must be used; the word index would walk the
        whole range of the prefix for every client (PostgreSQL turns even a plain LIKE into that
        range). A whole word is better asked indexed: (word, id) is then one probe.
        """
        word = choice.strip() if column.endswith(".word") else choice
        subject = f'{column} COLLATE "C"' if indexed else f"({column} || '')"
        if column.endswith(".word") and choice.endswith(" "):
            return f"{subject} = {self.bind(word)}"
        return f"{subject} LIKE {self.bind(_escape(word) + '%')}"

    def contains(self, column: str, choice: str, op: str = "LIKE") -> str:
        """A substring test, served by a trigram index."""
        return f"{column} {op} {self.bind('%' + _escape(choice) + '%')}"


def _by_words(clause: Clause) -> bool:
    """True when every choice is a whole word or a word prefix (the B-tree can answer)."""
    return clause.column == "names" and all(s.startswith(" ") for g in clause.groups for s in g)


def _ordered(clause: Clause, column: str) -> str:
    """ORDER BY the B-tree column when one prefix is asked: the index scan is then the only sane plan."""
    if len(clause.groups) == 1 and len(clause.groups[0]) == 1:
        return f' ORDER BY {column} COLLATE "C"'
    return ""


def _part(sql: _Sql, kind: Kind, clause: Clause, stats: WordStats | None) -> tuple[str, str, str]:
    """FROM ... JOIN text reaching the client ``c``, the condition and an ORDER BY, for one clause."""
    base = BASE_TABLES[kind]
    if _by_words(clause):
        # One word drives (an ordered B-tree range that stops at the LIMIT); each other word is a
        # lookup among the client's own words, so the plan is a nested loop whatever the planner
        # would think of the join (a hash join reads every row of the commonest word first).
        groups = rarest_first(clause, stats)
        conds = [_any([sql.starts("w0.word", s) for s in groups[0]])]
        for g in groups[1:]:
            # A whole word is a probe of the (word, id) B-tree on both columns; a prefix would walk
            # its whole range there, so it is tested among the client's own rows instead.
            whole = all(s.endswith(" ") for s in g)
            tests = _any([sql.starts("w.word", s, indexed=whole) for s in g])
            conds.append(f"(SELECT true FROM {WORDS[kind]} w WHERE w.id = w0.id AND {tests} LIMIT 1)")
        return f"{WORDS[kind]} w0 JOIN {base} c ON c.id = w0.id", " AND ".join(conds), _ordered(clause, "w0.word")
    if clause.column == "names":
        conds = [_any([sql.contains("d.names", s) for s in g]) for g in clause.groups]
        return f"{NAMES[kind]} d JOIN {base} c ON c.id = d.id", " AND ".join(conds), ""
    if clause.column == "tags":
        conds = [_any([sql.contains("d.tags", s, "ILIKE") for s in g]) for g in clause.groups]
        return f"{TAGS[kind]} d JOIN {base} c ON c.id = d.id", " AND ".join(conds), ""
    prefix = all(s.startswith(" ") for g in clause.groups for s in g)
    conds = [f"d.kind IN {POINT_KINDS[clause.column]}"] + [
        _any([sql.starts("d.value", s) if s.startswith(" ") else sql.contains("d.value", s) for s in g])
        for g in clause.groups
    ]
    joins = f"{POINTS[kind]} d JOIN {base} c ON c.id = d.{POINT_OWNER[kind]}"
    return joins, " AND ".join(conds), _ordered(clause, "d.value") if prefix else ""


class PostgresIndex:
    """The search index on PostgreSQL."""

    def match(self, session: Session, asks: list[Ask], scope: Scope) -> dict[Kind, list[Row]]:
        """The rows each ask wants, within the scope, in one statement (a UNION ALL of the asks)."""
        asks = [a for a in asks if a.limit > 0 and any(c.usable for c in a.clauses)]
        out: dict[Kind, list[Row]] = {a.kind: [] for a in asks}
        if not asks or scope.empty:
            return out
        stats = {
            a.kind: word_stats(session, a.kind)
            for a in asks
            if any(c.usable and _by_words(c) and len(c.groups) > 1 for c in a.clauses)
        }
        sql = _Sql()
        where_scope, scope_params = scope_sql(scope, "c")
        parts, expanding = [], ["scope_teams"] if "scope_teams" in scope_params else []
        for ai, ask in enumerate(asks):
            seen = f"seen{ai}"
            sql.params[seen] = list(ask.exclude)
            expanding.append(seen)
            for clause in (c for c in ask.clauses if c.usable):
                joins, cond, order = _part(sql, ask.kind, clause, stats.get(ask.kind))
                limit = ask.limit * (WORD_ROWS if _by_words(clause) else 1)
                parts.append(
                    f"(SELECT {ai} AS ask, '{clause.column}' AS via, c.id, c.name_key FROM {joins} "
                    f"WHERE {cond}{where_scope} AND c.id NOT IN :{seen}{order} LIMIT {limit})"
                )
        stmt = text(" UNION ALL ".join(parts)).bindparams(*(bindparam(n, expanding=True) for n in expanding))
        seen_ids: dict[int, set[int]] = {ai: set() for ai in range(len(asks))}
        for ai, via, row_id, key in session.execute(stmt, {**sql.params, **scope_params}):
            if row_id not in seen_ids[ai] and len(seen_ids[ai]) < asks[ai].limit:
                seen_ids[ai].add(row_id)
                out[asks[ai].kind].append(Row(row_id, key, via))
        return out

    def similar_words(self, session: Session, word: str, limit: int) -> list[str]:
        """Up to ``limit`` vocabulary words most similar to ``word`` (pg_trgm similarity, GIN index)."""
        # The vocabulary is small, so the planner would read it all and compute the similarity of
        # every word (30 ms for 6,000 words, growing with them) rather than ask its GIN index
        # (2 ms): sequential scans are off for this one statement and put back after it. The
        # threshold is set to pg_trgm's default, so a session that changed it changes nothing here.
        previous = session.execute(
            text(
                "WITH previous AS MATERIALIZED (SELECT current_setting('enable_seqscan') AS v) "
                "SELECT previous.v, set_config('enable_seqscan', 'off', true), "
                "set_config('pg_trgm.similarity_threshold', :t, true) FROM previous"
            ),
            {"t": SIMILARITY},
        ).scalar()
        rows = session.execute(
            text("SELECT word FROM search_index.words WHERE word % :w ORDER BY word <-> :w, word LIMIT :n"),
            {"w": word, "n": limit},
        )
        words = [w for (w,) in rows]
        session.execute(text("SELECT set_config('enable_seqscan', :v, true)"), {"v": previous})
        return words

    def known_words(self, session: Session, words: list[str]) -> set[str]:
        """Which of ``words`` the vocabulary has (primary key lookups)."""
        if not words:
            return set()
        stmt = text("SELECT word FROM search_index.words WHERE word IN :words").bindparams(
            bindparam("words", expanding=True)
        )
        return set(session.execute(stmt, {"words": sorted(set(words))}).scalars())
