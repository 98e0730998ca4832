"""Groups, segments, the blocklist and the suppression list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from core.lists import blocklist, groups, segments, suppression
from core.models import BlockKind, ClientType, Group, Organization, Person, Role
from core.rights import require_role
from hub.deps import CurrentActor, DbSession
from hub.schemas.clients import OrganizationRead, PersonRead
from hub.schemas.common import Page
from hub.schemas.lists import (
    BlocklistCreate,
    BlocklistRead,
    GroupCreate,
    GroupRead,
    GroupUpdate,
    MembershipRead,
    MembersIn,
    SegmentCreate,
    SegmentRead,
    SegmentUpdate,
    SuppressionCheck,
    SuppressionCreate,
    SuppressionRead,
)

router = APIRouter(tags=["lists"])
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


def _group_read(session: DbSession, actor: CurrentActor, group: Group) -> GroupRead:
    counts = groups.member_counts(session, actor=actor, group_id=group.id)
    return GroupRead.model_validate(group).model_copy(
        update={"organizations": counts["organization"], "persons": counts["person"]}
    )


@router.get("/groups", response_model=list[GroupRead])
def list_groups(session: DbSession, actor: CurrentActor) -> list[GroupRead]:
    """All groups, with the number of members the caller may see."""
    return [_group_read(session, actor, g) for g in groups.list_groups(session, actor=actor)]


@router.post("/groups", response_model=GroupRead, status_code=201)
def create_group(body: GroupCreate, session: DbSession, actor: CurrentActor) -> GroupRead:
    """Create a static group."""
    return _group_read(session, actor, groups.create_group(session, actor=actor, **body.model_dump()))


@router.get("/groups/{group_id}", response_model=GroupRead)
def get_group(group_id: int, session: DbSession, actor: CurrentActor) -> GroupRead:
    """One group."""
    return _group_read(session, actor, groups.get_group(session, actor=actor, group_id=group_id))


@router.patch("/groups/{group_id}", response_model=GroupRead)
def update_group(group_id: int, body: GroupUpdate, session: DbSession, actor: CurrentActor) -> GroupRead:
    """Rename or re-describe a group (its owner, managers, admins)."""
    changes = body.model_dump(exclude_unset=True)
    return _group_read(session, actor, groups.update_group(session, actor=actor, group_id=group_id, changes=changes))


@router.delete("/groups/{group_id}", status_code=204)
def delete_group(group_id: int, session: DbSession, actor: CurrentActor) -> None:
    """Delete a group (the clients stay)."""
    groups.delete_group(session, actor=actor, group_id=group_id)


@router.get("/groups/{group_id}/organizations", response_model=Page[OrganizationRead])
def group_organizations(
    group_id: int, session: DbSession, actor: CurrentActor, limit: Limit = 50, offset: Offset = 0
) -> Page[OrganizationRead]:
    """The group's organizations the caller may see."""
    items, total = groups.list_members(
        session, actor=actor, group_id=group_id, client_type=ClientType.organization, limit=limit, offset=offset
    )
    return Page(items=[OrganizationRead.of(o) for o in items], total=total, limit=limit, offset=offset)


@router.get("/groups/{group_id}/persons", response_model=Page[PersonRead])
def group_persons(
    group_id: int, session: DbSession, actor: CurrentActor, limit: Limit = 50, offset: Offset = 0
) -> Page[PersonRead]:
    """The group's persons the caller may see."""
    items, total = groups.list_members(
        session, actor=actor, group_id=group_id, client_type=ClientType.person, limit=limit, offset=offset
    )
    return Page(items=[PersonRead.of(p) for p in items], total=total, limit=limit, offset=offset)


@router.post("/groups/{group_id}/members", response_model=MembershipRead)
def add_members(group_id: int, body: MembersIn, session: DbSession, actor: CurrentActor) -> MembershipRead:
    """Add organizations and persons to the group in bulk."""
    result = groups.add_members(session, actor=actor, group_id=group_id, **body.model_dump())
    return MembershipRead.model_validate(result)


@router.post("/groups/{group_id}/members/remove", response_model=MembershipRead)
def remove_members(group_id: int, body: MembersIn, session: DbSession, actor: CurrentActor) -> MembershipRead:
    """Remove organizations and persons from the group in bulk."""
    result = groups.remove_members(session, actor=actor, group_id=group_id, **body.model_dump())
    return MembershipRead.model_validate(result)


@router.get("/segments", response_model=list[SegmentRead])
def list_segments(session: DbSession, actor: CurrentActor, client_type: ClientType | None = None) -> list[SegmentRead]:
    """All segments."""
    return [
        SegmentRead.model_validate(s) for s in segments.list_segments(session, actor=actor, client_type=client_type)
    ]


