"""After a cursor reset, links of items deleted remotely while the cursor was stale are removed."""

from __future__ import annotations

from sqlalchemy import func, select

from core.integration import accounts as core_accounts
from core.models import Person, RemoteLink, SyncCursor
from sync import control
from sync.worker import Worker, WorkerOptions
from tests.sync.conftest import FAST, SYSTEM, last_run, linked_persons, run_now


def test_a_stale_cursor_resync_unlinks_what_was_deleted_meanwhile(db, server, account_id):
    assert run_now(db, account_id) == "done"
    server.delete("c2")
    server.compact()  # the tombstone is gone and our cursor is stale: the deletion never comes as such
    assert run_now(db, account_id) == "done"
    run = last_run(db, account_id)
    assert "no longer knew our position" in run.error
    assert (run.pulled, run.applied, run.skipped) == (4, 1, 4), "four seen again, one link swept"
    assert sorted(linked_persons(db, account_id)) == ["c1", "c3", "c4", "c5"]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 5, "the person stays (no delete policy)"
        assert s.scalars(select(SyncCursor.resync_since)).one() is None, "swept once, then forgotten"
        assert {link.stream for link in s.scalars(select(RemoteLink))} == {"contacts"}
    assert run_now(db, account_id) == "done"
    assert (last_run(db, account_id).pulled, last_run(db, account_id).applied) == (0, 0)


def test_an_admin_reset_sweeps_too_and_deletes_persons_when_the_account_says_so(db, server, account_id):
    assert run_now(db, account_id) == "done"
    with db.session() as s:
        core_accounts.update_account(
            s,
            actor=SYSTEM,
            account_id=account_id,
            config_model=_config_model(),
            changes={"settings": {"delete_removed_persons": True}},
        )
    server.delete("c4")
    server.compact()
    with db.session() as s:
        assert core_accounts.reset_cursor(s, actor=SYSTEM, account_id=account_id) == 1
    assert run_now(db, account_id) == "done"
    assert sorted(linked_persons(db, account_id)) == ["c1", "c2", "c3", "c5"]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 4


def test_a_resync_cut_short_sweeps_nothing_until_it_has_read_everything(db, server, account_id):
    assert run_now(db, account_id) == "done"
    server.delete("c5")
    server.compact()
    with db.session() as s:
        job_id = control.run_now(s, actor=SYSTEM, account_id=account_id).id
    worker = Worker(db, WorkerOptions(lease_seconds=30, policy=FAST, watch=False), name="stopped-worker")
    lease = worker.claim_job(job_id)
    assert lease is not None
    assert worker.run_job(lease, on_progress=lambda _p: worker.stop.set()) == "requeued"  # after one batch
    assert sorted(linked_persons(db, account_id)) == ["c1", "c2", "c3", "c4", "c5"], "nothing swept half-way"
    assert run_now(db, account_id) == "done"  # the same job, resumed from the batch it stopped at
    assert sorted(linked_persons(db, account_id)) == ["c1", "c2", "c3", "c4"]


def _config_model():
    from sync.registry import connector_info

    return connector_info("loopback").config_model
