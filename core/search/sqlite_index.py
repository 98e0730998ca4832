"""The SQLite index: FTS5 tables (trigram and word tokenizers), asked with MATCH.

Names live twice, keyed by the client's id: in ``search_persons`` / ``search_orgs`` (trigram,
for prefixes and substrings) and in ``search_person_words`` / ``search_org_words`` (FTS5's word
tokenizer, for whole words: "иван петров" is then the intersection of two terms' doclists, a
millisecond where the trigrams of two common names take tens). Tags are in
``search_person_tags`` / ``search_org_tags``, every contact point in ``search_person_points`` /
``search_org_points`` (rowid = the point's id, joined to ``contact_points`` for its kind and
owner). One column per table, and one table per owner kind: FTS5 walks a term's whole doclist
whatever else the query says, so a tag query must not wade through the trigrams of a million
names, nor an organization's e-mail through the persons'.

A phrase of the trigram tokenizer is a substring, so a clause becomes ``" иван" AND " пет"``.
FTS5 returns rows in rowid order and stops at the LIMIT, so a common prefix costs no more than
a rare one. Groups shorter than three characters cannot be looked up: they become GLOB filters
on the rows found (written ``+names`` so that SQLite does not hand them to FTS5, whose trigram
GLOB finds nothing below three characters). The client table is joined with CROSS JOIN, which
SQLite takes as "this order": the FTS5 rows drive and each is checked against the team by
primary key, never the other way round.

The vocabulary ``search_word_trigrams`` holds every name word padded with spaces; the words
sharing the most trigrams with a typed word come first by FTS5's bm25 rank.
"""

from __future__ import annotations

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from core.search.backend import BASE_TABLES, Ask, Kind, Row, Scope, scope_sql
from core.search.patterns import Clause

OWNER_TABLES: dict[tuple[Kind, str], str] = {
    ("person", "names"): "search_persons",
    ("organization", "names"): "search_orgs",
    ("person", "tags"): "search_person_tags",
    ("organization", "tags"): "search_org_tags",
}
WORD_TABLES: dict[Kind, str] = {"person": "search_person_words", "organization": "search_org_words"}
POINT_TABLES: dict[Kind, str] = {"person": "search_person_points", "organization": "search_org_points"}
POINT_KINDS = {"emails": "('email', 'domain')", "phones": "('phone')"}
POINT_OWNER: dict[Kind, str] = {"person": "person_id", "organization": "organization_id"}


def _phrase(substring: str) -> str:
    return '"' + substring.replace('"', '""') + '"'


def _glob(substring: str) -> str:
    escaped = "".join(f"[{c}]" if c in "*?[]" else c for c in substring)
    return f"*{escaped}*"


def match_expression(clause: Clause) -> str:
    """The FTS5 query for the indexed groups of a clause (trigram tables: substrings as phrases)."""
    return " AND ".join("(" + " OR ".join(_phrase(s) for s in group) + ")" for group in clause.indexed_groups)


def _by_words(clause: Clause) -> bool:
    """True for names asked as whole words (some choice is a whole word, none a bare substring)."""
    choices = [s for g in clause.groups for s in g]
    return (
        clause.column == "names"
        and all(s.startswith(" ") for s in choices)
        and any(s.endswith(" ") and len(s.strip()) > 0 for s in choices)
    )


def words_expression(clause: Clause) -> str:
    """The FTS5 query for a whole-words clause on the word tables: ``"иван" AND ("петров" OR "петр" *)``."""

    def term(choice: str) -> str:
        return _phrase(choice.strip()) + ("" if choice.endswith(" ") else " *")

    return " AND ".join("(" + " OR ".join(term(s) for s in group) + ")" for group in clause.groups)


