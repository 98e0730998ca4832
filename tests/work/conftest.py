"""A small world for the work and sales tests: two teams, their people, a client in each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.actor import Actor
from core.clients.organizations import create_organization
from core.clients.persons import create_person
from core.models import Role, Team, User

API = "/api/v1"


@dataclass
class World:
    """Team A (staff anna and alex, manager max), team B (staff boris), an admin; a client in each team."""

    users: Any
    admin: User
    anna: User
    alex: User
    max: User
    boris: User
    org_a: int
    person_a: int
    org_b: int
    person_b: int

    def api(self, user: User) -> TestClient:
        """An API client acting as the user."""
        return self.users.client(user)

    def actor(self, user: User) -> Actor:
        """The core actor of the user."""
        return self.users.actor(user)


def make_user(users, email: str, role: Role = Role.staff, teams: tuple[str, ...] = ("A",)) -> User:  # noqa: ANN001
    """A user without a password (API clients use tokens), so no slow password hashing."""
    team_ids = [users.team(t) for t in teams]
    with users.db.session() as s:
        user = User(email=email, full_name=email.split("@")[0].title(), role=role)
        user.teams = list(s.scalars(select(Team).where(Team.id.in_(team_ids))))
        s.add(user)
        s.flush()
        s.refresh(user)
        _ = user.teams
    return user


@pytest.fixture
def world(users, db) -> World:  # noqa: ANN001
    admin = make_user(users, "root@ourcompany.test", Role.admin)
    anna = make_user(users, "anna@ourcompany.test")
    alex = make_user(users, "alex@ourcompany.test")
    max_ = make_user(users, "max@ourcompany.test", Role.manager)
    boris = make_user(users, "boris@ourcompany.test", teams=("B",))
    with db.session() as s:
        a = Actor.of(s.get(User, anna.id))
        org_a = create_organization(s, actor=a, name="ООО «Ромашка»", phones=["+7 495 111-22-33"])
        person_a = create_person(
            s, actor=a, first_name="Иван", last_name="Петров", organizations=[{"organization_id": org_a.id}]
        )
        b = Actor.of(s.get(User, boris.id))
        org_b = create_organization(s, actor=b, name="Beta Logistics", phones=["+7 812 555-44-33"])
        person_b = create_person(
            s, actor=b, first_name="Olga", last_name="Smirnova", organizations=[{"organization_id": org_b.id}]
        )
        ids = org_a.id, person_a.id, org_b.id, person_b.id
    return World(users, admin, anna, alex, max_, boris, *ids)
