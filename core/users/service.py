"""User and team administration; only admins change users, teams and roles."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import Role, Team, User
from core.normalize import normalize_email
from core.rights import require_role
from core.users.passwords import check_new_password, hash_password


def create_team(session: Session, *, actor: Actor, name: str, description: str = "") -> Team:
    """Create a team (direction of work); admins only."""
    require_role(actor)
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed.one("name", "is required")
    # Teams are few: compare in Python, where casefold() knows every alphabet (SQLite's lower() is ASCII-only).
    if any(existing.casefold() == name.casefold() for existing in session.scalars(select(Team.name))):
        raise Conflict(f"A team named '{name}' already exists")
    team = Team(name=name, description=description)
    session.add(team)
    session.flush()
    audit.record(session, actor=actor, action="create", entity_type="team", entity_id=team.id, summary=name)
    return team


def list_teams(session: Session, *, actor: Actor) -> list[Team]:
    """All teams (names are not secret: staff choose among them)."""
    return list(session.scalars(select(Team).order_by(Team.name)))


def _teams(session: Session, team_ids: list[int]) -> list[Team]:
    teams = list(session.scalars(select(Team).where(Team.id.in_(team_ids)))) if team_ids else []
    missing = set(team_ids) - {t.id for t in teams}
    if missing:
        raise ValidationFailed.one("team_ids", f"no such team(s): {', '.join(map(str, sorted(missing)))}")
    return teams


def create_user(
    session: Session,
    *,
    actor: Actor,
    email: str,
    full_name: str,
    password: str | None,
    role: Role = Role.staff,
    team_ids: list[int] | None = None,
    locale: str | None = None,
) -> User:
    """Create a user with a role and teams; admins only (and ``crmhub init`` as the system)."""
    require_role(actor)
    email = normalize_email(email)
    if not full_name.strip():
        raise ValidationFailed.one("full_name", "is required")
    if session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(f"A user with e-mail {email} already exists")
    if password is not None:
        check_new_password(password)
    user = User(
        email=email,
        full_name=full_name.strip(),
        role=Role(role),
        password_hash=hash_password(password) if password else None,
        locale=locale,
    )
    user.teams = _teams(session, team_ids or [])
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="user",
        entity_id=user.id,
        summary=email,
        changes={"role": [None, user.role], "teams": [None, sorted(t.id for t in user.teams)]},
    )
    return user


def get_user(session: Session, *, actor: Actor, user_id: int) -> User:
    """A user; admins read anyone, others only themselves and colleagues in their teams."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    if not actor.sees_everything and user.id != actor.user_id and not ({t.id for t in user.teams} & actor.team_ids):
        raise NotFound("User not found")
    return user


def list_users(session: Session, *, actor: Actor, include_inactive: bool = False) -> list[User]:
    """Users the actor may know of: everyone for admins, team colleagues for the rest."""
    stmt = select(User).order_by(User.full_name)
    if not include_inactive:
        stmt = stmt.where(User.is_active.is_(True))
    users = list(session.scalars(stmt))
    if actor.sees_everything:
        return users
    return [u for u in users if u.id == actor.user_id or ({t.id for t in u.teams} & actor.team_ids)]


def update_user(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    full_name: str | None = None,
    role: Role | None = None,
    team_ids: list[int] | None = None,
    is_active: bool | None = None,
    locale: str | None = None,
    telegram_user_id: int | None = None,
) -> User:
    """Change a user; admins change anything, a user only their own name and language."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    own = actor.user_id == user.id
    if not own or role is not None or team_ids is not None or is_active is not None:
        require_role(actor)
    if own and is_active is False:
        raise ValidationFailed.one("is_active", "you cannot deactivate yourself")
    before = {
        "full_name": user.full_name,
        "role": user.role,
        "is_active": user.is_active,
        "teams": sorted(t.id for t in user.teams),
        "locale": user.locale,
    }
    if full_name is not None:
        if not full_name.strip():
            raise ValidationFailed.one("full_name", "is required")
        user.full_name = full_name.strip()
    if role is not None:
        user.role = Role(role)
    if team_ids is not None:
        user.teams = _teams(session, team_ids)
    if is_active is not None:
        user.is_active = is_active
    if locale is not None:
        user.locale = locale or None
    if telegram_user_id is not None:
        user.telegram_user_id = telegram_user_id
    session.flush()
    after = {
        "full_name": user.full_name,
        "role": user.role,
        "is_active": user.is_active,
        "teams": sorted(t.id for t in user.teams),
        "locale": user.locale,
    }
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="user",
        entity_id=user.id,
        summary=user.email,
        changes=audit.diff(before, after),
    )
    return user


def set_password(session: Session, *, actor: Actor, user_id: int, password: str) -> None:
    """Set a user's password (admins for anyone, users for themselves); ends their other sessions."""
    from core.users.auth import end_all_sessions

    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    if actor.user_id != user.id:
        require_role(actor)
    check_new_password(password)
    user.password_hash = hash_password(password)
    end_all_sessions(session, user_id=user.id)
    audit.record(session, actor=actor, action="password", entity_type="user", entity_id=user.id, summary=user.email)
