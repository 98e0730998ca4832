"""Live mode end to end: a worker watching a real Dovecot mailbox logs new mail within seconds.

The account's interval is an hour, so after its first run nothing but the watcher can bring the
next message in: when it appears, the watch (IMAP IDLE, or NOOP polling on a server that does not
offer IDLE) asked the engine to run the account. Waits poll the database against a deadline.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from connectors.email import connector as connector_module
from core.actor import Actor
from core.clients.organizations import create_organization
from core.clients.persons import create_person
from core.db import Database
from core.integration import accounts as core_accounts
from core.models import ConnectorAccount, Interaction, Job, JobState, Role, SyncRun
from sync import control
from sync.retry import RetryPolicy
from sync.watcher import WATCH, WatchOptions
from sync.worker import Worker, WorkerOptions
from tests.peers.dovecot import Dovecot, free_port
from tests.peers.dovecot_fixtures import dovecot  # noqa: F401

PEER_FIXTURES = (dovecot,)
SYSTEM = Actor.system(source="cli")
ANNA = "anna@ourcompany.test"
NO_IDLE = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ NAMESPACE UIDPLUS CONDSTORE SPECIAL-USE MULTIAPPEND"
DEADLINE = 30.0


def mail(n: int) -> bytes:
    return (
        f"From: Ivan Petrov <ivan@acme.test>\r\nTo: {ANNA}\r\nSubject: Live {n}\r\n"
        f"Message-ID: <live-{n}@acme.test>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0300\r\n\r\nHello {n}\r\n"
    ).encode()


def wait_for(what: str, check: Callable[[], object], deadline: float = DEADLINE) -> object:
    """Poll ``check`` until it returns something true, or fail after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {deadline:g} s")


def subjects(db: Database) -> list[str]:
    with db.session() as s:
        return sorted(s.scalars(select(Interaction.subject)))


def finished_runs(db: Database, account_id: int) -> int:
    with db.session() as s:
        runs = s.scalars(select(SyncRun).where(SyncRun.account_id == account_id, SyncRun.status == "ok")).all()
        return len(runs)


@pytest.fixture(scope="module")
def no_idle_dovecot() -> Iterator[Dovecot]:
    """A Dovecot that does not announce IDLE."""
    server = Dovecot(capability=NO_IDLE).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def live_world(db: Database, users) -> Callable[[Dovecot], int]:  # noqa: ANN001
    """Anna (staff, team Sales) and Ivan of Acme as a client; makes Anna's live account on a server."""
    anna = users.make(ANNA, role=Role.staff, teams=("Sales",))
    admin = users.make("admin@ourcompany.test", role=Role.admin, teams=("Sales",))
    with db.session() as s:
        actor = users.actor(admin)
        acme = create_organization(
            s, actor=actor, name="Acme", email_domains=["acme.test"], team_id=users.team("Sales")
        )
        create_person(
            s,
            actor=actor,
            first_name="Ivan",
            last_name="Petrov",
            emails=["ivan@acme.test"],
            organizations=[{"organization_id": acme.id}],
            team_id=users.team("Sales"),
        )

    def make(server: Dovecot) -> int:
        user = f"anna-{len(server.passwords)}-{server.port}@ourcompany.test"
        server.add_user(user, "anna-Secret-1")
        server.append(user, "INBOX", [mail(0)])
        settings = {
            "host": server.host,
            "port": server.port,
            "security": "plain",
            "username": user,
            "password": "anna-Secret-1",
            "folders": ["INBOX"],
            "live": True,
        }
        with db.session(write=True) as s:  # a worker may be writing meanwhile
            account = control.add_account(
                s,
                actor=SYSTEM,
                kind="imap",
                name="Anna live",
                settings=settings,
                owner_id=anna.id,
                team_id=users.team("Sales"),
                interval_seconds=3600,
            )
            return account.id

    return make


@pytest.fixture
def running_worker(db: Database) -> Iterator[Worker]:
    """A worker (with its watcher) running in a thread for the test; stopped and joined after it."""
    options = WorkerOptions(
        lease_seconds=10,
        poll_seconds=0.2,
        policy=RetryPolicy(base=10, cap=100),
        watch_options=WatchOptions(refresh_seconds=0.3, wait_seconds=30, backoff_min=0.2, backoff_max=1.0),
    )
    worker = Worker(db, options, name="live-worker")
    thread = threading.Thread(target=worker.run_forever, daemon=True)
    thread.start()
    yield worker
    worker.stop.set()
    thread.join(timeout=DEADLINE)
    assert not thread.is_alive(), "the worker (or its watcher) did not stop"


