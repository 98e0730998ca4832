"""Error pages of the web UI: 404, 403, 400 and 500 that say what to do next, never a stack trace.

The API keeps its JSON errors: these handlers wrap the app's existing ones and answer in HTML
only for paths outside ``/api/``. A core ``NotFound`` (including a client of a team the user
does not work in) is the 404 page, so the page never confirms that a record exists. Nobody
logged in: the browser goes to the login page and comes back afterwards.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import CoreError, Forbidden, NotFound
from hub.web import pages
from hub.web.messages import translate
from hub.web.security import base_headers

log = logging.getLogger("crmhub.web")
Handler = Callable[[Request, Any], Awaitable[Response]]


def is_api(request: Request) -> bool:
    """True for API and static paths, which keep their own error format."""
    return request.url.path.startswith(("/api/", "/static/"))


def render_error(request: Request, status: int, *, message: str = "", reference: str = "") -> Response:
    """The error page for a status, in the user's language (a short text for htmx requests)."""
    page = pages.PublicPage(request, None, _user_of(request))
    if pages.is_htmx(request):
        short = {404: "Page not found", 403: "You cannot do this"}
        text = message or page._(short.get(status, "Something went wrong. Reload the page and try again."))
        return PlainTextResponse(text, status_code=status, headers={"HX-Reswap": "none"})
    try:
        return page.render("error.html", status=status, code=status, message=message, reference=reference)
    except Exception:  # noqa: BLE001 - the error page itself must never fail
        log.exception("could not render the error page")
        return HTMLResponse("<h1>Error</h1><p>Reload the page.</p>", status_code=status)


def _user_of(request: Request) -> Any:
    """The logged-in user, read afresh (the request's own session may have been rolled back)."""
    try:
        with request.app.state.db.session() as session:
            return pages.current_user(request, session)
    except Exception:  # noqa: BLE001 - an error page without the menu is better than none
        return None


def _login_redirect(request: Request) -> Response:
    """To the login page, coming back to the page asked for (htmx: the page it was on)."""
    current = request.headers.get("hx-current-url", "")
    if pages.is_htmx(request):
        target = current.split("://", 1)[-1].partition("/")[2] if current else ""
        return Response(status_code=204, headers={"HX-Redirect": pages.login_url("/" + target)})
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    next_path = path if request.method == "GET" else pages.HOME
    return RedirectResponse(pages.login_url(next_path), status_code=303)


def install(app: FastAPI) -> None:
    """Wrap the app's error handlers so that web paths get HTML pages."""
    api_http: Handler = app.exception_handlers[StarletteHTTPException]
    api_core: Handler = app.exception_handlers[CoreError]
    api_validation: Handler = app.exception_handlers[RequestValidationError]
    api_unexpected: Handler | None = app.exception_handlers.get(Exception)

    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_api(request):
            return await api_http(request, exc)
        if exc.status_code == 401:
            return _login_redirect(request)
        message = ""
        if isinstance(exc, pages.CsrfFailed):
            i18n = getattr(request.state, "i18n", None) or pages.i18n_for(request)
            message = i18n.gettext("This form has expired. Reload the page and send it again.")
        return render_error(request, exc.status_code, message=message)

    async def core_error(request: Request, exc: CoreError) -> Response:
        if is_api(request):
            return await api_core(request, exc)
        if isinstance(exc, NotFound):
            return render_error(request, 404)
        i18n = getattr(request.state, "i18n", None) or pages.i18n_for(request)
        return render_error(request, 403 if isinstance(exc, Forbidden) else 400, message=translate(exc.message, i18n))

    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if is_api(request):
            return await api_validation(request, exc)
        # A malformed id in the address is a page that does not exist; a bad parameter a bad link.
        in_path = any(err.get("loc", ("",))[0] == "path" for err in exc.errors())
        return render_error(request, 404 if in_path else 400)

    async def unexpected(request: Request, exc: Exception) -> Response:
        if is_api(request) and api_unexpected is not None:
            return await api_unexpected(request, exc)
        reference = uuid.uuid4().hex[:12]
        log.error("unhandled error ref=%s on %s %s", reference, request.method, request.url.path, exc_info=exc)
        response = render_error(request, 500, reference=reference)
        for name, value in base_headers(request.url.scheme == "https").items():
            response.headers.setdefault(name, value)
        return response

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(CoreError, core_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)
