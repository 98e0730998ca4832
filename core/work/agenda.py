"""Reading tasks: the journal (by client, deal, person, responsible, team), the day plan, the calendar.

Every query here goes through ``task_visible``, so a staff member asking for a colleague of
another team, or for that team, simply gets nothing of it. "My day" is the actor's open tasks
due on a local day (``core.work.clock``) plus those overdue from earlier days; a manager may
ask for the day of a whole team they manage instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db import utcnow
from core.errors import Forbidden, ValidationFailed
from core.models import Employment, Role, Task, TaskStatus
from core.work.clock import day_bounds, local_date
from core.work.links import resolve_links
from core.work.tasks import task_visible

MAX_CALENDAR_DAYS = 100


@dataclass
class DayPlan:
    """The open tasks of one day and those overdue from before it."""

    day: date
    overdue: list[Task] = field(default_factory=list)
    today: list[Task] = field(default_factory=list)


def _client_filter(
    session: Session, actor: Actor, organization_id: int | None, person_id: int | None, deal_id: int | None
) -> list[Any]:
    if organization_id is None and person_id is None and deal_id is None:
        return []
    resolve_links(
        session, actor=actor, organization_id=organization_id, person_id=person_id, deal_id=deal_id, write=False
    )
    conds: list[Any] = []
    if organization_id is not None:
        staff = select(Employment.person_id).where(Employment.organization_id == organization_id)
        conds.append(or_(Task.organization_id == organization_id, Task.person_id.in_(staff)))
    if person_id is not None:
        conds.append(Task.person_id == person_id)
    if deal_id is not None:
        conds.append(Task.deal_id == deal_id)
    return conds


def list_tasks(
    session: Session,
    *,
    actor: Actor,
    mine: bool = False,
    responsible_id: int | None = None,
    team_id: int | None = None,
    organization_id: int | None = None,
    person_id: int | None = None,
    deal_id: int | None = None,
    status: str | None = None,
    due_from: datetime | None = None,
    due_to: datetime | None = None,
    overdue: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Task], int]:
    """A page of the tasks the actor may see, filtered, soonest due first, and the total count."""
    stmt = select(Task).where(task_visible(actor))
    stmt = stmt.where(*_client_filter(session, actor, organization_id, person_id, deal_id))
    if mine:
        stmt = stmt.where(Task.responsible_id == actor.user_id)
    if responsible_id is not None:
        stmt = stmt.where(Task.responsible_id == responsible_id)
    if team_id is not None:
        stmt = stmt.where(Task.team_id == team_id)
    if status:
        if status not in tuple(TaskStatus):
            raise ValidationFailed.one("status", f"must be one of: {', '.join(TaskStatus)}")
        stmt = stmt.where(Task.status == status)
    if due_from is not None:
        stmt = stmt.where(Task.due_at >= due_from)
    if due_to is not None:
        stmt = stmt.where(Task.due_at < due_to)
    if overdue:
        stmt = stmt.where(Task.status == TaskStatus.open, Task.due_at < utcnow())
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.scalars(stmt.order_by(Task.due_at, Task.id).limit(limit).offset(offset)).all()
    return list(rows), total


def _whose(actor: Actor, team_id: int | None) -> Any:
    if team_id is None:
        return Task.responsible_id == actor.user_id
    if not (actor.sees_everything or actor.role == Role.manager):
        raise Forbidden("Only managers see a team's day plan; leave out team_id to see your own")
    if not actor.sees_everything and team_id not in actor.team_ids:
        raise Forbidden("You can see the day plan only of the teams you manage")
    return Task.team_id == team_id


def my_day(session: Session, *, actor: Actor, day: date | None = None, team_id: int | None = None) -> DayPlan:
    """The actor's (or a managed team's) open tasks due on a local day, and those overdue before it."""
    day = day or local_date(utcnow())
    start, end = day_bounds(day)
    base = select(Task).where(task_visible(actor), _whose(actor, team_id), Task.status == TaskStatus.open)
    order = (Task.due_at, Task.id)
    overdue = session.scalars(base.where(Task.due_at < start).order_by(*order)).all()
    today = session.scalars(base.where(Task.due_at >= start, Task.due_at < end).order_by(*order)).all()
    return DayPlan(day=day, overdue=list(overdue), today=list(today))


def calendar(
    session: Session,
    *,
    actor: Actor,
    start: datetime,
    end: datetime,
    user_id: int | None = None,
    team_id: int | None = None,
    include_closed: bool = True,
) -> list[Task]:
    """The tasks due in [start, end) of the actor, or of a user or team the actor may see."""
    if end <= start:
        raise ValidationFailed.one("end", "must be after start")
    if end - start > timedelta(days=MAX_CALENDAR_DAYS):
        raise ValidationFailed.one("end", f"the range can be at most {MAX_CALENDAR_DAYS} days")
    stmt = select(Task).where(task_visible(actor), Task.due_at >= start, Task.due_at < end)
    if user_id is not None:
        stmt = stmt.where(Task.responsible_id == user_id)
    if team_id is not None:
        stmt = stmt.where(Task.team_id == team_id)
    if user_id is None and team_id is None:
        stmt = stmt.where(Task.responsible_id == actor.user_id)
    if not include_closed:
        stmt = stmt.where(Task.status == TaskStatus.open)
    return list(session.scalars(stmt.order_by(Task.due_at, Task.id)))
