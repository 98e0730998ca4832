"""The scheduler: turns due accounts (and due outbound changes) into sync jobs.

Every worker runs it before it looks for work, so there is no separate scheduler process to
keep alive. It is safe to run anywhere, any number of times at once: each account has at
most one queued or running sync job, which the database itself guarantees with the partial
unique index on ``jobs.dedupe_key`` (``sync:<account id>``); an enqueue that would make a
second one is an ``INSERT ... ON CONFLICT DO NOTHING`` that does nothing.

An account is due when it is enabled, not waiting for re-authentication, and its
``next_run_at`` has passed. Enqueueing moves ``next_run_at`` one interval on, so an account
whose job dies without a word is not enqueued again in a tight loop; the job's own ending
then sets the real next time (the interval after success, a backoff after a failure, never
after an authentication failure). An account with outbound changes due gets a push-only
job even when its next pull is hours away.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.db import Database, utcnow
from core.models import AccountStatus, ConnectorAccount, Job, JobState, OutboxOperation, OutboxState

ACTIVE = (JobState.queued, JobState.running)
PAUSED = (AccountStatus.needs_reauth, AccountStatus.disabled)
# Literally the predicate of the partial index uq_jobs_active_dedupe: PostgreSQL can only infer the
# index for ON CONFLICT from the same SQL text, not from bound parameters (prepared statements).
ACTIVE_PREDICATE = text("state IN ('queued', 'running')")


def dedupe_key(account_id: int) -> str:
    """The dedupe key of an account's sync jobs."""
    return f"sync:{account_id}"


def enqueue_sync(session: Session, *, account_id: int, trigger: str, mode: str = "full") -> Job:
    """Queue a sync job for the account unless one is queued or running; returns the active job.

    ``trigger`` says who asked: ``schedule``, ``manual`` (run now) or ``live`` (the watcher saw a
    change); the last two also pull a queued job's start forward to now.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = utcnow()
    key = dedupe_key(account_id)
    stmt = (
        dialect.insert(Job)
        .values(
            kind="sync",
            account_id=account_id,
            payload={"trigger": trigger, "mode": mode},
            state=JobState.queued,
            run_after=now,
            attempts=0,
            last_error="",
            dedupe_key=key,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"], index_where=ACTIVE_PREDICATE)
    )
    session.execute(stmt)
    job = session.scalars(
        select(Job).where(Job.dedupe_key == key, Job.state.in_(ACTIVE)).execution_options(populate_existing=True)
    ).one()
    if trigger in ("manual", "live") and job.state == JobState.queued:
        job.run_after = min(job.run_after, now)
        if job.payload.get("mode") != "full" and mode == "full":
            job.payload = {**job.payload, "mode": "full", "trigger": trigger}
    return job


def _due_accounts(session: Session, now: datetime) -> list[tuple[int, str, int]]:
    live = and_(ConnectorAccount.enabled.is_(True), ConnectorAccount.status.not_in(PAUSED))
    pulls = select(ConnectorAccount.id, ConnectorAccount.interval_seconds).where(
        live, ConnectorAccount.next_run_at <= now
    )
    pushes = (
        select(ConnectorAccount.id, ConnectorAccount.interval_seconds)
        .join(OutboxOperation, ConnectorAccount.id == OutboxOperation.account_id)
        .where(
            live,
            or_(
                and_(OutboxOperation.state == OutboxState.pending, OutboxOperation.run_after <= now),
                and_(OutboxOperation.state == OutboxState.running, OutboxOperation.lease_until < now),
            ),
        )
        .distinct()
    )
    busy = set(session.scalars(select(Job.account_id).where(Job.kind == "sync", Job.state.in_(ACTIVE))))
    due = {row.id: (row.id, "full", row.interval_seconds) for row in session.execute(pulls) if row.id not in busy}
    for row in session.execute(pushes):
        if row.id not in busy and row.id not in due:
            due[row.id] = (row.id, "push", row.interval_seconds)
    return sorted(due.values())


def schedule_due(db: Database) -> int:
    """Enqueue a job for every due account that has none; returns how many accounts were due."""
    now = utcnow()
    with db.session(write=True) as session:
        due = _due_accounts(session, now)
    for account_id, mode, interval in due:
        # One short transaction per account whose first statement is a write (SQLite takes its lock there).
        with db.session(write=True) as session:
            enqueue_sync(session, account_id=account_id, trigger="schedule", mode=mode)
            if mode == "full":
                session.execute(
                    update(ConnectorAccount)
                    .where(ConnectorAccount.id == account_id)
                    .values(next_run_at=now + timedelta(seconds=interval))
                    .execution_options(synchronize_session=False)
                )
    return len(due)
