"""The suggested-contact queue: addresses staff exchange mail with that match no client yet.

Mail that matches no client is never stored. When an account asks for suggestions, only the
external addresses of such mail are kept, for the account's owner to accept (a new contact
person) or dismiss, with how many messages they appeared in. Counting is idempotent: each
message counts once per address, by a hash of its Message-ID (``contact_suggestion_hits``), so
a re-read mailbox does not inflate the count; no subject or body is kept.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class SuggestionState(enum.StrEnum):
    """What the owner did with a suggestion."""

    pending = "pending"
    accepted = "accepted"
    dismissed = "dismissed"


class ContactSuggestion(Base):
    """An address a user exchanged mail with that matched no client."""

    __tablename__ = "contact_suggestions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(256), default="")
    messages: Mapped[int] = mapped_column(default=0)
    state: Mapped[SuggestionState] = mapped_column(String(10), default=SuggestionState.pending)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    """The person created when the suggestion was accepted."""
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        Index("uq_contact_suggestion", "user_id", "email", unique=True),
        Index("ix_contact_suggestion_state", "user_id", "state"),
    )


class ContactSuggestionHit(Base):
    """One message (by a hash of its Message-ID) that counted towards a suggestion."""

    __tablename__ = "contact_suggestion_hits"
    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("contact_suggestions.id", ondelete="CASCADE"))
    message_key: Mapped[str] = mapped_column(String(64))
    __table_args__ = (Index("uq_contact_suggestion_hit", "suggestion_id", "message_key", unique=True),)
