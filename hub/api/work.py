"""Interactions, timelines, tasks, the day plan, the calendar, and the interaction kinds and results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from core.work import agenda, reference
from core.work import interactions as service
from core.work import tasks as task_service
from core.work.clock import parse_instant
from hub.deps import CurrentActor, DbSession
from hub.schemas.common import Page
from hub.schemas.work import (
    DayPlanRead,
    InteractionCreate,
    InteractionLogged,
    InteractionRead,
    InteractionUpdate,
    KindCreate,
    KindRead,
    KindUpdate,
    PostponeIn,
    ProposalRead,
    ReassignIn,
    ResultCreate,
    ResultRead,
    ResultUpdate,
    TaskCreate,
    TaskRead,
    TaskUpdate,
)

router = APIRouter(tags=["work"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]
When = Annotated[str | None, Query(max_length=40, description="A date (YYYY-MM-DD, local) or an ISO date-time")]


def _at(value: str | None, field: str, *, end: bool = False) -> datetime | None:
    return parse_instant(value, field, end_of_day=end) if value else None


@dataclass
class TimelineQuery:
    """The filters and page every interaction list takes from the query string."""

    kind: str | None = Query(None, max_length=40)
    since: When = None
    until: When = None
    author_id: int | None = None
    limit: Limit = 50
    offset: Offset = 0


Timeline = Annotated[TimelineQuery, Depends()]


def _timeline(
    session: DbSession,
    actor: CurrentActor,
    query: TimelineQuery,
    *,
    organization_id: int | None = None,
    person_id: int | None = None,
    deal_id: int | None = None,
) -> Page[InteractionRead]:
    rows, total = service.list_interactions(
        session,
        actor=actor,
        organization_id=organization_id,
        person_id=person_id,
        deal_id=deal_id,
        kind=query.kind,
        since=_at(query.since, "since"),
        until=_at(query.until, "until", end=True),
        author_id=query.author_id,
        limit=query.limit,
        offset=query.offset,
    )
    items = [InteractionRead.of(r) for r in rows]
    return Page(items=items, total=total, limit=query.limit, offset=query.offset)


@router.get("/interactions", response_model=Page[InteractionRead])
def list_interactions(
    session: DbSession,
    actor: CurrentActor,
    query: Timeline,
    organization_id: int | None = None,
    person_id: int | None = None,
    deal_id: int | None = None,
) -> Page[InteractionRead]:
    """Interactions the caller may see, newest first, filtered by client, deal, kind, time and author."""
    return _timeline(session, actor, query, organization_id=organization_id, person_id=person_id, deal_id=deal_id)


@router.post("/interactions", response_model=InteractionLogged, status_code=201)
def log_interaction(body: InteractionCreate, session: DbSession, actor: CurrentActor) -> InteractionLogged:
    """Log a call, meeting, mail or note; plans ``next_contact``, or proposes one when it is due."""
    data = body.model_dump(exclude={"next_contact"})
    next_contact = body.next_contact.model_dump(exclude_none=True) if body.next_contact else None
    logged = service.log_interaction(session, actor=actor, next_contact=next_contact, **data)
    return InteractionLogged(
        interaction=InteractionRead.of(logged.interaction),
        next_task=TaskRead.of(logged.next_task) if logged.next_task else None,
        next_contact_expected=logged.next_contact_expected,
        next_contact_proposal=ProposalRead.of(logged.proposal) if logged.proposal else None,
    )


@router.get("/interactions/{interaction_id}", response_model=InteractionRead)
def get_interaction(interaction_id: int, session: DbSession, actor: CurrentActor) -> InteractionRead:
    """One interaction."""
    return InteractionRead.of(service.get_interaction(session, actor=actor, interaction_id=interaction_id))


@router.patch("/interactions/{interaction_id}", response_model=InteractionRead)
def update_interaction(
    interaction_id: int, body: InteractionUpdate, session: DbSession, actor: CurrentActor
) -> InteractionRead:
    """Correct an interaction (its author, managers and admins)."""
    changes = body.model_dump(exclude_unset=True)
    return InteractionRead.of(
        service.update_interaction(session, actor=actor, interaction_id=interaction_id, changes=changes)
    )


@router.delete("/interactions/{interaction_id}", status_code=204)
def delete_interaction(interaction_id: int, session: DbSession, actor: CurrentActor) -> None:
    """Delete an interaction (its author, managers and admins)."""
    service.delete_interaction(session, actor=actor, interaction_id=interaction_id)


@router.get("/organizations/{org_id}/timeline", response_model=Page[InteractionRead])
def organization_timeline(
    org_id: int, session: DbSession, actor: CurrentActor, query: Timeline
) -> Page[InteractionRead]:
    """The organization's interactions with those of its contact persons, newest first."""
    return _timeline(session, actor, query, organization_id=org_id)


