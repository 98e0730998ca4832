"""The user's own page: name and language, password, personal API tokens and my mailbox connection.

A new token's secret is shown once, on the page that answers the POST that made it (never
in a redirect, a cookie or a flash message), with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from core.errors import ValidationFailed
from core.users import auth as core_auth
from core.users.passwords import verify_password
from core.users.service import set_password, update_user
from hub.cookies import SESSION_COOKIE
from hub.csrf import is_https
from hub.web import nav
from hub.web.admin import ROLE_LABELS
from hub.web.forms import Form, Submitted
from hub.web.i18n import LANGUAGE_NAMES, LOCALES
from hub.web.nav import N_, NavItem
from hub.web.pages import LoggedInPage, Page, i18n_for, web_router
from hub.web.sync_console import my_mailboxes

router = web_router()
nav.add(NavItem("me", "/me", N_("My profile"), icon="user", order=95, section="account"))


def _render(page: LoggedInPage, *, status: int = 200, **context: Any) -> Response:
    user = page.user
    context.setdefault("profile", Form.initial(page.i18n, full_name=user.full_name, locale=user.locale or ""))
    context.setdefault("password_form", Form.initial(page.i18n))
    context.setdefault("token_form", Form.initial(page.i18n))
    context.setdefault("new_secret", "")
    tokens = core_auth.list_api_tokens(page.session, actor=page.actor)
    mailboxes = my_mailboxes(page)
    headers = {"Cache-Control": "no-store"} if context["new_secret"] else None
    return page.render(
        "me.html",
        status=status,
        headers=headers,
        tokens=tokens,
        mailboxes=mailboxes,
        role_label=ROLE_LABELS.get(page.actor.role, page.actor.role.value),
        language_names=[(code, LANGUAGE_NAMES[code]) for code in LOCALES],
        **context,
    )


@router.get("/me")
def me(page: Page) -> Response:
    """My profile, password and API tokens."""
    return _render(page)


@router.post("/me")
def update_profile(page: Page, data: Submitted) -> Response:
    """Change my name and interface language."""
    form = Form(data, page.i18n)
    full_name = form.text("full_name", required=True, max_length=200)
    locale = form.text("locale")
    if locale and locale not in LOCALES:
        form.error("locale", page._("Choose a language from the list."))
    if form.ok:
        try:
            update_user(page.session, actor=page.actor, user_id=page.user.id, full_name=full_name, locale=locale)
        except ValidationFailed as exc:
            page.session.rollback()
            form.absorb(exc)
        else:
            page.i18n = i18n_for(page.request, page.user)  # the message in the language just chosen
            page.flash("success", page._("Profile saved."))
            return page.redirect("/me")
    return _render(page, status=422, profile=form)


@router.post("/me/password")
def change_password(page: Page, data: Submitted) -> Response:
    """Change my password (the current one is asked again); other sessions are logged out."""
    form = Form(data, page.i18n)
    current = data.get("current_password")
    new = data.get("new_password")
    repeat = data.get("repeat_password")
    if not isinstance(current, str) or not verify_password(current, page.user.password_hash):
        form.error("current_password", page._("This is not your current password."))
    if not isinstance(new, str) or not new:
        form.error("new_password", page._("Fill this in."))
    elif new != repeat:
        form.error("repeat_password", page._("The two new passwords differ."))
    if form.ok and isinstance(new, str):
        try:
            set_password(page.session, actor=page.actor, user_id=page.user.id, password=new)
        except ValidationFailed as exc:
            page.session.rollback()
            form.absorb(exc, aliases={"password": "new_password"})
        else:
            settings = page.request.app.state.settings
            token = core_auth.start_session(page.session, user=page.user, days=settings.session_days)
            page.flash("success", page._("Password changed. Your other sessions were logged out."))
            response = page.redirect("/me")
            response.set_cookie(
                SESSION_COOKIE,
                token,
                max_age=settings.session_days * 86400,
                httponly=True,
                samesite="lax",
                secure=is_https(page.request),
                path="/",
            )
            return response
    return _render(page, status=422, password_form=form)


@router.post("/me/tokens")
def create_token(page: Page, data: Submitted) -> Response:
    """Create a personal API token and show its secret this once."""
    form = Form(data, page.i18n)
    name = form.text("name", required=True, max_length=100)
    if form.ok:
        try:
            token, secret = core_auth.create_api_token(page.session, actor=page.actor, name=name)
        except ValidationFailed as exc:
            page.session.rollback()
            form.absorb(exc)
        else:
            return _render(page, new_secret=secret, new_token=token)
    return _render(page, status=422, token_form=form)


@router.post("/me/tokens/{token_id}/revoke")
def revoke_token(page: Page, token_id: int) -> Response:
    """Revoke one of my tokens: scripts using it stop working at once."""
    core_auth.revoke_api_token(page.session, actor=page.actor, token_id=token_id)
    page.flash("success", page._("Token revoked."))
    return page.redirect("/me")
