"""Merging two copies of the same client into one, losing nothing.

``merge_organizations`` / ``merge_persons`` keep one record (the survivor) and fold the other
into it: every row that points at the other record (interactions, tasks, deals, files,
comments, employments, group memberships, contact points, tags, and any table added later
with a foreign key to it) is re-pointed at the survivor. Where that would make a second copy
of something the survivor already has, the other's copy is dropped instead: the same e-mail
or phone, the same group, the same organization of employment, the same tag, the same mail
logged on both (its files and follow-up tasks are moved to the survivor's copy first).
Interactions, tasks and deals that move to a surviving organization take its team, so they
stay visible on the card they now belong to.

Fields: for each field the caller may say ``"survivor"`` or ``"other"``; a field not named
keeps the survivor's value, or takes the other's when the survivor's is empty. Custom values
are combined the same way key by key; first contact takes the earlier date, last contact
the later time.

The other record is not deleted: it stays as a tombstone with ``merged_into_id`` pointing at
the survivor, so old links, bookmarks and remote ids can be followed, its audit history stays
readable from the survivor, and the merge is visible in both records' history. Tombstones
are left out of lists, searches and the duplicate check; reading or changing one answers
``MergedAway`` (see ``core.clients.tombstones``), and deleting the survivor deletes them.

Both records must be visible and writable by the actor, and neither may already be merged.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, and_, delete, exists, select, update
from sqlalchemy.orm import Session, aliased

from core import audit
from core.actor import Actor
from core.clients.common import choose_team, snapshot
from core.clients.persons import full_name_of
from core.db import Base
from core.errors import NotFound, ValidationFailed
from core.models import (
    ContactPoint,
    Deal,
    GroupMember,
    Interaction,
    Organization,
    Person,
    Segment,
    StoredFile,
    Task,
)
from core.normalize import name_key
from core.rights import require_write

ORG_FIELDS = (
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
    "custom",
)
PERSON_FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "position",
    "birthday",
    "notes",
    "team_id",
    "responsible_id",
    "custom",
)
CHOICES = ("survivor", "other")


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def _check_choices(choices: dict[str, str], allowed: tuple[str, ...]) -> None:
    for key, value in choices.items():
        if key not in allowed:
            raise ValidationFailed.one(f"fields.{key}", f"is not a field that can be chosen; use: {', '.join(allowed)}")
        if value not in CHOICES:
            raise ValidationFailed.one(f"fields.{key}", "must be 'survivor' or 'other'")


def _load_pair(session: Session, actor: Actor, model: Any, survivor_id: int, other_id: int) -> tuple[Any, Any]:
    what = model.__name__
    if survivor_id == other_id:
        raise ValidationFailed.one("other_id", f"choose another {what.lower()} than the one kept")
    survivor, other = session.get(model, survivor_id), session.get(model, other_id)
    require_write(actor, survivor, what)
    try:
        require_write(actor, other, what)
    except NotFound:
        raise NotFound(f"{what} #{other_id} (other_id) not found") from None
    for record, field in ((survivor, "id"), (other, "other_id")):
        if record.merged_into_id is not None:
            raise ValidationFailed.one(field, f"{what} #{record.id} was already merged into #{record.merged_into_id}")
    return survivor, other


def _combine_fields(survivor: Any, other: Any, fields: tuple[str, ...], choices: dict[str, str]) -> None:
    for field in fields:
        mine, theirs = getattr(survivor, field), getattr(other, field)
        choice = choices.get(field)
        if field == "custom":
            if choice == "other":
                value = dict(theirs or {})
            elif choice == "survivor":
                value = dict(mine or {})
            else:
                value = {**(theirs or {}), **{k: v for k, v in (mine or {}).items() if not _empty(v)}}
            setattr(survivor, field, value)
        elif choice == "other" or (choice is None and _empty(mine) and not _empty(theirs)):
            setattr(survivor, field, theirs)


def _unique_sets(table: Table) -> list[list[str]]:
    sets = [[c.name for c in ix.columns] for ix in table.indexes if ix.unique]
    sets += [[c.name for c in uc.columns] for uc in table.constraints if uc.__class__.__name__ == "UniqueConstraint"]
    if len(table.primary_key.columns) > 1:
        sets.append([c.name for c in table.primary_key.columns])
    return sets


def _repoint(session: Session, target: Table, other_id: int, survivor_id: int) -> dict[str, int]:
    """Point every foreign key at ``target`` from the other record to the survivor, dropping collisions."""
    moved: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is not target:
                continue
            col = fk.parent.name
            for unique in _unique_sets(table):
                if col not in unique:
                    continue
                twin = table.alias("twin")
                same = [twin.c[c] == table.c[c] for c in unique if c != col]
                session.execute(
                    delete(table).where(table.c[col] == other_id, exists().where(twin.c[col] == survivor_id, *same))
                )
            result = session.execute(update(table).where(table.c[col] == other_id).values({col: survivor_id}))
            if result.rowcount:
                moved[f"{table.name}.{col}"] = result.rowcount
    return moved


def _drop_duplicate_points(session: Session, owner_col: Any, other_id: int, survivor_id: int) -> None:
    twin = aliased(ContactPoint)
    dup = select(ContactPoint.id).where(
        owner_col == other_id,
        exists().where(
            getattr(twin, owner_col.key) == survivor_id,
            twin.kind == ContactPoint.kind,
            twin.value == ContactPoint.value,
        ),
    )
    ids = list(session.scalars(dup))
    if ids:
        session.execute(delete(ContactPoint).where(ContactPoint.id.in_(ids)))


def _drop_duplicate_memberships(session: Session, column: Any, other_id: int, survivor_id: int) -> None:
    twin = aliased(GroupMember)
    ids = list(
        session.scalars(
            select(GroupMember.id).where(
                column == other_id,
                exists().where(getattr(twin, column.key) == survivor_id, twin.group_id == GroupMember.group_id),
            )
        )
    )
    if ids:
        session.execute(delete(GroupMember).where(GroupMember.id.in_(ids)))


def _fold_duplicate_mail_interactions(
    session: Session, column: Any, partner: Any, other_id: int, survivor_id: int
) -> int:
    """The same mail logged on both records: move the other's files and tasks to the survivor's copy, drop it."""
    twin = aliased(Interaction)
    rows = session.execute(
        select(Interaction.id, twin.id)
        .join(
            twin,
            and_(
                twin.mail_id == Interaction.mail_id,
                getattr(twin, column.key) == survivor_id,
                (getattr(twin, partner.key) == getattr(Interaction, partner.key))
                | (getattr(twin, partner.key).is_(None) & getattr(Interaction, partner.key).is_(None)),
            ),
        )
        .where(column == other_id, Interaction.mail_id.is_not(None))
    ).all()
    for dup_id, keep_id in rows:
        session.execute(update(StoredFile).where(StoredFile.interaction_id == dup_id).values(interaction_id=keep_id))
        session.execute(update(Task).where(Task.from_interaction_id == dup_id).values(from_interaction_id=keep_id))
        session.execute(delete(Interaction).where(Interaction.id == dup_id))
    return len(rows)


def _repoint_segments(session: Session, other_id: int, survivor_id: int) -> None:
    for segment in session.scalars(select(Segment)):
        if (segment.filter or {}).get("organization_id") == other_id:
            segment.filter = {**segment.filter, "organization_id": survivor_id}


def merge_organizations(
    session: Session, *, actor: Actor, survivor_id: int, other_id: int, field_choices: dict[str, str] | None = None
) -> Organization:
    """Fold organization ``other_id`` into ``survivor_id`` (fields chosen per ``field_choices``); audited."""
    choices = dict(field_choices or {})
    _check_choices(choices, ORG_FIELDS)
    survivor, other = _load_pair(session, actor, Organization, survivor_id, other_id)
    session.flush()
    before = snapshot(survivor, ORG_FIELDS)
    _combine_fields(survivor, other, ORG_FIELDS, choices)
    if survivor.team_id != before["team_id"]:
        survivor.team_id = choose_team(session, actor, survivor.team_id)
    survivor.name_key, survivor.brand_key = name_key(survivor.name), name_key(survivor.brand or "")
    if "first_contact_on" not in choices and other.first_contact_on and survivor.first_contact_on:
        survivor.first_contact_on = min(survivor.first_contact_on, other.first_contact_on)
    if other.last_contact_at and (survivor.last_contact_at is None or other.last_contact_at > survivor.last_contact_at):
        survivor.last_contact_at = other.last_contact_at
    other.merged_into_id = survivor.id
    session.flush()
    team = survivor.team_id
    for model in (Interaction, Task, Deal):
        session.execute(update(model).where(model.organization_id == other.id).values(team_id=team))
    folded = _fold_duplicate_mail_interactions(
        session, Interaction.organization_id, Interaction.person_id, other.id, survivor.id
    )
    _drop_duplicate_points(session, ContactPoint.organization_id, other.id, survivor.id)
    _drop_duplicate_memberships(session, GroupMember.organization_id, other.id, survivor.id)
    _repoint_segments(session, other.id, survivor.id)
    moved = _repoint(session, Organization.__table__, other.id, survivor.id)
    session.expire_all()
    survivor = session.get(Organization, survivor_id)
    assert survivor is not None
    _write_audit(
        session,
        actor,
        "organization",
        survivor.id,
        other.id,
        survivor.name,
        before,
        snapshot(survivor, ORG_FIELDS),
        moved,
        folded,
    )
    return survivor


def merge_persons(
    session: Session, *, actor: Actor, survivor_id: int, other_id: int, field_choices: dict[str, str] | None = None
) -> Person:
    """Fold person ``other_id`` into ``survivor_id`` (fields chosen per ``field_choices``); audited."""
    choices = dict(field_choices or {})
    _check_choices(choices, PERSON_FIELDS)
    survivor, other = _load_pair(session, actor, Person, survivor_id, other_id)
    session.flush()
    before = snapshot(survivor, PERSON_FIELDS)
    _combine_fields(survivor, other, PERSON_FIELDS, choices)
    if survivor.team_id != before["team_id"]:
        survivor.team_id = choose_team(session, actor, survivor.team_id)
    survivor.full_name = (
        full_name_of(survivor.first_name, survivor.middle_name, survivor.last_name) or survivor.full_name
    )
    survivor.name_key = name_key(survivor.full_name)
    if other.last_contact_at and (survivor.last_contact_at is None or other.last_contact_at > survivor.last_contact_at):
        survivor.last_contact_at = other.last_contact_at
    other.merged_into_id = survivor.id
    session.flush()
    team = survivor.team_id
    for model in (Interaction, Task):
        session.execute(
            update(model).where(model.person_id == other.id, model.organization_id.is_(None)).values(team_id=team)
        )
    folded = _fold_duplicate_mail_interactions(
        session, Interaction.person_id, Interaction.organization_id, other.id, survivor.id
    )
    _drop_duplicate_points(session, ContactPoint.person_id, other.id, survivor.id)
    _drop_duplicate_memberships(session, GroupMember.person_id, other.id, survivor.id)
    had_primary = {e.organization_id for e in survivor.employments if e.is_primary}
    moved = _repoint(session, Person.__table__, other.id, survivor.id)
    session.expire_all()
    survivor = session.get(Person, survivor_id)
    assert survivor is not None
    if had_primary:
        for emp in survivor.employments:
            emp.is_primary = emp.organization_id in had_primary
    _write_audit(
        session,
        actor,
        "person",
        survivor.id,
        other.id,
        survivor.full_name,
        before,
        snapshot(survivor, PERSON_FIELDS),
        moved,
        folded,
    )
    session.flush()
    return survivor


def _write_audit(
    session: Session,
    actor: Actor,
    entity: str,
    survivor_id: int,
    other_id: int,
    name: str,
    before: dict[str, Any],
    after: dict[str, Any],
    moved: dict[str, int],
    folded: int,
) -> None:
    detail = {"survivor_id": survivor_id, "merged_id": other_id, "moved": moved, "duplicate_mail_logs": folded}
    audit.record(
        session,
        actor=actor,
        action="merge",
        entity_type=entity,
        entity_id=survivor_id,
        summary=f"#{other_id} merged into #{survivor_id} {name}",
        changes={**detail, "fields": audit.diff(before, after)},
    )
    audit.record(
        session,
        actor=actor,
        action="merged_into",
        entity_type=entity,
        entity_id=other_id,
        summary=f"#{other_id} merged into #{survivor_id}",
        changes=detail,
    )
