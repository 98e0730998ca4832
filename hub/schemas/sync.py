"""Schemas for connectors, connector accounts, sync jobs, runs, skipped items and conflicts.

Account settings travel as a plain object, checked in core against the connector's own
config model (so a wrong field is named ``settings.<field>``). Secrets go in and never come
out: a read shows each secret field as ``{"set": true}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from core.models import ConnectorAccount, Job, SyncConflict, SyncItemError
from hub.schemas.common import Input, Output


class StreamRead(Output):
    """One stream a connector offers."""

    name: str
    direction: str
    label: str


class ConnectorRead(Output):
    """An installed connector: what it syncs and what its settings are."""

    kind: str
    title: str
    streams: list[StreamRead]
    directions: list[str]
    secret_fields: list[str]
    settings_schema: dict[str, Any] = Field(description="JSON Schema of the settings; secrets are writeOnly")


class AccountCreate(Input):
    """A new connector account."""

    kind: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    settings: dict[str, Any] = Field(default_factory=dict)
    owner_id: int | None = None
    team_id: int | None = Field(default=None, description="Team new contacts from this account go to")
    interval_seconds: int = Field(default=300, ge=10, le=7 * 24 * 3600)
    enabled: bool = True


class AccountUpdate(Input):
    """Changes to an account; settings are merged, and a secret left out (or sent as {"set": true}) is kept."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    settings: dict[str, Any] | None = None
    owner_id: int | None = None
    team_id: int | None = None
    interval_seconds: int | None = Field(default=None, ge=10, le=7 * 24 * 3600)


class JobRead(Output):
    """A sync job: its state and, while it runs, its progress."""

    id: int
    account_id: int | None
    state: str
    trigger: str
    mode: str
    attempts: int
    lease_owner: str | None
    progress_done: int | None
    progress_total: int | None
    run_after: datetime
    started_at: datetime | None
    finished_at: datetime | None
    last_error: str

    @classmethod
    def of(cls, job: Job) -> JobRead:
        """Build from the model."""
        return cls(
            id=job.id,
            account_id=job.account_id,
            state=job.state,
            trigger=str(job.payload.get("trigger", "")),
            mode=str(job.payload.get("mode", "full")),
            attempts=job.attempts,
            lease_owner=job.lease_owner,
            progress_done=job.progress_done,
            progress_total=job.progress_total,
            run_after=job.run_after,
            started_at=job.started_at,
            finished_at=job.finished_at,
            last_error=job.last_error,
        )


ACCOUNT_FIELDS = (
    "id",
    "kind",
    "name",
    "owner_id",
    "team_id",
    "enabled",
    "interval_seconds",
    "status",
    "last_error",
    "last_run_at",
    "last_success_at",
    "next_run_at",
    "consecutive_failures",
    "cursor_resets",
    "items_pulled",
    "items_pushed",
    "items_failed",
    "created_at",
)


class AccountRead(Output):
    """A connector account as the admin console shows it (never its secrets)."""

    id: int
    kind: str
    name: str
    settings: dict[str, Any]
    owner_id: int | None
    team_id: int | None
    enabled: bool
    interval_seconds: int
    status: str
    last_error: str
    last_run_at: datetime | None
    last_success_at: datetime | None
    next_run_at: datetime | None
    consecutive_failures: int
    cursor_resets: int
    items_pulled: int
    items_pushed: int
    items_failed: int
    created_at: datetime
    job: JobRead | None = Field(description="The queued or running job, with its progress")

    @classmethod
    def of(cls, account: ConnectorAccount, *, settings: dict[str, Any], job: Job | None) -> AccountRead:
        """Build from the model, the public settings and the active job."""
        return cls(
            **{f: getattr(account, f) for f in ACCOUNT_FIELDS},
            settings=settings,
            job=JobRead.of(job) if job is not None else None,
        )


class CheckRead(Output):
    """The outcome of testing an account: ok, or the step that failed and why."""

    ok: bool
    step: str
    message: str


class RunRead(Output):
    """One run of an account: when, how many items, how it ended."""

    id: int
    job_id: int | None
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    pulled: int
    applied: int
    pushed: int
    skipped: int
    failed: int
    error: str


class ItemErrorRead(Output):
    """A remote item a run skipped, with the reason and the raw item."""

    id: int
    run_id: int | None
    stream: str
    item_ref: str
    reason: str
    raw: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: SyncItemError) -> ItemErrorRead:
        """Build from the model (the raw item cut to 10,000 characters)."""
        out = cls.model_validate(row)
        if out.raw is not None and len(out.raw) > 10000:
            out.raw = out.raw[:10000] + "…"
        return out


class ConflictRead(Output):
    """A change both sides made, for an admin to resolve."""

    id: int
    account_id: int
    entity_type: str
    entity_id: int | None
    remote_id: str | None
    description: str
    local: dict[str, Any]
    remote: dict[str, Any]
    resolved_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: SyncConflict) -> ConflictRead:
        """Build from the model."""
        return cls.model_validate(row)


class CursorResetRead(Output):
    """The outcome of resetting an account's cursor."""

    reset: int = Field(description="How many stream positions were forgotten")
