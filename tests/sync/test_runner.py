"""A sync run end to end on the loopback server: import, incremental changes, idempotency, progress."""

from __future__ import annotations

from sqlalchemy import func, select

from core.models import AccountStatus, Job, JobState, Person, RemoteLink, SyncCursor
from tests.sync.conftest import account, last_run, linked_persons, run_now


def test_first_run_imports_every_contact_batch_by_batch(db, server, account_id):
    assert run_now(db, account_id) == "done"
    people = linked_persons(db, account_id)
    assert sorted(people) == ["c1", "c2", "c3", "c4", "c5"]
    assert people["c3"].full_name == "First2 Last2"
    assert people["c3"].points[0].value == "person2@client2.test"
    run = last_run(db, account_id)
    assert (run.status, run.pulled, run.applied, run.skipped, run.failed) == ("ok", 5, 5, 0, 0)
    acc = account(db, account_id)
    assert acc.status == AccountStatus.ok and acc.items_pulled == 5 and acc.last_success_at is not None
    with db.session() as s:
        cursor = s.scalars(select(SyncCursor.cursor).where(SyncCursor.account_id == account_id)).one()
        job = s.scalars(select(Job).where(Job.account_id == account_id)).one()
    assert cursor == {"generation": 1, "seq": 5}
    assert job.state == JobState.done and (job.progress_done, job.progress_total) == (5, 5)
    assert job.lease_owner is None and job.lease_token is None


def test_second_run_brings_only_the_change(db, server, account_id):
    run_now(db, account_id)
    server.change("c2", title="Director", emails=["new@client1.test"])
    assert run_now(db, account_id) == "done"
    run = last_run(db, account_id)
    assert (run.pulled, run.applied) == (1, 1)
    person = linked_persons(db, account_id)["c2"]
    assert person.position == "Director"
    assert [p.value for p in person.points if p.kind == "email"] == ["new@client1.test"]
    assert run_now(db, account_id) == "done"
    assert last_run(db, account_id).pulled == 0


def test_applying_the_same_batch_twice_changes_nothing(db, server, account_id):
    run_now(db, account_id)
    with db.session() as s:
        s.query(SyncCursor).delete()
    assert run_now(db, account_id) == "done"
    run = last_run(db, account_id)
    assert (run.pulled, run.applied, run.skipped) == (5, 0, 5)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 5
        assert s.scalar(select(func.count()).select_from(RemoteLink)) == 5


def test_deleted_remotely_unlinks_but_keeps_the_person(db, server, account_id):
    run_now(db, account_id)
    server.delete("c1")
    run_now(db, account_id)
    assert "c1" not in linked_persons(db, account_id)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 5
