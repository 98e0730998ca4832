"""``core.db.among``: IN a list given at run time, one statement text for any length on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import not_, select
from sqlalchemy.dialects import postgresql

from core.db import Database, among
from core.models import Team

NAMES = [f"Team {i:03}" for i in range(30)]
BY_NAME = select(Team.name).where(among(Team.name, "names")).order_by(Team.name)


@pytest.fixture
def teams(db: Database) -> None:
    with db.session() as s:
        s.add_all(Team(name=name) for name in NAMES)


@pytest.mark.parametrize(
    "wanted",
    [[], ["Team 003"], ["Team 010", "nobody", "Team 002"], NAMES + [f"absent {i}" for i in range(2000)]],
    ids=["none", "one", "some absent", "thousands"],
)
def test_among_finds_what_in_finds(db: Database, teams: None, wanted: list[str]):
    with db.session() as s:
        found = list(s.scalars(BY_NAME, {"names": wanted}))
        assert found == list(s.scalars(select(Team.name).where(Team.name.in_(wanted)).order_by(Team.name)))
    assert found == sorted(set(wanted) & set(NAMES))


def test_among_keeps_its_meaning_inside_not_and_or(db: Database, teams: None):
    stmt = select(Team.name).where(not_(among(Team.name, "names")) | (Team.name == "Team 001")).order_by(Team.name)
    with db.session() as s:
        found = list(s.scalars(stmt, {"names": NAMES[:5]}))
    assert found == ["Team 001", *NAMES[5:]]


def test_on_postgresql_the_statement_is_the_same_for_any_number_of_values():
    compiled = BY_NAME.compile(dialect=postgresql.psycopg.dialect())
    assert "IN (SELECT unnest(%(names)s::VARCHAR(200)[])" in str(compiled)
    assert "POSTCOMPILE" not in str(compiled)
