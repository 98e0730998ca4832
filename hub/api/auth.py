"""Logging in and out, who am I, and personal API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from core.errors import CoreError
from core.users import auth
from hub.csrf import CSRF_HEADER, csrf_token, csrf_token_for_session
from hub.deps import SESSION_COOKIE, CurrentActor, DbSession
from hub.errors import core_error_body, status_of
from hub.schemas.users import LoginIn, TokenCreate, TokenCreated, TokenRead, UserRead

router = APIRouter(tags=["auth"])


def client_ip(request: Request) -> str:
    """The caller's address (the direct peer; no proxy headers are trusted)."""
    return request.client.host if request.client else ""


@router.post("/auth/login", response_model=UserRead)
def login(body: LoginIn, request: Request, response: Response, session: DbSession) -> UserRead | JSONResponse:
    """Log in with e-mail and password; sets the session cookie.

    The ``X-CSRF-Token`` response header carries the token that writes with this cookie must send.
    """
    try:
        user = auth.authenticate(session, email=body.email, password=body.password, client_ip=client_ip(request))
    except (auth.LoginFailed, auth.LoginThrottled) as exc:
        session.commit()  # keep the failure count
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, auth.LoginThrottled) else None
        return JSONResponse(core_error_body(exc), status_code=status_of(exc), headers=headers)
    settings = request.app.state.settings
    token = auth.start_session(
        session, user=user, days=settings.session_days, user_agent=request.headers.get("user-agent", "")
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    response.headers[CSRF_HEADER] = csrf_token_for_session(request, token)
    return UserRead.of(user)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, response: Response, session: DbSession, actor: CurrentActor) -> None:
    """End the current web session."""
    auth.end_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", response_model=UserRead)
def me(request: Request, response: Response, actor: CurrentActor) -> UserRead:
    """The logged-in user (with the session's CSRF token in ``X-CSRF-Token`` when logged in by cookie)."""
    if actor.source == "ui":
        response.headers[CSRF_HEADER] = csrf_token(request)
    return UserRead.of(request.state.user)


@router.get("/me/tokens", response_model=list[TokenRead])
def my_tokens(session: DbSession, actor: CurrentActor) -> list[TokenRead]:
    """My API tokens (never their secrets)."""
    return [TokenRead.model_validate(t) for t in auth.list_api_tokens(session, actor=actor)]


@router.post("/me/tokens", response_model=TokenCreated, status_code=201)
def create_token(body: TokenCreate, session: DbSession, actor: CurrentActor) -> TokenCreated:
    """Create an API token; its secret is in this response only."""
    token, secret = auth.create_api_token(session, actor=actor, name=body.name)
    return TokenCreated(**TokenRead.model_validate(token).model_dump(), token=secret)


@router.delete("/me/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, session: DbSession, actor: CurrentActor) -> None:
    """Revoke an API token."""
    auth.revoke_api_token(session, actor=actor, token_id=token_id)


__all__ = ["router", "CoreError"]
