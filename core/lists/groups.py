"""Static groups of clients: named lists kept by hand, holding organizations and persons.

A group's name and description are not secret (like team names), but its members are
clients, and clients follow the team rule: a member the actor may not see is neither shown
nor counted, and adding a client the actor cannot see is reported as "not found" for that id.
Whoever may build lists (admins, managers, staff, marketers) may create groups and add or
remove members; renaming and deleting a group is for its owner, managers and admins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import Forbidden, NotFound, ValidationFailed
from core.lists.names import check_name_free, clean_name
from core.models import ClientType, Group, GroupMember, Organization, Person, Role
from core.rights import visible

LIST_BUILDERS = frozenset({Role.admin, Role.manager, Role.staff, Role.marketer})
MAX_BULK = 5000


@dataclass
class MembershipChange:
    """What a bulk add or remove did, per kind of client."""

    changed: dict[str, list[int]] = field(default_factory=lambda: {"organization": [], "person": []})
    unchanged: dict[str, list[int]] = field(default_factory=lambda: {"organization": [], "person": []})
    not_found: dict[str, list[int]] = field(default_factory=lambda: {"organization": [], "person": []})


def require_list_builder(actor: Actor) -> None:
    """Raise Forbidden unless the actor's role may build lists of clients."""
    if actor.role not in LIST_BUILDERS:
        raise Forbidden(f"Your role ({actor.role.value}) may not change lists of clients")


def get_group(session: Session, *, actor: Actor, group_id: int) -> Group:
    """The group (every user may see groups; their members are filtered by rights)."""
    group = session.get(Group, group_id)
    if group is None:
        raise NotFound("Group not found")
    return group


def list_groups(session: Session, *, actor: Actor) -> list[Group]:
    """All groups, by name."""
    return list(session.scalars(select(Group).order_by(func.lower(Group.name), Group.id)))


def create_group(session: Session, *, actor: Actor, name: str, description: str = "") -> Group:
    """Create an empty group owned by the actor; audited."""
    require_list_builder(actor)
    name = clean_name(name)
    check_name_free(session, Group, name)
    group = Group(name=name, description=(description or "").strip()[:1000], owner_id=actor.user_id)
    session.add(group)
    session.flush()
    audit.record(session, actor=actor, action="create", entity_type="group", entity_id=group.id, summary=name)
    return group


def _require_manage(actor: Actor, group: Group) -> None:
    require_list_builder(actor)
    if actor.is_admin or actor.role == Role.manager or group.owner_id == actor.user_id:
        return
    raise Forbidden("Only the group's owner, managers and admins may rename or delete it")


def update_group(session: Session, *, actor: Actor, group_id: int, changes: dict[str, Any]) -> Group:
    """Rename or re-describe a group (owner, managers, admins); audited."""
    group = get_group(session, actor=actor, group_id=group_id)
    _require_manage(actor, group)
    before = {"name": group.name, "description": group.description}
    if "name" in changes:
        name = clean_name(changes["name"])
        check_name_free(session, Group, name, exclude=group.id)
        group.name = name
    if "description" in changes:
        group.description = (changes["description"] or "").strip()[:1000]
    delta = audit.diff(before, {"name": group.name, "description": group.description})
    audit.record_update(
        session, actor=actor, entity_type="group", entity_id=group.id, summary=group.name, changes=delta
    )
    session.flush()
    return group


def delete_group(session: Session, *, actor: Actor, group_id: int) -> None:
    """Delete a group and its memberships (not the clients); audited."""
    group = get_group(session, actor=actor, group_id=group_id)
    _require_manage(actor, group)
    audit.record(session, actor=actor, action="delete", entity_type="group", entity_id=group.id, summary=group.name)
    session.delete(group)
    session.flush()


def _visible_ids(session: Session, actor: Actor, model: type[Organization] | type[Person], ids: list[int]) -> set[int]:
    if not ids:
        return set()
    stmt = select(model.id).where(model.id.in_(ids), visible(actor, model.team_id), model.merged_into_id.is_(None))
    return set(session.scalars(stmt))


def _check_bulk(organization_ids: Sequence[int], person_ids: Sequence[int]) -> None:
    if len(organization_ids) + len(person_ids) > MAX_BULK:
        raise ValidationFailed.one("organization_ids", f"send at most {MAX_BULK} ids at once")


