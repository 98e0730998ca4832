"""Search over organizations and persons by name, e-mail, phone (any format), company and tag.

This is the plain version (indexed equality and LIKE); the typo-tolerant index on top of it
lives in ``core/search_index`` when present. Rights are applied by the caller's query or by
``search_clients``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.config import get_settings
from core.models import (
    ContactPoint,
    Employment,
    Organization,
    Person,
    PointKind,
    Tag,
    organization_tags,
    person_tags,
)
from core.normalize import name_key, try_normalize_phone
from core.rights import visible


@dataclass(frozen=True)
class SearchHit:
    """One client found: what it is, its name and a line saying where it works or how to reach it."""

    type: str
    id: int
    name: str
    subtitle: str
    team_id: int


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _point_owner_ids(session: Session, q: str, owner: str, limit: int) -> list[int]:
    column = ContactPoint.organization_id if owner == "organization" else ContactPoint.person_id
    conds = []
    text = q.strip().lower()
    if "@" in text:
        conds.append(
            (ContactPoint.kind == PointKind.email) & ContactPoint.value.like(_escape_like(text) + "%", escape="\\")
        )
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 5 and len(digits) >= len(re.sub(r"\s", "", text)) * 0.6:
        e164 = try_normalize_phone(q, region=get_settings().default_region)
        if e164:
            conds.append((ContactPoint.kind == PointKind.phone) & (ContactPoint.value == e164))
        conds.append((ContactPoint.kind == PointKind.phone) & ContactPoint.value.like("%" + digits, escape="\\"))
    if re.fullmatch(r"[\w.-]+\.[a-z]{2,}", text):
        conds.append((ContactPoint.kind == PointKind.domain) & (ContactPoint.value == text))
    if not conds:
        return []
    stmt = select(column).where(column.is_not(None), or_(*conds)).distinct().limit(limit)
    return list(session.scalars(stmt))


def organization_ids_matching(session: Session, q: str, limit: int = 1000) -> list[int]:
    """Ids of organizations whose name, brand, contact point or tag matches ``q`` (no rights applied)."""
    ids = _point_owner_ids(session, q, "organization", limit)
    key = name_key(q)
    if key:
        pattern = "%" + _escape_like(key) + "%"
        stmt = (
            select(Organization.id)
            .where(
                or_(Organization.name_key.like(pattern, escape="\\"), Organization.brand_key.like(pattern, escape="\\"))
            )
            .limit(limit)
        )
        ids.extend(session.scalars(stmt))
        tagged = select(organization_tags.c.organization_id).join(Tag).where(Tag.name == q.strip()).limit(limit)
        ids.extend(session.scalars(tagged))
    return list(dict.fromkeys(ids))[:limit]


def person_ids_matching(session: Session, q: str, limit: int = 1000) -> list[int]:
    """Ids of persons whose name, company, contact point or tag matches ``q`` (no rights applied)."""
    ids = _point_owner_ids(session, q, "person", limit)
    key = name_key(q)
    if key:
        pattern = "%" + _escape_like(key) + "%"
        ids.extend(session.scalars(select(Person.id).where(Person.name_key.like(pattern, escape="\\")).limit(limit)))
        orgs = select(Organization.id).where(Organization.name_key.like(pattern, escape="\\")).limit(50)
        ids.extend(
            session.scalars(select(Employment.person_id).where(Employment.organization_id.in_(orgs)).limit(limit))
        )
        tagged = select(person_tags.c.person_id).join(Tag).where(Tag.name == q.strip()).limit(limit)
        ids.extend(session.scalars(tagged))
    return list(dict.fromkeys(ids))[:limit]


def search_clients(session: Session, *, actor: Actor, q: str, limit: int = 20) -> list[SearchHit]:
    """Organizations and persons matching ``q`` that the actor may see, best matches first."""
    if not q.strip():
        return []
    hits: list[SearchHit] = []
    org_ids = organization_ids_matching(session, q, limit=limit * 5)
    if org_ids:
        orgs = session.scalars(
            select(Organization).where(
                Organization.id.in_(org_ids),
                visible(actor, Organization.team_id),
                Organization.merged_into_id.is_(None),
            )
        ).all()
        order = {i: n for n, i in enumerate(org_ids)}
        for org in sorted(orgs, key=lambda o: order[o.id]):
            sub = ", ".join(p.display or p.value for p in org.points[:2])
            hits.append(SearchHit("organization", org.id, org.name, sub or org.industry, org.team_id))
    person_ids = person_ids_matching(session, q, limit=limit * 5)
    if person_ids:
        persons = session.scalars(
            select(Person).where(
                Person.id.in_(person_ids), visible(actor, Person.team_id), Person.merged_into_id.is_(None)
            )
        ).all()
        order = {i: n for n, i in enumerate(person_ids)}
        for person in sorted(persons, key=lambda p: order[p.id]):
            orgs = ", ".join(e.organization.name for e in person.employments[:2])
            hits.append(SearchHit("person", person.id, person.full_name, orgs or person.position, person.team_id))
    key = name_key(q)
    hits.sort(key=lambda h: (not name_key(h.name).startswith(key), name_key(h.name) != key))
    return hits[:limit]
