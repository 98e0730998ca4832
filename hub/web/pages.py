"""The page helper every web view uses: templates, the logged-in page context, rendering, redirects.

A view depends on ``Page`` (a user must be logged in; otherwise the browser is sent to
``/login?next=...``), ``AdminPage`` (admins only; anyone else gets the 404 page) or
``PublicPage`` (login and error pages). It gets the database session, the actor (rights are
checked by the core services it calls, exactly as for the API), the language and the CSRF
token, and answers with ``page.render(...)`` or ``page.redirect(...)``::

    router = web_router()

    @router.get("/things")
    def things(page: Page) -> Response:
        items = core_service.list_things(page.session, actor=page.actor)
        return page.render("things/list.html", items=items, partials={"results": "things/_table.html"})

The htmx pattern: one URL serves the full page and, for an htmx request whose ``hx-target``
is a key of ``partials``, only that fragment. Links and forms keep working without script,
reloading and bookmarking the URL give the full page, and ``hx-push-url`` keeps the address
bar true.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from sqlalchemy.orm import Session

from core.actor import Actor
from core.models import User
from core.normalize import format_phone
from core.users.auth import user_for_session
from hub.csrf import CSRF_FIELD, CSRF_HEADER, SAFE_METHODS, csrf_token, csrf_valid, set_csrf_cookie
from hub.deps import SESSION_COOKIE, get_session
from hub.web import flash, messages, nav
from hub.web.i18n import LANG_COOKIE, LANGUAGE_NAMES, LOCALES, TZ_COOKIE, I18n, negotiate, zone

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
HOME = "/my-day"


class LoginRequired(HTTPException):
    """Nobody is logged in: pages redirect to the login form, htmx requests get HX-Redirect."""

    def __init__(self) -> None:
        super().__init__(status_code=401, detail="Log in to continue")


class CsrfFailed(HTTPException):
    """A form or htmx request came without a valid CSRF token."""

    def __init__(self) -> None:
        super().__init__(status_code=403, detail="The form has expired; reload the page and send it again")


@lru_cache(maxsize=256)
def _static_version(path: str) -> str:
    file = STATIC / path
    return hashlib.sha256(file.read_bytes()).hexdigest()[:10] if file.is_file() else "0"


def static_url(path: str) -> str:
    """The URL of a static file, with a content hash so browsers may cache it for long."""
    return f"/static/{path}?v={_static_version(path)}"


@pass_context
def _gettext(context: Context, message: str) -> str:
    """Jinja's ``_()``: the message in the language of the page being rendered (formatted by Jinja)."""
    return context["i18n"].translations.gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    """Jinja's ``ngettext()`` in the language of the page being rendered."""
    return context["i18n"].translations.ngettext(singular, plural, n)


def _i18n_filter(method: str) -> Any:
    @pass_context
    def apply(context: Context, value: Any, *args: Any) -> str:
        return getattr(context["i18n"], method)(value, *args)

    return apply


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment: autoescaping on, gettext from the request's language."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["static"] = static_url
    env.globals["dup_match"] = messages.duplicate_match
    env.globals["dup_name"] = messages.duplicate_name
    for name in ("date", "datetime", "time", "ago", "number", "money", "percent", "size"):
        env.filters[name] = _i18n_filter(name)
    env.filters["phone"] = format_phone
    env.filters["pairs"] = lambda values: [(v, v) for v in values]
    return env


def is_htmx(request: Request) -> bool:
    """True for a request htmx made (not a history restore, which wants the whole page)."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-history-restore-request") != "true"


def safe_next(target: str | None, default: str = HOME) -> str:
    """A local path to go back to after login; anything pointing elsewhere becomes ``default``."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or any(c in target for c in "\r\n"):
        return default
    return target


def current_user(request: Request, session: Session) -> User | None:
    """The user behind the browser's session cookie, or None."""
    token = request.cookies.get(SESSION_COOKIE, "")
    user = user_for_session(session, token) if token else None
    request.state.user = user
    return user


def i18n_for(request: Request, user: User | None = None) -> I18n:
    """The language and time zone of this request."""
    settings = request.app.state.settings
    locale = negotiate(
        user.locale if user else None, request.cookies.get(LANG_COOKIE), request.headers.get("accept-language", "")
    )
    return I18n(locale, zone(request.cookies.get(TZ_COOKIE)), settings.default_currency)


