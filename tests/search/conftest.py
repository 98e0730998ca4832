"""A small client base made through the services (so the index is filled by the real triggers)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from core.actor import Actor
from core.clients.organizations import create_organization
from core.clients.persons import create_person
from core.db import Database
from core.models import Role, Team
from core.search import search_clients


@dataclass
class World:
    """Two teams, their clients, and actors of each kind."""

    db: Database
    team_a: int
    team_b: int
    ids: dict[str, int]
    admin: Actor
    staff_a: Actor
    staff_b: Actor

    def search(self, q: str, actor: Actor | None = None, limit: int = 20) -> list[tuple[str, str]]:
        """(type, name) of the hits, in order."""
        with self.db.session() as s:
            return [(h.type, h.name) for h in search_clients(s, actor=actor or self.admin, q=q, limit=limit)]

    def names(self, q: str, actor: Actor | None = None, limit: int = 20) -> list[str]:
        """The names of the hits, in order."""
        return [name for _, name in self.search(q, actor, limit)]


def build_world(db: Database) -> World:
    """Create the clients every search test starts from."""
    system = Actor.system(source="tests")
    ids: dict[str, int] = {}
    with db.session() as s:
        a, b = Team(name="A"), Team(name="B")
        s.add_all([a, b])
        s.flush()
        team_a, team_b = a.id, b.id

        def org(key: str, name: str, team: int, **kw) -> int:  # noqa: ANN003
            ids[key] = create_organization(s, actor=system, name=name, team_id=team, **kw).id
            return ids[key]

        def person(key: str, first: str, last: str, team: int, middle: str = "", **kw) -> int:  # noqa: ANN003
            ids[key] = create_person(
                s, actor=system, first_name=first, middle_name=middle, last_name=last, team_id=team, **kw
            ).id
            return ids[key]

        romashka = org(
            "romashka",
            "ООО «Ромашка»",
            team_a,
            brand="Romashka",
            phones=["8 (495) 123-45-67"],
            emails=["info@romashka.test"],
            email_domains=["romashka.test"],
            tags=["Партнёр"],
        )
        org("romashka_service", "Ромашка-Сервис", team_a, phones=["+7 812 555-00-11"])
        org("lepestok", "АО Лепесток и Ромашка", team_a)
        beta = org("beta", "Beta Corp", team_b, phones=["+7 495 777-88-99"], tags=["VIP"])
        person(
            "petrov",
            "Иван",
            "Петров",
            team_a,
            middle="Сергеевич",
            phones=["+7 916 111-22-33"],
            emails=["ivan.petrov@romashka.test"],
            organizations=[{"organization_id": romashka, "role": "CEO"}],
            tags=["VIP"],
        )
        person("petrova", "Анна", "Петрова", team_a, organizations=[{"organization_id": romashka}])
        person("petr", "Пётр", "Иванов", team_a)
        person("ivanov_lat", "Sergey", "Ivanov", team_a, emails=["s.ivanov@mail.test"])
        person("ivanova_lat", "Maria", "Ivanova", team_a)
        person("vasilyev", "Олег", "Васильев", team_a, phones=["8 (903) 765-43-21"])
        person("b_ivanov", "Ivan", "Ivanov", team_b, organizations=[{"organization_id": beta}])
        person("b_smith", "John", "Smith", team_b, phones=["+7 926 000-11-22"], emails=["john@beta.test"])
        person("b_beta_fan", "Betty", "Romanova", team_b, tags=["Партнёр"])
    admin = Actor(user_id=None, role=Role.admin, name="admin")
    staff_a = Actor(user_id=None, role=Role.staff, team_ids=frozenset({team_a}), name="a")
    staff_b = Actor(user_id=None, role=Role.staff, team_ids=frozenset({team_b}), name="b")
    return World(db, team_a, team_b, ids, admin, staff_a, staff_b)


@pytest.fixture
def world(db: Database) -> World:
    """The small client base, on a fresh database (for tests that write)."""
    return build_world(db)


@pytest.fixture(scope="module")
def shared_world(template_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The small client base on one database per module, for tests that only read."""
    from tests.conftest import BACKEND, PG_URL

    if BACKEND == "postgres":
        name = f"crmhub_s_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(
            PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
        url = PG_URL.rsplit("/", 1)[0] + "/" + name
    else:
        path = tmp_path_factory.mktemp("search") / "shared.db"
        shutil.copy(template_db, path)
        url = f"sqlite:///{path}"
    db = Database(url)
    yield build_world(db)
    db.dispose()
    if BACKEND == "postgres":
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
