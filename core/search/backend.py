"""What the tiers need from a database: rows matching clauses, within a scope; words like a word.

One implementation per dialect (``sqlite_index``, ``postgres_index``); ``backend_for`` picks it
from the session's connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from sqlalchemy.orm import Session

from core.actor import Actor
from core.search.patterns import Clause

Kind = Literal["organization", "person"]
KINDS: tuple[Kind, ...] = ("organization", "person")
BASE_TABLES: dict[Kind, str] = {"organization": "organizations", "person": "persons"}


@dataclass(frozen=True)
class Scope:
    """Which clients may be returned: some teams (None: all) and whether merged-away records count."""

    team_ids: tuple[int, ...] | None = None
    live_only: bool = False

    @classmethod
    def of(cls, actor: Actor) -> Scope:
        """The clients ``actor`` may see, without merged-away records (the ``visible`` rule)."""
        return cls(team_ids=None if actor.sees_everything else tuple(sorted(actor.team_ids)), live_only=True)

    @property
    def empty(self) -> bool:
        """True when nothing can be returned (a staff member without teams)."""
        return self.team_ids is not None and not self.team_ids


@dataclass(frozen=True)
class Row:
    """A client found: its id, its name key (for ordering within a tier) and the column that matched."""

    id: int
    name_key: str
    via: str = "names"


@dataclass(frozen=True)
class Ask:
    """One kind's part of a tier: rows matching any of ``clauses``, not in ``exclude``, at most ``limit``."""

    kind: Kind
    clauses: list[Clause]
    exclude: list[int]
    limit: int


class SearchBackend(Protocol):
    """The index of one database dialect."""

    def match(self, session: Session, asks: list[Ask], scope: Scope) -> dict[Kind, list[Row]]:
        """The rows each ask wants, within the scope (one round trip where the database allows)."""
        ...

    def similar_words(self, session: Session, word: str, limit: int) -> list[str]:
        """Up to ``limit`` vocabulary words sharing the most trigrams with ``word``."""
        ...

    def known_words(self, session: Session, words: list[str]) -> set[str]:
        """Which of ``words`` the vocabulary has."""
        ...


def scope_sql(scope: Scope, alias: str) -> tuple[str, dict[str, object]]:
    """The WHERE fragment (starting with AND) and parameters limiting ``alias`` to the scope."""
    parts, params = [], {}
    if scope.team_ids is not None:
        parts.append(f" AND {alias}.team_id IN :scope_teams")
        params["scope_teams"] = list(scope.team_ids)
    if scope.live_only:
        parts.append(f" AND {alias}.merged_into_id IS NULL")
    return "".join(parts), params


def backend_for(session: Session) -> SearchBackend:
    """The backend of the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        from core.search.postgres_index import PostgresIndex

        return PostgresIndex()
    from core.search.sqlite_index import SqliteIndex

    return SqliteIndex()
