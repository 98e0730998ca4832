"""Users and teams (admins change them; everyone may list colleagues and teams)."""

from __future__ import annotations

from fastapi import APIRouter

from core.users import service
from hub.deps import CurrentActor, DbSession
from hub.schemas.users import PasswordIn, TeamCreate, TeamRead, UserCreate, UserRead, UserUpdate

router = APIRouter(tags=["users"])


@router.get("/teams", response_model=list[TeamRead])
def list_teams(session: DbSession, actor: CurrentActor) -> list[TeamRead]:
    """All teams."""
    return [TeamRead.model_validate(t) for t in service.list_teams(session, actor=actor)]


@router.post("/teams", response_model=TeamRead, status_code=201)
def create_team(body: TeamCreate, session: DbSession, actor: CurrentActor) -> TeamRead:
    """Create a team (admins)."""
    return TeamRead.model_validate(service.create_team(session, actor=actor, **body.model_dump()))


@router.get("/users", response_model=list[UserRead])
def list_users(session: DbSession, actor: CurrentActor, include_inactive: bool = False) -> list[UserRead]:
    """Users the caller may know of."""
    return [UserRead.of(u) for u in service.list_users(session, actor=actor, include_inactive=include_inactive)]


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(body: UserCreate, session: DbSession, actor: CurrentActor) -> UserRead:
    """Create a user (admins)."""
    return UserRead.of(service.create_user(session, actor=actor, **body.model_dump()))


@router.get("/users/{user_id}", response_model=UserRead)
def get_user(user_id: int, session: DbSession, actor: CurrentActor) -> UserRead:
    """One user."""
    return UserRead.of(service.get_user(session, actor=actor, user_id=user_id))


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(user_id: int, body: UserUpdate, session: DbSession, actor: CurrentActor) -> UserRead:
    """Change a user (admins; users their own name and language)."""
    return UserRead.of(
        service.update_user(session, actor=actor, user_id=user_id, **body.model_dump(exclude_unset=True))
    )


@router.put("/users/{user_id}/password", status_code=204)
def set_password(user_id: int, body: PasswordIn, session: DbSession, actor: CurrentActor) -> None:
    """Set a password (admins for anyone, users for themselves)."""
    service.set_password(session, actor=actor, user_id=user_id, password=body.password)
