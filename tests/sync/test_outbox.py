"""Outbound changes: enqueued in the caller's transaction, pushed once, retried, conflicts recorded."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import select, update

from core.db import utcnow
from core.integration.outbox import enqueue_push
from core.models import Job, OutboxOperation, OutboxState, SyncConflict
from sync.scheduler import schedule_due
from sync.worker import Worker, WorkerOptions
from tests.sync.conftest import FAST, last_run, run_now

ANNA = {
    "first_name": "Anna",
    "last_name": "Pushed",
    "emails": ["anna@pushed.test"],
    "entity_type": "person",
    "entity_id": 7,
}


def _op(db, account_id, key):
    with db.session() as s:
        return s.scalars(
            select(OutboxOperation).where(OutboxOperation.account_id == account_id, OutboxOperation.key == key)
        ).one()


def _remote(server, key):
    data = server.snapshot()
    return data["items"][data["pushed"][key]["id"]]


def test_enqueue_replaces_a_pending_payload_and_ignores_a_repeat(db, account_id):
    with db.session() as s:
        first = enqueue_push(s, account_id=account_id, key="person:7", action="upsert_contact", payload=ANNA)
        enqueue_push(s, account_id=account_id, key="person:7", action="upsert_contact", payload=ANNA)
        assert first.revision == 1
        newer = enqueue_push(
            s, account_id=account_id, key="person:7", action="upsert_contact", payload={**ANNA, "last_name": "Newer"}
        )
        assert newer.id == first.id and newer.revision == 2 and newer.payload["last_name"] == "Newer"
    with db.session() as s:
        assert len(s.scalars(select(OutboxOperation)).all()) == 1


def test_due_push_gets_a_push_only_job_and_is_pushed_once(db, server, account_id):
    run_now(db, account_id)
    with db.session() as s:
        enqueue_push(s, account_id=account_id, key="person:7", action="upsert_contact", payload=ANNA)
    assert schedule_due(db) == 1
    with db.session() as s:
        job = s.scalars(select(Job).where(Job.state == "queued")).one()
        assert job.payload == {"trigger": "schedule", "mode": "push"}
    assert Worker(db, WorkerOptions(policy=FAST)).run_once()
    op = _op(db, account_id, "person:7")
    assert op.state == OutboxState.done and op.remote_id == "c6" and op.done_at is not None
    assert _remote(server, "person:7")["last_name"] == "Pushed"
    assert last_run(db, account_id).pushed == 1
    items_before = server.snapshot()["items"]

    with db.session() as s:
        enqueue_push(s, account_id=account_id, key="person:7", action="upsert_contact", payload=ANNA)
    assert _op(db, account_id, "person:7").state == OutboxState.done, "a repeat of a done change is not pushed again"
    with db.session() as s:
        enqueue_push(
            s, account_id=account_id, key="person:7", action="upsert_contact", payload={**ANNA, "last_name": "Renamed"}
        )
    run_now(db, account_id)
    assert _op(db, account_id, "person:7").state == OutboxState.done
    items = server.snapshot()["items"]
    assert len(items) == len(items_before), "the newer payload updated the same remote contact"
    assert _remote(server, "person:7")["last_name"] == "Renamed"


def test_push_repeated_after_a_dead_worker_has_no_second_effect(db, server, account_id):
    run_now(db, account_id)
    with db.session() as s:
        enqueue_push(s, account_id=account_id, key="person:7", action="upsert_contact", payload=ANNA)
    run_now(db, account_id)
    # A worker claimed the row again and died after pushing, before settling it.
    with db.session() as s:
        s.execute(
            update(OutboxOperation).values(
                state=OutboxState.running,
                lease_owner="dead",
                lease_token="x",
                lease_until=utcnow() - timedelta(seconds=1),
            )
        )
    seq_before = server.snapshot()["seq"]
    run_now(db, account_id)
    assert _op(db, account_id, "person:7").state == OutboxState.done
    assert server.snapshot()["seq"] == seq_before, "the repeated push changed nothing on the server"


def test_conflict_is_recorded_for_an_admin(db, server, account_id):
    server.set_control(conflict_keys=["person:7"])
    with db.session() as s:
        enqueue_push(s, account_id=account_id, key="person:7", action="upsert_contact", payload=ANNA)
    run_now(db, account_id)
    op = _op(db, account_id, "person:7")
    assert op.state == OutboxState.conflict and "changed on the server too" in op.last_error
    with db.session() as s:
        conflict = s.scalars(select(SyncConflict)).one()
    assert (conflict.entity_type, conflict.entity_id) == ("person", 7)
    assert conflict.local["last_name"] == "Pushed" and "changed on the server too" in conflict.description


def _push_now(db):
    """Run the push-only job the scheduler makes for due outbound changes."""
    assert schedule_due(db) == 1
    assert Worker(db, WorkerOptions(policy=FAST)).run_once()


def test_transient_push_is_retried_later_and_permanent_fails(db, server, account_id):
    run_now(db, account_id)
    server.set_control(transient=1, retry_after=60)
    with db.session() as s:
        enqueue_push(s, account_id=account_id, key="person:7", action="upsert_contact", payload=ANNA)
        enqueue_push(s, account_id=account_id, key="gone:1", action="delete_contact", payload={})
    _push_now(db)
    op = _op(db, account_id, "person:7")
    assert op.state == OutboxState.pending and op.attempts == 1 and "busy" in op.last_error
    assert op.run_after > utcnow() + timedelta(seconds=55)
    gone = _op(db, account_id, "gone:1")
    assert gone.state == OutboxState.failed and "has no contact for this key" in gone.last_error
    assert schedule_due(db) == 0, "nothing is due before the server's back-off ends"
    with db.session() as s:
        s.execute(update(OutboxOperation).where(OutboxOperation.id == op.id).values(run_after=utcnow()))
    _push_now(db)
    assert _op(db, account_id, "person:7").state == OutboxState.done


def test_payload_replaced_while_pushing_is_pushed_again(db, server, account_id):
    """The worker pushes revision 1 (slowly); revision 2 arrives meanwhile, and is pushed too."""
    run_now(db, account_id)
    server.set_control(delay=0.3)
    with db.session() as s:
        enqueue_push(s, account_id=account_id, key="person:7", action="upsert_contact", payload=ANNA)
    worker = Worker(db, WorkerOptions(policy=FAST))
    thread = threading.Thread(target=worker.run_once)
    thread.start()
    deadline = time.monotonic() + 5
    while _op(db, account_id, "person:7").state != OutboxState.running and time.monotonic() < deadline:
        time.sleep(0.02)
    # A writer beside the worker: take SQLite's write lock up front, as every writing entry point does
    # (a read-then-write transaction fails at once when the worker committed in between).
    with db.session(write=True) as s:
        enqueue_push(
            s, account_id=account_id, key="person:7", action="upsert_contact", payload={**ANNA, "last_name": "B"}
        )
    thread.join()
    op = _op(db, account_id, "person:7")
    assert (op.state, op.revision) == (OutboxState.done, 2)
    assert _remote(server, "person:7")["last_name"] == "B", "revision 2 was pushed, not taken as done with revision 1"
    assert last_run(db, account_id).pushed == 1
