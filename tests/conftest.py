"""Shared fixtures: a fresh migrated database per test (SQLite or PostgreSQL), the app, users.

The suite runs on SQLite by default and on PostgreSQL when ``CRMHUB_TEST_DB=postgres``:
on a private throwaway cluster with fsync off (``tests/peers/postgres.py``) when this machine
can run one, else on the server ``CRMHUB_TEST_PG_URL`` names (default the local one). Each
test gets its own database copied from a migrated template: a file copy on SQLite,
``CREATE DATABASE ... TEMPLATE`` on PostgreSQL (about 30 ms), so tests never see each
other's rows.
"""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from core.actor import Actor
from core.bootstrap import ensure_defaults
from core.config import Settings, get_settings
from core.db import Database
from core.migrate import upgrade
from core.models import Role, Team, User
from core.users.auth import create_api_token
from core.users.passwords import hash_password
from hub.app import create_app
from tests.peers.postgres import PrivateCluster

BACKEND = os.environ.get("CRMHUB_TEST_DB", "sqlite")
PG_URL = os.environ.get("CRMHUB_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
"""The PostgreSQL server's admin URL; replaced by the private cluster's when one runs."""
PASSWORD = "correct-horse-battery"


@functools.cache
def password_hash() -> str:
    """The Argon2 hash of ``PASSWORD``, computed once (hashing is slow on purpose)."""
    return hash_password(PASSWORD)


def _pg_admin() -> sa.Engine:
    return sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return PG_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str | None]:
    """The PostgreSQL admin URL for this session (a private fast cluster when possible)."""
    global PG_URL
    if BACKEND != "postgres":
        yield None
        return
    if "CRMHUB_TEST_PG_URL" in os.environ or not PrivateCluster.available():
        yield PG_URL
        return
    cluster = PrivateCluster()
    try:
        PG_URL = cluster.start()
        yield PG_URL
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def template_db(pg_server: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database with the defaults, copied for every test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    if BACKEND == "postgres":
        name = f"crmhub_tmpl_{worker}_{os.getpid()}"
        admin = _pg_admin()
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        db = Database(_pg_url(name))
    else:
        path = tmp_path_factory.mktemp("tmpl") / "template.db"
        db = Database(f"sqlite:///{path}")
    upgrade(db)
    with db.session() as s:
        ensure_defaults(s)
    db.dispose()
    yield name if BACKEND == "postgres" else str(path)
    if BACKEND == "postgres":
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def db_url(template_db: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh database for this test."""
    if BACKEND == "postgres":
        name = f"crmhub_t_{uuid.uuid4().hex[:12]}"
        admin = _pg_admin()
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
        yield _pg_url(name)
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    else:
        path = tmp_path / "crmhub.db"
        shutil.copy(template_db, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def settings(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for this test: its own database and data folder, a fixed secret key."""
    env = {
        "CRMHUB_CONFIG": str(tmp_path / "absent.toml"),
        "CRMHUB_DATABASE_URL": db_url,
        "CRMHUB_DATA_DIR": str(tmp_path / "data"),
        "CRMHUB_SECRET_KEY": "test-secret-key-0123456789",
        "CRMHUB_ENCRYPTION_KEYS": '["kOf6tF5V3sS0tHfD9y2cZ8qL1mW4nR7pX0aB3dE6gHI="]',
        "CRMHUB_RUN_WORKER": "false",
        "CRMHUB_INTERNAL_DOMAINS": '["ourcompany.test"]',
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """The test's database."""
    database = Database(settings.effective_database_url)
    yield database
    database.dispose()


_APPS: list = []


@pytest.fixture
def app(settings: Settings, db: Database):  # noqa: ANN201
    """The hub app on the test's database (no background worker).

    FastAPI spends a second or more building the routes of an app, so the suite builds one
    and points it at each test's settings and database (``app.state``), as a fresh
    ``create_app`` would.
    """
    if not _APPS:
        _APPS.append(create_app(settings, db))
    shared = _APPS[0]
    shared.state.settings = settings
    shared.state.db = db
    return shared


class Users:
    """Makes users with teams and gives API clients acting as them."""

    def __init__(self, db: Database, app) -> None:  # noqa: ANN001
        self.db = db
        self.app = app
        self.teams: dict[str, int] = {}

    def team(self, name: str) -> int:
        """The id of a team, created on first use."""
        if name not in self.teams:
            with self.db.session() as s:
                team = Team(name=name)
                s.add(team)
                s.flush()
                self.teams[name] = team.id
        return self.teams[name]

    def make(self, email: str, *, role: Role = Role.staff, teams: tuple[str, ...] = ("Sales",)) -> User:
        """A user with a password (``PASSWORD``) in the given teams."""
        team_ids = [self.team(t) for t in teams]
        with self.db.session() as s:
            user = User(email=email, full_name=email.split("@")[0].title(), role=role, password_hash=password_hash())
            user.teams = list(s.scalars(sa.select(Team).where(Team.id.in_(team_ids))))
            s.add(user)
            s.flush()
            s.refresh(user)
            _ = user.teams
        return user

    def actor(self, user: User) -> Actor:
        """The core actor for a user."""
        with self.db.session() as s:
            return Actor.of(s.get(User, user.id))

    def client(self, user: User) -> TestClient:
        """An API client authenticated with a fresh token of the user."""
        with self.db.session() as s:
            _, secret = create_api_token(s, actor=Actor.of(s.get(User, user.id)), name="tests")
        client = TestClient(self.app)
        client.headers["Authorization"] = f"Bearer {secret}"
        return client


@pytest.fixture
def users(db: Database, app) -> Users:  # noqa: ANN001
    """A factory of users and API clients."""
    return Users(db, app)


@pytest.fixture
def admin(users: Users) -> User:
    """An admin in team Sales."""
    return users.make("admin@ourcompany.test", role=Role.admin)


@pytest.fixture
def admin_api(users: Users, admin: User) -> TestClient:
    """An API client acting as the admin."""
    return users.client(admin)
