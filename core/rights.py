"""Rights by team (direction), enforced here for every entry point.

A client (organization or person) belongs to one team. Staff, managers and marketers see the
clients of their own teams; admins and auditors see all. Only admins, managers and staff
change clients (marketers and auditors read). Records around a client (interactions, tasks,
deals, files, comments) carry the client's team and follow the same rule.

Reads go through ``visible(...)``, a WHERE clause added to every query, so lists, search and
direct reads agree. A record the actor may not see is reported as not found, never as
forbidden, so its existence is not confirmed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, true

from core.actor import Actor
from core.errors import Forbidden, NotFound
from core.models import Role

WRITERS = frozenset({Role.admin, Role.manager, Role.staff})


def visible(actor: Actor, team_column: Any) -> ColumnElement[bool]:
    """A WHERE clause limiting rows to the teams the actor may see."""
    if actor.sees_everything:
        return true()
    if not actor.team_ids:
        return false()
    return team_column.in_(sorted(actor.team_ids))


def can_see_team(actor: Actor, team_id: int | None) -> bool:
    """True when the actor may read records of this team."""
    return actor.sees_everything or (team_id is not None and team_id in actor.team_ids)


def require_visible(actor: Actor, record: Any, what: str) -> None:
    """Raise NotFound unless the actor may see the record (by its ``team_id``)."""
    if record is None or not can_see_team(actor, record.team_id):
        raise NotFound(f"{what} not found")


def require_write(actor: Actor, record: Any, what: str) -> None:
    """Raise unless the actor may change this record (NotFound when they cannot even see it)."""
    require_visible(actor, record, what)
    if actor.role not in WRITERS:
        raise Forbidden(f"Your role ({actor.role.value}) may not change a {what.lower()}")


def require_team_write(actor: Actor, team_id: int) -> None:
    """Raise unless the actor may create records in this team."""
    if actor.role not in WRITERS:
        raise Forbidden(f"Your role ({actor.role.value}) may not change clients")
    if not actor.is_admin and team_id not in actor.team_ids:
        raise Forbidden("You can only create records in your own teams")


def require_role(actor: Actor, *roles: Role) -> None:
    """Raise Forbidden unless the actor has one of these roles (admins always pass)."""
    if actor.is_admin or actor.role in roles:
        return
    raise Forbidden("You do not have the rights for this")