class PublicPage:
    """What every page view has: request, database session, language, rendering."""

    session: Session

    def __init__(self, request: Request, session: Session | None, user: User | None) -> None:
        """``session`` is None only for error pages, which read nothing from the database."""
        self.request = request
        if session is not None:
            self.session = session
        self.user = user
        self.actor: Actor | None = Actor.of(user, source="ui") if user else None
        self.i18n = i18n_for(request, user)
        request.state.i18n = self.i18n

    def _(self, message: str, **variables: object) -> str:
        """Translate a message into the page's language."""
        return self.i18n.gettext(message, **variables)

    def flash(self, level: str, message: str) -> None:
        """Show a message on the next page (after a redirect) or on this one."""
        flash.add(self.request, level, message)

    def context(self) -> dict[str, Any]:
        """What every template sees."""
        request, actor = self.request, self.actor
        return {
            "request": request,
            "page": self,
            "i18n": self.i18n,
            "locale": self.i18n.locale,
            "languages": [(code, LANGUAGE_NAMES[code]) for code in LOCALES],
            "user": self.user,
            "actor": actor,
            "csrf_token": csrf_token(request),
            "csrf_field": CSRF_FIELD,
            "nav_main": nav.items_for(actor) if actor else [],
            "nav_admin": nav.items_for(actor, "admin") if actor else [],
            "nav_active": nav.active_key(request.url.path),
            "path": request.url.path,
            "full_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            "htmx": is_htmx(request),
            "now": datetime.now(UTC),
        }

    def render(
        self,
        template: str,
        *,
        status: int = 200,
        partials: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """Render a page, or only the fragment an htmx request targets (see ``partials``)."""
        target = self.request.headers.get("hx-target", "")
        partial = (partials or {}).get(target) if is_htmx(self.request) else None
        ctx = self.context()
        ctx["flashes"] = [] if partial else flash.pop(self.request)
        ctx.update(context)
        html = environment().get_template(partial or template).render(ctx)
        response = HTMLResponse(html, status_code=status, headers=headers)
        response.headers.setdefault("Cache-Control", "no-cache, private")
        response.headers["Vary"] = "HX-Request, HX-Target, Cookie, Accept-Language"
        self.finish(response)
        return response

    def redirect(self, url: str, *, status: int = 303) -> Response:
        """Go to another page (htmx requests get ``HX-Redirect`` so the whole page changes)."""
        if is_htmx(self.request):
            response: Response = Response(status_code=204, headers={"HX-Redirect": url})
        else:
            response = RedirectResponse(url, status_code=status)
        self.finish(response)
        return response

    def finish(self, response: Response) -> None:
        """Store queued flash messages and the pre-login CSRF cookie on the response."""
        flash.store(self.request, response)
        set_csrf_cookie(self.request, response)


class LoggedInPage(PublicPage):
    """A page of a logged-in user; ``actor`` is always set."""

    actor: Actor
    user: User

    def __init__(self, request: Request, session: Session, user: User) -> None:
        super().__init__(request, session, user)
        self.actor = Actor.of(user, source="ui")


# The page's transaction ends (commits, or rolls back on error) before the response is sent
# ("function" scope), so the browser never follows a redirect to a page that cannot see yet
# what the form just saved.
PageSession = Annotated[Session, Depends(get_session, scope="function")]


def _public_page(request: Request, session: PageSession) -> PublicPage:
    return PublicPage(request, session, current_user(request, session))


def _page(request: Request, session: PageSession) -> LoggedInPage:
    user = current_user(request, session)
    if user is None:
        raise LoginRequired()
    return LoggedInPage(request, session, user)


def _admin_page(page: Annotated[LoggedInPage, Depends(_page)]) -> LoggedInPage:
    if not page.actor.is_admin:
        raise HTTPException(status_code=404, detail="Not found")
    return page


Page = Annotated[LoggedInPage, Depends(_page)]
AdminPage = Annotated[LoggedInPage, Depends(_admin_page)]
Public = Annotated[PublicPage, Depends(_public_page)]


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing request without this session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    token = request.headers.get(CSRF_HEADER, "")
    if not token:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else ""
    if not csrf_valid(request, token):
        raise CsrfFailed()


def web_router() -> APIRouter:
    """A router for web pages: HTML answers, CSRF checked on every non-GET request, not in the API schema."""
    return APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False, default_response_class=HTMLResponse)


def login_url(next_path: str) -> str:
    """The login page that comes back to ``next_path``."""
    return "/login?next=" + quote(safe_next(next_path), safe="/")
