"""Administration of users and teams (admins only; anyone else gets the 404 page).

Through ``core.users.service``: creating users with a role and teams, changing them,
deactivating (which keeps their history), resetting a password (which logs them out), and
creating teams (directions of work).
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from sqlalchemy import func, select

from core.errors import Conflict, ValidationFailed
from core.models import Role, team_members
from core.users.service import create_team, create_user, get_user, list_teams, list_users, set_password, update_user
from hub.web import nav
from hub.web.forms import Form, Submitted
from hub.web.i18n import LANGUAGE_NAMES, LOCALES
from hub.web.messages import translate
from hub.web.nav import N_, NavItem
from hub.web.pages import AdminPage, LoggedInPage, web_router

router = web_router()
ADMINS = frozenset({Role.admin})
nav.add(NavItem("admin-users", "/admin/users", N_("Users"), icon="shield", order=90, roles=ADMINS, section="admin"))
nav.add(NavItem("admin-teams", "/admin/teams", N_("Teams"), icon="layers", order=91, roles=ADMINS, section="admin"))

ROLE_LABELS = {
    Role.admin: N_("Administrator"),
    Role.manager: N_("Manager"),
    Role.staff: N_("Salesperson"),
    Role.marketer: N_("Marketer"),
    Role.auditor: N_("Auditor (security service)"),
}
ROLE_HINTS = {
    Role.admin: N_("Everything, including users, teams and settings."),
    Role.manager: N_("Clients and work of their teams, reports."),
    Role.staff: N_("Clients of their teams: add, change, log the work."),
    Role.marketer: N_("Reads clients of their teams, builds segments and mailings."),
    Role.auditor: N_("Reads every client and the full history, changes nothing."),
}


def _user_form_context(page: LoggedInPage, **context: Any) -> dict[str, Any]:
    teams = list_teams(page.session, actor=page.actor)
    return {
        "team_options": [(t.id, t.name) for t in teams],
        "roles": [(r.value, page._(ROLE_LABELS[r]), page._(ROLE_HINTS[r])) for r in Role],
        "language_names": [(code, LANGUAGE_NAMES[code]) for code in LOCALES],
        **context,
    }


@router.get("/admin/users")
def users(page: AdminPage) -> Response:
    """Every user, active or not."""
    rows = list_users(page.session, actor=page.actor, include_inactive=True)
    return page.render("admin/users.html", users=rows, role_labels=ROLE_LABELS)


@router.get("/admin/users/new")
def user_new(page: AdminPage) -> Response:
    """The form for a new user."""
    form = Form.initial(page.i18n, role=Role.staff.value, team_ids=[])
    return page.render("admin/user_form.html", **_user_form_context(page, form=form, target=None))


def _core_failed(page: LoggedInPage, form: Form, exc: ValidationFailed | Conflict, conflict_field: str = "") -> None:
    """Show why the core refused: under the fields it names, a conflict under ``conflict_field``."""
    page.session.rollback()
    if isinstance(exc, ValidationFailed):
        form.absorb(exc)
    elif conflict_field:
        form.error(conflict_field, translate(exc.message, page.i18n))
    else:
        form.summary.append(translate(exc.message, page.i18n))


@router.post("/admin/users/new")
def user_create(page: AdminPage, data: Submitted) -> Response:
    """Create a user with a role, teams and a first password."""
    form = Form(data, page.i18n)
    email = form.text("email", required=True, max_length=320)
    full_name = form.text("full_name", required=True, max_length=200)
    role = form.text("role")
    team_ids = form.integers("team_ids")
    locale = form.text("locale") or None
    password = data.get("password")
    form.values["password"] = ""
    if role not in {r.value for r in Role}:
        form.error("role", page._("Choose a role."))
    if not isinstance(password, str) or not password:
        form.error("password", page._("Fill this in."))
    if form.ok and isinstance(password, str):
        try:
            user = create_user(
                page.session,
                actor=page.actor,
                email=email,
                full_name=full_name,
                password=password,
                role=Role(role),
                team_ids=team_ids,
                locale=locale if locale in LOCALES else None,
            )
        except (ValidationFailed, Conflict) as exc:
            _core_failed(page, form, exc, "email")
        else:
            page.flash("success", page._("User %(email)s created.", email=user.email))
            return page.redirect("/admin/users")
    return page.render("admin/user_form.html", status=422, **_user_form_context(page, form=form, target=None))


@router.get("/admin/users/{user_id}")
def user_edit(page: AdminPage, user_id: int) -> Response:
    """The form to change a user."""
    target = get_user(page.session, actor=page.actor, user_id=user_id)
    form = Form.initial(
        page.i18n,
        full_name=target.full_name,
        role=target.role,
        team_ids=[t.id for t in target.teams],
        is_active=target.is_active,
    )
    return page.render(
        "admin/user_form.html",
        **_user_form_context(page, form=form, target=target, password_form=Form.initial(page.i18n)),
    )


@router.post("/admin/users/{user_id}")
def user_update(page: AdminPage, user_id: int, data: Submitted) -> Response:
    """Change a user's name, role, teams and whether they may log in."""
    target = get_user(page.session, actor=page.actor, user_id=user_id)
    form = Form(data, page.i18n)
    full_name = form.text("full_name", required=True, max_length=200)
    role = form.text("role")
    team_ids = form.integers("team_ids")
    is_active = form.checked("is_active")
    if role not in {r.value for r in Role}:
        form.error("role", page._("Choose a role."))
    if form.ok:
        try:
            update_user(
                page.session,
                actor=page.actor,
                user_id=user_id,
                full_name=full_name,
                role=Role(role),
                team_ids=team_ids,
                is_active=is_active,
            )
        except (ValidationFailed, Conflict) as exc:
            _core_failed(page, form, exc)
            target = get_user(page.session, actor=page.actor, user_id=user_id)
        else:
            page.flash("success", page._("Changes saved."))
            return page.redirect("/admin/users")
    context = _user_form_context(page, form=form, target=target, password_form=Form.initial(page.i18n))
    return page.render("admin/user_form.html", status=422, **context)


