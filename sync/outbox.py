"""Pushing the outbox: each due outbound change of an account, claimed with a lease, pushed, settled.

It runs inside the account's sync job (so one account never pushes from two workers at
once), yet every outbox row also carries its own lease, like a job: a worker killed
mid-push leaves the row ``running`` with a lease that runs out, and the next job claims it and
pushes it again. That repeat is harmless because the connector's ``push`` is idempotent by the
row's key. Each settlement is a fenced commit, so a worker that lost the row writes nothing.

How a push ends:

* success: ``done`` with the remote id, unless the payload was replaced while it was being
  pushed (its ``revision`` moved on), then ``pending`` again to push the newer payload;
* ``PushResult.conflict``: ``conflict``, and a ``sync_conflicts`` row for an admin, with our
  payload and what the remote side said;
* ``TransientError``: back to ``pending`` after a backoff (the server's hint honoured), until
  the attempts run out, then ``failed``;
* ``PermanentError`` (or a connector that cannot push): ``failed`` with the reason;
* ``AuthError``: back to ``pending`` untouched, and the error goes up to the job, which marks
  the account as needing re-authentication.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from core.db import Database, utcnow
from core.integration import AuthError, Connector, PermanentError, PushOperation, PushResult, TransientError
from core.models import OutboxOperation, OutboxState, SyncConflict
from sync.lease import Lease, LeaseLost, claim, fence, released
from sync.redact import Redactor
from sync.retry import RetryPolicy

log = logging.getLogger("crmhub.sync")


@dataclass
class PushCounts:
    """What one push phase did."""

    pushed: int = 0
    conflicts: int = 0
    failed: int = 0
    retrying: int = 0


def _settle_success(db: Database, lease: Lease, revision: int, result: PushResult, counts: PushCounts) -> None:
    now = utcnow()
    with db.session(write=True) as session:
        fence(session, lease)
        op = session.get(OutboxOperation, lease.row_id, populate_existing=True)
        assert op is not None
        op.lease_owner = op.lease_token = op.lease_until = None
        op.remote_id = result.remote_id or op.remote_id
        if result.conflict:
            op.state, op.last_error = OutboxState.conflict, result.conflict
            session.add(
                SyncConflict(
                    account_id=op.account_id,
                    entity_type=str(op.payload.get("entity_type", op.action))[:40],
                    entity_id=op.payload.get("entity_id") if isinstance(op.payload.get("entity_id"), int) else None,
                    remote_id=result.remote_id,
                    description=f"{op.action} {op.key}: {result.conflict}",
                    local=dict(op.payload),
                    remote={"remote_id": result.remote_id, "remote_version": result.remote_version},
                )
            )
            counts.conflicts += 1
        elif op.revision != revision:
            op.state, op.attempts, op.run_after = OutboxState.pending, 0, now
        else:
            op.state, op.done_at, op.last_error = OutboxState.done, now, ""
            counts.pushed += 1


def _settle_error(db: Database, lease: Lease, **values: object) -> None:
    with db.session(write=True) as session:
        fence(session, lease, **released(**values))


def push_due(
    db: Database,
    connector: Connector,
    *,
    account_id: int,
    owner: str,
    lease_seconds: float,
    policy: RetryPolicy,
    redact: Redactor,
    halted: Callable[[], bool],
) -> PushCounts:
    """Push every due outbound change of the account until ``halted()``; AuthError propagates."""
    counts = PushCounts()
    while not halted():
        lease = claim(
            db, OutboxOperation, owner=owner, seconds=lease_seconds, where=(OutboxOperation.account_id == account_id,)
        )
        if lease is None:
            break
        with db.session(write=True) as session:
            op = session.get(OutboxOperation, lease.row_id)
            assert op is not None
            operation = PushOperation(key=op.key, action=op.action, payload=dict(op.payload))
            revision, attempts = op.revision, op.attempts
        try:
            try:
                result = connector.push(operation)
            except TransientError as exc:
                message = redact(exc.message)
                if attempts >= policy.max_push_attempts:
                    _settle_error(
                        db, lease, state=OutboxState.failed, last_error=f"gave up after {attempts} attempts: {message}"
                    )
                    counts.failed += 1
                else:
                    wait = policy.delay(attempts, retry_after=exc.retry_after)
                    _settle_error(
                        db,
                        lease,
                        state=OutboxState.pending,
                        run_after=utcnow() + timedelta(seconds=wait),
                        last_error=message,
                    )
                    counts.retrying += 1
                continue
            except AuthError:
                _settle_error(db, lease, state=OutboxState.pending, attempts=attempts - 1)
                raise
            except PermanentError as exc:
                _settle_error(db, lease, state=OutboxState.failed, last_error=redact(exc.message))
                counts.failed += 1
                continue
            except NotImplementedError as exc:
                _settle_error(db, lease, state=OutboxState.failed, last_error=redact(exc))
                counts.failed += 1
                continue
            except Exception as exc:  # noqa: BLE001 - a connector bug: retried like a transient failure
                log.error("push of outbox #%s failed unexpectedly:\n%s", lease.row_id, redact(traceback.format_exc()))
                wait = policy.delay(attempts)
                message = redact(f"internal error: {type(exc).__name__}: {exc}")
                _settle_error(
                    db,
                    lease,
                    state=OutboxState.pending,
                    run_after=utcnow() + timedelta(seconds=wait),
                    last_error=message,
                )
                counts.retrying += 1
                continue
            _settle_success(db, lease, revision, result, counts)
        except LeaseLost:
            log.warning("outbox #%s was taken over by another worker; leaving it", lease.row_id)
    return counts
