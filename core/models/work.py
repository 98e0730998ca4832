"""The work with clients: interactions (what happened) and tasks (what is planned)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow


class Direction(enum.StrEnum):
    """Who started an interaction."""

    incoming = "incoming"
    outgoing = "outgoing"
    none = "none"


class InteractionKind(Base):
    """A kind of interaction (call, meeting, e-mail...), editable by admins."""

    __tablename__ = "interaction_kinds"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_ru: Mapped[str] = mapped_column(String(100), default="")
    direction: Mapped[Direction] = mapped_column(String(10), default=Direction.none)
    color: Mapped[str] = mapped_column(String(20), default="#64748b")
    is_active: Mapped[bool] = mapped_column(default=True)


class InteractionResult(Base):
    """A result of an interaction; may move the client or deal to a stage, may be a refusal."""

    __tablename__ = "interaction_results"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_ru: Mapped[str] = mapped_column(String(100), default="")
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id", ondelete="SET NULL"))
    is_refusal: Mapped[bool] = mapped_column(default=False)
    ends_work: Mapped[bool] = mapped_column(default=False)
    """True when no next contact is expected (signed, refused)."""
    is_active: Mapped[bool] = mapped_column(default=True)


class Interaction(Base):
    """Something that happened with a client: a call, a meeting, an e-mail, a note."""

    __tablename__ = "interactions"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind_id: Mapped[int] = mapped_column(ForeignKey("interaction_kinds.id"))
    direction: Mapped[Direction] = mapped_column(String(10), default=Direction.none)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    subject: Mapped[str] = mapped_column(String(998), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    result_id: Mapped[int | None] = mapped_column(ForeignKey("interaction_results.id", ondelete="SET NULL"))
    refusal_reason: Mapped[str] = mapped_column(String(500), default="")
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id", ondelete="SET NULL"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(20), default="manual")
    external_id: Mapped[str | None] = mapped_column(String(998))
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    """SHA-256 of (source, external id, organization, person) for imported rows: a connector that
    imports the same call or message twice, or two workers racing, cannot make a second copy."""
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("mail_messages.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[InteractionKind] = relationship(lazy="joined")
    result: Mapped[InteractionResult | None] = relationship(lazy="joined")
    __table_args__ = (
        Index("ix_interactions_external", "source", "external_id"),
        CheckConstraint("organization_id IS NOT NULL OR person_id IS NOT NULL", name="has_client"),
    )


class TaskStatus(enum.StrEnum):
    """Where a task is."""

    open = "open"
    done = "done"
    cancelled = "cancelled"


class Priority(enum.StrEnum):
    """How urgent a task is."""

    low = "low"
    normal = "normal"
    high = "high"


class Task(Base):
    """A task or planned contact with a client, with a due time and a responsible user."""

    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    kind_id: Mapped[int | None] = mapped_column(ForeignKey("interaction_kinds.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column(index=True)
    duration_minutes: Mapped[int] = mapped_column(default=30)
    remind_at: Mapped[datetime | None] = mapped_column(index=True)
    status: Mapped[TaskStatus] = mapped_column(String(10), default=TaskStatus.open, index=True)
    priority: Mapped[Priority] = mapped_column(String(10), default=Priority.normal)
    percent_done: Mapped[int] = mapped_column(default=0)
    actual_start_at: Mapped[datetime | None]
    actual_end_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    responsible_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    controller_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    from_interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id", ondelete="SET NULL"))
    """The interaction after which this contact was planned."""
    fulfilled_by_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id", ondelete="SET NULL"))
    """The interaction that carried this planned contact out (set when it completed the task)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    kind: Mapped[InteractionKind | None] = relationship(lazy="joined")
    __table_args__ = (CheckConstraint("percent_done BETWEEN 0 AND 100", name="percent_range"),)