def add_members(
    session: Session,
    *,
    actor: Actor,
    group_id: int,
    organization_ids: Sequence[int] = (),
    person_ids: Sequence[int] = (),
) -> MembershipChange:
    """Add the given clients (those the actor may see) to the group; audited."""
    require_list_builder(actor)
    group = get_group(session, actor=actor, group_id=group_id)
    organization_ids, person_ids = list(dict.fromkeys(organization_ids)), list(dict.fromkeys(person_ids))
    _check_bulk(organization_ids, person_ids)
    result = MembershipChange()
    for kind, model, column, ids in (
        ("organization", Organization, GroupMember.organization_id, organization_ids),
        ("person", Person, GroupMember.person_id, person_ids),
    ):
        seen = _visible_ids(session, actor, model, ids)
        present = set(session.scalars(select(column).where(GroupMember.group_id == group.id, column.in_(seen))))
        for record_id in ids:
            if record_id not in seen:
                result.not_found[kind].append(record_id)
            elif record_id in present:
                result.unchanged[kind].append(record_id)
            else:
                session.add(GroupMember(group_id=group.id, **{f"{kind}_id": record_id}))
                result.changed[kind].append(record_id)
    session.flush()
    if result.changed["organization"] or result.changed["person"]:
        audit.record(
            session,
            actor=actor,
            action="add_members",
            entity_type="group",
            entity_id=group.id,
            summary=group.name,
            changes={"organizations": result.changed["organization"], "persons": result.changed["person"]},
        )
    return result


def remove_members(
    session: Session,
    *,
    actor: Actor,
    group_id: int,
    organization_ids: Sequence[int] = (),
    person_ids: Sequence[int] = (),
) -> MembershipChange:
    """Remove the given clients (those the actor may see) from the group; audited."""
    require_list_builder(actor)
    group = get_group(session, actor=actor, group_id=group_id)
    organization_ids, person_ids = list(dict.fromkeys(organization_ids)), list(dict.fromkeys(person_ids))
    _check_bulk(organization_ids, person_ids)
    result = MembershipChange()
    for kind, model, column, ids in (
        ("organization", Organization, GroupMember.organization_id, organization_ids),
        ("person", Person, GroupMember.person_id, person_ids),
    ):
        seen = _visible_ids(session, actor, model, ids)
        rows = {
            getattr(m, f"{kind}_id"): m
            for m in session.scalars(select(GroupMember).where(GroupMember.group_id == group.id, column.in_(seen)))
        }
        for record_id in ids:
            if record_id not in seen:
                result.not_found[kind].append(record_id)
            elif record_id in rows:
                session.delete(rows[record_id])
                result.changed[kind].append(record_id)
            else:
                result.unchanged[kind].append(record_id)
    session.flush()
    if result.changed["organization"] or result.changed["person"]:
        audit.record(
            session,
            actor=actor,
            action="remove_members",
            entity_type="group",
            entity_id=group.id,
            summary=group.name,
            changes={"organizations": result.changed["organization"], "persons": result.changed["person"]},
        )
    return result


def list_members(
    session: Session, *, actor: Actor, group_id: int, client_type: ClientType, limit: int = 50, offset: int = 0
) -> tuple[list[Organization] | list[Person], int]:
    """A page of the group's members of one type that the actor may see, and their count."""
    group = get_group(session, actor=actor, group_id=group_id)
    model: Any = Organization if client_type == ClientType.organization else Person
    column = GroupMember.organization_id if client_type == ClientType.organization else GroupMember.person_id
    stmt = (
        select(model)
        .join(GroupMember, column == model.id)
        .where(GroupMember.group_id == group.id, visible(actor, model.team_id), model.merged_into_id.is_(None))
    )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(model.name_key, model.id).limit(limit).offset(offset)).all()
    return list(rows), total


def member_counts(session: Session, *, actor: Actor, group_id: int) -> dict[str, int]:
    """How many organizations and persons of the group the actor may see."""
    out = {}
    for kind, model, column in (
        ("organization", Organization, GroupMember.organization_id),
        ("person", Person, GroupMember.person_id),
    ):
        stmt = (
            select(func.count())
            .select_from(GroupMember)
            .join(model, column == model.id)
            .where(GroupMember.group_id == group_id, visible(actor, model.team_id), model.merged_into_id.is_(None))
        )
        out[kind] = session.scalar(stmt) or 0
    return out
