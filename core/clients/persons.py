"""Contact person services: create, read, update, delete and list, with where each person works.

A person's duplicate is another person with one of the same e-mails or phones, or the same
full name in the same organization (two "Ivan Petrov" in different companies are normal).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clients.common import (
    check_blocklist,
    check_user,
    choose_team,
    delete_client,
    snapshot,
    sorted_page,
    tags_by_name,
)
from core.clients.fields import validate_custom
from core.clients.filters import ClientFilter, apply_person_filter
from core.clients.points import check_duplicate_points, normalize_points, points_of, replace_points
from core.clients.tombstones import ensure_not_merged
from core.errors import DuplicateError, ExistingRecord, ValidationFailed
from core.models import Employment, Organization, Person, PointKind
from core.normalize import name_key
from core.rights import can_see_team, require_visible, require_write, visible

PLAIN_FIELDS = ("first_name", "middle_name", "last_name", "position", "birthday", "notes", "team_id", "responsible_id")
SORTS = {
    "name": Person.name_key,
    "created_at": Person.created_at,
    "last_contact_at": Person.last_contact_at,
}


def full_name_of(first: str, middle: str, last: str) -> str:
    """The display name: first, middle and last name joined."""
    return " ".join(p for p in (first.strip(), middle.strip(), last.strip()) if p)


def _audit_view(person: Person) -> dict[str, Any]:
    data = snapshot(person, PLAIN_FIELDS)
    data["emails"] = points_of(person, PointKind.email)
    data["phones"] = points_of(person, PointKind.phone)
    data["tags"] = sorted(t.name for t in person.tags)
    data["custom"] = dict(person.custom)
    data["organizations"] = sorted((e.organization_id, e.role) for e in person.employments)
    return data


def _employments(session: Session, actor: Actor, items: list[dict[str, Any]]) -> list[Employment]:
    out: list[Employment] = []
    seen: set[int] = set()
    for i, item in enumerate(items):
        org_id = item.get("organization_id")
        org = session.get(Organization, org_id) if org_id is not None else None
        if org is None or not can_see_team(actor, org.team_id):
            raise ValidationFailed.one(f"organizations[{i}].organization_id", f"there is no organization #{org_id}")
        if org.id in seen:
            continue
        seen.add(org.id)
        out.append(Employment(organization_id=org.id, role=str(item.get("role") or "")[:200], is_primary=not out))
    return out


def _check_same_name_in_org(session: Session, actor: Actor, key: str, org_ids: list[int], exclude: int | None) -> None:
    if not org_ids or not key:
        return
    stmt = (
        select(Person)
        .join(Employment, Employment.person_id == Person.id)
        .where(Person.name_key == key, Employment.organization_id.in_(org_ids), Person.merged_into_id.is_(None))
    )
    if exclude is not None:
        stmt = stmt.where(Person.id != exclude)
    other = session.scalars(stmt.limit(1)).first()
    if other is not None:
        shown = other if can_see_team(actor, other.team_id) else None
        raise DuplicateError(
            ExistingRecord(
                type="person",
                id=shown.id if shown else 0,
                name=shown.full_name if shown else "a person of another team",
                matched_on="name in the same organization",
            )
        )


def create_person(
    session: Session,
    *,
    actor: Actor,
    first_name: str = "",
    last_name: str = "",
    middle_name: str = "",
    team_id: int | None = None,
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    organizations: list[dict[str, Any]] | None = None,
    tags: list[str] | None = None,
    custom: dict[str, Any] | None = None,
    birthday: date | None = None,
    **values: Any,
) -> Person:
    """Create a contact person after the blocklist and duplicate checks; audited."""
    values = {k: v for k, v in values.items() if k in PLAIN_FIELDS}
    full = full_name_of(first_name, middle_name, last_name)
    if not full:
        raise ValidationFailed.one("last_name", "give at least a first or a last name")
    check_user(session, values.get("responsible_id"), "responsible_id")
    employments = _employments(session, actor, organizations or [])
    if team_id is None and employments:
        org = session.get(Organization, employments[0].organization_id)
        team_id = org.team_id if org else None
    team = choose_team(session, actor, team_id)
    points = normalize_points(emails=emails or (), phones=phones or ())
    check_blocklist(session, names=[], points=points)
    check_duplicate_points(session, actor=actor, points=points)
    _check_same_name_in_org(session, actor, name_key(full), [e.organization_id for e in employments], None)
    person = Person(
        first_name=first_name.strip(),
        middle_name=middle_name.strip(),
        last_name=last_name.strip(),
        full_name=full,
        name_key=name_key(full),
        team_id=team,
        birthday=birthday,
        responsible_id=values.pop("responsible_id", None) or actor.user_id,
        created_by_id=actor.user_id,
        custom=validate_custom(session, entity="person", values=custom or {}),
        **values,
    )
    person.points = points
    person.employments = employments
    person.tags = tags_by_name(session, tags or [])
    session.add(person)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="person",
        entity_id=person.id,
        summary=person.full_name,
        changes=audit.diff({}, _audit_view(person)),
    )
    return person


def get_person(session: Session, *, actor: Actor, person_id: int) -> Person:
    """The person, if the actor may see them (NotFound otherwise)."""
    person = session.get(Person, person_id)
    require_visible(actor, person, "Person")
    assert person is not None
    ensure_not_merged(session, person)
    return person


def update_person(session: Session, *, actor: Actor, person_id: int, changes: dict[str, Any]) -> Person:
    """Apply the given field changes; duplicates and rights checked, audited."""
    person = session.get(Person, person_id)
    require_write(actor, person, "Person")
    assert person is not None
    ensure_not_merged(session, person)
    before = _audit_view(person)
    check_user(session, changes.get("responsible_id"), "responsible_id")
    if "team_id" in changes and changes["team_id"] != person.team_id:
        changes["team_id"] = choose_team(session, actor, changes["team_id"])
    if "emails" in changes or "phones" in changes:
        new_points = normalize_points(
            emails=changes.get("emails", points_of(person, PointKind.email)),
            phones=changes.get("phones", points_of(person, PointKind.phone)),
        )
        check_blocklist(session, names=[], points=new_points)
        check_duplicate_points(session, actor=actor, points=new_points, exclude_person=person.id)
        kinds = {k for k, f in ((PointKind.email, "emails"), (PointKind.phone, "phones")) if f in changes}
        replace_points(person, new_points, kinds)
    for field in PLAIN_FIELDS:
        if field in changes:
            setattr(
                person,
                field,
                changes[field] if changes[field] is not None or field in ("birthday", "responsible_id") else "",
            )
    full = full_name_of(person.first_name, person.middle_name, person.last_name)
    if not full:
        raise ValidationFailed.one("last_name", "give at least a first or a last name")
    person.full_name, person.name_key = full, name_key(full)
    if "organizations" in changes:
        wanted = _employments(session, actor, changes["organizations"] or [])
        current = {e.organization_id: e for e in person.employments}
        merged = []
        for emp in wanted:
            existing = current.get(emp.organization_id)
            if existing is not None:
                existing.role = emp.role
                merged.append(existing)
            else:
                merged.append(emp)
        person.employments = merged
    _check_same_name_in_org(session, actor, person.name_key, [e.organization_id for e in person.employments], person.id)
    if "tags" in changes:
        person.tags = tags_by_name(session, changes["tags"] or [])
    if "custom" in changes:
        person.custom = validate_custom(session, entity="person", values=changes["custom"] or {}, current=person.custom)
    session.flush()
    delta = audit.diff(before, _audit_view(person))
    audit.record_update(
        session, actor=actor, entity_type="person", entity_id=person.id, summary=person.full_name, changes=delta
    )
    return person


def delete_person(session: Session, *, actor: Actor, person_id: int) -> None:
    """Delete a person with their interactions and tasks; audited."""
    person = session.get(Person, person_id)
    require_write(actor, person, "Person")
    assert person is not None
    ensure_not_merged(session, person)
    delete_client(
        session, actor=actor, entity_type="person", record=person, summary=person.full_name, view=_audit_view(person)
    )


def list_persons(
    session: Session,
    *,
    actor: Actor,
    filter: ClientFilter | None = None,
    sort: str = "name",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Person], int]:
    """A page of the persons the actor may see, filtered and sorted, and the total count."""
    from core.search import person_ids_matching

    f = filter or ClientFilter()
    stmt = select(Person).where(visible(actor, Person.team_id), Person.merged_into_id.is_(None))
    stmt = apply_person_filter(stmt, f)
    if f.q.strip():
        stmt = stmt.where(Person.id.in_(person_ids_matching(session, f.q)))
    return sorted_page(session, stmt, sort=sort, sorts=SORTS, tiebreak=Person.id, limit=limit, offset=offset)
