"""Organization pages: the list with instant search and filters, the card, and the create/edit forms.

Everything goes through ``core.clients.organizations`` (list, get, create, update, delete),
so rights, duplicates, the blocklist and the audit log work exactly as in the API.
"""

from __future__ import annotations

from typing import Any

from fastapi import Query
from fastapi.responses import Response

from core.clients import organizations as orgs
from core.clients.fields import definitions
from core.clients.filters import ClientFilter
from core.errors import Blocked, DuplicateError, Forbidden, ValidationFailed
from core.models import ClientType, Organization, PointKind
from core.rights import require_write
from hub.web import card, nav
from hub.web.card_data import stages_by_id, users_by_id
from hub.web.clients import (
    DAYS_CHOICES,
    STATUS_LABELS,
    active_filters,
    api_query,
    can_build_lists,
    can_write,
    choices,
    read_filter,
    split_tags,
    stage_name,
)
from hub.web.forms import Form, Submitted
from hub.web.messages import translate
from hub.web.nav import N_, NavItem
from hub.web.pages import LoggedInPage, Page, web_router
from hub.web.tables import ListState, clean_push_url

router = web_router()
nav.add(NavItem("organizations", "/organizations", N_("Organizations"), icon="building", order=20))

TEXT_FIELDS = {"name": 300, "brand": 300, "industry": 200, "address": 500, "website": 300, "category": 100}


@router.get("/organizations")
def organization_list(page: Page) -> Response:
    """The organizations the user may see: search as you type, filters, sorting, pages."""
    f, values = read_filter(page.request)
    state = ListState.from_request(page.request, default_sort="name", sorts=orgs.SORTS)
    items, state.total = orgs.list_organizations(
        page.session, actor=page.actor, filter=f, sort=state.sort, limit=state.per_page, offset=state.offset
    )
    return page.render(
        "clients/organizations.html",
        headers=clean_push_url(page, state),
        partials={"results": "clients/_organizations_table.html"},
        items=items,
        state=state,
        filters=values,
        active_filters=active_filters(values),
        choices=choices(page, kind=ClientType.organization),
        days_choices=DAYS_CHOICES,
        people=users_by_id(page.session, {o.responsible_id for o in items}),
        stages=stages_by_id(page.session, {o.stage_id for o in items}),
        stage_name=stage_name,
        status_labels=STATUS_LABELS,
        can_write=can_write(page),
        can_build_lists=can_build_lists(page),
        export_query=api_query(f),
    )


@router.get("/organizations/options")
def organization_options(
    page: Page, q: str = Query("", max_length=200), org: str = Query("", max_length=300)
) -> Response:
    """Options for an organization picker (a datalist): the user's organizations matching the text typed."""
    text = (q or org).split(" · #")[0].strip()
    items: list[Organization] = []
    if text:
        items, _ = orgs.list_organizations(page.session, actor=page.actor, filter=ClientFilter(q=text), limit=15)
    return page.render("clients/_organization_options.html", items=items)


def _form_context(page: LoggedInPage, form: Form, org: Organization | None) -> dict[str, Any]:
    return {
        "form": form,
        "org": org,
        "choices": choices(page, for_form=True),
        "custom_fields": definitions(page.session, "organization"),
        "status_labels": STATUS_LABELS,
        "stage_name": stage_name,
    }


def _read(page: LoggedInPage, data: Submitted) -> tuple[Form, dict[str, Any]]:
    """The organization fields of a submitted form, checked for type."""
    form = Form(data, page.i18n)
    values: dict[str, Any] = {name: form.text(name, max_length=n) for name, n in TEXT_FIELDS.items()}
    if not values["name"]:
        form.error("name", page._("Fill this in."))
    values["status"] = form.text("status") or "active"
    values["notes"] = form.text("notes", max_length=20000)
    values["team_id"] = form.integer("team_id")
    values["responsible_id"] = form.integer("responsible_id")
    values["stage_id"] = form.integer("stage_id")
    values["potential"] = form.integer("potential", minimum=1, maximum=5)
    values["deal_amount"] = form.decimal("deal_amount")
    if values["deal_amount"] is not None and values["deal_amount"] < 0:
        form.error("deal_amount", page._("Cannot be negative."))
    values["first_contact_on"] = form.date("first_contact_on")
    values["phones"] = form.texts("phones")
    values["emails"] = form.texts("emails")
    values["email_domains"] = form.texts("email_domains")
    values["tags"] = split_tags(form.text("tags", max_length=2000))
    values["custom"] = {d.key: form.text(f"custom.{d.key}") for d in definitions(page.session, "organization")}
    return form, values


