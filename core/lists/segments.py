"""Segments: saved client filters (dynamic lists), evaluated afresh every time they are used.

A segment stores a ``ClientFilter`` as its ``to_dict()`` form and never a list of ids, so a
client that starts to match appears at once. It is evaluated with the rights of whoever uses
it, through the same ``list_organizations`` / ``list_persons`` services as the client lists:
two users of different teams see different members of the same segment, and a mailing built
on it reaches only what its author may see.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clients.filters import ClientFilter
from core.clients.organizations import list_organizations
from core.clients.persons import list_persons
from core.errors import Forbidden, NotFound, ValidationFailed
from core.lists.groups import require_list_builder
from core.lists.names import check_name_free, clean_name
from core.models import ClientType, Organization, Person, Role, Segment


def _client_type(value: Any) -> ClientType:
    try:
        return ClientType(value)
    except ValueError:
        raise ValidationFailed.one("client_type", "must be 'organization' or 'person'") from None


def _saved_filter(data: dict[str, Any] | ClientFilter) -> dict[str, Any]:
    if isinstance(data, ClientFilter):
        return data.to_dict()
    if not isinstance(data, dict):
        raise ValidationFailed.one("filter", "must be an object of filter fields")
    f = ClientFilter.from_dict(dict(data))
    defaults = ClientFilter()
    for name, value in f.to_dict().items():
        wanted = int if getattr(defaults, name) is None else str
        if not isinstance(value, wanted) or isinstance(value, bool):
            kind = "a whole number" if wanted is int else "text"
            raise ValidationFailed.one(f"filter.{name}", f"must be {kind}")
    return f.to_dict()


def get_segment(session: Session, *, actor: Actor, segment_id: int) -> Segment:
    """The segment (definitions are shared; members depend on who evaluates it)."""
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound("Segment not found")
    return segment


def list_segments(session: Session, *, actor: Actor, client_type: ClientType | None = None) -> list[Segment]:
    """All segments, by name, optionally of one client type."""
    stmt = select(Segment).order_by(func.lower(Segment.name), Segment.id)
    if client_type is not None:
        stmt = stmt.where(Segment.client_type == client_type)
    return list(session.scalars(stmt))


def create_segment(
    session: Session, *, actor: Actor, name: str, client_type: ClientType | str, filter: dict[str, Any] | ClientFilter
) -> Segment:
    """Save a client filter under a name; audited."""
    require_list_builder(actor)
    name = clean_name(name)
    check_name_free(session, Segment, name)
    segment = Segment(
        name=name, client_type=_client_type(client_type), filter=_saved_filter(filter), owner_id=actor.user_id
    )
    session.add(segment)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="segment",
        entity_id=segment.id,
        summary=name,
        changes={"client_type": segment.client_type, "filter": segment.filter},
    )
    return segment


def _require_manage(actor: Actor, segment: Segment) -> None:
    require_list_builder(actor)
    if actor.is_admin or actor.role == Role.manager or segment.owner_id == actor.user_id:
        return
    raise Forbidden("Only the segment's owner, managers and admins may change or delete it")


def update_segment(session: Session, *, actor: Actor, segment_id: int, changes: dict[str, Any]) -> Segment:
    """Change a segment's name, type or filter (owner, managers, admins); audited."""
    segment = get_segment(session, actor=actor, segment_id=segment_id)
    _require_manage(actor, segment)
    before = {"name": segment.name, "client_type": segment.client_type, "filter": dict(segment.filter)}
    if "name" in changes:
        name = clean_name(changes["name"])
        check_name_free(session, Segment, name, exclude=segment.id)
        segment.name = name
    if "client_type" in changes:
        segment.client_type = _client_type(changes["client_type"])
    if "filter" in changes:
        segment.filter = _saved_filter(changes["filter"])
    delta = audit.diff(before, {"name": segment.name, "client_type": segment.client_type, "filter": segment.filter})
    audit.record_update(
        session, actor=actor, entity_type="segment", entity_id=segment.id, summary=segment.name, changes=delta
    )
    session.flush()
    return segment


def delete_segment(session: Session, *, actor: Actor, segment_id: int) -> None:
    """Delete a segment (the clients stay); audited."""
    segment = get_segment(session, actor=actor, segment_id=segment_id)
    _require_manage(actor, segment)
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity_type="segment",
        entity_id=segment.id,
        summary=segment.name,
        changes={"filter": segment.filter},
    )
    session.delete(segment)
    session.flush()


def segment_filter(segment: Segment) -> ClientFilter:
    """The segment's saved filter as a ``ClientFilter``."""
    return ClientFilter.from_dict(dict(segment.filter or {}))


def evaluate_segment(
    session: Session, *, actor: Actor, segment_id: int, sort: str = "name", limit: int = 50, offset: int = 0
) -> tuple[list[Organization] | list[Person], int]:
    """A page of the clients matching the segment now, as the actor may see them, and the total."""
    segment = get_segment(session, actor=actor, segment_id=segment_id)
    f = segment_filter(segment)
    if segment.client_type == ClientType.organization:
        return list_organizations(session, actor=actor, filter=f, sort=sort, limit=limit, offset=offset)
    return list_persons(session, actor=actor, filter=f, sort=sort, limit=limit, offset=offset)


def iter_segment(
    session: Session, *, actor: Actor, segment_id: int, page_size: int = 500
) -> Iterator[Organization | Person]:
    """Every client matching the segment now (as the actor may see them), page by page."""
    offset = 0
    while True:
        rows, _total = evaluate_segment(session, actor=actor, segment_id=segment_id, limit=page_size, offset=offset)
        yield from rows
        if len(rows) < page_size:
            return
        offset += page_size
