"""Enqueueing outbound changes: one outbox row per change, in the caller's own transaction.

A core service that changes something a remote account mirrors (a person synced to Outlook,
a task published to a calendar) calls ``enqueue_push`` in the same transaction as its own
write, so the change and the promise to push it commit or vanish together. The engine
(``sync.outbox``) pushes the row later, at least once, and the connector's push is idempotent
by ``key``.

The key names the remote object the row keeps up to date (``person:42``), not one version of
it. Enqueueing again under the same key:

* with the same action and payload does nothing (a repeat);
* with a newer payload replaces it and raises ``revision``; a row that was done, failed or in
  conflict goes back to pending, because there is a new change to push;
* while a worker is pushing the row (``running``), the row keeps its state and the worker,
  seeing the revision moved on when it finishes, puts it back to pending instead of done.

The insert is ``INSERT ... ON CONFLICT (account_id, key) DO NOTHING`` followed by a locked read,
so two transactions enqueueing the same key at once never fail on the unique index.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.db import utcnow
from core.errors import ValidationFailed
from core.models import ConnectorAccount, OutboxOperation, OutboxState


def enqueue_push(
    session: Session, *, account_id: int, key: str, action: str, payload: dict[str, Any]
) -> OutboxOperation:
    """Add (or refresh) the outbound change ``key`` of an account, in the caller's transaction."""
    if not key or len(key) > 300:
        raise ValidationFailed.one("key", "an outbox key is 1 to 300 characters")
    if not action or len(action) > 40:
        raise ValidationFailed.one("action", "an outbox action is 1 to 40 characters")
    if session.get(ConnectorAccount, account_id) is None:
        raise ValidationFailed.one("account_id", f"there is no connector account #{account_id}")
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = utcnow()
    stmt = (
        dialect.insert(OutboxOperation)
        .values(
            account_id=account_id,
            key=key,
            action=action,
            payload=payload,
            revision=1,
            state=OutboxState.pending,
            attempts=0,
            run_after=now,
            last_error="",
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["account_id", "key"])
    )
    session.execute(stmt)
    row = session.scalars(
        select(OutboxOperation)
        .where(OutboxOperation.account_id == account_id, OutboxOperation.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if row.action == action and row.payload == payload:
        return row
    row.action, row.payload, row.revision = action, payload, row.revision + 1
    if row.state != OutboxState.running:
        row.state, row.attempts, row.run_after, row.last_error, row.done_at = OutboxState.pending, 0, now, "", None
    session.flush()
    return row
