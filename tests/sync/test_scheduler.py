"""The scheduler, the worker loop, pruning the sync log, and the worker inside the app."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from core.db import utcnow
from core.models import ConnectorAccount, Job, JobState, SyncItemError, SyncRun
from hub.app import create_app
from sync.prune import prune
from sync.scheduler import enqueue_sync, schedule_due
from sync.worker import Worker, WorkerOptions
from tests.sync.conftest import FAST, account, add_account, linked_persons


def _jobs(db, account_id):
    with db.session() as s:
        return s.scalars(select(Job).where(Job.account_id == account_id).order_by(Job.id)).all()


def test_a_new_account_is_due_and_gets_one_job_only(db, server, account_id):
    assert schedule_due(db) == 1
    assert schedule_due(db) == 0
    with db.session() as s:
        enqueue_sync(s, account_id=account_id, trigger="manual")
        enqueue_sync(s, account_id=account_id, trigger="schedule")
    jobs = _jobs(db, account_id)
    assert [(j.state, j.dedupe_key) for j in jobs] == [(JobState.queued, f"sync:{account_id}")]
    acc = account(db, account_id)
    assert acc.next_run_at > utcnow() + timedelta(seconds=acc.interval_seconds - 5)


def test_worker_runs_due_accounts_then_waits_for_the_interval(db, server, account_id):
    worker = Worker(db, WorkerOptions(policy=FAST))
    assert worker.run_once() is True
    assert len(linked_persons(db, account_id)) == 5
    assert worker.run_once() is False, "nothing is due until the interval has passed"
    with db.session() as s:
        s.execute(update(ConnectorAccount).values(next_run_at=utcnow() - timedelta(seconds=1)))
    assert worker.run_once() is True
    assert [j.state for j in _jobs(db, account_id)] == [JobState.done, JobState.done]


def test_disabled_account_is_not_scheduled_and_its_queued_job_is_cancelled(db, server, account_id):
    from core.integration.accounts import set_enabled
    from tests.sync.conftest import SYSTEM

    schedule_due(db)
    with db.session() as s:
        set_enabled(s, actor=SYSTEM, account_id=account_id, enabled=False)
    assert [j.state for j in _jobs(db, account_id)] == [JobState.cancelled]
    assert schedule_due(db) == 0


def test_prune_removes_only_old_history(db, server, account_id):
    worker = Worker(db, WorkerOptions(policy=FAST))
    worker.run_once()
    old = utcnow() - timedelta(days=40)
    with db.session() as s:
        s.add(SyncRun(account_id=account_id, started_at=old, finished_at=old, status="ok"))
        s.add(SyncItemError(account_id=account_id, item_ref="x", reason="old", created_at=old))
        s.execute(update(Job).values(finished_at=old))
    counts = prune(db, days=30)
    assert counts["runs"] == 1 and counts["item_errors"] == 1 and counts["jobs"] == 1
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SyncRun)) == 1


def test_serve_runs_a_worker_thread_and_stops_it(settings, db, server):
    account_id = add_account(db, server)
    settings.run_worker = True
    app = create_app(settings, db)
    with TestClient(app):
        deadline = time.monotonic() + 15
        while len(linked_persons(db, account_id)) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(linked_persons(db, account_id)) == 5
    assert account(db, account_id).status == "ok"
