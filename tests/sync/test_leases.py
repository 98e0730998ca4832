"""Leases in-process: claims, fencing of a worker that lost its job, heartbeats, graceful stops, takeovers."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import func, select, update

from core.db import utcnow
from core.models import Job, JobState, Person, SyncCursor, SyncRun
from sync import control
from sync.lease import LeaseLost, claim, fence
from sync.worker import Worker, WorkerOptions
from tests.sync.conftest import FAST, SYSTEM, last_run, linked_persons


def _queue(db, account_id) -> int:
    with db.session() as s:
        return control.run_now(s, actor=SYSTEM, account_id=account_id).id


def _expire(db, job_id):
    with db.session() as s:
        s.execute(update(Job).where(Job.id == job_id).values(lease_until=utcnow() - timedelta(seconds=1)))


def _cursor(db, account_id):
    with db.session() as s:
        return s.scalars(select(SyncCursor.cursor).where(SyncCursor.account_id == account_id)).first()


def test_a_job_is_claimed_by_one_worker_only(db, account_id):
    job_id = _queue(db, account_id)
    first = claim(db, Job, owner="a", seconds=30)
    assert first is not None and first.row_id == job_id
    assert claim(db, Job, owner="b", seconds=30) is None
    _expire(db, job_id)
    second = claim(db, Job, owner="b", seconds=30)
    assert second is not None and second.token != first.token
    with db.session() as s:
        assert s.get(Job, job_id).attempts == 2
        try:
            fence(s, first)
            raise AssertionError("the first worker's fence must fail")
        except LeaseLost:
            pass


def test_worker_that_lost_its_lease_writes_nothing_more(db, server, account_id):
    job_id = _queue(db, account_id)
    slow = Worker(db, WorkerOptions(lease_seconds=30, policy=FAST), name="slow")
    lease = slow.claim_job(job_id)
    taken = []

    def after_first_batch(progress):
        if not taken:  # the slow worker stalls; its lease runs out and another worker takes the job
            _expire(db, job_id)
            taken.append(claim(db, Job, owner="other", seconds=30))

    assert slow.run_job(lease, on_progress=after_first_batch) == "lost"
    assert _cursor(db, account_id) == {"generation": 1, "seq": 2, "full": True, "from": 5, "done": 2}
    assert sorted(linked_persons(db, account_id)) == ["c1", "c2"]
    with db.session() as s:
        job = s.get(Job, job_id)
        assert (job.lease_owner, job.state) == ("other", JobState.running)
    other = Worker(db, WorkerOptions(policy=FAST), name="other")
    assert other.run_job(taken[0]) == "done"
    assert sorted(linked_persons(db, account_id)) == ["c1", "c2", "c3", "c4", "c5"]
    with db.session() as s:
        runs = s.scalars(select(SyncRun).order_by(SyncRun.id)).all()
    assert [r.status for r in runs] == ["interrupted", "ok"]
    assert "another worker resumed" in runs[0].error


def test_graceful_stop_finishes_the_batch_and_requeues(db, server, account_id):
    job_id = _queue(db, account_id)
    worker = Worker(db, WorkerOptions(policy=FAST))
    lease = worker.claim_job(job_id)
    assert worker.run_job(lease, on_progress=lambda p: worker.stop.set()) == "requeued"
    with db.session() as s:
        job = s.get(Job, job_id)
        assert (job.state, job.lease_owner, job.attempts) == (JobState.queued, None, 0)
    assert last_run(db, account_id).status == "interrupted"
    assert len(linked_persons(db, account_id)) == 2
    again = Worker(db, WorkerOptions(policy=FAST))
    assert again.run_once()
    assert len(linked_persons(db, account_id)) == 5
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 5


def test_heartbeat_keeps_a_short_lease_through_slow_batches(db, server, account_id):
    # Every pull takes longer than the whole lease: only the heartbeat (a renewal every third
    # of the lease) keeps the thief out. Three renewals per lease leave room on a loaded machine.
    server.set_control(delay=1.6)
    job_id = _queue(db, account_id)
    worker = Worker(db, WorkerOptions(lease_seconds=1.0, policy=FAST), name="slow-but-alive")
    lease = worker.claim_job(job_id)
    thread = threading.Thread(target=worker.run_job, args=(lease,))
    thread.start()
    stolen = []
    while thread.is_alive():
        got = claim(db, Job, owner="thief", seconds=30)
        if got is not None:
            stolen.append(got)
        time.sleep(0.05)
    thread.join()
    assert stolen == []
    assert last_run(db, account_id).status == "ok"
    assert len(linked_persons(db, account_id)) == 5


def test_a_job_whose_workers_keep_dying_is_given_up(db, account_id):
    job_id = _queue(db, account_id)
    with db.session() as s:
        s.execute(update(Job).where(Job.id == job_id).values(attempts=FAST.max_job_attempts))
    worker = Worker(db, WorkerOptions(policy=FAST))
    assert worker.run_job(worker.claim_job(job_id)) == "failed"
    with db.session() as s:
        job = s.get(Job, job_id)
    assert job.state == JobState.failed and "never finished" in job.last_error