@router.get("/persons/{person_id}/timeline", response_model=Page[InteractionRead])
def person_timeline(person_id: int, session: DbSession, actor: CurrentActor, query: Timeline) -> Page[InteractionRead]:
    """The person's interactions, newest first."""
    return _timeline(session, actor, query, person_id=person_id)


@router.get("/tasks", response_model=Page[TaskRead])
def list_tasks(
    session: DbSession,
    actor: CurrentActor,
    mine: bool = False,
    responsible_id: int | None = None,
    team_id: int | None = None,
    organization_id: int | None = None,
    person_id: int | None = None,
    deal_id: int | None = None,
    status: str | None = Query(None, max_length=10),
    due_from: When = None,
    due_to: When = None,
    overdue: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[TaskRead]:
    """Tasks the caller may see (the journal), soonest due first."""
    rows, total = agenda.list_tasks(
        session,
        actor=actor,
        mine=mine,
        responsible_id=responsible_id,
        team_id=team_id,
        organization_id=organization_id,
        person_id=person_id,
        deal_id=deal_id,
        status=status,
        due_from=_at(due_from, "due_from"),
        due_to=_at(due_to, "due_to", end=True),
        overdue=overdue,
        limit=limit,
        offset=offset,
    )
    return Page(items=[TaskRead.of(t) for t in rows], total=total, limit=limit, offset=offset)


@router.post("/tasks", response_model=TaskRead, status_code=201)
def create_task(body: TaskCreate, session: DbSession, actor: CurrentActor) -> TaskRead:
    """Plan a task or contact, for yourself or a colleague of the same team."""
    return TaskRead.of(task_service.create_task(session, actor=actor, **body.model_dump()))


@router.get("/tasks/{task_id}", response_model=TaskRead)
def get_task(task_id: int, session: DbSession, actor: CurrentActor) -> TaskRead:
    """One task."""
    return TaskRead.of(task_service.get_task(session, actor=actor, task_id=task_id))


@router.patch("/tasks/{task_id}", response_model=TaskRead)
def update_task(task_id: int, body: TaskUpdate, session: DbSession, actor: CurrentActor) -> TaskRead:
    """Change the fields sent."""
    changes = body.model_dump(exclude_unset=True)
    return TaskRead.of(task_service.update_task(session, actor=actor, task_id=task_id, changes=changes))


@router.delete("/tasks/{task_id}", status_code=204)
def delete_task(task_id: int, session: DbSession, actor: CurrentActor) -> None:
    """Delete a task."""
    task_service.delete_task(session, actor=actor, task_id=task_id)


@router.post("/tasks/{task_id}/complete", response_model=TaskRead)
def complete_task(task_id: int, session: DbSession, actor: CurrentActor) -> TaskRead:
    """Mark a task done."""
    return TaskRead.of(task_service.complete_task(session, actor=actor, task_id=task_id))


@router.post("/tasks/{task_id}/postpone", response_model=TaskRead)
def postpone_task(task_id: int, body: PostponeIn, session: DbSession, actor: CurrentActor) -> TaskRead:
    """Move a task to a new time (``to``) or by a quick choice (``by``: 1h, tomorrow, next_week...)."""
    return TaskRead.of(task_service.postpone_task(session, actor=actor, task_id=task_id, to=body.to, by=body.by))


@router.post("/tasks/{task_id}/reassign", response_model=TaskRead)
def reassign_task(task_id: int, body: ReassignIn, session: DbSession, actor: CurrentActor) -> TaskRead:
    """Give a task to a colleague of its team."""
    return TaskRead.of(
        task_service.reassign_task(session, actor=actor, task_id=task_id, responsible_id=body.responsible_id)
    )


@router.post("/tasks/{task_id}/cancel", response_model=TaskRead)
def cancel_task(task_id: int, session: DbSession, actor: CurrentActor) -> TaskRead:
    """Cancel a task (it stays in the journal)."""
    return TaskRead.of(task_service.cancel_task(session, actor=actor, task_id=task_id))


@router.get("/me/day", response_model=DayPlanRead)
def my_day(session: DbSession, actor: CurrentActor, day: date | None = None, team_id: int | None = None) -> DayPlanRead:
    """Your open tasks of a day (today by default) and the overdue ones; managers may ask for a team."""
    return DayPlanRead.of(agenda.my_day(session, actor=actor, day=day, team_id=team_id))


@router.get("/calendar", response_model=list[TaskRead])
def calendar(
    session: DbSession,
    actor: CurrentActor,
    start: Annotated[str, Query(max_length=40, description="A date (local) or an ISO date-time")],
    end: Annotated[str, Query(max_length=40, description="A date (inclusive, local) or an ISO date-time")],
    user_id: int | None = None,
    team_id: int | None = None,
    include_closed: bool = True,
) -> list[TaskRead]:
    """Tasks due in a range (a day, week or month): yours, or a colleague's or a team's you may see."""
    rows = agenda.calendar(
        session,
        actor=actor,
        start=parse_instant(start, "start"),
        end=parse_instant(end, "end", end_of_day=True),
        user_id=user_id,
        team_id=team_id,
        include_closed=include_closed,
    )
    return [TaskRead.of(t) for t in rows]


@router.get("/interaction-kinds", response_model=list[KindRead])
def list_kinds(session: DbSession, actor: CurrentActor, include_inactive: bool = False) -> list[KindRead]:
    """The kinds of interaction (call, meeting, e-mail...)."""
    rows = reference.list_kinds(session, actor=actor, include_inactive=include_inactive)
    return [KindRead.model_validate(k) for k in rows]


@router.post("/interaction-kinds", response_model=KindRead, status_code=201)
def create_kind(body: KindCreate, session: DbSession, actor: CurrentActor) -> KindRead:
    """Add a kind (admins)."""
    return KindRead.model_validate(reference.create_kind(session, actor=actor, **body.model_dump()))


@router.patch("/interaction-kinds/{kind_id}", response_model=KindRead)
def update_kind(kind_id: int, body: KindUpdate, session: DbSession, actor: CurrentActor) -> KindRead:
    """Change a kind (admins)."""
    changes = body.model_dump(exclude_unset=True)
    return KindRead.model_validate(reference.update_kind(session, actor=actor, kind_id=kind_id, changes=changes))


@router.delete("/interaction-kinds/{kind_id}", response_model=KindRead)
def deactivate_kind(kind_id: int, session: DbSession, actor: CurrentActor) -> KindRead:
    """Deactivate a kind (admins); interactions logged with it keep it."""
    return KindRead.model_validate(reference.deactivate_kind(session, actor=actor, kind_id=kind_id))


@router.get("/interaction-results", response_model=list[ResultRead])
def list_results(session: DbSession, actor: CurrentActor, include_inactive: bool = False) -> list[ResultRead]:
    """The results an interaction can have, with the stage each moves to."""
    rows = reference.list_results(session, actor=actor, include_inactive=include_inactive)
    return [ResultRead.model_validate(r) for r in rows]


@router.post("/interaction-results", response_model=ResultRead, status_code=201)
def create_result(body: ResultCreate, session: DbSession, actor: CurrentActor) -> ResultRead:
    """Add a result (admins)."""
    return ResultRead.model_validate(reference.create_result(session, actor=actor, **body.model_dump()))


@router.patch("/interaction-results/{result_id}", response_model=ResultRead)
def update_result(result_id: int, body: ResultUpdate, session: DbSession, actor: CurrentActor) -> ResultRead:
    """Change a result (admins)."""
    changes = body.model_dump(exclude_unset=True)
    return ResultRead.model_validate(
        reference.update_result(session, actor=actor, result_id=result_id, changes=changes)
    )


@router.delete("/interaction-results/{result_id}", response_model=ResultRead)
def deactivate_result(result_id: int, session: DbSession, actor: CurrentActor) -> ResultRead:
    """Deactivate a result (admins); interactions logged with it keep it."""
    return ResultRead.model_validate(reference.deactivate_result(session, actor=actor, result_id=result_id))
