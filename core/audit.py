"""The audit log: one entry per write, in the same transaction as the write itself."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from core.actor import Actor
from core.models import AuditEntry

SECRET_HINTS = ("password", "secret", "token")


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields that changed, as ``{field: [old, new]}``, with secrets masked."""
    out: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        old, new = _plain(before.get(key)), _plain(after.get(key))
        if old != new:
            out[key] = ["***", "***"] if _secret(key) else [old, new]
    return out


def created(values: dict[str, Any]) -> dict[str, Any]:
    """``diff({}, values)``: the changes of a record created with these values, without comparing each to nothing."""
    out: dict[str, Any] = {}
    for key in sorted(values):
        new = _plain(values[key])
        if new is not None:
            out[key] = ["***", "***"] if _secret(key) else [None, new]
    return out


def _secret(key: str) -> bool:
    """True for a field whose values the audit log must not show (a password, a secret, a token)."""
    return any(h in key for h in SECRET_HINTS)


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | None,
    summary: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry for a write the actor made (flushed with the caller's transaction)."""
    entry = AuditEntry(
        user_id=actor.user_id,
        source=actor.source,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        summary=summary[:500],
        changes=_plain(changes or {}),
    )
    session.add(entry)
    return entry


def record_update(
    session: Session, *, actor: Actor, entity_type: str, entity_id: int, summary: str, changes: dict[str, Any]
) -> AuditEntry | None:
    """Add an "update" entry when anything changed (``changes`` from ``diff``); None when nothing did."""
    if not changes:
        return None
    return record(
        session,
        actor=actor,
        action="update",
        entity_type=entity_type,
        entity_id=entity_id,
        summary=summary,
        changes=changes,
    )
