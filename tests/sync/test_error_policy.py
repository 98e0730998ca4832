"""Each error class a connector raises, and what the engine does with it, through the real engine."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from core.db import utcnow
from core.models import AccountStatus, AuditEntry, ConnectorAccount, Job, Person, SyncCursor, SyncItemError
from sync import control
from sync.scheduler import schedule_due
from tests.sync.conftest import PASSWORD, SYSTEM, account, last_run, linked_persons, run_now


def _make_due(db, account_id):
    with db.session() as s:
        s.execute(
            update(ConnectorAccount)
            .where(ConnectorAccount.id == account_id)
            .values(next_run_at=utcnow() - timedelta(seconds=1))
        )


def _active_jobs(db, account_id):
    with db.session() as s:
        return s.scalar(select(func.count()).where(Job.account_id == account_id, Job.state.in_(["queued", "running"])))


def test_transient_backs_off_honouring_the_server_hint(db, server, account_id):
    server.set_control(transient=1, retry_after=120)
    before = utcnow()
    assert run_now(db, account_id) == "failed"
    acc = account(db, account_id)
    assert acc.consecutive_failures == 1 and acc.status == AccountStatus.new
    assert "the server is busy" in acc.last_error
    wait = (acc.next_run_at - before).total_seconds()
    assert 120 <= wait <= 120 * 1.1 + 2
    run = last_run(db, account_id)
    assert run.status == "failed" and "busy" in run.error
    assert run_now(db, account_id) == "done"
    acc = account(db, account_id)
    assert (acc.consecutive_failures, acc.status, acc.last_error) == (0, AccountStatus.ok, "")


def test_transient_without_hint_grows_and_turns_failing(db, server, account_id):
    server.set_control(transient=3)
    waits = []
    for _ in range(3):
        before = utcnow()
        assert run_now(db, account_id) == "failed"
        waits.append((account(db, account_id).next_run_at - before).total_seconds())
    # RetryPolicy(base=10): 5-10 s, then 10-20 s, then 20-40 s (equal jitter)
    assert 5 <= waits[0] <= 11 and 10 <= waits[1] <= 21 and 20 <= waits[2] <= 41
    assert account(db, account_id).status == AccountStatus.failing
    assert run_now(db, account_id) == "done"
    assert account(db, account_id).status == AccountStatus.ok


def test_auth_failure_stops_scheduling_until_the_account_is_fixed(db, server, account_id):
    server.set_password("rotated-by-the-server")
    assert run_now(db, account_id) == "failed"
    acc = account(db, account_id)
    assert acc.status == AccountStatus.needs_reauth and acc.next_run_at is None
    assert "refused the password" in acc.last_error
    with db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "needs_reauth")).one()
    assert entry.entity_id == account_id and "edit or test the account" in entry.summary
    _make_due(db, account_id)
    schedule_due(db)
    assert _active_jobs(db, account_id) == 0, "no retry storm: a needs_reauth account is never scheduled"

    with db.session() as s:
        result = control.test_account(s, actor=SYSTEM, account_id=account_id)
    assert (result.ok, result.step) == (False, "login")
    assert account(db, account_id).status == AccountStatus.needs_reauth

    with db.session() as s:
        control.edit_account(
            s, actor=SYSTEM, account_id=account_id, changes={"settings": {"password": "rotated-by-the-server"}}
        )
    acc = account(db, account_id)
    assert acc.status == AccountStatus.new and acc.next_run_at is not None
    schedule_due(db)
    assert _active_jobs(db, account_id) == 1
    assert run_now(db, account_id) == "done"
    assert len(linked_persons(db, account_id)) == 5


def test_a_passed_test_resumes_a_needs_reauth_account(db, server, account_id):
    server.set_password("other")
    run_now(db, account_id)
    server.set_password(PASSWORD)
    with db.session() as s:
        assert control.test_account(s, actor=SYSTEM, account_id=account_id).ok
    acc = account(db, account_id)
    assert acc.status == AccountStatus.new and acc.next_run_at is not None


def test_stale_cursor_is_dropped_and_the_stream_read_again_with_a_cap(db, server, account_id):
    assert run_now(db, account_id) == "done"
    server.compact()
    assert run_now(db, account_id) == "done"
    run = last_run(db, account_id)
    assert "no longer knew our position" in run.error
    assert (run.pulled, run.applied, run.skipped) == (5, 0, 5), "a resync re-applies nothing"
    assert account(db, account_id).cursor_resets == 1
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 5
    for _ in range(2):
        server.compact()
        assert run_now(db, account_id) == "done"
    server.compact()
    assert run_now(db, account_id) == "failed"
    acc = account(db, account_id)
    assert acc.status == AccountStatus.failing and acc.cursor_resets == 3
    assert "3 times within 24 h" in acc.last_error
    assert acc.next_run_at > utcnow() + timedelta(hours=23)
    with db.session() as s:
        kept = s.scalars(select(SyncCursor.cursor).where(SyncCursor.account_id == account_id)).one()
    assert kept["generation"] == 4, "past the cap the cursor is kept for the admin to reset"


def test_permanent_item_failures_are_recorded_and_the_batch_goes_on(db, server, account_id):
    server.set_control(permanent=["c2"])
    nameless = server.add(first_name="", last_name="", emails=["nobody@x.test"])
    bad_phone = server.add(first_name="Bad", last_name="Phone", phones=["call me maybe"])
    assert run_now(db, account_id) == "done"
    run = last_run(db, account_id)
    assert (run.status, run.pulled, run.applied, run.failed) == ("partial", 7, 4, 3)
    assert sorted(linked_persons(db, account_id)) == ["c1", "c3", "c4", "c5"]
    with db.session() as s:
        errors = {e.item_ref: e for e in s.scalars(select(SyncItemError))}
    assert set(errors) == {"c2", nameless, bad_phone}
    assert "cannot be read" in errors["c2"].reason and '"id": "c2"' in errors["c2"].raw
    assert "neither a first nor a last name" in errors[nameless].reason
    assert "is not a phone number" in errors[bad_phone].reason
    assert all(e.run_id == run.id for e in errors.values())
    assert account(db, account_id).items_failed == 3


def test_existing_person_is_linked_not_duplicated(db, server, account_id):
    from core.clients.persons import create_person

    with db.session() as s:
        team_id = account(db, account_id).team_id
        existing = create_person(
            s, actor=SYSTEM, first_name="Ivan", last_name="Known", emails=["person3@client3.test"], team_id=team_id
        )
        existing_id = existing.id
    assert run_now(db, account_id) == "done"
    assert linked_persons(db, account_id)["c4"].id == existing_id
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 5


def test_secret_echoed_by_a_connector_is_masked_everywhere(db, server, account_id, caplog):
    server.set_control(transient=1, echo_secret=True)
    with caplog.at_level("DEBUG"):
        assert run_now(db, account_id) == "failed"
    acc = account(db, account_id)
    assert "logged in with ***" in acc.last_error
    assert PASSWORD not in acc.last_error and PASSWORD not in last_run(db, account_id).error
    assert PASSWORD not in caplog.text
    assert "logged in with ***" in caplog.text


def test_account_of_a_connector_no_longer_installed_fails_in_words(db, server, account_id):
    with db.session() as s:
        s.execute(update(ConnectorAccount).where(ConnectorAccount.id == account_id).values(kind="uninstalled"))
    assert run_now(db, account_id) == "failed"
    acc = account(db, account_id)
    assert acc.status == AccountStatus.failing
    assert "there is no connector of kind 'uninstalled' installed" in acc.last_error and "loopback" in acc.last_error
    with db.session() as s:
        result = control.test_account(s, actor=SYSTEM, account_id=account_id)
    assert (result.ok, result.step) == (False, "settings")
