"""Pruning the sync log: runs, item errors, finished jobs and settled outbox rows older than ``sync_log_days``.

Workers call it now and then (``WorkerOptions.prune_every``); it deletes in plain ``DELETE``
statements by age, so several workers pruning at once only repeat each other's work.
Conflicts are kept until an admin resolved them, then pruned like the rest.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from core.db import Database, utcnow
from core.models import Job, JobState, OutboxOperation, OutboxState, SyncConflict, SyncItemError, SyncRun


def prune(db: Database, *, days: int) -> dict[str, int]:
    """Delete sync history older than ``days`` days; returns how many rows of each kind went."""
    before = utcnow() - timedelta(days=days)
    statements = {
        "item_errors": delete(SyncItemError).where(SyncItemError.created_at < before),
        "runs": delete(SyncRun).where(SyncRun.finished_at.is_not(None), SyncRun.started_at < before),
        "jobs": delete(Job).where(
            Job.state.in_([JobState.done, JobState.failed, JobState.cancelled]), Job.finished_at < before
        ),
        "outbox": delete(OutboxOperation).where(
            OutboxOperation.state == OutboxState.done, OutboxOperation.done_at < before
        ),
        "conflicts": delete(SyncConflict).where(SyncConflict.resolved_at < before),
    }
    counts = {}
    with db.session(write=True) as session:
        for name, stmt in statements.items():
            counts[name] = session.execute(stmt).rowcount or 0
    return counts
