"""My day: today's and overdue planned contacts, with done / postpone / reassign on each.

The plan is read by ``core.work.agenda`` (``my_day`` for oneself or a managed team, the task
journal for one colleague), so rights hold as in the API. Each action is a small form that
works without script (POST, then back to the page) and, with htmx, swaps only its row: the
row comes back marked done, postponed (with the new time) or given to someone else.
"""

from __future__ import annotations

from typing import Any

from fastapi import Query
from fastapi.responses import Response

from core.db import utcnow
from core.errors import ValidationFailed
from core.models import Task, TaskStatus
from core.work import tasks as task_service
from core.work.agenda import list_tasks, my_day
from core.work.clock import day_bounds, local_date
from hub.web import nav
from hub.web.card_data import users_by_id
from hub.web.forms import Submitted
from hub.web.messages import translate
from hub.web.nav import N_, NavItem
from hub.web.pages import LoggedInPage, Page, is_htmx, safe_next, web_router
from hub.web.planning import assignees, client_names, client_url, local_name, posted_id, whose

router = web_router()
nav.add(NavItem("my-day", "/my-day", N_("My day"), icon="sun", order=10))

POSTPONE = (
    ("1h", N_("by an hour")),
    ("3h", N_("by 3 hours")),
    ("tomorrow", N_("to tomorrow")),
    ("next_working_day", N_("to the next working day")),
    ("next_week", N_("to next week")),
)


def _plan(page: LoggedInPage, who: str) -> tuple[Any, list[Task], list[Task]]:
    """Whose plan, and their overdue and today's open tasks."""
    owner = whose(page, who)
    if owner.team_id is not None:
        plan = my_day(page.session, actor=page.actor, team_id=owner.team_id)
        return owner, plan.overdue, plan.today
    if owner.user_id == page.actor.user_id:
        plan = my_day(page.session, actor=page.actor)
        return owner, plan.overdue, plan.today
    start, end = day_bounds(local_date(utcnow()))
    common = {"actor": page.actor, "responsible_id": owner.user_id, "status": TaskStatus.open, "limit": 500}
    overdue, _ = list_tasks(page.session, due_to=start, **common)
    today, _ = list_tasks(page.session, due_from=start, due_to=end, **common)
    return owner, overdue, today


def row_context(page: LoggedInPage, tasks: list[Task]) -> dict[str, Any]:
    """What the task rows need: client names and links, people, who each task may be given to."""
    locale = page.i18n.locale
    return {
        "names": client_names(page, tasks),
        "client_url": client_url,
        "people": users_by_id(page.session, {t.responsible_id for t in tasks}),
        "assignable": {t.team_id: [(u.id, u.full_name) for u in assignees(page, t.team_id)] for t in tasks},
        "postpone_choices": [(k, page._(label)) for k, label in POSTPONE],
        "kind_name": lambda k: local_name(k, locale),
        "log_url": lambda t: f"{client_url(t)}/log?task={t.id}" if client_url(t) else "",
    }


@router.get("/my-day")
def my_day_page(page: Page, who: str = Query("me", max_length=40)) -> Response:
    """Today's and overdue planned contacts of the user (or, for managers, of a colleague or team)."""
    owner, overdue, today = _plan(page, who)
    tasks = overdue + today
    return page.render(
        "work/my_day.html",
        owner=owner,
        overdue=overdue,
        today=today,
        day=local_date(utcnow()),
        back=page.request.url.path + (f"?{page.request.url.query}" if page.request.url.query else ""),
        show_responsible=owner.user_id != page.actor.user_id,
        **row_context(page, tasks),
    )


def _done(page: LoggedInPage, task: Task, message: str, back: str) -> Response:
    """The changed row for htmx, else back to the page with a message."""
    if is_htmx(page.request):
        return page.render(
            "work/_task_row.html",
            t=task,
            changed=message,
            back=back,
            show_responsible=True,
            **row_context(page, [task]),
        )
    page.flash("success", message)
    return page.redirect(back)


def _back(data: Submitted) -> str:
    value = data.get("back")
    return safe_next(value if isinstance(value, str) else "", "/my-day")


@router.post("/tasks/{task_id}/done")
def task_done(page: Page, task_id: int, data: Submitted) -> Response:
    """Mark a planned contact done."""
    task = task_service.complete_task(page.session, actor=page.actor, task_id=task_id)
    return _done(page, task, page._("Done: %(title)s.", title=task.title), _back(data))


@router.post("/tasks/{task_id}/postpone")
def task_postpone(page: Page, task_id: int, data: Submitted) -> Response:
    """Move a planned contact later by a quick choice."""
    by = data.get("by")
    if by not in {k for k, _ in POSTPONE}:
        raise ValidationFailed.one("by", "must be one of: " + ", ".join(k for k, _ in POSTPONE))
    task = task_service.postpone_task(page.session, actor=page.actor, task_id=task_id, by=str(by))
    when = page.i18n.datetime(task.due_at, "short")
    return _done(page, task, page._("Postponed to %(when)s.", when=when), _back(data))


@router.post("/tasks/{task_id}/reassign")
def task_reassign(page: Page, task_id: int, data: Submitted) -> Response:
    """Give a planned contact to a colleague."""
    responsible_id = posted_id(data, "responsible_id")
    try:
        task = task_service.reassign_task(
            page.session, actor=page.actor, task_id=task_id, responsible_id=responsible_id
        )
    except ValidationFailed as exc:
        page.session.rollback()
        raise ValidationFailed.one("responsible_id", translate(exc.problems[0].message, page.i18n)) from None
    name = users_by_id(page.session, {task.responsible_id})[task.responsible_id].full_name
    return _done(page, task, page._("Given to %(name)s.", name=name), _back(data))
