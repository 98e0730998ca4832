"""The web UI: server-rendered pages (Jinja2 + htmx), in Russian and English, on the core services.

Map of the package:

- ``pages``: the page helper (``Page``/``AdminPage``/``Public`` dependencies, ``render``,
  ``redirect``, the htmx partial pattern, ``web_router()`` with CSRF on every form);
- ``forms``, ``tables``, ``flash``, ``nav``: form fields with errors, pagination and sortable
  headers, one-time messages, the menu registry; templates ``_forms.html``, ``_tables.html``;
- ``security``: CSP and other headers, CSRF tokens; ``errors``: 404/403/400/500 pages;
- ``i18n``, ``messages``: catalogs (``locale/``), locale choice and formatting, core's error
  sentences translated;
- one module per page group: ``auth`` (login, logout, language), ``organizations``,
  ``persons`` and ``card`` (+ ``card_data``, ``mailview``, ``history``; shared bits in
  ``clients``), ``search``, ``me``, ``admin`` (users, teams; ``admin_fields``, ``admin_pipelines``,
  ``admin_blocklist``, ``admin_audit``); the sync console: ``sync_console`` (accounts, runs, skipped
  items; words in ``sync_words``) and ``sync_imap`` (the IMAP account form); the daily work:
  ``contact_log`` (log a contact and plan the next), ``myday``, ``calendar_view``, ``pipeline``,
  ``merge`` (shared bits in ``planning``); ``lists`` (segments and groups from the client lists).

A new page group is a module with ``router = web_router()``, its ``nav.add(...)`` entry and
templates under ``templates/<area>/``, listed in ``PAGE_MODULES`` below.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from hub.web.pages import STATIC
from hub.web.security import SecurityHeadersMiddleware

PAGE_MODULES = (
    "hub.web.auth",
    "hub.web.search",
    "hub.web.organizations",
    "hub.web.persons",
    "hub.web.lists",
    "hub.web.contact_log",
    "hub.web.myday",
    "hub.web.calendar_view",
    "hub.web.pipeline",
    "hub.web.merge",
    "hub.web.me",
    "hub.web.admin",
    "hub.web.admin_fields",
    "hub.web.admin_pipelines",
    "hub.web.admin_blocklist",
    "hub.web.admin_audit",
    "hub.web.sync_console",
    "hub.web.sync_imap",
)


class VersionedStatic(StaticFiles):
    """Static files; a URL with a content hash (``?v=...``) may be cached for a year."""

    async def get_response(self, path: str, scope: Scope) -> Any:
        """The file, with a long cache lifetime when the URL is versioned."""
        response = await super().get_response(path, scope)
        if b"v=" in scope.get("query_string", b"") and response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def install(app: FastAPI) -> None:
    """Add the web UI to the app: security headers, static files, HTML error pages, the pages."""
    from hub.web import errors

    app.add_middleware(SecurityHeadersMiddleware)
    app.mount("/static", VersionedStatic(directory=STATIC), name="static")
    errors.install(app)
    for name in PAGE_MODULES:
        app.include_router(import_module(name).router)
