"""One search over organizations and persons: name, e-mail, phone (any format), company, tag; typos forgiven.

The web UI asks on every key press and the bot's ``/find`` asks with whatever was typed, over a
client base of up to a million records, so the search has to be fast for the common case and
bounded for every case, rank what the user most likely meant first, and never show a client of
a team the user does not belong to.

**The index** (migration ``0002_search``) keeps, per client, its name words, the names padded
with spaces (so that "word starts with", "whole word" and "contains" are all substring tests),
each contact point (phone digits, e-mail) and its tags, plus a vocabulary of distinct name
words. SQLite answers with FTS5 tables (trigram for prefixes and substrings, word tokens for
whole words), PostgreSQL with B-trees for words and prefixes and pg_trgm GIN indexes for
substrings (``sqlite_index``, ``postgres_index``). The vocabulary, with its own trigram index,
turns a typo into the few real words it can be (``typos``).

Triggers on the client tables keep the index in step with every write, in the same transaction:
the services, merges (points and tags moving to the surviving record, ``merged_into_id`` set),
deletes (cascades included), imports and bulk loads all go through them, and nothing has to
remember to call an indexer. Team and merge state are not copied into the index; every query
joins the client row, so a change of team is seen at once. ``tests/search/test_index_sync.py``
checks that after a mix of writes the index is exactly what a fresh build makes.

**The ranking** is a sequence of tiers, exact to fuzzy, each run only while the page is not full
(``engine``): exact names, phones and e-mails; whole words and tags; word prefixes, e-mail
prefixes and phone digits; the people of the companies named; substrings; typos. Rights are a
condition of every query (``Scope``), not a filter afterwards. ``bench/search.py`` measures it
at a million clients (see ``bench/README.md``).

The functions below are the public face; the list services use the ``*_ids_matching`` ones to
filter by ``q``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.actor import Actor
from core.config import get_settings
from core.search.backend import Scope
from core.search.engine import find
from core.search.hits import SearchHit, load_hits
from core.search.query import parse_query

__all__ = ["SearchHit", "organization_ids_matching", "person_ids_matching", "search_clients"]


def _parse(q: str):  # noqa: ANN202 - a ParsedQuery
    return parse_query(q, region=get_settings().default_region)


def organization_ids_matching(session: Session, q: str, limit: int = 1000, *, actor: Actor | None = None) -> list[int]:
    """Ids of organizations matching ``q``, best first (all teams and merged ones unless ``actor`` is given)."""
    scope = Scope.of(actor) if actor is not None else Scope()
    return [f.id for f in find(session, _parse(q), kinds=("organization",), scope=scope, limit=limit)]


def person_ids_matching(session: Session, q: str, limit: int = 1000, *, actor: Actor | None = None) -> list[int]:
    """Ids of persons matching ``q`` or working in a company matching it, best first (rights as above)."""
    scope = Scope.of(actor) if actor is not None else Scope()
    return [f.id for f in find(session, _parse(q), kinds=("person",), scope=scope, limit=limit)]


def search_clients(session: Session, *, actor: Actor, q: str, limit: int = 20) -> list[SearchHit]:
    """Organizations and persons matching ``q`` that the actor may see, best matches first."""
    if not q.strip():
        return []
    scope = Scope.of(actor)
    return load_hits(session, find(session, _parse(q), scope=scope, limit=limit), scope)
