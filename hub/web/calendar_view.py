"""The calendar of planned contacts: a day, a week or a month, coloured by kind.

Days are the viewer's (their browser's time zone), weeks start on the locale's first day.
The tasks come from ``core.work.agenda.calendar``, which shows only what the actor may see;
a manager may switch to a colleague or a team as on My day. Each contact links to its client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from babel import Locale
from babel.dates import format_date
from fastapi import Query
from fastapi.responses import Response

from core.db import utcnow
from core.models import Task
from core.work.agenda import calendar
from hub.web import nav
from hub.web.myday import row_context
from hub.web.nav import N_, NavItem
from hub.web.pages import LoggedInPage, Page, web_router
from hub.web.planning import whose
from hub.web.tables import query_url

router = web_router()
nav.add(NavItem("calendar", "/calendar", N_("Calendar"), icon="calendar", order=50))

VIEWS = {"day": N_("Day"), "week": N_("Week"), "month": N_("Month")}


@dataclass
class Day:
    """One cell of the calendar."""

    day: date
    in_month: bool = True
    tasks: list[Task] = field(default_factory=list)


def _first_weekday(locale: str) -> int:
    return int(Locale.parse(locale).first_week_day)


def _range(view: str, anchor: date, first_weekday: int) -> tuple[date, date]:
    """The first day shown and the day after the last."""
    if view == "day":
        return anchor, anchor + timedelta(days=1)
    if view == "week":
        start = anchor - timedelta(days=(anchor.weekday() - first_weekday) % 7)
        return start, start + timedelta(days=7)
    first = anchor.replace(day=1)
    start = first - timedelta(days=(first.weekday() - first_weekday) % 7)
    following = (first + timedelta(days=32)).replace(day=1)
    weeks = -(-((following - start).days) // 7)
    return start, start + timedelta(days=7 * weeks)


def _step(view: str, anchor: date, forward: bool) -> date:
    sign = 1 if forward else -1
    if view == "day":
        return anchor + timedelta(days=sign)
    if view == "week":
        return anchor + timedelta(days=7 * sign)
    month = anchor.month - 1 + sign
    return date(anchor.year + month // 12, month % 12 + 1, 1)


def _title(page: LoggedInPage, view: str, start: date, end: date, anchor: date) -> str:
    i18n = page.i18n
    if view == "day":
        return i18n.date(anchor, "full")
    if view == "week":
        return f"{i18n.date(start, 'medium')} – {i18n.date(end - timedelta(days=1), 'medium')}"
    return format_date(anchor, "LLLL y", locale=i18n.locale).capitalize()


def _days(page: LoggedInPage, tasks: list[Task], start: date, end: date, anchor: date, view: str) -> list[Day]:
    days = {start + timedelta(days=n): Day(start + timedelta(days=n)) for n in range((end - start).days)}
    for d in days.values():
        d.in_month = view != "month" or d.day.month == anchor.month
    for t in tasks:
        local = page.i18n.local(t.due_at).date()
        if local in days:
            days[local].tasks.append(t)
    return list(days.values())


@router.get("/calendar")
def calendar_page(
    page: Page,
    view: str = Query("week", max_length=10),
    day: date | None = None,
    who: str = Query("me", max_length=40),
) -> Response:
    """Planned contacts of a day, week or month."""
    view = view if view in VIEWS else "week"
    today = page.i18n.local(utcnow()).date()
    anchor = day or today
    owner = whose(page, who)
    first_weekday = _first_weekday(page.i18n.locale)
    start, end = _range(view, anchor, first_weekday)
    tz = page.i18n.tz
    tasks = calendar(
        page.session,
        actor=page.actor,
        start=datetime.combine(start, time(0), tzinfo=tz),
        end=datetime.combine(end, time(0), tzinfo=tz),
        user_id=owner.user_id if owner.team_id is None else None,
        team_id=owner.team_id,
    )
    params = [("view", view)] + ([("who", owner.key)] if owner.key != "me" else [])
    context: dict[str, Any] = row_context(page, tasks)
    return page.render(
        "work/calendar.html",
        view=view,
        views=[
            (k, page._(v), query_url("/calendar", params, view=k, day=anchor.isoformat())) for k, v in VIEWS.items()
        ],
        title=_title(page, view, start, end, anchor),
        days=_days(page, tasks, start, end, anchor, view),
        weekdays=[(start + timedelta(days=n)) for n in range(7)],
        today=today,
        owner=owner,
        total=len(tasks),
        prev_url=query_url("/calendar", params, day=_step(view, anchor, False).isoformat()),
        next_url=query_url("/calendar", params, day=_step(view, anchor, True).isoformat()),
        today_url=query_url("/calendar", params, day=None),
        day_url=lambda d: query_url("/calendar", params, view="day", day=d.isoformat()),
        keep=[("view", view), ("day", anchor.isoformat())],
        **context,
    )
