"""Request dependencies: the database session and the authenticated actor.

Every endpoint gets its actor from ``current_actor``: a Bearer API token for scripts, or the
session cookie of the web UI. There is no anonymous actor; public endpoints (health, login,
unsubscribe links) simply do not depend on it. A write authenticated by the session cookie must
also carry the CSRF token (``hub.csrf``), so another site cannot make a logged-in browser call the
API; API tokens need none.

The session is committed before the response is sent (``scope="function"``): a client that
reads right after a write sees it, and a failed commit is an error response, not a lost write.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from core.actor import Actor
from core.db import Database
from core.models import User
from core.users.auth import user_for_api_token, user_for_session
from hub.cookies import SESSION_COOKIE
from hub.csrf import CSRF_HEADER, csrf_valid


def get_db(request: Request) -> Database:
    """The app's database."""
    return request.app.state.db


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

__all__ = ["SESSION_COOKIE", "CurrentActor", "DbSession", "current_actor", "get_db", "get_session"]


def get_session(request: Request) -> Iterator[Session]:
    """A session for one request: committed when the endpoint returns, rolled back on error.

    Requests that may write take the write lock up front on SQLite (``Database.session``).
    """
    db: Database = request.app.state.db
    with db.session(write=request.method not in SAFE_METHODS) as session:
        yield session


DbSession = Annotated[Session, Depends(get_session, scope="function")]


def authenticated_user(request: Request, session: Session) -> tuple[User, str] | None:
    """The user behind the request's API token or session cookie, with the entry point's name."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = user_for_api_token(session, header[7:].strip())
        return (user, "api") if user else None
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if cookie:
        user = user_for_session(session, cookie)
        return (user, "ui") if user else None
    return None


def current_actor(request: Request, session: DbSession) -> Actor:
    """The actor for this request, or 401 when nobody is logged in."""
    found = authenticated_user(request, session)
    if found is None:
        raise HTTPException(
            status_code=401,
            detail="Log in, or send an API token as 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    user, source = found
    csrf_needed = source == "ui" and request.method not in SAFE_METHODS
    if csrf_needed and not csrf_valid(request, request.headers.get(CSRF_HEADER, "")):
        raise HTTPException(
            status_code=403,
            detail="Send the page's CSRF token as the X-CSRF-Token header, or use an API token",
        )
    request.state.user = user
    return Actor.of(user, source=source)


CurrentActor = Annotated[Actor, Depends(current_actor)]