def _failed(page: LoggedInPage, form: Form, exc: Exception) -> None:
    """Record why the core refused the save on the form."""
    page.session.rollback()
    if isinstance(exc, ValidationFailed):
        form.absorb(exc)
    elif isinstance(exc, DuplicateError):
        form.duplicate = exc.existing
    elif isinstance(exc, Blocked | Forbidden):
        form.summary.append(translate(exc.message, page.i18n))


@router.get("/organizations/new")
def organization_new(page: Page) -> Response:
    """The form for a new organization."""
    form = Form.initial(page.i18n, status="active", team_id=min(page.actor.team_ids, default=None))
    return page.render("clients/organization_form.html", **_form_context(page, form, None))


@router.post("/organizations/new")
def organization_create(page: Page, data: Submitted) -> Response:
    """Create the organization, or show the form again with what was wrong (or the duplicate)."""
    form, values = _read(page, data)
    if form.ok:
        try:
            org = orgs.create_organization(page.session, actor=page.actor, **values)
        except (ValidationFailed, DuplicateError, Blocked, Forbidden) as exc:
            _failed(page, form, exc)
        else:
            page.flash("success", page._("Organization “%(name)s” created.", name=org.name))
            return page.redirect(f"/organizations/{org.id}")
    return page.render("clients/organization_form.html", status=422, **_form_context(page, form, None))


def _initial(page: LoggedInPage, org: Organization) -> Form:
    def points(kind: PointKind) -> list[str]:
        return [p.display or p.value for p in org.points if p.kind == kind]

    return Form.initial(
        page.i18n,
        **{name: getattr(org, name) for name in TEXT_FIELDS},
        status=org.status,
        notes=org.notes,
        team_id=org.team_id,
        responsible_id=org.responsible_id,
        stage_id=org.stage_id,
        potential=org.potential,
        deal_amount="" if org.deal_amount is None else str(org.deal_amount),
        first_contact_on=org.first_contact_on.isoformat() if org.first_contact_on else "",
        phones=points(PointKind.phone),
        emails=points(PointKind.email),
        email_domains=points(PointKind.domain),
        tags=", ".join(t.name for t in org.tags),
        **{f"custom.{k}": v for k, v in org.custom.items()},
    )


@router.get("/organizations/{org_id}/edit")
def organization_edit(page: Page, org_id: int) -> Response:
    """The form to change an organization."""
    org = orgs.get_organization(page.session, actor=page.actor, org_id=org_id)
    require_write(page.actor, org, "Organization")
    return page.render("clients/organization_form.html", **_form_context(page, _initial(page, org), org))


@router.post("/organizations/{org_id}/edit")
def organization_update(page: Page, org_id: int, data: Submitted) -> Response:
    """Save the changes, or show the form again with what was wrong."""
    org = orgs.get_organization(page.session, actor=page.actor, org_id=org_id)
    form, values = _read(page, data)
    if form.ok:
        try:
            org = orgs.update_organization(page.session, actor=page.actor, org_id=org_id, changes=values)
        except (ValidationFailed, DuplicateError, Blocked, Forbidden) as exc:
            _failed(page, form, exc)
            org = orgs.get_organization(page.session, actor=page.actor, org_id=org_id)
        else:
            page.flash("success", page._("Changes saved."))
            return page.redirect(f"/organizations/{org.id}")
    return page.render("clients/organization_form.html", status=422, **_form_context(page, form, org))


@router.post("/organizations/{org_id}/delete")
def organization_delete(page: Page, org_id: int) -> Response:
    """Delete an organization (the page asked for confirmation first)."""
    org = orgs.get_organization(page.session, actor=page.actor, org_id=org_id)
    name = org.name
    orgs.delete_organization(page.session, actor=page.actor, org_id=org_id)
    page.flash("success", page._("Organization “%(name)s” deleted.", name=name))
    return page.redirect("/organizations")


card.add_card_routes(router, prefix="/organizations", kind="organization")
