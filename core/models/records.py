"""What is kept around clients: files, comments, admin-defined custom fields, and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class StoredFile(Base):
    """A file attached to a client or an interaction; bytes on disk, named by their hash."""

    __tablename__ = "files"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id", ondelete="CASCADE"))
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("mail_messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(200), default="application/octet-stream")
    size: Mapped[int]
    sha256: Mapped[str | None] = mapped_column(String(64))
    """None when the file was over the size cap and only its metadata was kept."""
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Comment(Base):
    """A comment on a client card."""

    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FieldType(enum.StrEnum):
    """The kinds of value a custom field holds."""

    text = "text"
    number = "number"
    date = "date"
    choice = "choice"


class CustomField(Base):
    """An admin-defined field on organizations or persons."""

    __tablename__ = "custom_fields"
    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(200))
    label_ru: Mapped[str] = mapped_column(String(200), default="")
    type: Mapped[FieldType] = mapped_column(String(10))
    choices: Mapped[list[Any]] = mapped_column(default=list)
    required: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    """An inactive field is hidden from forms and cards; its stored values are kept."""
    __table_args__ = (Index("uq_custom_field", "entity", "key", unique=True),)


class AuditEntry(Base):
    """Who changed what and when; written in the same transaction as the change."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(20), default="api")
    action: Mapped[str] = mapped_column(String(30))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(String(500), default="")
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    __table_args__ = (Index("ix_audit_entity", "entity_type", "entity_id"),)


class MailMessageRow(Base):
    """One stored copy of an e-mail, whatever mailboxes it was seen in (keyed by Message-ID)."""

    __tablename__ = "mail_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    thread_key: Mapped[str] = mapped_column(String(998), index=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    subject: Mapped[str] = mapped_column(String(998), default="")
    sent_at: Mapped[datetime | None]
    from_addr: Mapped[str] = mapped_column(String(1000), default="")
    participants: Mapped[dict[str, Any]] = mapped_column(default=dict)
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    raw_compressed: Mapped[bytes | None] = mapped_column(deferred=True)
    """The raw message as received, packed by ``core.mail.rawcopy`` (zstd; rows from before 0004, gzip).

    Loaded only when read: what shows a mail (the card, the thread) never needs it."""
    problems: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
