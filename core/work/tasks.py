"""Tasks and planned contacts: create, change, complete, postpone, reassign, cancel, delete.

Rights. A task carries the team of its client (or, without a client, a team chosen for it),
so it is visible where its team is visible; its responsible, author and controller also see
it wherever they work now. Staff and managers change the tasks of their teams and their own;
admins change all; marketers only their own; auditors (the security service) only read.
Staff and managers assign tasks to members of the task's team only (a colleague in another
direction would not see the client); admins may assign anyone.

The day plan, the journal and the calendar are in ``core.work.agenda``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, true
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.db import utcnow
from core.errors import Conflict, FieldProblem, Forbidden, NotFound, ValidationFailed
from core.models import Priority, Role, Task, TaskStatus, Team
from core.rights import WRITERS, can_see_team, visible
from core.work.clock import quick_postpone, require_aware
from core.work.links import check_assignee, resolve_links
from core.work.reference import resolve_kind

AUDITED = (
    "title",
    "description",
    "kind_id",
    "due_at",
    "duration_minutes",
    "remind_at",
    "status",
    "priority",
    "percent_done",
    "completed_at",
    "responsible_id",
    "controller_id",
    "organization_id",
    "person_id",
    "deal_id",
    "team_id",
)
EDITABLE = ("title", "description", "kind", "due_at", "duration_minutes", "remind_at", "priority", "percent_done")


def task_visible(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause: the tasks the actor may see (their teams', and their own anywhere)."""
    if actor.sees_everything:
        return true()
    own = (
        [Task.responsible_id == actor.user_id, Task.author_id == actor.user_id, Task.controller_id == actor.user_id]
        if actor.user_id is not None
        else []
    )
    return or_(visible(actor, Task.team_id), *own)


def _involved(actor: Actor, task: Task) -> bool:
    return actor.user_id is not None and actor.user_id in (task.responsible_id, task.author_id, task.controller_id)


def get_task(session: Session, *, actor: Actor, task_id: int) -> Task:
    """The task, if the actor may see it (NotFound otherwise)."""
    task = session.get(Task, task_id)
    if task is None or not (can_see_team(actor, task.team_id) or _involved(actor, task)):
        raise NotFound("Task not found")
    return task


def _changeable(session: Session, actor: Actor, task_id: int) -> Task:
    task = get_task(session, actor=actor, task_id=task_id)
    if actor.is_admin:
        return task
    if actor.role == Role.auditor:
        raise Forbidden("Auditors read tasks but do not change them")
    if _involved(actor, task) or (actor.role in WRITERS and task.team_id in actor.team_ids):
        return task
    raise Forbidden("You may change only your own tasks and those of your teams")


def _view(task: Task) -> dict[str, Any]:
    return {f: getattr(task, f) for f in AUDITED}


def _audit(session: Session, actor: Actor, task: Task, action: str, before: dict[str, Any]) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="task",
        entity_id=task.id,
        summary=task.title,
        changes=audit.diff(before, _view(task)),
    )


def _task_team(session: Session, actor: Actor, team_id: int | None) -> int:
    if team_id is None:
        if len(actor.team_ids) != 1:
            raise ValidationFailed.one("team_id", "choose the team (direction) of this task")
        team_id = next(iter(actor.team_ids))
    if session.get(Team, team_id) is None:
        raise ValidationFailed.one("team_id", f"there is no team #{team_id}")
    if actor.role not in WRITERS:
        raise Forbidden(f"Your role ({actor.role.value}) may not create tasks")
    if not actor.is_admin and team_id not in actor.team_ids:
        raise ValidationFailed.one("team_id", "you can only create tasks in your own teams")
    return team_id