@router.post("/segments", response_model=SegmentRead, status_code=201)
def create_segment(body: SegmentCreate, session: DbSession, actor: CurrentActor) -> SegmentRead:
    """Save a client filter as a segment."""
    return SegmentRead.model_validate(segments.create_segment(session, actor=actor, **body.model_dump()))


@router.get("/segments/{segment_id}", response_model=SegmentRead)
def get_segment(segment_id: int, session: DbSession, actor: CurrentActor) -> SegmentRead:
    """One segment's definition."""
    return SegmentRead.model_validate(segments.get_segment(session, actor=actor, segment_id=segment_id))


@router.patch("/segments/{segment_id}", response_model=SegmentRead)
def update_segment(segment_id: int, body: SegmentUpdate, session: DbSession, actor: CurrentActor) -> SegmentRead:
    """Change a segment (its owner, managers, admins)."""
    changes = body.model_dump(exclude_unset=True)
    return SegmentRead.model_validate(
        segments.update_segment(session, actor=actor, segment_id=segment_id, changes=changes)
    )


@router.delete("/segments/{segment_id}", status_code=204)
def delete_segment(segment_id: int, session: DbSession, actor: CurrentActor) -> None:
    """Delete a segment."""
    segments.delete_segment(session, actor=actor, segment_id=segment_id)


@router.get("/segments/{segment_id}/members", response_model=Page[OrganizationRead] | Page[PersonRead])
def segment_members(
    segment_id: int,
    session: DbSession,
    actor: CurrentActor,
    sort: str = "name",
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[OrganizationRead] | Page[PersonRead]:
    """The clients matching the segment now, as the caller may see them."""
    items, total = segments.evaluate_segment(
        session, actor=actor, segment_id=segment_id, sort=sort, limit=limit, offset=offset
    )
    if items and isinstance(items[0], Person):
        return Page(items=[PersonRead.of(p) for p in items], total=total, limit=limit, offset=offset)
    return Page(
        items=[OrganizationRead.of(o) for o in items if isinstance(o, Organization)],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/blocklist", response_model=list[BlocklistRead])
def list_blocklist(
    session: DbSession, actor: CurrentActor, kind: BlockKind | None = None, limit: Limit = 100, offset: Offset = 0
) -> list[BlocklistRead]:
    """Blocklist entries, newest first (admins, managers, auditors)."""
    rows = blocklist.list_entries(session, actor=actor, kind=kind, limit=limit, offset=offset)
    return [BlocklistRead.model_validate(e) for e in rows]


@router.post("/blocklist", response_model=BlocklistRead, status_code=201)
def add_blocklist(body: BlocklistCreate, session: DbSession, actor: CurrentActor) -> BlocklistRead:
    """Put a counterparty on the blocklist (admins, managers); the value is normalised."""
    return BlocklistRead.model_validate(blocklist.add_entry(session, actor=actor, **body.model_dump()))


@router.delete("/blocklist/{entry_id}", status_code=204)
def remove_blocklist(entry_id: int, session: DbSession, actor: CurrentActor) -> None:
    """Take an entry off the blocklist (admins, managers)."""
    blocklist.remove_entry(session, actor=actor, entry_id=entry_id)


@router.get("/suppressions", response_model=list[SuppressionRead])
def list_suppressions(
    session: DbSession,
    actor: CurrentActor,
    reason: str | None = Query(None, max_length=30),
    q: str = Query("", max_length=320),
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[SuppressionRead]:
    """Suppression entries, newest first (marketers, admins, auditors)."""
    rows = suppression.list_suppressions(session, actor=actor, reason=reason, q=q, limit=limit, offset=offset)
    return [SuppressionRead.model_validate(e) for e in rows]


@router.get("/suppressions/check", response_model=SuppressionCheck)
def check_suppression(
    session: DbSession, actor: CurrentActor, email: str = Query(min_length=3, max_length=320)
) -> SuppressionCheck:
    """Whether mailings must not reach this address (marketers, managers, admins, auditors)."""
    require_role(actor, Role.marketer, Role.manager, Role.auditor)
    return SuppressionCheck(email=email.strip().lower(), suppressed=suppression.is_suppressed(session, email))


@router.post("/suppressions", response_model=SuppressionRead, status_code=201)
def add_suppression(body: SuppressionCreate, session: DbSession, actor: CurrentActor) -> SuppressionRead:
    """Keep an address out of mailings (marketers, admins)."""
    return SuppressionRead.model_validate(suppression.add_suppression(session, actor=actor, **body.model_dump()))


@router.delete("/suppressions/{entry_id}", status_code=204)
def remove_suppression(entry_id: int, session: DbSession, actor: CurrentActor) -> None:
    """Let mailings reach an address again (marketers, admins; erased persons admins only)."""
    suppression.remove_suppression(session, actor=actor, entry_id=entry_id)