def _new_mail_appears(db: Database, worker: Worker, server: Dovecot, account_id: int, user: str) -> None:
    wait_for("the first run", lambda: finished_runs(db, account_id) >= 1)
    assert subjects(db) == ["Live 0"]
    wait_for("the watch", lambda: worker.watcher.watched() == [account_id])
    server.append(user, "INBOX", [mail(1)])
    wait_for("the new mail on Ivan's card", lambda: subjects(db) == ["Live 0", "Live 1"])
    with db.session() as s:
        triggers = s.scalars(select(SyncRun.trigger).where(SyncRun.account_id == account_id)).all()
    assert "live" in triggers


def _user_of(db: Database, account_id: int) -> str:
    with db.session() as s:
        return s.get(ConnectorAccount, account_id).settings["username"]


@pytest.mark.peers
def test_idle_brings_new_mail_onto_the_card_within_seconds(
    db: Database, dovecot: Dovecot, live_world, running_worker: Worker
) -> None:
    account_id = live_world(dovecot)
    _new_mail_appears(db, running_worker, dovecot, account_id, _user_of(db, account_id))


@pytest.mark.peers
def test_a_server_without_idle_is_polled(
    db: Database, no_idle_dovecot: Dovecot, live_world, running_worker: Worker, monkeypatch
) -> None:
    monkeypatch.setattr(connector_module, "LIVE_POLL", 0.3)
    account_id = live_world(no_idle_dovecot)
    with no_idle_dovecot.imap(_user_of(db, account_id)) as client:
        assert not client.has_capability("IDLE")
    _new_mail_appears(db, running_worker, no_idle_dovecot, account_id, _user_of(db, account_id))


@pytest.mark.peers
def test_stopping_the_worker_hands_the_watch_back_and_turning_live_off_ends_it(
    db: Database, dovecot: Dovecot, live_world
) -> None:
    account_id = live_world(dovecot)
    options = WorkerOptions(
        lease_seconds=10, poll_seconds=0.2, watch_options=WatchOptions(refresh_seconds=0.3, wait_seconds=30)
    )
    first = Worker(db, options, name="first")
    thread = threading.Thread(target=first.run_forever, daemon=True)
    thread.start()
    wait_for("the watch", lambda: first.watcher.watched() == [account_id])
    with db.session() as s:
        assert core_accounts.watchers(s, [account_id]) == {account_id: "first"}  # what a console can show
    second = Worker(db, options, name="second")
    second.watcher.refresh()  # the account is live, but the first worker holds its watch
    assert second.watcher.watched() == []
    first.stop.set()
    thread.join(timeout=DEADLINE)
    assert not thread.is_alive()
    with db.session() as s:
        row = s.scalars(select(Job).where(Job.kind == WATCH, Job.account_id == account_id)).one()
        assert (row.state, row.lease_owner) == (JobState.queued, None)  # back in the queue for another worker

    second.watcher.refresh()
    assert wait_for("the second worker's watch", lambda: second.watcher.watched() == [account_id])
    with db.session(write=True) as s:
        control.edit_account(s, actor=SYSTEM, account_id=account_id, changes={"settings": {"live": False}})
    second.watcher.refresh()
    wait_for("the watch to end", lambda: second.watcher.watched() == [])
    second.stop.set()
    with db.session() as s:
        states = s.scalars(select(Job.state).where(Job.kind == WATCH, Job.account_id == account_id)).all()
        assert states == [JobState.done]
        active = core_accounts.active_jobs(s, [account_id])
        assert all(job.kind == "sync" for job in active.values())
        assert core_accounts.watchers(s, [account_id]) == {}


@pytest.mark.peers
def test_a_watch_whose_server_is_away_backs_off_and_stops_cleanly(
    db: Database, dovecot: Dovecot, live_world, caplog
) -> None:
    account_id = live_world(dovecot)
    with db.session(write=True) as s:  # the server moves away: nothing listens on the new port
        control.edit_account(s, actor=SYSTEM, account_id=account_id, changes={"settings": {"port": free_port()}})
    options = WorkerOptions(
        lease_seconds=10,
        poll_seconds=0.2,
        watch=False,
        watch_options=WatchOptions(refresh_seconds=0.3, wait_seconds=30, backoff_min=0.05, backoff_max=0.2),
    )
    worker = Worker(db, options, name="patient")
    caplog.set_level(logging.WARNING, logger="crmhub.sync")
    worker.watcher.refresh()
    wait_for("two failed attempts", lambda: caplog.text.count(f"watch of account #{account_id} failed") >= 2)
    assert worker.watcher.watched() == [account_id], "the watch keeps trying"
    assert "Secret" not in caplog.text
    worker.stop.set()
    watcher = threading.Thread(target=worker.watcher.run_forever)
    watcher.start()  # with stop set, it only ends every watch and waits for them
    watcher.join(timeout=DEADLINE)
    assert not watcher.is_alive() and worker.watcher.watched() == []
