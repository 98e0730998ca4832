"""Security of the web UI: response headers (CSP and friends) and CSRF tokens.

CSP allows only our own scripts, styles and images (plus ``data:`` images): no inline script,
no inline style, no inline event handler anywhere, so an injected ``<script>`` or
``onerror=`` cannot run even if escaping ever failed. A response may set its own policy (the
sandboxed e-mail body does); the middleware fills in only what is missing.

CSRF: every state-changing request of the web UI must carry a token, as the ``csrf_token``
form field or the ``X-CSRF-Token`` header (our script makes htmx send it). The token is an
HMAC (itsdangerous, keyed by ``settings.secret_key``) of the session cookie, so it is per
session and needs no storage. Before login there is no session yet; a random ``crmhub_csrf``
cookie stands in for it, so the login form is protected too.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, Signer

from hub.deps import SESSION_COOKIE

log = logging.getLogger("crmhub.web")

CSRF_COOKIE = "crmhub_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
# The API's interactive docs load Swagger UI from a CDN with an inline script.
NO_CSP_PATHS = ("/api/v1/docs", "/api/v1/docs/oauth2-redirect")

_fallback_key = secrets.token_urlsafe(32)


def secret_key(request: Request) -> str:
    """The key that signs CSRF tokens and flash cookies (a per-process one when none is configured)."""
    key = request.app.state.settings.secret_key.get_secret_value()
    if not key:
        if not getattr(request.app.state, "warned_secret", False):
            log.warning("secret_key is not set: CSRF tokens and messages last only until the hub restarts")
            request.app.state.warned_secret = True
        return _fallback_key
    return key


def is_https(request: Request) -> bool:
    """True when the request came over TLS (or the admin says cookies must be Secure)."""
    return request.url.scheme == "https" or bool(request.app.state.settings.secure_cookies)


def _signer(request: Request) -> Signer:
    return Signer(secret_key(request), salt="crmhub.csrf", digest_method=hashlib.sha256)


def _binding(request: Request) -> str:
    """What the token is bound to: the session cookie, else the pre-login random cookie."""
    session = request.cookies.get(SESSION_COOKIE, "")
    if session:
        return "s:" + session
    seed = request.cookies.get(CSRF_COOKIE, "") or getattr(request.state, "new_csrf_seed", "")
    if not seed:
        seed = secrets.token_urlsafe(24)
        request.state.new_csrf_seed = seed
    return "a:" + seed


def csrf_token(request: Request) -> str:
    """The CSRF token for forms and htmx requests of this browser session."""
    return _signer(request).get_signature(_binding(request)).decode()


def csrf_valid(request: Request, token: str) -> bool:
    """True when the token belongs to this browser session."""
    has_binding = request.cookies.get(SESSION_COOKIE) or request.cookies.get(CSRF_COOKIE)
    if not token or not has_binding:
        return False
    try:
        return _signer(request).verify_signature(_binding(request), token)
    except BadSignature:
        return False


def set_csrf_cookie(request: Request, response: Any) -> None:
    """Send the pre-login CSRF cookie when this request had to make one."""
    seed = getattr(request.state, "new_csrf_seed", "")
    if seed:
        response.set_cookie(CSRF_COOKIE, seed, httponly=True, samesite="lax", secure=is_https(request), path="/")


def base_headers(https: bool) -> dict[str, str]:
    """The headers every response gets unless it set its own."""
    headers = {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SecurityHeadersMiddleware:
    """Adds CSP and the other protective headers to every HTTP response that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap ``send`` to add the headers when the response starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        extra = base_headers(scope.get("scheme") == "https")
        if path in NO_CSP_PATHS:
            extra.pop("Content-Security-Policy")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                present = {k.decode("latin-1").lower() for k, _ in raw}
                for name, value in extra.items():
                    if name.lower() not in present:
                        raw.append((name.lower().encode("latin-1"), value.encode("latin-1")))
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, send_with_headers)
