"""Logging in and out of the web UI, and the language switch.

Login goes through ``core.users.auth`` exactly like the API: the same throttling (the page
says how long to wait), the same session rows. The session cookie is HttpOnly, SameSite=Lax,
and Secure when the hub is reached over TLS (or ``secure_cookies`` is set behind a proxy).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from core.users import auth as core_auth
from core.users.service import update_user
from hub.api.auth import client_ip
from hub.cookies import SESSION_COOKIE
from hub.csrf import is_https
from hub.web.forms import Form, Submitted
from hub.web.i18n import LANG_COOKIE, LOCALES
from hub.web.pages import HOME, Public, safe_next, web_router

router = web_router()


@router.get("/")
def home(page: Public) -> Response:
    """The start page: the client base for a logged-in user, the login form for anyone else."""
    return RedirectResponse(HOME if page.user else "/login", status_code=303)


@router.get("/login")
def login_form(page: Public, next: str = "") -> Response:
    """The login form (a logged-in user goes straight on)."""
    if page.user is not None:
        return page.redirect(safe_next(next))
    return page.render("login.html", form=Form.initial(page.i18n), next=safe_next(next), error="")


@router.post("/login")
def login(page: Public, data: Submitted) -> Response:
    """Check the e-mail and password; open a session and go back to the page asked for."""
    form = Form(data, page.i18n)
    email = form.text("email", max_length=320)
    password = data.get("password")
    next_path = safe_next(form.text("next"))
    if not email or not isinstance(password, str) or not password:
        return page.render(
            "login.html", status=400, form=form, next=next_path, error=page._("Enter your e-mail and password.")
        )
    try:
        user = core_auth.authenticate(page.session, email=email, password=password, client_ip=client_ip(page.request))
    except core_auth.LoginThrottled as exc:
        page.session.commit()
        minutes = max(1, round(exc.retry_after / 60))
        error = page.i18n.ngettext(
            "Too many failed attempts. Try again in %(num)s minute.",
            "Too many failed attempts. Try again in %(num)s minutes.",
            minutes,
        )
        headers = {"Retry-After": str(exc.retry_after)}
        return page.render("login.html", status=429, headers=headers, form=form, next=next_path, error=error)
    except core_auth.LoginFailed:
        page.session.commit()  # keep the count of failures
        error = page._("Wrong e-mail or password. Check the keyboard layout and Caps Lock.")
        return page.render("login.html", status=401, form=form, next=next_path, error=error)
    settings = page.request.app.state.settings
    token = core_auth.start_session(
        page.session, user=user, days=settings.session_days, user_agent=page.request.headers.get("user-agent", "")
    )
    response = page.redirect(next_path)
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


@router.post("/logout")
def logout(page: Public) -> Response:
    """End this browser's session."""
    token = page.request.cookies.get(SESSION_COOKIE, "")
    if token:
        core_auth.end_session(page.session, token)
    page.flash("info", page._("You have logged out."))
    response = page.redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _back(request: Request, fallback: str) -> str:
    """The page the switch was clicked on (from Referer, when it is one of ours)."""
    referer = request.headers.get("referer", "")
    if referer.startswith(str(request.base_url)):
        return safe_next("/" + referer[len(str(request.base_url)) :], fallback)
    return fallback


@router.post("/lang")
def switch_language(page: Public, data: Submitted) -> Response:
    """Switch the interface language (remembered in a cookie and, when logged in, in the profile)."""
    locale = data.get("locale")
    target = safe_next(str(data.get("next") or ""), _back(page.request, HOME if page.user else "/login"))
    if locale not in LOCALES:
        return page.redirect(target)
    if page.user is not None and page.actor is not None:
        update_user(page.session, actor=page.actor, user_id=page.user.id, locale=str(locale))
    response = page.redirect(target)
    response.set_cookie(
        LANG_COOKIE, str(locale), max_age=365 * 86400, samesite="lax", secure=is_https(page.request), path="/"
    )
    return response
