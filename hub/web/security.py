"""Security headers of every response: CSP and friends.

CSP allows only our own scripts, styles and images (plus ``data:`` images): no inline script,
no inline style, no inline event handler anywhere, so an injected ``<script>`` or
``onerror=`` cannot run even if escaping ever failed. A response may set its own policy (the
sandboxed e-mail body does); the middleware fills in only what is missing. CSRF tokens live
in ``hub.csrf``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
# The API's interactive docs load Swagger UI from a CDN with an inline script.
NO_CSP_PATHS = ("/api/v1/docs", "/api/v1/docs/oauth2-redirect")


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
