"""What the daily-work pages share: names in the user's language, who may be assigned, whose plan is shown.

My day and the calendar show the plan of the current user; a manager (or an admin) may switch
to a colleague of a team they work in, or to a whole team. ``Whose`` reads that switch from
the query string (``?who=me``, ``?who=user:12``, ``?who=team:3``) and refuses, as a 404, a
choice the actor may not make, so nobody learns that another team's colleague exists. The
tasks themselves are read by the core agenda, which filters by rights again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any

from sqlalchemy import select

from core.errors import NotFound, ValidationFailed
from core.models import Organization, Person, Role, Task, Team, User
from core.rights import visible
from core.users.service import list_teams, list_users
from hub.web.pages import LoggedInPage


def local_name(record: Any, locale: str) -> str:
    """A kind, result or stage name in the user's language."""
    if record is None:
        return ""
    return str(record.name_ru if locale == "ru" and getattr(record, "name_ru", "") else record.name)


def assignees(page: LoggedInPage, team_id: int) -> list[User]:
    """The active users a task of this team may be given to (its members, and admins)."""
    users = list_users(page.session, actor=page.actor)
    return [u for u in users if u.role == Role.admin or team_id in {t.id for t in u.teams}]


def client_url(task: Task) -> str:
    """The card a task is about (the person's when it has no organization), or empty."""
    if task.organization_id is not None:
        return f"/organizations/{task.organization_id}"
    if task.person_id is not None:
        return f"/persons/{task.person_id}"
    return ""


def client_names(page: LoggedInPage, tasks: list[Task]) -> dict[int, str]:
    """The name of the client of each task (by task id), read in two queries."""
    org_ids = {t.organization_id for t in tasks if t.organization_id is not None}
    person_ids = {t.person_id for t in tasks if t.person_id is not None}
    s = page.session
    seen_org, seen_person = visible(page.actor, Organization.team_id), visible(page.actor, Person.team_id)
    org_rows = select(Organization.id, Organization.name).where(Organization.id.in_(org_ids), seen_org)
    person_rows = select(Person.id, Person.full_name).where(Person.id.in_(person_ids), seen_person)
    orgs: dict[int, str] = {i: n for i, n in s.execute(org_rows)} if org_ids else {}
    people: dict[int, str] = {i: n for i, n in s.execute(person_rows)} if person_ids else {}
    names = {}
    for t in tasks:
        name = orgs.get(t.organization_id or 0) or people.get(t.person_id or 0) or ""
        if t.organization_id is not None and t.person_id in people:
            name = f"{name} · {people[t.person_id]}"
        names[t.id] = name
    return names


def at_local(day: date, moment: time, tz: tzinfo) -> datetime:
    """An aware instant from a day and a wall-clock time in the viewer's zone."""
    return datetime.combine(day, moment, tzinfo=tz)


def can_switch(page: LoggedInPage) -> bool:
    """True when the user may look at colleagues' plans (managers and admins)."""
    return page.actor.is_admin or page.actor.role == Role.manager


@dataclass
class Whose:
    """Whose plan a page shows: ``me``, one user, or one team; and what the switch offers."""

    key: str
    user_id: int | None = None
    team_id: int | None = None
    label: str = ""
    options: list[tuple[str, str]] | None = None


def whose(page: LoggedInPage, raw: str) -> Whose:
    """Read ``?who=``; NotFound for a user or team the actor may not switch to."""
    if not can_switch(page):
        return Whose("me", user_id=page.actor.user_id, label=page._("My plan"), options=[])
    teams = [
        t for t in list_teams(page.session, actor=page.actor) if page.actor.is_admin or t.id in page.actor.team_ids
    ]
    team_ids = {t.id for t in teams}
    users = [u for u in list_users(page.session, actor=page.actor) if {t.id for t in u.teams} & team_ids]
    options = [("me", page._("My plan"))]
    options += [(f"team:{t.id}", page._("Team: %(name)s", name=t.name)) for t in teams]
    options += [(f"user:{u.id}", u.full_name) for u in users if u.id != page.actor.user_id]
    kind, _, ident = (raw or "me").partition(":")
    if kind == "team" and ident.isdigit() and int(ident) in team_ids:
        team = page.session.get(Team, int(ident))
        return Whose(raw, team_id=int(ident), label=team.name if team else "", options=options)
    if kind == "user" and ident.isdigit():
        user = next((u for u in users if u.id == int(ident)), None)
        if user is None:
            raise NotFound("User not found")
        return Whose(raw, user_id=user.id, label=user.full_name, options=options)
    if kind not in ("", "me"):
        raise NotFound("Team not found")
    return Whose("me", user_id=page.actor.user_id, label=page._("My plan"), options=options)


def posted_id(data: Any, name: str) -> int:
    """A record id sent by a small action form (ValidationFailed when missing or not a number)."""
    raw = data.get(name)
    if not isinstance(raw, str) or not raw.isdigit() or len(raw) > 12:
        raise ValidationFailed.one(name, "is required")
    return int(raw)
