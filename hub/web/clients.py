"""What the organization and person pages share: the filter from the query string, the choices
of the filter and form selects, and display names of statuses and stages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy import select

from core.clients.filters import ClientFilter
from core.clients.organizations import STATUSES
from core.lists.groups import LIST_BUILDERS, list_groups
from core.lists.segments import list_segments
from core.models import ClientType, Group, Pipeline, Segment, Stage, Tag, Team, User
from core.rights import WRITERS
from core.users.service import list_teams, list_users
from hub.web.nav import N_
from hub.web.pages import LoggedInPage

STATUS_LABELS = {
    "lead": N_("Lead"),
    "active": N_("Active"),
    "partner": N_("Partner"),
    "inactive": N_("Inactive"),
    "refused": N_("Refused"),
}
DAYS_CHOICES = (7, 14, 30, 60, 90, 180, 365)


def _int(values: dict[str, str], key: str, lo: int, hi: int) -> int | None:
    raw = values.get(key, "")
    if raw.isdigit() and lo <= int(raw) <= hi:
        return int(raw)
    values[key] = ""
    return None


def read_filter(request: Request) -> tuple[ClientFilter, dict[str, str]]:
    """The client filter from the query string, and the values to show in the filter controls."""
    return filter_from(request.query_params)


def filter_from(fields: Mapping[str, Any]) -> tuple[ClientFilter, dict[str, str]]:
    """The client filter from the list's fields (a query string or a form), and their cleaned values."""
    values = {key: str(fields.get(key) or "").strip()[:200] for _attr, key, _api in FILTER_PARAMS}
    if values["status"] not in STATUSES:
        values["status"] = ""
    big = 2**31 - 1
    f = ClientFilter(
        q=values["q"],
        team_id=_int(values, "team", 1, big),
        responsible_id=_int(values, "responsible", 1, big),
        tag=values["tag"][:100],
        group_id=_int(values, "group", 1, big),
        potential=_int(values, "potential", 1, 5),
        stage_id=_int(values, "stage", 1, big),
        status=values["status"],
        no_contact_days=_int(values, "days", 0, 36500),
    )
    return f, values


# (attribute of ClientFilter, key in the web lists' query string, key in the API's query string)
FILTER_PARAMS = (
    ("q", "q", "q"),
    ("team_id", "team", "team_id"),
    ("responsible_id", "responsible", "responsible_id"),
    ("tag", "tag", "tag"),
    ("group_id", "group", "group_id"),
    ("potential", "potential", "potential"),
    ("stage_id", "stage", "stage_id"),
    ("status", "status", "status"),
    ("no_contact_days", "days", "no_contact_days"),
)


def _query(f: ClientFilter, column: int) -> str:
    params = {names[column]: getattr(f, names[0]) for names in FILTER_PARAMS}
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def api_query(f: ClientFilter) -> str:
    """The filter as the API's query string (``/api/v1/export/...`` takes the same filter as the lists)."""
    return _query(f, 2)


def list_query(f: ClientFilter) -> str:
    """The filter as the query string of the web lists (the inverse of ``read_filter``)."""
    return _query(f, 1)


def active_filters(values: dict[str, str]) -> int:
    """How many filters besides the search text are set."""
    return sum(1 for k, v in values.items() if k != "q" and v)


def stage_name(stage: Stage | None, locale: str) -> str:
    """A stage's name in the user's language."""
    if stage is None:
        return ""
    return stage.name_ru if locale == "ru" and stage.name_ru else stage.name


@dataclass
class Choices:
    """Options of the selects in client filters and forms."""

    teams: list[Team] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    pipelines: list[Pipeline] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    statuses: list[tuple[str, str]] = field(default_factory=list)
    stage_options: list[tuple[int, str]] = field(default_factory=list)

    @property
    def team_options(self) -> list[tuple[int, str]]:
        """Teams as (id, name) pairs for a select."""
        return [(t.id, t.name) for t in self.teams]

    @property
    def user_options(self) -> list[tuple[int, str]]:
        """Users as (id, name) pairs for a select."""
        return [(u.id, u.full_name) for u in self.users]


def choices(page: LoggedInPage, *, for_form: bool = False, kind: ClientType | None = None) -> Choices:
    """The options this user may pick: their teams (all for admins and auditors), colleagues, stages..."""
    actor = page.actor
    teams = list_teams(page.session, actor=actor)
    if for_form:
        teams = [t for t in teams if actor.is_admin or t.id in actor.team_ids]
    elif not actor.sees_everything:
        teams = [t for t in teams if t.id in actor.team_ids]
    out = Choices(
        teams=teams,
        users=list_users(page.session, actor=actor),
        pipelines=list(page.session.scalars(select(Pipeline).order_by(Pipeline.is_default.desc(), Pipeline.name))),
        statuses=[(s, page._(STATUS_LABELS.get(s, s))) for s in STATUSES],
    )
    out.stage_options = [
        (s.id, f"{stage_name(s, page.i18n.locale)} · {page.i18n.percent(s.probability)}")
        for p in out.pipelines
        for s in p.stages
    ]
    if not for_form:
        out.groups = list_groups(page.session, actor=actor)[:500]
        out.segments = list_segments(page.session, actor=actor, client_type=kind)[:200] if kind else []
        out.tags = list(page.session.scalars(select(Tag.name).order_by(Tag.name).limit(500)))
    return out


def can_write(page: LoggedInPage) -> bool:
    """True when the user's role may change clients (the core checks it again on save)."""
    return page.actor.role in WRITERS


def can_build_lists(page: LoggedInPage) -> bool:
    """True when the user's role may save segments and fill groups (the core checks it again)."""
    return page.actor.role in LIST_BUILDERS


def split_tags(text: str) -> list[str]:
    """Tags typed as "vip, moscow" into a list."""
    return [t.strip() for t in text.replace(";", ",").split(",") if t.strip()]
