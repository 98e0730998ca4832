"""Fixtures of the web UI tests: a browser-like client that logs in through the form, and demo data."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.db import Database
from core.models import User
from core.users.auth import start_session
from hub.cookies import SESSION_COOKIE
from tests.conftest import PASSWORD
from tests.web.demo import Demo, seed

META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class WebClient:
    """A TestClient that behaves like a browser: cookies, the CSRF token from the page, form posts."""

    def __init__(self, app: Any, *, https: bool = False, headers: dict[str, str] | None = None) -> None:
        self.http = TestClient(
            app,
            base_url="https://testserver" if https else "http://testserver",
            raise_server_exceptions=False,
            follow_redirects=False,
            headers=headers or {},
        )
        self.token = ""

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        """GET a page and remember its CSRF token."""
        response = self.http.get(url, **kwargs)
        match = META_TOKEN.search(response.text)
        if match:
            self.token = match.group(1)
        return response

    def post(self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any) -> httpx.Response:
        """POST a form, with the CSRF token of the last page seen (unless ``csrf=False``)."""
        if csrf and not self.token:
            self.get("/login")
        body = dict(data or {})
        if csrf:
            body.setdefault("csrf_token", self.token)
        response = self.http.post(url, data=body, **kwargs)
        match = META_TOKEN.search(response.text)
        if match:
            self.token = match.group(1)
        return response

    def login(self, email: str, password: str = PASSWORD) -> WebClient:
        """Log in through the login form (checks the password: slow, as Argon2 is)."""
        self.get("/login")
        response = self.post("/login", {"email": email, "password": password})
        assert response.status_code == 303, response.text
        self.get("/organizations")
        return self

    def enter(self, db: Database, email: str) -> WebClient:
        """Be logged in as a user: a session opened by core, its cookie set (fast; no password check)."""
        with db.session() as s:
            user = s.scalars(select(User).where(User.email == email)).one()
            token = start_session(s, user=user, days=1)
        self.http.cookies.set(SESSION_COOKIE, token)
        self.get("/organizations")
        return self


class PageParts(HTMLParser):
    """Collects what the security tests look at: scripts, inline handlers and styles, links."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline_script_text: list[str] = []
        self.handlers: list[tuple[str, str]] = []
        self.style_attrs: list[str] = []
        self.style_tags = 0
        self.js_urls: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note scripts, on* attributes, style attributes and javascript: URLs."""
        values = dict(attrs)
        if tag == "script":
            self.scripts.append(values)
            self._in_script = True
        if tag == "style":
            self.style_tags += 1
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append((tag, name))
            if name == "style":
                self.style_attrs.append(tag)
            if name in ("href", "src", "action") and value and value.strip().lower().startswith("javascript:"):
                self.js_urls.append(value)

    def handle_endtag(self, tag: str) -> None:
        """Leave a script."""
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        """Text inside a script tag is an inline script."""
        if self._in_script and data.strip():
            self.inline_script_text.append(data)


def page_parts(html: str) -> PageParts:
    """Parse a page for the security checks."""
    parser = PageParts()
    parser.feed(html)
    return parser


@pytest.fixture
def demo(db: Database) -> Demo:
    """Two teams with users, clients and a history."""
    return seed(db)


@pytest.fixture
def web(app: Any, db: Database):  # noqa: ANN201
    """A factory of browser-like clients: ``web()`` anonymous, ``web("ivan@...")`` logged in."""

    def make(email: str | None = None, **kwargs: Any) -> WebClient:
        client = WebClient(app, **kwargs)
        return client.enter(db, email) if email else client

    return make
