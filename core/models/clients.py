"""Clients: organizations (counterparties), contact persons, where persons work, and how to reach them.

E-mails, phones and mail domains of both organizations and persons live in one table,
``contact_points``, normalised (lower-case e-mail, E.164 phone, bare domain). One indexed
table serves the duplicate check, the matching of imported mail to clients and the search.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Numeric, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow


class PointKind(enum.StrEnum):
    """How a client can be reached."""

    email = "email"
    phone = "phone"
    domain = "domain"


organization_tags = Table(
    "organization_tags",
    Base.metadata,
    Column("organization_id", ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)

person_tags = Table(
    "person_tags",
    Base.metadata,
    Column("person_id", ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(Base):
    """A free label on clients."""

    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class Organization(Base):
    """A counterparty: the client company."""

    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    brand: Mapped[str] = mapped_column(String(300), default="")
    name_key: Mapped[str] = mapped_column(String(300), index=True)
    brand_key: Mapped[str] = mapped_column(String(300), default="", index=True)
    industry: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    category: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(30), default="active")
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id", ondelete="SET NULL"))
    first_contact_on: Mapped[date | None]
    deal_amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    potential: Mapped[int | None]
    custom: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    last_contact_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))

    tags: Mapped[list[Tag]] = relationship(secondary=organization_tags, lazy="selectin")
    points: Mapped[list[ContactPoint]] = relationship(
        back_populates="organization",
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="ContactPoint.id",
    )
    employments: Mapped[list[Employment]] = relationship(back_populates="organization", cascade="all, delete-orphan")
    __table_args__ = (CheckConstraint("potential IS NULL OR (potential BETWEEN 1 AND 5)", name="potential_range"),)


class Person(Base):
    """A contact person; can work in several organizations."""

    __tablename__ = "persons"
    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    middle_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    full_name: Mapped[str] = mapped_column(String(320))
    name_key: Mapped[str] = mapped_column(String(320), index=True)
    position: Mapped[str] = mapped_column(String(200), default="")
    birthday: Mapped[date | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    custom: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_contact_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))

    tags: Mapped[list[Tag]] = relationship(secondary=person_tags, lazy="selectin")
    points: Mapped[list[ContactPoint]] = relationship(
        back_populates="person", lazy="selectin", cascade="all, delete-orphan", order_by="ContactPoint.id"
    )
    employments: Mapped[list[Employment]] = relationship(
        back_populates="person", lazy="selectin", cascade="all, delete-orphan"
    )


class Employment(Base):
    """A person working in an organization, with their role there."""

    __tablename__ = "employments"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(200), default="")
    is_primary: Mapped[bool] = mapped_column(default=True)
    started_on: Mapped[date | None]
    ended_on: Mapped[date | None]
    person: Mapped[Person] = relationship(back_populates="employments")
    organization: Mapped[Organization] = relationship(back_populates="employments", lazy="joined")
    __table_args__ = (Index("uq_employment", "person_id", "organization_id", unique=True),)


class ContactPoint(Base):
    """One e-mail, phone or mail domain of an organization or a person, normalised."""

    __tablename__ = "contact_points"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    kind: Mapped[PointKind] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(320))
    """Normalised: lower-case e-mail, E.164 phone, lower-case domain."""
    display: Mapped[str] = mapped_column(String(320), default="")
    """As the user typed it, for showing."""
    label: Mapped[str] = mapped_column(String(50), default="")
    organization: Mapped[Organization | None] = relationship(back_populates="points")
    person: Mapped[Person | None] = relationship(back_populates="points")
    __table_args__ = (
        Index("ix_contact_points_lookup", "kind", "value"),
        Index("ix_contact_points_org", "organization_id"),
        Index("ix_contact_points_person", "person_id"),
        CheckConstraint("(organization_id IS NULL) <> (person_id IS NULL)", name="one_owner"),
    )
