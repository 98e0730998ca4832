"""Fixtures for the records tests: two teams with their staff, and rows made directly in the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from core.actor import Actor
from core.db import Database
from core.models import Deal, Interaction, InteractionKind, Pipeline, Role, Task, Team, User

API = "/api/v1"


@dataclass
class Crew:
    """Staff of team A and team B, an admin, and API clients acting as each."""

    a: User
    b: User
    admin: User
    api_a: TestClient
    api_b: TestClient
    api_admin: TestClient
    team_a: int
    team_b: int


def make_user(users, email: str, *, role: Role = Role.staff, teams: tuple[str, ...] = ("A",)) -> User:  # noqa: ANN001
    """A user without a password (API tokens only), which skips the slow password hashing."""
    team_ids = [users.team(t) for t in teams]
    with users.db.session() as s:
        user = User(email=email, full_name=email.split("@")[0].title(), role=role, password_hash=None)
        user.teams = list(s.scalars(sa.select(Team).where(Team.id.in_(team_ids))))
        s.add(user)
        s.flush()
        s.refresh(user)
        _ = user.teams
    return user


def client_as(users, email: str, *, role: Role = Role.staff, teams: tuple[str, ...] = ("A",)) -> TestClient:  # noqa: ANN001
    """An API client acting as a new user of this role and teams."""
    return users.client(make_user(users, email, role=role, teams=teams))


@pytest.fixture
def crew(users) -> Crew:  # noqa: ANN001
    """Two teams, one staff member in each, and an admin in both."""
    a = make_user(users, "anna@ourcompany.test", teams=("A",))
    b = make_user(users, "boris@ourcompany.test", teams=("B",))
    admin = make_user(users, "root@ourcompany.test", role=Role.admin, teams=("A", "B"))
    return Crew(
        a=a,
        b=b,
        admin=admin,
        api_a=users.client(a),
        api_b=users.client(b),
        api_admin=users.client(admin),
        team_a=users.team("A"),
        team_b=users.team("B"),
    )


def make_org(api: TestClient, name: str, **fields) -> dict:  # noqa: ANN003
    """Create an organization through the API and return it."""
    r = api.post(f"{API}/organizations", json={"name": name, **fields})
    assert r.status_code == 201, r.text
    return r.json()


def make_person(api: TestClient, first: str, last: str, **fields) -> dict:  # noqa: ANN003
    """Create a person through the API and return them."""
    r = api.post(f"{API}/persons", json={"first_name": first, "last_name": last, **fields})
    assert r.status_code == 201, r.text
    return r.json()


def add_interaction(
    db: Database,
    *,
    team_id: int,
    organization_id: int | None = None,
    person_id: int | None = None,
    subject: str = "Call",
    body: str = "",
    mail_id: int | None = None,
) -> int:
    """Log a note on a client directly in the store; its id."""
    with db.session() as s:
        kind = s.scalars(sa.select(InteractionKind).where(InteractionKind.code == "note")).one()
        row = Interaction(
            kind_id=kind.id,
            occurred_at=datetime.now(UTC),
            subject=subject,
            body=body,
            organization_id=organization_id,
            person_id=person_id,
            team_id=team_id,
            mail_id=mail_id,
        )
        s.add(row)
        s.flush()
        return row.id


def add_task(
    db: Database,
    *,
    team_id: int,
    responsible_id: int,
    organization_id: int | None = None,
    person_id: int | None = None,
    title: str = "Call back",
) -> int:
    """Plan a task on a client directly in the store; its id."""
    with db.session() as s:
        row = Task(
            title=title,
            due_at=datetime.now(UTC) + timedelta(days=1),
            responsible_id=responsible_id,
            organization_id=organization_id,
            person_id=person_id,
            team_id=team_id,
        )
        s.add(row)
        s.flush()
        return row.id


def add_deal(db: Database, *, team_id: int, organization_id: int, person_id: int | None = None) -> int:
    """Open a deal with an organization directly in the store; its id."""
    with db.session() as s:
        pipeline = s.scalars(sa.select(Pipeline).where(Pipeline.is_default.is_(True))).one()
        row = Deal(
            title="Deal",
            organization_id=organization_id,
            person_id=person_id,
            pipeline_id=pipeline.id,
            stage_id=pipeline.stages[0].id,
            team_id=team_id,
        )
        s.add(row)
        s.flush()
        return row.id


def actor_of(db: Database, user: User) -> Actor:
    """The core actor for a user."""
    with db.session() as s:
        return Actor.of(s.get(User, user.id))
