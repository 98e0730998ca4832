"""Reading the audit log: the full log for admins and auditors, one record's history for whoever sees it.

The general query filters by entity, user, action and date range, newest first, one page at
a time. A record's history is open to anyone who may see the record now (organizations,
persons, interactions, tasks, deals: the team rule), so a colleague who takes over a client
can read who changed what. A surviving client's history includes the entries of the records
merged into it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.errors import NotFound, ValidationFailed
from core.models import (
    AuditEntry,
    ConnectorAccount,
    CustomField,
    Deal,
    Interaction,
    Organization,
    Person,
    Pipeline,
    Role,
    Task,
    User,
)
from core.rights import can_see_team, require_role

WITH_TEAM: dict[str, Any] = {
    "organization": Organization,
    "person": Person,
    "interaction": Interaction,
    "task": Task,
    "deal": Deal,
}


def query_log(
    session: Session,
    *,
    actor: Actor,
    entity_type: str | None = None,
    entity_id: int | None = None,
    user_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """A page of audit entries (admins and auditors), newest first, and the total count."""
    require_role(actor, Role.auditor)
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed.one(name, "give a time zone (e.g. 2024-05-01T00:00:00Z)")
    if since is not None and until is not None and since > until:
        raise ValidationFailed.one("until", "must not be before 'since'")
    stmt = select(AuditEntry)
    if entity_type:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if user_id is not None:
        stmt = stmt.where(AuditEntry.user_id == user_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def entity_history(
    session: Session, *, actor: Actor, entity_type: str, entity_id: int, limit: int = 100, offset: int = 0
) -> tuple[list[AuditEntry], int]:
    """The audit entries of one record the actor may see (with records merged into it), newest first."""
    model = WITH_TEAM.get(entity_type)
    if model is None:
        raise ValidationFailed.one("entity_type", f"must be one of: {', '.join(WITH_TEAM)}")
    record = session.get(model, entity_id)
    if record is None or not can_see_team(actor, record.team_id):
        raise NotFound(f"{entity_type.capitalize()} not found")
    ids = [entity_id]
    if hasattr(model, "merged_into_id"):
        frontier = [entity_id]
        while frontier:
            merged = list(session.scalars(select(model.id).where(model.merged_into_id.in_(frontier))))
            frontier = [i for i in merged if i not in ids]
            ids += frontier
    stmt = select(AuditEntry).where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id.in_(ids))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset))
    return list(rows), total


LINKABLE: dict[str, Any] = {
    "organization": Organization,
    "person": Person,
    "user": User,
    "connector_account": ConnectorAccount,
    "pipeline": Pipeline,
    "custom_field": CustomField,
}


def existing_records(session: Session, *, actor: Actor, entries: list[AuditEntry]) -> set[tuple[str, int]]:
    """Which records named by these entries still exist (and, for clients, were not merged away)."""
    require_role(actor, Role.auditor)
    wanted: dict[str, set[int]] = {}
    for e in entries:
        if e.entity_type in LINKABLE and e.entity_id is not None:
            wanted.setdefault(e.entity_type, set()).add(e.entity_id)
    found: set[tuple[str, int]] = set()
    for entity_type, ids in wanted.items():
        model = LINKABLE[entity_type]
        stmt = select(model.id).where(model.id.in_(ids))
        if hasattr(model, "merged_into_id"):
            stmt = stmt.where(model.merged_into_id.is_(None))
        found |= {(entity_type, i) for i in session.scalars(stmt)}
    return found
