"""CSRF tokens for the web UI and for the API when it is called with the session cookie.

Every state-changing request authenticated by the session cookie must carry a token, as the
``csrf_token`` form field or the ``X-CSRF-Token`` header (our script makes htmx and fetch send
it). The token is an HMAC (itsdangerous, keyed by ``settings.secret_key``) of the session
cookie, so it is per session and needs no storage. Before login there is no session yet; a
random ``crmhub_csrf`` cookie stands in for it, so the login form is protected too. Requests
with an API token (``Authorization: Bearer``) need no CSRF token: a browser never adds that
header by itself.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, Signer

from hub.cookies import CSRF_COOKIE, SESSION_COOKIE

log = logging.getLogger("crmhub.web")

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

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


def csrf_token_for_session(request: Request, session_token: str) -> str:
    """The CSRF token that will belong to a session just started (its cookie is not sent back yet)."""
    return _signer(request).get_signature("s:" + session_token).decode()


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
