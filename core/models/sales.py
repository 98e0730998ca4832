"""Sales: pipelines of ordered stages with probabilities, deals, and each deal's stage history."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow


class DealStatus(enum.StrEnum):
    """Where a deal ended, if it did."""

    open = "open"
    won = "won"
    lost = "lost"


class Pipeline(Base):
    """An ordered list of sales stages."""

    __tablename__ = "pipelines"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    is_default: Mapped[bool] = mapped_column(default=False)
    stages: Mapped[list[Stage]] = relationship(
        back_populates="pipeline", order_by="Stage.position", lazy="selectin", cascade="all, delete-orphan"
    )


class Stage(Base):
    """One step of a pipeline, with the probability that a deal here closes."""

    __tablename__ = "stages"
    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int]
    probability: Mapped[int]
    outcome: Mapped[DealStatus] = mapped_column(String(10), default=DealStatus.open)
    """A deal moved here becomes won or lost; ``open`` for stages in between."""
    pipeline: Mapped[Pipeline] = relationship(back_populates="stages")
    __table_args__ = (CheckConstraint("probability BETWEEN 0 AND 100", name="probability_range"),)


class Deal(Base):
    """A sale in progress with one organization."""

    __tablename__ = "deals"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    title_key: Mapped[str] = mapped_column(String(300), default="")
    """The title normalised for search (``core.normalize.name_key``): case-insensitive on both databases."""
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    expected_close_on: Mapped[date | None]
    status: Mapped[DealStatus] = mapped_column(String(10), default=DealStatus.open)
    closed_on: Mapped[date | None]
    lost_reason: Mapped[str] = mapped_column(String(500), default="")
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    stage: Mapped[Stage] = relationship(lazy="joined")


class DealStageChange(Base):
    """A deal entering a stage; the history gives the sales cycle."""

    __tablename__ = "deal_stage_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id", ondelete="SET NULL"))
    to_stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
