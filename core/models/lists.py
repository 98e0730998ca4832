"""Lists of clients: static groups, dynamic segments (saved filters), the blocklist and suppression."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class ClientType(enum.StrEnum):
    """Which clients a list or a filter is about."""

    organization = "organization"
    person = "person"


class Group(Base):
    """A static list of clients, kept by hand."""

    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(String(1000), default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupMember(Base):
    """A client in a static group."""

    __tablename__ = "group_members"
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        Index("uq_group_member", "group_id", "organization_id", "person_id", unique=True),
        CheckConstraint("(organization_id IS NULL) <> (person_id IS NULL)", name="one_member"),
    )


class Segment(Base):
    """A dynamic list: a saved filter, evaluated when used."""

    __tablename__ = "segments"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    client_type: Mapped[ClientType] = mapped_column(String(20), default=ClientType.organization)
    filter: Mapped[dict[str, Any]] = mapped_column(default=dict)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BlockKind(enum.StrEnum):
    """What a blocklist entry matches."""

    email = "email"
    domain = "domain"
    phone = "phone"
    name = "name"


class BlocklistEntry(Base):
    """An unwanted counterparty: never created, never logged, never mailed."""

    __tablename__ = "blocklist"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[BlockKind] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (Index("uq_blocklist", "kind", "value", unique=True),)


class SuppressionEntry(Base):
    """An address that must not receive mailings (unsubscribed, bounced, added by hand)."""

    __tablename__ = "suppressions"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    reason: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