def _from(kind: Kind, clause: Clause) -> tuple[str, str, str]:
    """The FTS5 table, the FROM ... JOIN text reaching the client ``c``, and the column to filter."""
    base = BASE_TABLES[kind]
    if _by_words(clause):
        table = WORD_TABLES[kind]
        return table, f"{table} CROSS JOIN {base} c ON c.id = {table}.rowid", "words"
    if clause.column in POINT_KINDS:
        table = POINT_TABLES[kind]
        joins = (
            f"{table} CROSS JOIN contact_points p ON p.id = {table}.rowid "
            f"AND p.kind IN {POINT_KINDS[clause.column]} CROSS JOIN {base} c ON c.id = p.{POINT_OWNER[kind]}"
        )
        return table, joins, "value"
    table = OWNER_TABLES[(kind, clause.column)]
    return table, f"{table} CROSS JOIN {base} c ON c.id = {table}.rowid", clause.column


class SqliteIndex:
    """The search index on SQLite."""

    def match(self, session: Session, asks: list[Ask], scope: Scope) -> dict[Kind, list[Row]]:
        """The rows each ask wants, within the scope, in one statement (a UNION ALL of the asks' clauses)."""
        asks = [a for a in asks if a.limit > 0 and any(c.usable for c in a.clauses)]
        out: dict[Kind, list[Row]] = {a.kind: [] for a in asks}
        if not asks or scope.empty:
            return out
        where_scope, params = scope_sql(scope, "c")
        expanding = ["scope_teams"] if "scope_teams" in params else []
        parts = []
        for ai, ask in enumerate(asks):
            params[f"seen{ai}"] = sorted(ask.exclude)
            expanding.append(f"seen{ai}")
            for ci, clause in enumerate(c for c in ask.clauses if c.usable):
                table, joins, column = _from(ask.kind, clause)
                by_words = _by_words(clause)
                key = f"{ai}_{ci}"
                params[f"m{key}"] = words_expression(clause) if by_words else match_expression(clause)
                filters = ""
                for gi, group in enumerate(() if by_words else clause.filter_groups):
                    names = [f"g{key}_{gi}_{j}" for j in range(len(group))]
                    params.update({n: _glob(sub) for n, sub in zip(names, group, strict=True)})
                    filters += " AND (" + " OR ".join(f"+{table}.{column} GLOB :{n}" for n in names) + ")"
                parts.append(
                    f"SELECT * FROM (SELECT DISTINCT {ai} AS ask, '{clause.column}' AS via, c.id, c.name_key "
                    f"FROM {joins} WHERE {table} MATCH :m{key}{filters}{where_scope} "
                    f"AND c.id NOT IN :seen{ai} LIMIT {ask.limit})"
                )
        stmt = text(" UNION ALL ".join(parts)).bindparams(*(bindparam(n, expanding=True) for n in expanding))
        seen: dict[int, set[int]] = {ai: set() for ai in range(len(asks))}
        for ai, via, row_id, key in session.execute(stmt, params):
            if row_id not in seen[ai] and len(seen[ai]) < asks[ai].limit:
                seen[ai].add(row_id)
                out[asks[ai].kind].append(Row(row_id, key, via))
        return out

    def similar_words(self, session: Session, word: str, limit: int) -> list[str]:
        """Up to ``limit`` vocabulary words sharing the most trigrams with ``word``."""
        padded = f" {word} "
        grams = sorted({padded[i : i + 3] for i in range(len(padded) - 2)})
        if not grams:
            return []
        rows = session.execute(
            text("SELECT word FROM search_word_trigrams WHERE search_word_trigrams MATCH :m ORDER BY rank LIMIT :n"),
            {"m": " OR ".join(_phrase(g) for g in grams), "n": limit},
        )
        return [w.strip() for (w,) in rows]

    def known_words(self, session: Session, words: list[str]) -> set[str]:
        """Which of ``words`` the vocabulary has (primary key lookups)."""
        if not words:
            return set()
        stmt = text("SELECT word FROM search_words WHERE word IN :words").bindparams(bindparam("words", expanding=True))
        return set(session.execute(stmt, {"words": sorted(set(words))}).scalars())
