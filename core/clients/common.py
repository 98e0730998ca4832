"""Helpers shared by the organization and person services: tags, snapshots, team choice, blocklist."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import Blocked, ValidationFailed
from core.models import BlockKind, BlocklistEntry, ContactPoint, PointKind, Tag, Team, User
from core.normalize import name_key
from core.rights import require_team_write


def tags_by_name(session: Session, names: Iterable[str]) -> list[Tag]:
    """The tags with these names, created when new (names trimmed, empty ones dropped)."""
    wanted = []
    for raw in names:
        name = " ".join(str(raw).split())[:100]
        if name and name.lower() not in [w.lower() for w in wanted]:
            wanted.append(name)
    if not wanted:
        return []
    existing = {t.name.lower(): t for t in session.scalars(select(Tag).where(Tag.name.in_(wanted)))}
    out = []
    for name in wanted:
        tag = existing.get(name.lower())
        if tag is None:
            tag = Tag(name=name)
            session.add(tag)
        out.append(tag)
    return out


def snapshot(record: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of some fields of a record, for the audit diff."""
    return {f: getattr(record, f) for f in fields}


def choose_team(session: Session, actor: Actor, team_id: int | None) -> int:
    """The team a new record goes to: the one given, else the actor's only team; checked."""
    if team_id is None:
        if len(actor.team_ids) == 1:
            team_id = next(iter(actor.team_ids))
        elif actor.is_admin:
            first = session.scalars(select(Team.id).order_by(Team.id).limit(1)).first()
            if first is None:
                raise ValidationFailed.one("team_id", "create a team first")
            team_id = first
        else:
            raise ValidationFailed.one("team_id", "choose the team (direction) this client belongs to")
    if session.get(Team, team_id) is None:
        raise ValidationFailed.one("team_id", f"there is no team #{team_id}")
    require_team_write(actor, team_id)
    return team_id


def check_user(session: Session, user_id: int | None, field: str) -> None:
    """Raise ValidationFailed unless ``user_id`` is None or an active user."""
    if user_id is None:
        return
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise ValidationFailed.one(field, f"there is no active user #{user_id}")


def check_blocklist(session: Session, *, names: Iterable[str], points: list[ContactPoint]) -> None:
    """Raise Blocked when a name, e-mail, domain or phone is on the blocklist of unwanted counterparties."""
    conds = []
    for n in names:
        if n:
            conds.append((BlocklistEntry.kind == BlockKind.name) & (BlocklistEntry.value == name_key(n)))
    for p in points:
        if p.kind == PointKind.email:
            conds.append((BlocklistEntry.kind == BlockKind.email) & (BlocklistEntry.value == p.value))
            domain = p.value.rsplit("@", 1)[-1]
            conds.append((BlocklistEntry.kind == BlockKind.domain) & (BlocklistEntry.value == domain))
        elif p.kind == PointKind.phone:
            conds.append((BlocklistEntry.kind == BlockKind.phone) & (BlocklistEntry.value == p.value))
        elif p.kind == PointKind.domain:
            conds.append((BlocklistEntry.kind == BlockKind.domain) & (BlocklistEntry.value == p.value))
    if not conds:
        return
    entry = session.scalars(select(BlocklistEntry).where(or_(*conds)).limit(1)).first()
    if entry is not None:
        reason = f" ({entry.reason})" if entry.reason else ""
        raise Blocked(f"This counterparty is on the blocklist by {entry.kind} '{entry.value}'{reason}")


def delete_client(session: Session, *, actor: Actor, entity_type: str, record: Any, summary: str, view: dict) -> None:
    """Delete a client record (its dependants go by cascade), after recording what it was."""
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity_type=entity_type,
        entity_id=record.id,
        summary=summary,
        changes=audit.diff(view, {}),
    )
    session.delete(record)
    session.flush()


def sorted_page(
    session: Session, stmt: Select, *, sort: str, sorts: dict[str, Any], tiebreak: Any, limit: int, offset: int
) -> tuple[list[Any], int]:
    """One page of ``stmt`` ordered by ``sort`` (a key of ``sorts``, ``-`` to reverse), and the total count."""
    column = sorts.get(sort.lstrip("-"))
    if column is None:
        raise ValidationFailed.one("sort", f"must be one of: {', '.join(sorts)} (prefix - to reverse)")
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    order = column.desc().nulls_last() if sort.startswith("-") else column.asc().nulls_last()
    rows = session.scalars(stmt.order_by(order, tiebreak).limit(limit).offset(offset)).all()
    return list(rows), total
