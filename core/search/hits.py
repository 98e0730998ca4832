"""Turning found ids into ``SearchHit`` lines: the name, and where the client works or how to reach it.

One query per kind for a page, whatever its size; an employer is named only when the actor may
see it, so a subtitle never reveals a client of another team.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from core.models import ContactPoint, Employment, Organization, Person
from core.search.backend import Scope
from core.search.engine import Found


@dataclass(frozen=True)
class SearchHit:
    """One client found: what it is, its name and a line saying where it works or how to reach it."""

    type: str
    id: int
    name: str
    subtitle: str
    team_id: int


def load_hits(session: Session, found: list[Found], scope: Scope) -> list[SearchHit]:
    """The hits for ``found``, in the same order (one query per kind)."""
    org_ids = [f.id for f in found if f.kind == "organization"]
    person_ids = [f.id for f in found if f.kind == "person"]
    hits: dict[tuple[str, int], SearchHit] = {}
    if org_ids:
        rows = session.execute(
            select(
                Organization.id,
                Organization.name,
                Organization.industry,
                Organization.team_id,
                ContactPoint.display,
                ContactPoint.value,
            )
            .outerjoin(ContactPoint, ContactPoint.organization_id == Organization.id)
            .where(Organization.id.in_(org_ids))
            .order_by(Organization.id, ContactPoint.id)
        )
        points: dict[int, list[str]] = defaultdict(list)
        for org_id, name, industry, team_id, display, value in rows:
            if value is not None:
                points[org_id].append(display or value)
            sub = ", ".join(points[org_id][:2]) or industry
            hits[("organization", org_id)] = SearchHit("organization", org_id, name, sub, team_id)
    if person_ids:
        employer = and_(Organization.id == Employment.organization_id)
        if scope.team_ids is not None:
            employer = and_(employer, Organization.team_id.in_(scope.team_ids))
        rows = session.execute(
            select(Person.id, Person.full_name, Person.position, Person.team_id, Organization.name)
            .outerjoin(Employment, Employment.person_id == Person.id)
            .outerjoin(Organization, employer)
            .where(Person.id.in_(person_ids))
            .order_by(Person.id, Employment.is_primary.desc(), Employment.id)
        )
        employers: dict[int, list[str]] = defaultdict(list)
        for person_id, full_name, position, team_id, org_name in rows:
            if org_name is not None:
                employers[person_id].append(org_name)
            sub = ", ".join(employers[person_id][:2]) or position
            hits[("person", person_id)] = SearchHit("person", person_id, full_name, sub, team_id)
    return [hits[(f.kind, f.id)] for f in found if (f.kind, f.id) in hits]
