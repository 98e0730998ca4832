"""The sync console: connectors, connector accounts, runs, skipped items, conflicts and job progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from core.actor import Actor
from core.integration import accounts
from core.models import ConnectorAccount
from hub.deps import CurrentActor, DbSession
from hub.schemas.common import Page
from hub.schemas.sync import (
    AccountCreate,
    AccountRead,
    AccountUpdate,
    CheckRead,
    ConflictRead,
    ConnectorRead,
    CursorResetRead,
    ItemErrorRead,
    JobRead,
    RunRead,
    StreamRead,
)
from sync import control

router = APIRouter(prefix="/sync", tags=["sync"])
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


def _read(session: Session, account: ConnectorAccount) -> AccountRead:
    job = accounts.active_jobs(session, [account.id]).get(account.id)
    return AccountRead.of(account, settings=control.public_settings(account), job=job)


@router.get("/connectors", response_model=list[ConnectorRead])
def list_connectors(actor: CurrentActor) -> list[ConnectorRead]:
    """The installed connectors, with the JSON Schema of each one's settings."""
    return [
        ConnectorRead(
            kind=info.kind,
            title=info.title,
            streams=[StreamRead(name=s.name, direction=s.direction, label=s.label) for s in info.streams],
            directions=list(info.directions),
            secret_fields=list(info.secret_fields),
            settings_schema=info.config_model.model_json_schema(),
        )
        for info in control.connectors()
    ]


@router.get("/accounts", response_model=list[AccountRead])
def list_accounts(session: DbSession, actor: CurrentActor) -> list[AccountRead]:
    """The accounts the caller may see (admins all, users their own), with status, counts and progress."""
    items = accounts.list_accounts(session, actor=actor)
    jobs = accounts.active_jobs(session, [a.id for a in items])
    return [AccountRead.of(a, settings=control.public_settings(a), job=jobs.get(a.id)) for a in items]


@router.post("/accounts", response_model=AccountRead, status_code=201)
def create_account(body: AccountCreate, session: DbSession, actor: CurrentActor) -> AccountRead:
    """Add an account (admins; users for themselves); settings are checked against the connector's model."""
    account = control.add_account(session, actor=actor, **body.model_dump())
    return _read(session, account)


@router.get("/accounts/{account_id}", response_model=AccountRead)
def get_account(account_id: int, session: DbSession, actor: CurrentActor) -> AccountRead:
    """One account."""
    return _read(session, accounts.get_account(session, actor=actor, account_id=account_id))


@router.patch("/accounts/{account_id}", response_model=AccountRead)
def update_account(account_id: int, body: AccountUpdate, session: DbSession, actor: CurrentActor) -> AccountRead:
    """Change the fields sent; editing the settings of an account that needs re-authentication resumes it."""
    changes = body.model_dump(exclude_unset=True)
    return _read(session, control.edit_account(session, actor=actor, account_id=account_id, changes=changes))


@router.delete("/accounts/{account_id}", status_code=204)
def delete_account(account_id: int, session: DbSession, actor: CurrentActor) -> None:
    """Delete an account (the clients it brought in stay)."""
    accounts.delete_account(session, actor=actor, account_id=account_id)


@router.post("/accounts/{account_id}/test", response_model=CheckRead)
def test_account(account_id: int, session: DbSession, actor: CurrentActor) -> CheckRead:
    """Check credentials and reachability now; says which step failed and why."""
    result = control.test_account(session, actor=actor, account_id=account_id)
    return CheckRead(ok=result.ok, step=result.step, message=result.message)


def _set_enabled(session: Session, actor: Actor, account_id: int, enabled: bool) -> AccountRead:
    return _read(session, accounts.set_enabled(session, actor=actor, account_id=account_id, enabled=enabled))


@router.post("/accounts/{account_id}/enable", response_model=AccountRead)
def enable_account(account_id: int, session: DbSession, actor: CurrentActor) -> AccountRead:
    """Enable the account; it runs at once."""
    return _set_enabled(session, actor, account_id, True)


@router.post("/accounts/{account_id}/disable", response_model=AccountRead)
def disable_account(account_id: int, session: DbSession, actor: CurrentActor) -> AccountRead:
    """Disable the account; queued runs are cancelled."""
    return _set_enabled(session, actor, account_id, False)


@router.post("/accounts/{account_id}/run", response_model=JobRead, status_code=202)
def run_account(account_id: int, session: DbSession, actor: CurrentActor) -> JobRead:
    """Queue a sync to start at once (or return the one already queued or running); follow it at /sync/jobs/{id}."""
    return JobRead.of(control.run_now(session, actor=actor, account_id=account_id))


@router.post("/accounts/{account_id}/reset-cursor", response_model=CursorResetRead)
def reset_cursor(
    account_id: int,
    session: DbSession,
    actor: CurrentActor,
    stream: str | None = Query(None, max_length=200, description="Only this stream (default: all)"),
) -> CursorResetRead:
    """Forget where the account stands, so its next run reads everything again."""
    return CursorResetRead(reset=accounts.reset_cursor(session, actor=actor, account_id=account_id, stream=stream))


@router.get("/accounts/{account_id}/runs", response_model=Page[RunRead])
def list_runs(
    account_id: int, session: DbSession, actor: CurrentActor, limit: Limit = 50, offset: Offset = 0
) -> Page[RunRead]:
    """The account's runs, newest first: when, how many items, how each ended."""
    items, total = accounts.list_runs(session, actor=actor, account_id=account_id, limit=limit, offset=offset)
    return Page(items=[RunRead.model_validate(r) for r in items], total=total, limit=limit, offset=offset)


@router.get("/accounts/{account_id}/errors", response_model=Page[ItemErrorRead])
def list_item_errors(
    account_id: int,
    session: DbSession,
    actor: CurrentActor,
    run_id: int | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ItemErrorRead]:
    """The items the account's runs skipped, each with the reason and the raw item."""
    items, total = accounts.list_item_errors(
        session, actor=actor, account_id=account_id, run_id=run_id, limit=limit, offset=offset
    )
    return Page(items=[ItemErrorRead.of(e) for e in items], total=total, limit=limit, offset=offset)


@router.get("/accounts/{account_id}/conflicts", response_model=Page[ConflictRead])
def list_conflicts(
    account_id: int,
    session: DbSession,
    actor: CurrentActor,
    include_resolved: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ConflictRead]:
    """Changes both sides made, for an admin to resolve."""
    items, total = accounts.list_conflicts(
        session, actor=actor, account_id=account_id, include_resolved=include_resolved, limit=limit, offset=offset
    )
    return Page(items=[ConflictRead.of(c) for c in items], total=total, limit=limit, offset=offset)


@router.post("/conflicts/{conflict_id}/resolve", response_model=ConflictRead)
def resolve_conflict(conflict_id: int, session: DbSession, actor: CurrentActor) -> ConflictRead:
    """Mark a conflict as dealt with."""
    return ConflictRead.of(accounts.resolve_conflict(session, actor=actor, conflict_id=conflict_id))


@router.get("/jobs/{job_id}", response_model=JobRead)
def get_job(job_id: int, session: DbSession, actor: CurrentActor) -> JobRead:
    """A sync job: its state and, while it runs, progress_done of progress_total."""
    return JobRead.of(accounts.get_job(session, actor=actor, job_id=job_id))
