"""Connector accounts and the rows background work lives in.

Every piece of background work is a row with a state, a lease and an attempt count, written
in the same transaction as whatever caused it (see DESIGN.md, "Work lives in rows"):

* ``jobs``: one run of one account (a sync), or any other unit of background work. A worker
  claims a row by setting ``lease_owner``, a fresh ``lease_token`` and ``lease_until``; every
  later write checks owner and token in its WHERE clause, so a worker whose lease ran out
  cannot overwrite the one that took over.
* ``sync_cursors``: the position in each stream of each account, written in the same
  transaction as the changes pulled before it.
* ``outbox``: one row per outbound change (CRM -> Exchange, CalDAV...), unique by its key.
* ``sync_runs``, ``sync_item_errors``, ``sync_conflicts``: what admins read in the console.
* ``remote_links``: which CRM record a remote item of an account became, and the remote
  version last applied, so applying the same change twice changes nothing.

At most one sync job per account is queued or running at any time: the partial unique index
``uq_jobs_active_dedupe`` on ``dedupe_key`` (``sync:<account id>``) says so in the database,
so two schedulers racing each other cannot both enqueue.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class AccountStatus(enum.StrEnum):
    """How an account's sync stands, in the admin's words."""

    ok = "ok"
    new = "new"
    failing = "failing"
    needs_reauth = "needs_reauth"
    disabled = "disabled"


class ConnectorAccount(Base):
    """One remote account crmhub syncs with (a mailbox, an Exchange user, a CalDAV calendar...)."""

    __tablename__ = "connector_accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The connector's config without its secrets."""
    secrets_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    """The secret fields of the config, as encrypted JSON."""
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    enabled: Mapped[bool] = mapped_column(default=True)
    interval_seconds: Mapped[int] = mapped_column(default=300)
    status: Mapped[AccountStatus] = mapped_column(String(20), default=AccountStatus.new)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    next_run_at: Mapped[datetime | None] = mapped_column(index=True)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    cursor_resets: Mapped[int] = mapped_column(default=0)
    """Cursor resets since ``cursor_resets_since`` (capped per 24 hours)."""
    cursor_resets_since: Mapped[datetime | None]
    items_pulled: Mapped[int] = mapped_column(default=0)
    items_pushed: Mapped[int] = mapped_column(default=0)
    items_failed: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class JobState(enum.StrEnum):
    """The life of a work row."""

    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"
    unknown = "unknown"
    """The remote effect may or may not have happened and cannot be repeated safely."""


class Job(Base):
    """A unit of background work with a lease; claimed by one worker at a time."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("connector_accounts.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[JobState] = mapped_column(String(10), default=JobState.queued)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    progress_done: Mapped[int | None]
    progress_total: Mapped[int | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    __table_args__ = (
        Index("ix_jobs_claim", "state", "run_after"),
        Index("ix_jobs_account", "account_id", "state"),
        Index(
            "uq_jobs_active_dedupe",
            "dedupe_key",
            unique=True,
            sqlite_where=text("state IN ('queued', 'running')"),
            postgresql_where=text("state IN ('queued', 'running')"),
        ),
    )


class SyncCursor(Base):
    """Where one stream of one account stands."""

    __tablename__ = "sync_cursors"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("connector_accounts.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(200))
    cursor: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    resync_since: Mapped[datetime | None] = mapped_column(default=None)
    """Set when the cursor was reset: links of this stream not seen again since then are swept once the
    stream has been read to its end (the remote side deleted those items while our cursor was stale)."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    __table_args__ = (Index("uq_sync_cursor", "account_id", "stream", unique=True),)


class SyncRun(Base):
    """One run of one account: when, how much, and how it ended."""

    __tablename__ = "sync_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("connector_accounts.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    trigger: Mapped[str] = mapped_column(String(20), default="schedule")
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    pulled: Mapped[int] = mapped_column(default=0)
    applied: Mapped[int] = mapped_column(default=0)
    pushed: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")


class SyncItemError(Base):
    """One remote item that was skipped, with the raw reason, for the admin to read."""

    __tablename__ = "sync_item_errors"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("connector_accounts.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id", ondelete="SET NULL"))
    stream: Mapped[str] = mapped_column(String(200), default="")
    item_ref: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxState(enum.StrEnum):
    """The life of an outbound change."""

    pending = "pending"
    running = "running"
    done = "done"
    failed = "failed"
    conflict = "conflict"
    unknown = "unknown"


class OutboxOperation(Base):
    """One outbound change to a remote account, unique by its idempotency key."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("connector_accounts.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    revision: Mapped[int] = mapped_column(default=1)
    """Raised whenever a newer payload replaces this one, so a push of an older payload is not taken as done."""
    state: Mapped[OutboxState] = mapped_column(String(10), default=OutboxState.pending)
    attempts: Mapped[int] = mapped_column(default=0)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    remote_id: Mapped[str | None] = mapped_column(String(500))
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    __table_args__ = (
        Index("uq_outbox_key", "account_id", "key", unique=True),
        Index("ix_outbox_claim", "state", "run_after"),
    )


class SyncConflict(Base):
    """A change both sides made, recorded for an admin to resolve."""

    __tablename__ = "sync_conflicts"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("connector_accounts.id", ondelete="CASCADE"), index=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None]
    remote_id: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text)
    local: Mapped[dict[str, Any]] = mapped_column(default=dict)
    remote: Mapped[dict[str, Any]] = mapped_column(default=dict)
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


IMAP_NUMBER = BigInteger().with_variant(Integer(), "sqlite")
"""An IMAP UID or UIDVALIDITY: unsigned 32-bit, past PostgreSQL's integer (SQLite's integers are 64-bit)."""


class MailSighting(Base):
    """Where a stored e-mail was seen: account, folder, UID (a second sighting stores nothing new)."""

    __tablename__ = "mail_sightings"
    id: Mapped[int] = mapped_column(primary_key=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("mail_messages.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("connector_accounts.id", ondelete="CASCADE"))
    folder: Mapped[str] = mapped_column(String(500))
    uid: Mapped[int] = mapped_column(IMAP_NUMBER)
    uidvalidity: Mapped[int | None] = mapped_column(IMAP_NUMBER)
    private: Mapped[bool] = mapped_column(default=False)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (Index("uq_mail_sighting", "account_id", "folder", "uidvalidity", "uid", unique=True),)


class RemoteLink(Base):
    """A CRM record and the remote item of one account it is synced with, at the version last applied."""

    __tablename__ = "remote_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("connector_accounts.id", ondelete="CASCADE"))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int]
    remote_id: Mapped[str] = mapped_column(String(500))
    remote_version: Mapped[str | None] = mapped_column(String(200))
    stream: Mapped[str] = mapped_column(String(200), default="", server_default="")
    """The stream the item was last read from ('' for links made before streams were recorded)."""
    seen_at: Mapped[datetime | None] = mapped_column(default=None)
    """When a pull last returned the item (changed or not); the sweep after a cursor reset reads it."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    __table_args__ = (
        Index("uq_remote_link_remote", "account_id", "remote_id", unique=True),
        Index("uq_remote_link_entity", "account_id", "entity_type", "entity_id", unique=True),
        Index("ix_remote_link_record", "entity_type", "entity_id"),
    )
