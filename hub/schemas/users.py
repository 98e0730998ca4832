"""Schemas for users, teams, login and API tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from core.models import Role, User
from hub.schemas.common import Input, Output


class LoginIn(Input):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1000)


class TeamCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=1000)


class TeamRead(Output):
    id: int
    name: str
    description: str


class UserCreate(Input):
    email: str = Field(max_length=320)
    full_name: str = Field(min_length=1, max_length=200)
    password: str | None = Field(default=None, max_length=1000)
    role: Role = Role.staff
    team_ids: list[int] = Field(default_factory=list)
    locale: str | None = Field(default=None, pattern=r"^(en|ru)$")


class UserUpdate(Input):
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    team_ids: list[int] | None = None
    is_active: bool | None = None
    locale: str | None = Field(default=None, pattern=r"^(en|ru)?$")


class PasswordIn(Input):
    password: str = Field(max_length=1000)


class UserRead(Output):
    id: int
    email: str
    full_name: str
    role: Role
    is_active: bool
    locale: str | None
    team_ids: list[int]
    last_login_at: datetime | None

    @classmethod
    def of(cls, user: User) -> UserRead:
        """Build from the model."""
        return cls(
            id=user.id,
            email=user.email,
            full_name=user.full_name,
            role=user.role,
            is_active=user.is_active,
            locale=user.locale,
            team_ids=[t.id for t in user.teams],
            last_login_at=user.last_login_at,
        )


class TokenCreate(Input):
    name: str = Field(min_length=1, max_length=100)


class TokenRead(Output):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="The secret; shown only in this response")
