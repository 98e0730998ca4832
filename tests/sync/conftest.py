"""Fixtures for the engine's tests: a loopback server, accounts on it, and running a job in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.loopback.client import LoopbackServer
from core.actor import Actor
from core.db import Database
from core.models import ConnectorAccount, Person, RemoteLink, SyncRun, Team
from sync import control
from sync.retry import RetryPolicy
from sync.worker import Worker, WorkerOptions

PASSWORD = "s3cret-loopback-Pa55"
SYSTEM = Actor.system(source="cli")


def contacts(n: int, start: int = 0) -> list[dict]:
    """n distinct contacts, each with its own e-mail and phone."""
    return [
        {
            "first_name": f"First{i}",
            "last_name": f"Last{i}",
            "emails": [f"person{i}@client{i % 7}.test"],
            "phones": [f"+7 495 {100 + i // 10000:03d}-{(i // 100) % 100:02d}-{i % 100:02d}"],
            "company": f"Client {i % 7}",
            "title": "Buyer",
        }
        for i in range(start, start + n)
    ]


@pytest.fixture
def server(tmp_path: Path) -> LoopbackServer:
    """A loopback server with five contacts."""
    return LoopbackServer.create(tmp_path / "server", password=PASSWORD, contacts=contacts(5))


def add_account(db: Database, server: LoopbackServer, *, name: str = "Loopback", **settings) -> int:
    """A loopback account on this server (as the system), returning its id."""
    with db.session() as s:
        team = s.scalars(select(Team).where(Team.name == "Sync")).first()
        if team is None:
            team = Team(name="Sync")
            s.add(team)
            s.flush()
        account = control.add_account(
            s,
            actor=SYSTEM,
            kind="loopback",
            name=name,
            settings={"path": str(server.path), "password": PASSWORD, "batch_size": 2, **settings},
            team_id=team.id,
        )
        return account.id


@pytest.fixture
def account_id(db: Database, server: LoopbackServer) -> int:
    """A loopback account (batches of 2) on the five-contact server."""
    return add_account(db, server)


FAST = RetryPolicy(base=10.0, cap=100.0)


def run_now(db: Database, account_id: int, *, policy: RetryPolicy = FAST) -> str:
    """Queue a manual run of the account and run it here, as a worker would; returns how it ended."""
    with db.session() as s:
        job_id = control.run_now(s, actor=SYSTEM, account_id=account_id).id
    worker = Worker(db, WorkerOptions(lease_seconds=30, policy=policy), name="test-worker")
    lease = worker.claim_job(job_id)
    assert lease is not None
    return worker.run_job(lease)


def account(db: Database, account_id: int) -> ConnectorAccount:
    """The account as it is now."""
    with db.session() as s:
        return s.get(ConnectorAccount, account_id)


def last_run(db: Database, account_id: int) -> SyncRun:
    """The newest run of the account."""
    with db.session() as s:
        return s.scalars(select(SyncRun).where(SyncRun.account_id == account_id).order_by(SyncRun.id.desc())).first()


def linked_persons(db: Database, account_id: int) -> dict[str, Person]:
    """Remote id -> person, for every link of the account."""
    with db.session() as s:
        rows = s.execute(
            select(RemoteLink.remote_id, Person)
            .join(Person, Person.id == RemoteLink.entity_id)
            .where(RemoteLink.account_id == account_id)
        ).all()
        return {r: p for r, p in rows}
