"""Proving who someone is: password login with throttling, web sessions and API tokens.

Session cookies and API tokens are random strings; only their SHA-256 is stored, so a
stolen database does not log anyone in. Failed logins are counted per e-mail and per client
address; after ``MAX_FAILURES`` within ``WINDOW`` the key is locked for ``LOCK`` and even
the right password is refused until then (the message says when to try again).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.db import utcnow
from core.errors import CoreError, NotFound, ValidationFailed
from core.models import ApiToken, LoginAttempt, User, UserSession
from core.users.passwords import verify_password

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=5)
TOKEN_PREFIX = "crm_"  # noqa: S105 - a public prefix, not a secret


class LoginFailed(CoreError):
    """Wrong e-mail or password (the message never says which)."""

    code = "login_failed"


class LoginThrottled(CoreError):
    """Too many failed logins; try again later."""

    code = "throttled"

    def __init__(self, until: datetime) -> None:
        self.until = until
        seconds = max(1, int((until - utcnow()).total_seconds()))
        super().__init__(f"Too many failed attempts. Try again in {max(1, round(seconds / 60))} min.")
        self.retry_after = seconds


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _attempt(session: Session, key: str) -> LoginAttempt:
    row = session.scalars(select(LoginAttempt).where(LoginAttempt.key == key)).first()
    if row is None:
        row = LoginAttempt(key=key, failures=0, window_started_at=utcnow())
        session.add(row)
        session.flush()
    return row


def authenticate(session: Session, *, email: str, password: str, client_ip: str = "") -> User:
    """The user for these credentials, or LoginFailed / LoginThrottled."""
    keys = [f"email:{email.strip().lower()}"] + ([f"ip:{client_ip}"] if client_ip else [])
    now = utcnow()
    attempts = [_attempt(session, k) for k in keys]
    for a in attempts:
        if a.locked_until and a.locked_until > now:
            raise LoginThrottled(a.locked_until)
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    ok = verify_password(password, user.password_hash if user else None)
    if not ok or user is None or not user.is_active:
        for a in attempts:
            if now - a.window_started_at > WINDOW:
                a.failures, a.window_started_at = 0, now
            a.failures += 1
            if a.failures >= MAX_FAILURES:
                a.locked_until, a.failures, a.window_started_at = now + LOCK, 0, now
        raise LoginFailed("Wrong e-mail or password")
    for a in attempts:
        a.failures, a.locked_until = 0, None
    user.last_login_at = now
    return user


def start_session(session: Session, *, user: User, days: int, user_agent: str = "") -> str:
    """Open a web session for the user; returns the cookie value (shown only now)."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            user_id=user.id,
            token_hash=_digest(token),
            expires_at=utcnow() + timedelta(days=days),
            user_agent=user_agent[:300],
        )
    )
    audit.record(
        session,
        actor=Actor.of(user, source="ui"),
        action="login",
        entity_type="user",
        entity_id=user.id,
        summary=user.email,
    )
    return token


def user_for_session(session: Session, token: str) -> User | None:
    """The active user behind a session cookie, or None when it is unknown or expired."""
    if not token:
        return None
    row = session.scalars(select(UserSession).where(UserSession.token_hash == _digest(token))).first()
    now = utcnow()
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if now - row.last_seen_at > timedelta(minutes=5):
        row.last_seen_at = now
    return user


def end_session(session: Session, token: str) -> None:
    """Log out one web session."""
    session.execute(delete(UserSession).where(UserSession.token_hash == _digest(token)))


def end_all_sessions(session: Session, *, user_id: int) -> None:
    """Log out every web session of a user (after a password change or deactivation)."""
    session.execute(delete(UserSession).where(UserSession.user_id == user_id))


def create_api_token(session: Session, *, actor: Actor, name: str) -> tuple[ApiToken, str]:
    """A new personal API token for the actor; the secret is returned once and never stored."""
    if actor.user_id is None:
        raise ValidationFailed.one("user", "the system has no tokens")
    name = " ".join(name.split())[:100]
    if not name:
        raise ValidationFailed.one("name", "give the token a name (what script uses it)")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.user_id, name=name, prefix=secret[:10], token_hash=_digest(secret))
    session.add(token)
    session.flush()
    audit.record(session, actor=actor, action="create", entity_type="api_token", entity_id=token.id, summary=name)
    return token, secret


def list_api_tokens(session: Session, *, actor: Actor) -> list[ApiToken]:
    """The actor's own tokens, newest first (never their secrets)."""
    stmt = select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.id.desc())
    return list(session.scalars(stmt))


def revoke_api_token(session: Session, *, actor: Actor, token_id: int) -> None:
    """Revoke one of the actor's tokens (admins may revoke anyone's)."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.user_id and not actor.is_admin):
        raise NotFound("Token not found")
    token.revoked_at = token.revoked_at or utcnow()
    audit.record(session, actor=actor, action="revoke", entity_type="api_token", entity_id=token.id, summary=token.name)


def user_for_api_token(session: Session, secret: str) -> User | None:
    """The active user behind an API token, or None when unknown or revoked."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == _digest(secret))).first()
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now
    return user
