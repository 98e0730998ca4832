"""Contact points (e-mails, phones, mail domains) and the duplicate rule built on them.

A new organization or person is refused when one of its e-mails or phones already belongs
to another client, or when its name (organizations: name or brand) matches one exactly after
normalisation. The check looks across all teams on purpose: a client must not exist twice
in the company even when the other copy is in a direction the user cannot see; the error
then names the team that holds it rather than the record itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.config import get_settings
from core.errors import DuplicateError, ExistingRecord, ValidationFailed
from core.models import ContactPoint, Organization, Person, PointKind, Team
from core.normalize import normalize_domain, normalize_email, normalize_phone
from core.rights import can_see_team


@dataclass(frozen=True)
class PointInput:
    """A contact point as typed, before normalisation."""

    kind: PointKind
    value: str
    label: str = ""


def normalize_points(
    *, emails: Iterable[str] = (), phones: Iterable[str] = (), domains: Iterable[str] = ()
) -> list[ContactPoint]:
    """Validate and normalise typed e-mails, phones and domains into unsaved contact points."""
    region = get_settings().default_region
    out: list[ContactPoint] = []
    seen: set[tuple[str, str]] = set()
    for i, raw in enumerate(emails):
        if raw and raw.strip():
            value = normalize_email(raw, field=f"emails[{i}]")
            if (PointKind.email, value) not in seen:
                seen.add((PointKind.email, value))
                out.append(ContactPoint(kind=PointKind.email, value=value, display=raw.strip()))
    for i, raw in enumerate(phones):
        if raw and raw.strip():
            value = normalize_phone(raw, region=region, field=f"phones[{i}]")
            if (PointKind.phone, value) not in seen:
                seen.add((PointKind.phone, value))
                out.append(ContactPoint(kind=PointKind.phone, value=value, display=raw.strip()))
    for i, raw in enumerate(domains):
        if raw and raw.strip():
            value = normalize_domain(raw, field=f"email_domains[{i}]")
            if (PointKind.domain, value) not in seen:
                seen.add((PointKind.domain, value))
                out.append(ContactPoint(kind=PointKind.domain, value=value, display=value))
    return out


def points_of(record: Organization | Person, kind: PointKind) -> list[str]:
    """The normalised values of one kind of a client's contact points."""
    return [p.value for p in record.points if p.kind == kind]


def _describe(
    session: Session, actor: Actor, kind: str, record_id: int, name: str, team_id: int, on: str
) -> ExistingRecord:
    if can_see_team(actor, team_id):
        return ExistingRecord(type=kind, id=record_id, name=name, matched_on=on)
    team = session.get(Team, team_id)
    team_name = team.name if team else "another team"
    return ExistingRecord(type=kind, id=0, name=f"a client of {team_name}", matched_on=on)


def find_point_owner(
    session: Session, points: list[ContactPoint], *, exclude_org: int | None = None, exclude_person: int | None = None
) -> tuple[str, int, str] | None:
    """The first client (type, id, matched value) already owning one of these e-mails or phones."""
    keys = [(p.kind, p.value) for p in points if p.kind in (PointKind.email, PointKind.phone)]
    if not keys:
        return None
    stmt = select(ContactPoint).where(or_(*[(ContactPoint.kind == k) & (ContactPoint.value == v) for k, v in keys]))
    for point in session.scalars(stmt):
        if point.organization_id is not None and point.organization_id != exclude_org:
            return ("organization", point.organization_id, f"{point.kind} {point.value}")
        if point.person_id is not None and point.person_id != exclude_person:
            return ("person", point.person_id, f"{point.kind} {point.value}")
    return None


def check_duplicate_points(
    session: Session,
    *,
    actor: Actor,
    points: list[ContactPoint],
    exclude_org: int | None = None,
    exclude_person: int | None = None,
) -> None:
    """Raise DuplicateError when an e-mail or phone already belongs to another client."""
    hit = find_point_owner(session, points, exclude_org=exclude_org, exclude_person=exclude_person)
    if hit is None:
        return
    kind, record_id, on = hit
    if kind == "organization":
        org = session.get(Organization, record_id)
        assert org is not None
        raise DuplicateError(_describe(session, actor, kind, org.id, org.name, org.team_id, on))
    person = session.get(Person, record_id)
    assert person is not None
    raise DuplicateError(_describe(session, actor, kind, person.id, person.full_name, person.team_id, on))


def check_duplicate_org_name(
    session: Session, *, actor: Actor, name_key: str, brand_key: str, exclude: int | None = None
) -> None:
    """Raise DuplicateError when an organization has the same name or brand (normalised)."""
    keys = [k for k in {name_key, brand_key} if k]
    if not keys:
        raise ValidationFailed.one("name", "must contain letters or digits")
    stmt = select(Organization).where(
        or_(Organization.name_key.in_(keys), Organization.brand_key.in_(keys)),
        Organization.merged_into_id.is_(None),
    )
    if exclude is not None:
        stmt = stmt.where(Organization.id != exclude)
    org = session.scalars(stmt.limit(1)).first()
    if org is not None:
        on = "brand" if org.brand_key in keys and org.name_key not in keys else "name"
        raise DuplicateError(_describe(session, actor, "organization", org.id, org.name, org.team_id, on))


def replace_points(record: Organization | Person, new_points: list[ContactPoint], kinds: set[PointKind]) -> None:
    """Swap the record's points of the given kinds for new ones, keeping ids of unchanged values."""
    keep = {(p.kind, p.value): p for p in record.points if p.kind in kinds}
    result = [p for p in record.points if p.kind not in kinds]
    for point in new_points:
        existing = keep.pop((point.kind, point.value), None)
        if existing is not None:
            existing.display = point.display or existing.display
            existing.label = point.label or existing.label
            result.append(existing)
        else:
            result.append(point)
    record.points = result