def _check_values(values: dict[str, Any]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if "title" in values and not str(values["title"] or "").strip():
        problems.append(FieldProblem("title", "is required"))
    if "due_at" in values and values["due_at"] is None:
        problems.append(FieldProblem("due_at", "is required: when is it due?"))
    if "percent_done" in values and not (0 <= int(values["percent_done"] or 0) <= 100):
        problems.append(FieldProblem("percent_done", "must be from 0 to 100"))
    if "priority" in values and values["priority"] not in tuple(Priority):
        problems.append(FieldProblem("priority", f"must be one of: {', '.join(Priority)}"))
    if "duration_minutes" in values and not (0 <= int(values["duration_minutes"] or 0) <= 7 * 24 * 60):
        problems.append(FieldProblem("duration_minutes", "must be from 0 to 10080 (a week)"))
    return problems


def _check_times(task: Task) -> None:
    if task.remind_at is not None and task.remind_at > task.due_at:
        raise ValidationFailed.one("remind_at", "must be before the due time (or at it)")


def create_task(
    session: Session,
    *,
    actor: Actor,
    title: str,
    due_at: datetime | None,
    kind: str | int | None = None,
    description: str = "",
    remind_at: datetime | None = None,
    duration_minutes: int = 30,
    priority: str = Priority.normal,
    percent_done: int = 0,
    responsible_id: int | None = None,
    controller_id: int | None = None,
    organization_id: int | None = None,
    person_id: int | None = None,
    deal_id: int | None = None,
    team_id: int | None = None,
    from_interaction_id: int | None = None,
) -> Task:
    """Plan a task or contact (for the actor unless another responsible is given); audited."""
    values = {"title": title, "due_at": due_at, "percent_done": percent_done, "priority": priority}
    problems = _check_values({**values, "duration_minutes": duration_minutes})
    if problems:
        raise ValidationFailed(problems)
    due = require_aware(due_at, "due_at")
    remind = require_aware(remind_at, "remind_at")
    links = resolve_links(
        session,
        actor=actor,
        organization_id=organization_id,
        person_id=person_id,
        deal_id=deal_id,
        client_required=False,
    )
    team = links.team_id if links.team_id is not None else _task_team(session, actor, team_id)
    responsible = responsible_id if responsible_id is not None else actor.user_id
    if responsible is None:
        raise ValidationFailed.one("responsible_id", "is required: who will do it?")
    check_assignee(session, actor, responsible, team, "responsible_id")
    check_assignee(session, actor, controller_id, team, "controller_id")
    task = Task(
        title=title.strip()[:500],
        description=description or "",
        kind_id=resolve_kind(session, kind).id if kind not in (None, "") else None,
        due_at=due,
        remind_at=remind,
        duration_minutes=duration_minutes,
        priority=Priority(priority),
        percent_done=percent_done,
        responsible_id=responsible,
        controller_id=controller_id,
        author_id=actor.user_id,
        team_id=team,
        from_interaction_id=from_interaction_id,
        status=TaskStatus.open,
        **links.ids,
    )
    _check_times(task)
    session.add(task)
    session.flush()
    _audit(session, actor, task, "create", {})
    return task


def update_task(session: Session, *, actor: Actor, task_id: int, changes: dict[str, Any]) -> Task:
    """Change a task's content, times, priority, progress, controller or responsible; audited."""
    task = _changeable(session, actor, task_id)
    unknown = set(changes) - {*EDITABLE, "controller_id", "responsible_id", "status"}
    if unknown:
        raise ValidationFailed.one(sorted(unknown)[0], "cannot be changed here")
    problems = _check_values(changes)
    if problems:
        raise ValidationFailed(problems)
    before = _view(task)
    if "responsible_id" in changes and changes["responsible_id"] != task.responsible_id:
        if changes["responsible_id"] is None:
            raise ValidationFailed.one("responsible_id", "is required: who will do it?")
        check_assignee(session, actor, changes["responsible_id"], task.team_id, "responsible_id")
        task.responsible_id = changes["responsible_id"]
    if "controller_id" in changes:
        check_assignee(session, actor, changes["controller_id"], task.team_id, "controller_id")
        task.controller_id = changes["controller_id"]
    for field in ("title", "description", "duration_minutes", "percent_done"):
        if field in changes:
            setattr(task, field, changes[field] if field != "title" else str(changes[field]).strip())
    if "priority" in changes:
        task.priority = Priority(changes["priority"])
    if "kind" in changes:
        task.kind_id = resolve_kind(session, changes["kind"]).id if changes["kind"] not in (None, "") else None
    if "due_at" in changes:
        task.due_at = require_aware(changes["due_at"], "due_at")  # type: ignore[assignment]
    if "remind_at" in changes:
        task.remind_at = require_aware(changes["remind_at"], "remind_at")
    if "status" in changes and changes["status"] != task.status:
        _set_status(task, changes["status"])
    _check_times(task)
    session.flush()
    if audit.diff(before, _view(task)):
        _audit(session, actor, task, "update", before)
    return task


def _set_status(task: Task, status: str) -> None:
    if status not in tuple(TaskStatus):
        raise ValidationFailed.one("status", f"must be one of: {', '.join(TaskStatus)}")
    task.status = TaskStatus(status)
    if task.status == TaskStatus.done:
        now = utcnow()
        task.completed_at, task.percent_done = now, 100
        task.actual_end_at = task.actual_end_at or now
    else:
        task.completed_at = None


def _require_open(task: Task) -> None:
    if task.status != TaskStatus.open:
        raise Conflict(f"The task is already {task.status}; reopen it first")


def complete_task(session: Session, *, actor: Actor, task_id: int, by_interaction_id: int | None = None) -> Task:
    """Mark an open task done (100 %, completed now), optionally by the interaction that fulfilled it."""
    task = _changeable(session, actor, task_id)
    _require_open(task)
    before = _view(task)
    _set_status(task, TaskStatus.done)
    task.fulfilled_by_id = by_interaction_id or task.fulfilled_by_id
    session.flush()
    _audit(session, actor, task, "complete", before)
    return task


def postpone_task(
    session: Session, *, actor: Actor, task_id: int, to: datetime | None = None, by: str | None = None
) -> Task:
    """Move an open task to a new due time, given exactly or as a quick choice; the reminder moves along."""
    task = _changeable(session, actor, task_id)
    _require_open(task)
    if (to is None) == (by is None):
        raise ValidationFailed.one("to", "give either a new time ('to') or a quick choice ('by')")
    new_due = require_aware(to, "to") if to is not None else quick_postpone(by or "", due_at=task.due_at, now=utcnow())
    assert new_due is not None
    before = _view(task)
    lead: timedelta | None = task.due_at - task.remind_at if task.remind_at is not None else None
    task.due_at = new_due
    if lead is not None:
        task.remind_at = new_due - lead
    session.flush()
    _audit(session, actor, task, "postpone", before)
    return task


def reassign_task(session: Session, *, actor: Actor, task_id: int, responsible_id: int) -> Task:
    """Give the task to another responsible (a member of the task's team); audited."""
    task = _changeable(session, actor, task_id)
    check_assignee(session, actor, responsible_id, task.team_id, "responsible_id")
    before = _view(task)
    task.responsible_id = responsible_id
    session.flush()
    _audit(session, actor, task, "reassign", before)
    return task


def cancel_task(session: Session, *, actor: Actor, task_id: int) -> Task:
    """Cancel an open task (it stays in the journal); audited."""
    task = _changeable(session, actor, task_id)
    _require_open(task)
    before = _view(task)
    _set_status(task, TaskStatus.cancelled)
    session.flush()
    _audit(session, actor, task, "cancel", before)
    return task


def delete_task(session: Session, *, actor: Actor, task_id: int) -> None:
    """Delete a task for good; audited."""
    task = _changeable(session, actor, task_id)
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity_type="task",
        entity_id=task.id,
        summary=task.title,
        changes=audit.diff(_view(task), {}),
    )
    session.delete(task)
    session.flush()
