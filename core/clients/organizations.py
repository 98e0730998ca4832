"""Organization services: create, read, update, delete and list, with rights, duplicates and audit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
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
from core.clients.filters import ClientFilter, apply_org_filter
from core.clients.leads import plan_first_contact
from core.clients.points import (
    check_duplicate_org_name,
    check_duplicate_points,
    normalize_points,
    points_of,
    replace_points,
)
from core.clients.tombstones import ensure_not_merged
from core.errors import ValidationFailed
from core.models import Organization, PointKind, Stage
from core.normalize import name_key
from core.rights import require_visible, require_write, visible

PLAIN_FIELDS = (
    "name",
    "brand",
    "industry",
    "address",
    "website",
    "category",
    "status",
    "team_id",
    "responsible_id",
    "stage_id",
    "first_contact_on",
    "deal_amount",
    "potential",
    "notes",
)
STATUSES = ("lead", "active", "partner", "inactive", "refused")
SORTS = {
    "name": Organization.name_key,
    "created_at": Organization.created_at,
    "last_contact_at": Organization.last_contact_at,
    "deal_amount": Organization.deal_amount,
    "potential": Organization.potential,
}


def _audit_view(org: Organization) -> dict[str, Any]:
    data = snapshot(org, PLAIN_FIELDS)
    data["emails"] = points_of(org, PointKind.email)
    data["phones"] = points_of(org, PointKind.phone)
    data["email_domains"] = points_of(org, PointKind.domain)
    data["tags"] = sorted(t.name for t in org.tags)
    data["custom"] = dict(org.custom)
    return data


def _check_values(session: Session, values: dict[str, Any]) -> None:
    if "name" in values and not str(values["name"] or "").strip():
        raise ValidationFailed.one("name", "is required")
    if values.get("status") and values["status"] not in STATUSES:
        raise ValidationFailed.one("status", f"must be one of: {', '.join(STATUSES)}")
    potential = values.get("potential")
    if potential is not None and not (1 <= int(potential) <= 5):
        raise ValidationFailed.one("potential", "must be from 1 to 5")
    amount = values.get("deal_amount")
    if amount is not None and Decimal(amount) < 0:
        raise ValidationFailed.one("deal_amount", "cannot be negative")
    if values.get("stage_id") is not None and session.get(Stage, values["stage_id"]) is None:
        raise ValidationFailed.one("stage_id", f"there is no stage #{values['stage_id']}")
    check_user(session, values.get("responsible_id"), "responsible_id")


def create_organization(
    session: Session,
    *,
    actor: Actor,
    name: str,
    brand: str = "",
    team_id: int | None = None,
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    email_domains: list[str] | None = None,
    tags: list[str] | None = None,
    custom: dict[str, Any] | None = None,
    first_contact_on: date | None = None,
    first_task: bool = True,
    **values: Any,
) -> Organization:
    """Create an organization after the blocklist and duplicate checks; audited.

    A lead gets its first task (``core.clients.leads``) unless ``first_task`` is False: for a loader
    that brings the lead's own history of tasks with it, like the demo base.
    """
    values = {k: v for k, v in values.items() if k in PLAIN_FIELDS}
    _check_values(session, {"name": name, **values})
    team = choose_team(session, actor, team_id)
    points = normalize_points(emails=emails or (), phones=phones or (), domains=email_domains or ())
    name, brand = name.strip(), (brand or "").strip()
    check_blocklist(session, names=[name, brand], points=points)
    check_duplicate_org_name(session, actor=actor, name_key=name_key(name), brand_key=name_key(brand))
    check_duplicate_points(session, actor=actor, points=points)
    org = Organization(
        name=name,
        brand=brand,
        name_key=name_key(name),
        brand_key=name_key(brand),
        team_id=team,
        responsible_id=values.pop("responsible_id", None) or actor.user_id,
        created_by_id=actor.user_id,
        custom=validate_custom(session, entity="organization", values=custom or {}),
        first_contact_on=first_contact_on or date.today(),
        **values,
    )
    org.points = points
    org.tags = tags_by_name(session, tags or [])
    session.add(org)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="organization",
        entity_id=org.id,
        summary=org.name,
        changes=audit.diff({}, _audit_view(org)),
    )
    if first_task:
        plan_first_contact(session, actor=actor, org=org)
    return org


def get_organization(session: Session, *, actor: Actor, org_id: int) -> Organization:
    """The organization, if the actor may see it (NotFound otherwise)."""
    org = session.get(Organization, org_id)
    require_visible(actor, org, "Organization")
    assert org is not None
    ensure_not_merged(session, org)
    return org


def update_organization(session: Session, *, actor: Actor, org_id: int, changes: dict[str, Any]) -> Organization:
    """Apply the given field changes; duplicates and rights checked, audited."""
    org = session.get(Organization, org_id)
    require_write(actor, org, "Organization")
    assert org is not None
    ensure_not_merged(session, org)
    before = _audit_view(org)
    _check_values(session, changes)
    if "team_id" in changes and changes["team_id"] != org.team_id:
        changes["team_id"] = choose_team(session, actor, changes["team_id"])
    kinds = {PointKind.email: "emails", PointKind.phone: "phones", PointKind.domain: "email_domains"}
    if any(v in changes for v in kinds.values()):
        new_points = normalize_points(
            emails=changes.get("emails", points_of(org, PointKind.email)),
            phones=changes.get("phones", points_of(org, PointKind.phone)),
            domains=changes.get("email_domains", points_of(org, PointKind.domain)),
        )
        check_blocklist(session, names=[], points=new_points)
        check_duplicate_points(session, actor=actor, points=new_points, exclude_org=org.id)
        replace_points(org, new_points, {k for k, v in kinds.items() if v in changes})
    if "name" in changes or "brand" in changes:
        name = str(changes.get("name", org.name)).strip()
        brand = str(changes.get("brand", org.brand) or "").strip()
        check_duplicate_org_name(
            session, actor=actor, name_key=name_key(name), brand_key=name_key(brand), exclude=org.id
        )
        org.name, org.brand, org.name_key, org.brand_key = name, brand, name_key(name), name_key(brand)
    if "tags" in changes:
        org.tags = tags_by_name(session, changes["tags"] or [])
    if "custom" in changes:
        org.custom = validate_custom(session, entity="organization", values=changes["custom"] or {}, current=org.custom)
    for field in PLAIN_FIELDS:
        if field in changes and field not in ("name", "brand"):
            setattr(org, field, changes[field])
    session.flush()
    delta = audit.diff(before, _audit_view(org))
    audit.record_update(
        session, actor=actor, entity_type="organization", entity_id=org.id, summary=org.name, changes=delta
    )
    return org


def delete_organization(session: Session, *, actor: Actor, org_id: int) -> None:
    """Delete an organization with its interactions, tasks and deals; audited."""
    org = session.get(Organization, org_id)
    require_write(actor, org, "Organization")
    assert org is not None
    ensure_not_merged(session, org)
    delete_client(session, actor=actor, entity_type="organization", record=org, summary=org.name, view=_audit_view(org))


def list_organizations(
    session: Session,
    *,
    actor: Actor,
    filter: ClientFilter | None = None,
    sort: str = "name",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Organization], int]:
    """A page of the organizations the actor may see, filtered and sorted, and the total count."""
    from core.search import organization_ids_matching

    f = filter or ClientFilter()
    stmt = select(Organization).where(visible(actor, Organization.team_id), Organization.merged_into_id.is_(None))
    stmt = apply_org_filter(stmt, f)
    if f.q.strip():
        stmt = stmt.where(Organization.id.in_(organization_ids_matching(session, f.q)))
    return sorted_page(session, stmt, sort=sort, sorts=SORTS, tiebreak=Organization.id, limit=limit, offset=offset)
