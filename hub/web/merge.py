"""The merge screen: fold a duplicate person or organization into the card it was opened from.

``/persons/7/merge`` asks for the other record (search among those the user can see);
``?other=9`` shows both side by side with a radio per field whose values differ (the kept
card's value is preselected, or the other's when the kept one is empty, which is also what
core does with a field left unchosen). Confirming calls ``core.clients.merge``: everything
about the other record (interactions, tasks, deals, files, contacts) moves to this card, and
the other one stays as a tombstone whose old address leads here.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import Query
from fastapi.responses import Response
from sqlalchemy import func, select

from core.clients import merge
from core.clients.filters import ClientFilter
from core.clients.organizations import get_organization, list_organizations
from core.clients.persons import get_person, list_persons
from core.errors import ValidationFailed
from core.models import Interaction, Organization, Person, Stage, Team, User
from core.rights import require_write, visible
from hub.web.clients import STATUS_LABELS
from hub.web.forms import Submitted
from hub.web.history import FIELD_LABELS
from hub.web.messages import translate
from hub.web.pages import LoggedInPage, Page, web_router
from hub.web.planning import local_name

router = web_router()

FIELDS = {"organization": merge.ORG_FIELDS, "person": merge.PERSON_FIELDS}


def _get(page: LoggedInPage, kind: str, record_id: int) -> Organization | Person:
    if kind == "organization":
        return get_organization(page.session, actor=page.actor, org_id=record_id)
    return get_person(page.session, actor=page.actor, person_id=record_id)


def _name(record: Organization | Person) -> str:
    return record.name if isinstance(record, Organization) else record.full_name


def _text(page: LoggedInPage, field: str, value: Any) -> str:
    """A field's value as the user reads it."""
    i18n, s = page.i18n, page.session
    if value is None or value == "" or value == {}:
        return ""
    if field == "team_id":
        team = s.get(Team, value)
        return team.name if team else f"#{value}"
    if field == "responsible_id":
        user = s.get(User, value)
        return user.full_name if user else f"#{value}"
    if field == "stage_id":
        return local_name(s.get(Stage, value), i18n.locale)
    if field == "status":
        return i18n.gettext(STATUS_LABELS.get(str(value), str(value)))
    if field == "deal_amount" and isinstance(value, Decimal):
        return i18n.money(value)
    if isinstance(value, date):
        return i18n.date(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items() if v not in (None, ""))
    return str(value)


def _rows(page: LoggedInPage, kind: str, keep: Any, other: Any) -> list[dict[str, Any]]:
    rows = []
    for field in FIELDS[kind]:
        mine, theirs = _text(page, field, getattr(keep, field)), _text(page, field, getattr(other, field))
        if not mine and not theirs:
            continue
        rows.append(
            {
                "field": field,
                "label": page._(FIELD_LABELS.get(field, field)),
                "mine": mine,
                "theirs": theirs,
                "differs": mine != theirs,
                "default": "other" if not mine and theirs else "survivor",
            }
        )
    return rows


def _interactions(page: LoggedInPage, kind: str, record_id: int) -> int:
    column = Interaction.organization_id if kind == "organization" else Interaction.person_id
    stmt = select(func.count()).where(column == record_id, visible(page.actor, Interaction.team_id))
    return page.session.scalar(stmt) or 0


def _candidates(page: LoggedInPage, kind: str, keep_id: int, q: str) -> list[tuple[int, str, str]]:
    """Records matching the search, except the one kept: (id, name, a detail)."""
    f = ClientFilter(q=q)
    if kind == "organization":
        orgs, _ = list_organizations(page.session, actor=page.actor, filter=f, limit=20)
        return [(o.id, o.name, o.address or o.industry or "") for o in orgs if o.id != keep_id]
    people, _ = list_persons(page.session, actor=page.actor, filter=f, limit=20)
    return [
        (p.id, p.full_name, ", ".join(e.organization.name for e in p.employments[:2]) or p.position)
        for p in people
        if p.id != keep_id
    ]


def show(page: LoggedInPage, kind: str, record_id: int, other_id: int | None, q: str, problems: list[str]) -> Response:
    """Pick the other record, or compare both."""
    keep = _get(page, kind, record_id)
    require_write(page.actor, keep, kind.capitalize())
    base = f"/{kind}s/{record_id}"
    context: dict[str, Any] = {"kind": kind, "keep": keep, "keep_name": _name(keep), "base": base, "q": q}
    if other_id is None or other_id == record_id:
        context["candidates"] = _candidates(page, kind, record_id, q) if q else []
        return page.render("work/merge_pick.html", **context)
    other = _get(page, kind, other_id)
    context.update(
        other=other,
        other_name=_name(other),
        rows=_rows(page, kind, keep, other),
        counts=(_interactions(page, kind, record_id), _interactions(page, kind, other_id)),
        problems=problems,
    )
    return page.render("work/merge.html", status=422 if problems else 200, **context)


def confirm(page: LoggedInPage, kind: str, record_id: int, data: Submitted) -> Response:
    """Merge the other record into this one with the chosen values."""
    raw = data.get("other")
    if not isinstance(raw, str) or not raw.isdigit():
        return show(page, kind, record_id, None, "", [])
    other_id = int(raw)
    choices = {}
    for field in FIELDS[kind]:
        value = data.get(f"field.{field}")
        if value in merge.CHOICES:
            choices[field] = str(value)
    other_name = _name(_get(page, kind, other_id))
    try:
        if kind == "organization":
            merge.merge_organizations(
                page.session, actor=page.actor, survivor_id=record_id, other_id=other_id, field_choices=choices
            )
        else:
            merge.merge_persons(
                page.session, actor=page.actor, survivor_id=record_id, other_id=other_id, field_choices=choices
            )
    except ValidationFailed as exc:
        page.session.rollback()
        return show(page, kind, record_id, other_id, "", [translate(p.message, page.i18n) for p in exc.problems])
    page.flash("success", page._("“%(name)s” was merged into this card with all its history.", name=other_name))
    return page.redirect(f"/{kind}s/{record_id}?tab=interactions")


def _routes(kind: str) -> None:
    prefix = f"/{kind}s/{{record_id}}/merge"

    @router.get(prefix, name=f"{kind}_merge")
    def merge_page(
        page: Page, record_id: int, other: int | None = Query(None, ge=1), q: str = Query("", max_length=200)
    ) -> Response:
        """Choose the record to merge into this one, then compare them."""
        return show(page, kind, record_id, other, q.strip(), [])

    @router.post(prefix, name=f"{kind}_merge_confirm")
    def merge_confirm(page: Page, record_id: int, data: Submitted) -> Response:
        """Merge."""
        return confirm(page, kind, record_id, data)


_routes("organization")
_routes("person")
