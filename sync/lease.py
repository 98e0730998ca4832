"""Leases: how a worker claims a work row, proves on every commit that it still holds it, and renews it.

A claim is one ``UPDATE`` that sets ``state = running``, ``lease_owner`` (the worker's name), a
fresh random ``lease_token`` and ``lease_until``, on a row that is ready (queued and due) or
whose lease has run out (its worker died). On PostgreSQL the row is picked by a subquery
with ``FOR UPDATE SKIP LOCKED``, so concurrent workers each get a different row without
waiting on each other. SQLite has one writer at a time, so the same ``UPDATE ... WHERE id =
(SELECT ... LIMIT 1)``, which repeats the ready condition in its own ``WHERE``, is atomic there.

Every later commit of the worker starts with ``fence``: an ``UPDATE`` of the row ``WHERE id
AND lease_owner AND lease_token``, which also renews ``lease_until``. If it touches no row,
another worker has taken the row over (our lease ran out while we were slow or stalled):
``LeaseLost`` is raised, the transaction rolls back, and the worker drops the job without
writing anything. Because the fence is the first statement of the transaction, on PostgreSQL
it also holds the row lock until the commit, so no takeover can happen half-way through a
batch; on SQLite the database write lock does the same.

A ``Heartbeat`` thread renews the lease every third of its length while a long batch runs, so
a lease can be short (a killed worker is replaced quickly) and a run can still be long.
Lease times come from the workers' clocks: keep them in sync (NTP) and leases much longer
than any plausible skew.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from core.db import Database, utcnow
from core.models import Job, JobState, OutboxOperation, OutboxState

log = logging.getLogger("crmhub.sync")
Leased = type[Job] | type[OutboxOperation]
READY = {Job: JobState.queued, OutboxOperation: OutboxState.pending}
RUNNING = {Job: JobState.running, OutboxOperation: OutboxState.running}


class LeaseLost(Exception):
    """Another worker holds the row now: roll back, write nothing more, stop."""


@dataclass(frozen=True)
class Lease:
    """A claimed row: which, by whom, with which token, for how long each renewal lasts."""

    model: Leased
    row_id: int
    owner: str
    token: str
    seconds: float


def claim(
    db: Database,
    model: Leased,
    *,
    owner: str,
    seconds: float,
    where: tuple[Any, ...] = (),
    values: dict[str, Any] | None = None,
) -> Lease | None:
    """Claim one ready row (or one whose lease ran out) matching ``where``; None when there is none."""
    now = utcnow()
    claimable = or_(
        and_(model.state == READY[model], model.run_after <= now),
        and_(model.state == RUNNING[model], model.lease_until < now),
    )
    pick = select(model.id).where(claimable, *where).order_by(model.run_after, model.id).limit(1)
    if db.is_postgres:
        pick = pick.with_for_update(skip_locked=True)
    token = secrets.token_hex(16)
    stmt = (
        update(model)
        .where(model.id == pick.scalar_subquery(), claimable)
        .values(
            state=RUNNING[model],
            lease_owner=owner,
            lease_token=token,
            lease_until=now + timedelta(seconds=seconds),
            attempts=model.attempts + 1,
            **(values or {}),
        )
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    with db.session(write=True) as session:
        row_id = session.execute(stmt).scalar_one_or_none()
    return None if row_id is None else Lease(model, row_id, owner, token, seconds)


def fence(session: Session, lease: Lease, **values: Any) -> None:
    """Renew the lease (and set ``values``) as the first write of a transaction; LeaseLost if it is not ours."""
    model = lease.model
    values.setdefault("lease_until", utcnow() + timedelta(seconds=lease.seconds))
    stmt = (
        update(model)
        .where(model.id == lease.row_id, model.lease_owner == lease.owner, model.lease_token == lease.token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if session.execute(stmt).rowcount != 1:
        raise LeaseLost(f"{model.__tablename__} #{lease.row_id} is no longer leased to {lease.owner}")


def released(**values: Any) -> dict[str, Any]:
    """The values that give a row up (no owner, no token, no lease), plus ``values``."""
    return {"lease_owner": None, "lease_token": None, "lease_until": None, **values}


class Heartbeat:
    """Renews a lease every third of its length from a background thread; ``lost`` is set when it fails."""

    def __init__(self, db: Database, lease: Lease) -> None:
        self.db = db
        self.lease = lease
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{lease.row_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.lease.seconds / 3):
            try:
                with self.db.session(write=True) as session:
                    fence(session, self.lease)
            except LeaseLost:
                log.warning("lease of %s #%s was lost", self.lease.model.__tablename__, self.lease.row_id)
                self.lost.set()
                return
            except Exception:  # noqa: BLE001 - a database hiccup: the next beat tries again
                log.warning("could not renew the lease of %s #%s", self.lease.model.__tablename__, self.lease.row_id)
