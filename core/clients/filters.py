"""The client filter: one definition used by lists, saved segments and mailings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, exists, or_, select

from core.db import utcnow
from core.errors import ValidationFailed
from core.models import (
    ContactPoint,
    Deal,
    DealStatus,
    Employment,
    GroupMember,
    Organization,
    Person,
    Tag,
    organization_tags,
    person_tags,
)


@dataclass
class ClientFilter:
    """What to show of the client base; empty fields do not filter."""

    q: str = ""
    team_id: int | None = None
    responsible_id: int | None = None
    tag: str = ""
    group_id: int | None = None
    potential: int | None = None
    stage_id: int | None = None
    status: str = ""
    category: str = ""
    organization_id: int | None = None
    no_contact_days: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The non-empty fields, as saved in a segment."""
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClientFilter:
        """A filter from saved data; unknown keys are refused with their name."""
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValidationFailed.one("filter", f"unknown filter field(s): {', '.join(sorted(unknown))}")
        return cls(**data)


def _older_than(days: int) -> Any:
    return utcnow() - timedelta(days=days)


def apply_org_filter(stmt: Select[Any], f: ClientFilter) -> Select[Any]:
    """Add the filter's conditions (all but ``q``) to a query over organizations."""
    if f.team_id is not None:
        stmt = stmt.where(Organization.team_id == f.team_id)
    if f.responsible_id is not None:
        stmt = stmt.where(Organization.responsible_id == f.responsible_id)
    if f.tag:
        stmt = stmt.where(
            exists().where(
                organization_tags.c.organization_id == Organization.id,
                organization_tags.c.tag_id == Tag.id,
                Tag.name == f.tag,
            )
        )
    if f.group_id is not None:
        stmt = stmt.where(
            exists().where(GroupMember.group_id == f.group_id, GroupMember.organization_id == Organization.id)
        )
    if f.potential is not None:
        stmt = stmt.where(Organization.potential == f.potential)
    if f.stage_id is not None:
        deal_here = exists().where(
            Deal.organization_id == Organization.id, Deal.stage_id == f.stage_id, Deal.status == DealStatus.open
        )
        stmt = stmt.where(or_(Organization.stage_id == f.stage_id, deal_here))
    if f.status:
        stmt = stmt.where(Organization.status == f.status)
    if f.category:
        stmt = stmt.where(Organization.category == f.category)
    if f.no_contact_days is not None:
        limit = _older_than(f.no_contact_days)
        stmt = stmt.where(or_(Organization.last_contact_at.is_(None), Organization.last_contact_at < limit))
    return stmt


def apply_person_filter(stmt: Select[Any], f: ClientFilter) -> Select[Any]:
    """Add the filter's conditions (all but ``q``) to a query over persons."""
    if f.team_id is not None:
        stmt = stmt.where(Person.team_id == f.team_id)
    if f.responsible_id is not None:
        stmt = stmt.where(Person.responsible_id == f.responsible_id)
    if f.tag:
        stmt = stmt.where(
            exists().where(person_tags.c.person_id == Person.id, person_tags.c.tag_id == Tag.id, Tag.name == f.tag)
        )
    if f.group_id is not None:
        stmt = stmt.where(exists().where(GroupMember.group_id == f.group_id, GroupMember.person_id == Person.id))
    if f.organization_id is not None:
        stmt = stmt.where(
            exists().where(Employment.person_id == Person.id, Employment.organization_id == f.organization_id)
        )
    if f.no_contact_days is not None:
        limit = _older_than(f.no_contact_days)
        stmt = stmt.where(or_(Person.last_contact_at.is_(None), Person.last_contact_at < limit))
    if f.potential is not None or f.stage_id is not None or f.status or f.category:
        org_stmt = apply_org_filter(
            select(Organization.id),
            ClientFilter(potential=f.potential, stage_id=f.stage_id, status=f.status, category=f.category),
        )
        stmt = stmt.where(exists().where(Employment.person_id == Person.id, Employment.organization_id.in_(org_stmt)))
    return stmt


def has_point(owner_column: Any, kind: str, value: str) -> Any:
    """A condition: the client owns a contact point of this kind and value."""
    return exists().where(owner_column, ContactPoint.kind == kind, ContactPoint.value == value)
