"""Flash messages: one-time notes ("Saved", "Deleted") shown on the page after a redirect.

They travel in a short signed cookie (itsdangerous), already translated, and are shown and
cleared by the next page rendered. Never put a secret in a flash message: show a secret on
the page that made it instead.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, URLSafeSerializer

from hub.csrf import is_https, secret_key

FLASH_COOKIE = "crmhub_flash"
LEVELS = ("success", "info", "warning", "error")
MAX_MESSAGES = 5


def add(request: Request, level: str, message: str) -> None:
    """Queue a message for the next page this browser sees."""
    pending: list[list[str]] = request.state.__dict__.setdefault("pending_flash", [])
    pending.append([level if level in LEVELS else "info", message[:500]])


def _serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key(request), salt="crmhub.flash")


def pop(request: Request) -> list[dict[str, str]]:
    """The messages waiting for this page (from the cookie and from this request), consumed."""
    out: list[list[str]] = []
    raw = request.cookies.get(FLASH_COOKIE, "")
    if raw:
        try:
            out = list(_serializer(request).loads(raw))
        except (BadSignature, ValueError, TypeError):
            out = []
        request.state.clear_flash = True
    out += request.state.__dict__.pop("pending_flash", [])
    return [{"level": str(level), "message": str(text)} for level, text in out[-MAX_MESSAGES:]]


def store(request: Request, response: Any) -> None:
    """Save queued messages in the cookie (on a redirect), or clear a consumed cookie."""
    pending = request.state.__dict__.pop("pending_flash", [])
    if pending:
        value = _serializer(request).dumps(pending[-MAX_MESSAGES:])
        response.set_cookie(FLASH_COOKIE, value, httponly=True, samesite="lax", secure=is_https(request), path="/")
    elif getattr(request.state, "clear_flash", False):
        response.delete_cookie(FLASH_COOKIE, path="/")