@router.post("/admin/users/{user_id}/password")
def user_password(page: AdminPage, user_id: int, data: Submitted) -> Response:
    """Set a new password for a user (their sessions are logged out)."""
    target = get_user(page.session, actor=page.actor, user_id=user_id)
    form = Form(data, page.i18n)
    password = data.get("password")
    if not isinstance(password, str) or not password:
        form.error("password", page._("Fill this in."))
    else:
        try:
            set_password(page.session, actor=page.actor, user_id=user_id, password=password)
        except ValidationFailed as exc:
            _core_failed(page, form, exc)
        else:
            page.flash("success", page._("New password set for %(email)s.", email=target.email))
            return page.redirect(f"/admin/users/{user_id}")
    target = get_user(page.session, actor=page.actor, user_id=user_id)
    edit = Form.initial(
        page.i18n,
        full_name=target.full_name,
        role=target.role,
        team_ids=[t.id for t in target.teams],
        is_active=target.is_active,
    )
    context = _user_form_context(page, form=edit, target=target, password_form=form)
    return page.render("admin/user_form.html", status=422, **context)


def _teams_page(page: LoggedInPage, form: Form, status: int = 200) -> Response:
    members = dict(
        page.session.execute(select(team_members.c.team_id, func.count()).group_by(team_members.c.team_id)).all()
    )
    teams = list_teams(page.session, actor=page.actor)
    return page.render("admin/teams.html", status=status, teams=teams, members=members, form=form)


@router.get("/admin/teams")
def teams(page: AdminPage) -> Response:
    """The teams (directions of work) and how many people each has."""
    return _teams_page(page, Form.initial(page.i18n))


@router.post("/admin/teams")
def team_create(page: AdminPage, data: Submitted) -> Response:
    """Create a team."""
    form = Form(data, page.i18n)
    name = form.text("name", required=True, max_length=200)
    description = form.text("description", max_length=1000)
    if form.ok:
        try:
            team = create_team(page.session, actor=page.actor, name=name, description=description)
        except (ValidationFailed, Conflict) as exc:
            _core_failed(page, form, exc, "name")
        else:
            page.flash("success", page._("Team “%(name)s” created.", name=team.name))
            return page.redirect("/admin/teams")
    return _teams_page(page, form, status=422)
