"""Contact person pages: the list with instant search and filters, the card, and the create/edit forms.

Everything goes through ``core.clients.persons``. The organizations a person works in are
picked by typing a name (a datalist fed by ``/organizations/options``); the picked value
carries the organization's number (``Name · #12``), and a name typed in full is looked up
among the organizations the user can see.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Query
from fastapi.responses import Response

from core.clients import organizations as orgs
from core.clients import persons
from core.clients.fields import definitions
from core.clients.filters import ClientFilter
from core.errors import Blocked, DuplicateError, FieldProblem, Forbidden, ValidationFailed
from core.models import ClientType, Person, PointKind
from core.normalize import name_key
from core.rights import require_write
from hub.web import card, nav
from hub.web.card_data import users_by_id
from hub.web.clients import (
    DAYS_CHOICES,
    active_filters,
    api_query,
    can_build_lists,
    can_write,
    choices,
    read_filter,
    split_tags,
)
from hub.web.forms import Form, Submitted
from hub.web.messages import translate
from hub.web.nav import N_, NavItem
from hub.web.pages import LoggedInPage, Page, web_router
from hub.web.tables import ListState, clean_push_url

router = web_router()
nav.add(NavItem("persons", "/persons", N_("Contact persons"), icon="users", order=30))

TEXT_FIELDS = {"first_name": 100, "middle_name": 100, "last_name": 100, "position": 200}
_PICKED = re.compile(r"#(\d+)\s*$")
_EMPLOYMENT = re.compile(r"organizations\[(\d+)\]")


def org_label(name: str, org_id: int) -> str:
    """How a picked organization reads in the picker: its name and number."""
    return f"{name} · #{org_id}"


@router.get("/persons")
def person_list(page: Page) -> Response:
    """The contact persons the user may see: search as you type, filters, sorting, pages."""
    f, values = read_filter(page.request)
    values["status"] = ""
    f.status = ""
    state = ListState.from_request(page.request, default_sort="name", sorts=persons.SORTS)
    items, state.total = persons.list_persons(
        page.session, actor=page.actor, filter=f, sort=state.sort, limit=state.per_page, offset=state.offset
    )
    return page.render(
        "clients/persons.html",
        headers=clean_push_url(page, state),
        partials={"results": "clients/_persons_table.html"},
        items=items,
        state=state,
        filters=values,
        active_filters=active_filters(values),
        choices=choices(page, kind=ClientType.person),
        days_choices=DAYS_CHOICES,
        people=users_by_id(page.session, {p.responsible_id for p in items}),
        can_write=can_write(page),
        can_build_lists=can_build_lists(page),
        export_query=api_query(f),
    )


def _form_context(page: LoggedInPage, form: Form, person: Person | None) -> dict[str, Any]:
    return {
        "form": form,
        "person": person,
        "choices": choices(page, for_form=True),
        "custom_fields": definitions(page.session, "person"),
    }


def _resolve_org(page: LoggedInPage, text: str) -> int | None:
    """The id of the organization picked or typed, among those the user can see."""
    picked = _PICKED.search(text)
    if picked:
        return int(picked.group(1))
    items, _ = orgs.list_organizations(page.session, actor=page.actor, filter=ClientFilter(q=text), limit=20)
    exact = [o for o in items if name_key(o.name) == name_key(text)]
    return exact[0].id if len(exact) == 1 else None


def _read(page: LoggedInPage, data: Submitted) -> tuple[Form, dict[str, Any], list[int]]:
    """The person fields of a submitted form, checked for type (and which input each organization came from)."""
    form = Form(data, page.i18n)
    values: dict[str, Any] = {name: form.text(name, max_length=n) for name, n in TEXT_FIELDS.items()}
    if not (values["first_name"] or values["last_name"]):
        form.error("last_name", page._("Give at least a first or a last name."))
    values["notes"] = form.text("notes", max_length=20000)
    values["birthday"] = form.date("birthday")
    values["team_id"] = form.integer("team_id")
    values["responsible_id"] = form.integer("responsible_id")
    values["phones"] = form.texts("phones")
    values["emails"] = form.texts("emails")
    values["tags"] = split_tags(form.text("tags", max_length=2000))
    values["custom"] = {d.key: form.text(f"custom.{d.key}") for d in definitions(page.session, "person")}
    org_texts, roles = form.texts("org"), form.texts("org_role")
    employments, inputs = [], []
    for i, text in enumerate(org_texts):
        if not text:
            continue
        org_id = _resolve_org(page, text)
        if org_id is None:
            form.error(f"org[{i}]", page._("No such organization among those you can see."))
            continue
        employments.append({"organization_id": org_id, "role": roles[i][:200] if i < len(roles) else ""})
        inputs.append(i)
    values["organizations"] = employments
    return form, values, inputs


def _failed(page: LoggedInPage, form: Form, exc: Exception, org_inputs: list[int]) -> None:
    """Record why the core refused the save on the form."""
    page.session.rollback()
    if isinstance(exc, ValidationFailed):
        problems = []
        for problem in exc.problems:
            match = _EMPLOYMENT.match(problem.field)
            if match and int(match.group(1)) < len(org_inputs):
                problem = FieldProblem(f"org[{org_inputs[int(match.group(1))]}]", problem.message)
            problems.append(problem)
        form.absorb(ValidationFailed(problems))
    elif isinstance(exc, DuplicateError):
        form.duplicate = exc.existing
    elif isinstance(exc, Blocked | Forbidden):
        form.summary.append(translate(exc.message, page.i18n))


@router.get("/persons/new")
def person_new(page: Page, org: int | None = Query(None, ge=1)) -> Response:
    """The form for a new contact person (``?org=12`` starts it in that organization)."""
    picked = []
    if org is not None:
        organization = orgs.get_organization(page.session, actor=page.actor, org_id=org)
        picked = [org_label(organization.name, organization.id)]
    form = Form.initial(page.i18n, team_id=min(page.actor.team_ids, default=None), org=picked, org_role=[""])
    return page.render("clients/person_form.html", **_form_context(page, form, None))


@router.post("/persons/new")
def person_create(page: Page, data: Submitted) -> Response:
    """Create the person, or show the form again with what was wrong (or the duplicate)."""
    form, values, org_inputs = _read(page, data)
    if form.ok:
        try:
            person = persons.create_person(page.session, actor=page.actor, **values)
        except (ValidationFailed, DuplicateError, Blocked, Forbidden) as exc:
            _failed(page, form, exc, org_inputs)
        else:
            page.flash("success", page._("Contact person “%(name)s” created.", name=person.full_name))
            return page.redirect(f"/persons/{person.id}")
    return page.render("clients/person_form.html", status=422, **_form_context(page, form, None))


def _initial(page: LoggedInPage, person: Person) -> Form:
    def points(kind: PointKind) -> list[str]:
        return [p.display or p.value for p in person.points if p.kind == kind]

    return Form.initial(
        page.i18n,
        **{name: getattr(person, name) for name in TEXT_FIELDS},
        notes=person.notes,
        birthday=person.birthday.isoformat() if person.birthday else "",
        team_id=person.team_id,
        responsible_id=person.responsible_id,
        phones=points(PointKind.phone),
        emails=points(PointKind.email),
        tags=", ".join(t.name for t in person.tags),
        org=[org_label(e.organization.name, e.organization_id) for e in person.employments],
        org_role=[e.role for e in person.employments],
        **{f"custom.{k}": v for k, v in person.custom.items()},
    )


@router.get("/persons/{person_id}/edit")
def person_edit(page: Page, person_id: int) -> Response:
    """The form to change a contact person."""
    person = persons.get_person(page.session, actor=page.actor, person_id=person_id)
    require_write(page.actor, person, "Person")
    return page.render("clients/person_form.html", **_form_context(page, _initial(page, person), person))


@router.post("/persons/{person_id}/edit")
def person_update(page: Page, person_id: int, data: Submitted) -> Response:
    """Save the changes, or show the form again with what was wrong."""
    person = persons.get_person(page.session, actor=page.actor, person_id=person_id)
    form, values, org_inputs = _read(page, data)
    if form.ok:
        try:
            person = persons.update_person(page.session, actor=page.actor, person_id=person_id, changes=values)
        except (ValidationFailed, DuplicateError, Blocked, Forbidden) as exc:
            _failed(page, form, exc, org_inputs)
            person = persons.get_person(page.session, actor=page.actor, person_id=person_id)
        else:
            page.flash("success", page._("Changes saved."))
            return page.redirect(f"/persons/{person.id}")
    return page.render("clients/person_form.html", status=422, **_form_context(page, form, person))


@router.post("/persons/{person_id}/delete")
def person_delete(page: Page, person_id: int) -> Response:
    """Delete a contact person (the page asked for confirmation first)."""
    name = persons.get_person(page.session, actor=page.actor, person_id=person_id).full_name
    persons.delete_person(page.session, actor=page.actor, person_id=person_id)
    page.flash("success", page._("Contact person “%(name)s” deleted.", name=name))
    return page.redirect("/persons")


card.add_card_routes(router, prefix="/persons", kind="person")
