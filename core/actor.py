"""Who is acting: every core service takes an ``Actor`` and checks rights against it."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.models import Role, User


@dataclass(frozen=True)
class Actor:
    """A user (or the system) acting through some entry point (api, ui, bot, sync, cli)."""

    user_id: int | None
    role: Role
    team_ids: frozenset[int] = field(default_factory=frozenset)
    source: str = "api"
    name: str = ""

    @classmethod
    def of(cls, user: User, *, source: str = "api") -> Actor:
        """The actor for a logged-in user."""
        return cls(
            user_id=user.id,
            role=Role(user.role),
            team_ids=frozenset(t.id for t in user.teams),
            source=source,
            name=user.full_name,
        )

    @classmethod
    def system(cls, *, source: str = "sync") -> Actor:
        """The actor background work runs as: sees everything, attributed to no user."""
        return cls(user_id=None, role=Role.admin, source=source, name="system")

    @property
    def is_admin(self) -> bool:
        """True for admins and the system."""
        return self.role == Role.admin

    @property
    def sees_everything(self) -> bool:
        """Admins and auditors (the security service) read every client."""
        return self.role in (Role.admin, Role.auditor)
