"""Connector accounts: adding, editing, enabling and reading them, with their secrets sealed.

An account's settings are validated against its connector's pydantic config model. The
caller (the hub or the engine, which find connectors through the registry in ``sync``) passes
that model in, so core never imports a connector. The fields typed ``SecretStr`` are split
off and sealed (``core.secrets``); ``settings`` keeps the rest in the clear. ``load_config``
puts them back together into the config model, where secrets stay ``SecretStr`` and so never
show in a repr, a log line or an error; ``public_settings`` shows each secret as
``{"set": true}`` and nothing more. When a client sends that marker back on an edit, the
stored secret is kept.

Admins manage every account. Other users may add and manage accounts they own (their own
mailbox), in their own teams. Editing the settings of an account that needs
re-authentication (or is failing) clears its failure state and schedules it at once: that
is how an admin says "fixed, try again"; a successful test does the same.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr, ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.db import utcnow
from core.errors import Conflict, FieldProblem, Forbidden, NotFound, ValidationFailed
from core.models import (
    AccountStatus,
    ConnectorAccount,
    Job,
    JobState,
    SyncConflict,
    SyncCursor,
    SyncItemError,
    SyncRun,
    Team,
    User,
)
from core.secrets import SecretsUnavailable, seal, unseal

MIN_INTERVAL, MAX_INTERVAL = 10, 7 * 24 * 3600
FIELDS = ("name", "owner_id", "team_id", "interval_seconds", "enabled")


def secret_fields(config_model: type[BaseModel]) -> tuple[str, ...]:
    """The names of the fields of a config model that are secrets (typed SecretStr or SecretBytes)."""
    out = []
    for name, info in config_model.model_fields.items():
        types = {info.annotation, *typing.get_args(info.annotation)}
        if types & {SecretStr, SecretBytes}:
            out.append(name)
    return tuple(out)


def _validated(config_model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    try:
        return config_model.model_validate(data)
    except ValidationError as exc:
        problems = [
            FieldProblem(
                ".".join(["settings", *(str(p) for p in err["loc"])]),
                str(err["msg"]).removeprefix("Value error, "),
            )
            for err in exc.errors(include_input=False, include_url=False)
        ]
        raise ValidationFailed(problems) from None


def validated_config(config_model: type[BaseModel], settings: dict[str, Any]) -> BaseModel:
    """Settings checked against a config model (ValidationFailed names each bad ``settings.<field>``)."""
    return _validated(config_model, settings)


def secret_values(config: BaseModel) -> list[str]:
    """The values of a config's secret fields (for masking them in messages)."""
    return list(_split(config)[1].values())


def _split(config: BaseModel) -> tuple[dict[str, Any], dict[str, str]]:
    secret = secret_fields(type(config))
    plain = config.model_dump(mode="json", exclude=set(secret))
    sealed: dict[str, str] = {}
    for name in secret:
        value = getattr(config, name)
        if value is not None:
            raw = value.get_secret_value()
            sealed[name] = raw.decode() if isinstance(raw, bytes) else raw
    return plain, sealed


def load_config(account: ConnectorAccount, *, config_model: type[BaseModel]) -> BaseModel:
    """The account's full config (secrets unsealed, kept as SecretStr)."""
    return _validated(config_model, {**account.settings, **unseal(account.secrets_sealed)})


def public_settings(account: ConnectorAccount, *, config_model: type[BaseModel]) -> dict[str, Any]:
    """The settings as anyone may see them: each secret shown only as ``{"set": true|false}``."""
    try:
        sealed = set(unseal(account.secrets_sealed))
    except SecretsUnavailable:  # keys misconfigured: still show the account, secrets as set
        sealed = set(secret_fields(config_model))
    out = dict(account.settings)
    for name in secret_fields(config_model):
        out[name] = {"set": name in sealed}
    return out


def _may_read(actor: Actor, account: ConnectorAccount) -> bool:
    return actor.sees_everything or (actor.user_id is not None and account.owner_id == actor.user_id)


def get_account(session: Session, *, actor: Actor, account_id: int) -> ConnectorAccount:
    """The account, if the actor may see it (admins and auditors all, users their own)."""
    account = session.get(ConnectorAccount, account_id)
    if account is None or not _may_read(actor, account):
        raise NotFound(f"Connector account #{account_id} not found")
    return account


def writable_account(session: Session, *, actor: Actor, account_id: int) -> ConnectorAccount:
    """The account, if the actor may change it (admins, or its owner)."""
    account = get_account(session, actor=actor, account_id=account_id)
    if not actor.is_admin and account.owner_id != actor.user_id:
        raise Forbidden("Only admins and the account's owner may change a connector account")
    return account


def list_accounts(session: Session, *, actor: Actor) -> list[ConnectorAccount]:
    """The accounts the actor may see, by name."""
    stmt = select(ConnectorAccount).order_by(ConnectorAccount.name, ConnectorAccount.id)
    if not actor.sees_everything:
        stmt = stmt.where(ConnectorAccount.owner_id == (actor.user_id or -1))
    return list(session.scalars(stmt))


def find_account(session: Session, *, actor: Actor, ref: str) -> ConnectorAccount:
    """An account by id or by exact name (for the command line)."""
    if ref.isdigit():
        return get_account(session, actor=actor, account_id=int(ref))
    found = [a for a in list_accounts(session, actor=actor) if a.name == ref]
    if len(found) != 1:
        raise NotFound(f"No connector account named '{ref}'" if not found else f"Several accounts are named '{ref}'")
    return found[0]


def _check_people(session: Session, actor: Actor, owner_id: int | None, team_id: int | None) -> None:
    if owner_id is not None:
        owner = session.get(User, owner_id)
        if owner is None or not owner.is_active:
            raise ValidationFailed.one("owner_id", f"there is no active user #{owner_id}")
    if team_id is not None and session.get(Team, team_id) is None:
        raise ValidationFailed.one("team_id", f"there is no team #{team_id}")
    if not actor.is_admin:
        if owner_id != actor.user_id:
            raise Forbidden("You can add accounts only for yourself (your own mailbox); ask an admin for others")
        if team_id is not None and team_id not in actor.team_ids:
            raise Forbidden("New contacts of your account can only go to one of your own teams")


def _check_plain(values: dict[str, Any]) -> None:
    if "name" in values and not " ".join(str(values["name"] or "").split()):
        raise ValidationFailed.one("name", "give the account a name (what it is, e.g. 'Sales mailbox')")
    interval = values.get("interval_seconds")
    if interval is not None and not (MIN_INTERVAL <= int(interval) <= MAX_INTERVAL):
        raise ValidationFailed.one("interval_seconds", f"must be from {MIN_INTERVAL} s to {MAX_INTERVAL} s (7 days)")


def _view(account: ConnectorAccount, sealed: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {f: getattr(account, f) for f in FIELDS}
    data.update({f"settings.{k}": v for k, v in account.settings.items()})
    data["sealed_fields"] = sorted(sealed)
    return data


def create_account(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    config_model: type[BaseModel],
    name: str,
    settings: dict[str, Any],
    owner_id: int | None = None,
    team_id: int | None = None,
    interval_seconds: int = 300,
    enabled: bool = True,
) -> ConnectorAccount:
    """Add an account of a connector kind, its settings validated and its secrets sealed; audited."""
    owner_id = owner_id if owner_id is not None or actor.is_admin else actor.user_id
    if team_id is None and not actor.is_admin and len(actor.team_ids) == 1:
        team_id = next(iter(actor.team_ids))
    _check_plain({"name": name, "interval_seconds": interval_seconds})
    _check_people(session, actor, owner_id, team_id)
    plain, sealed = _split(_validated(config_model, settings))
    account = ConnectorAccount(
        kind=kind,
        name=" ".join(name.split())[:200],
        settings=plain,
        secrets_sealed=seal(sealed) if sealed else None,
        owner_id=owner_id,
        team_id=team_id,
        interval_seconds=interval_seconds,
        enabled=enabled,
        status=AccountStatus.new if enabled else AccountStatus.disabled,
        next_run_at=utcnow() if enabled else None,
    )
    session.add(account)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="connector_account",
        entity_id=account.id,
        summary=f"{kind}: {account.name}",
        changes=audit.diff({}, _view(account, sealed)),
    )
    return account


def _clear_failure(account: ConnectorAccount) -> None:
    if account.status in (AccountStatus.needs_reauth, AccountStatus.failing):
        account.status = AccountStatus.new
    account.consecutive_failures = 0
    account.last_error = ""
    if account.enabled:
        account.next_run_at = utcnow()


def update_account(
    session: Session, *, actor: Actor, account_id: int, config_model: type[BaseModel], changes: dict[str, Any]
) -> ConnectorAccount:
    """Change name, schedule, owner, team or settings (secrets kept unless given); audited."""
    account = writable_account(session, actor=actor, account_id=account_id)
    old_sealed = unseal(account.secrets_sealed)
    before = _view(account, old_sealed)
    _check_plain(changes)
    if "owner_id" in changes or "team_id" in changes:
        if not actor.is_admin and changes.get("owner_id", account.owner_id) != account.owner_id:
            raise Forbidden("Only admins may give an account to another user")
        _check_people(session, actor, changes.get("owner_id", account.owner_id), changes.get("team_id"))
    sealed = old_sealed
    if changes.get("settings") is not None:
        secret = set(secret_fields(config_model))
        given = {
            k: v for k, v in changes["settings"].items() if not (k in secret and (v is None or isinstance(v, dict)))
        }
        merged = {**account.settings, **old_sealed, **given}
        plain, sealed = _split(_validated(config_model, merged))
        account.settings = plain
        account.secrets_sealed = seal(sealed) if sealed else None
        _clear_failure(account)
    if "name" in changes:
        account.name = " ".join(str(changes["name"]).split())[:200]
    for field in ("owner_id", "team_id", "interval_seconds"):
        if field in changes and changes[field] is not None:
            setattr(account, field, changes[field])
    session.flush()
    delta = audit.diff(before, _view(account, sealed))
    if sorted(sealed.items()) != sorted(old_sealed.items()):
        delta["sealed_fields"] = ["(changed)", sorted(sealed)]
    audit.record_update(
        session, actor=actor, entity_type="connector_account", entity_id=account.id, summary=account.name, changes=delta
    )
    return account


def set_enabled(session: Session, *, actor: Actor, account_id: int, enabled: bool) -> ConnectorAccount:
    """Enable (scheduled at once, failures cleared) or disable (queued runs cancelled) an account; audited."""
    account = writable_account(session, actor=actor, account_id=account_id)
    if account.enabled == enabled:
        return account
    account.enabled = enabled
    if enabled:
        account.status = AccountStatus.new
        _clear_failure(account)
    else:
        account.status = AccountStatus.disabled
        account.next_run_at = None
        session.execute(
            update(Job)
            .where(Job.account_id == account.id, Job.state == JobState.queued)
            .values(state=JobState.cancelled, finished_at=utcnow())
        )
    audit.record(
        session,
        actor=actor,
        action="enable" if enabled else "disable",
        entity_type="connector_account",
        entity_id=account.id,
        summary=account.name,
    )
    session.flush()
    return account


def delete_account(session: Session, *, actor: Actor, account_id: int) -> None:
    """Delete an account with its cursors, runs and outbox (the CRM records it created stay); audited."""
    account = writable_account(session, actor=actor, account_id=account_id)
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity_type="connector_account",
        entity_id=account.id,
        summary=f"{account.kind}: {account.name}",
    )
    session.delete(account)
    session.flush()


def record_check(session: Session, *, actor: Actor, account_id: int, ok: bool, step: str, message: str) -> None:
    """Store the outcome of a test of the account; a passed test clears a failure and schedules a run."""
    account = writable_account(session, actor=actor, account_id=account_id)
    if ok:
        _clear_failure(account)
    else:
        account.last_error = f"test failed at {step}: {message}" if step else f"test failed: {message}"
    audit.record(
        session,
        actor=actor,
        action="test",
        entity_type="connector_account",
        entity_id=account.id,
        summary=("passed" if ok else f"failed at {step}: {message}")[:500],
    )
    session.flush()


def reset_cursor(session: Session, *, actor: Actor, account_id: int, stream: str | None = None) -> int:
    """Forget where the account (or one stream) stands, so the next run reads everything again; audited."""
    account = writable_account(session, actor=actor, account_id=account_id)
    stmt = (
        update(SyncCursor)
        .where(SyncCursor.account_id == account.id)
        .values(cursor=None, resync_since=func.coalesce(SyncCursor.resync_since, utcnow()))
    )  # the row stays, marked: the links of items deleted meanwhile are swept after the re-read
    if stream:
        stmt = stmt.where(SyncCursor.stream == stream)
    count = session.execute(stmt).rowcount or 0
    account.cursor_resets, account.cursor_resets_since = 0, None
    if account.status == AccountStatus.failing:
        _clear_failure(account)
    elif account.enabled and account.status != AccountStatus.needs_reauth:
        account.next_run_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="reset_cursor",
        entity_type="connector_account",
        entity_id=account.id,
        summary=f"{account.name}: {stream or 'all streams'} will be read again from the start",
    )
    session.flush()
    return count


def active_jobs(session: Session, account_ids: list[int]) -> dict[int, Job]:
    """The queued or running sync job of each of these accounts (at most one each)."""
    if not account_ids:
        return {}
    stmt = select(Job).where(
        Job.kind == "sync", Job.account_id.in_(account_ids), Job.state.in_([JobState.queued, JobState.running])
    )
    return {j.account_id: j for j in session.scalars(stmt) if j.account_id is not None}


def watchers(session: Session, account_ids: list[int]) -> dict[int, str]:
    """Account id -> the worker watching it now (live mode), for the accounts being watched.

    A watch is a ``jobs`` row of kind ``watch`` leased by one worker (``sync.watcher``); a
    lease run out means its worker died, and the account is not watched until another claims it.
    """
    if not account_ids:
        return {}
    stmt = select(Job.account_id, Job.lease_owner).where(
        Job.kind == "watch",
        Job.account_id.in_(account_ids),
        Job.state == JobState.running,
        Job.lease_until >= utcnow(),
    )
    return {account_id: owner for account_id, owner in session.execute(stmt) if account_id is not None and owner}


def _page(session: Session, stmt: Any, limit: int, offset: int) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return list(session.scalars(stmt.limit(limit).offset(offset))), total


def list_runs(
    session: Session, *, actor: Actor, account_id: int, limit: int = 50, offset: int = 0
) -> tuple[list[SyncRun], int]:
    """The account's runs, newest first, and their number."""
    get_account(session, actor=actor, account_id=account_id)
    stmt = select(SyncRun).where(SyncRun.account_id == account_id).order_by(SyncRun.id.desc())
    return _page(session, stmt, limit, offset)


def list_item_errors(
    session: Session, *, actor: Actor, account_id: int, run_id: int | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[SyncItemError], int]:
    """The items the account's runs skipped, with the reason, newest first."""
    get_account(session, actor=actor, account_id=account_id)
    stmt = select(SyncItemError).where(SyncItemError.account_id == account_id)
    if run_id is not None:
        stmt = stmt.where(SyncItemError.run_id == run_id)
    return _page(session, stmt.order_by(SyncItemError.id.desc()), limit, offset)


def list_conflicts(
    session: Session, *, actor: Actor, account_id: int, include_resolved: bool = False, limit: int = 50, offset: int = 0
) -> tuple[list[SyncConflict], int]:
    """Changes both sides made, for an admin to resolve, newest first."""
    get_account(session, actor=actor, account_id=account_id)
    stmt = select(SyncConflict).where(SyncConflict.account_id == account_id)
    if not include_resolved:
        stmt = stmt.where(SyncConflict.resolved_at.is_(None))
    return _page(session, stmt.order_by(SyncConflict.id.desc()), limit, offset)


def resolve_conflict(session: Session, *, actor: Actor, conflict_id: int) -> SyncConflict:
    """Mark a conflict as dealt with; audited."""
    conflict = session.get(SyncConflict, conflict_id)
    if conflict is None:
        raise NotFound(f"Conflict #{conflict_id} not found")
    writable_account(session, actor=actor, account_id=conflict.account_id)
    if conflict.resolved_at is not None:
        raise Conflict(f"Conflict #{conflict_id} was already resolved")
    conflict.resolved_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="resolve",
        entity_type="sync_conflict",
        entity_id=conflict.id,
        summary=conflict.description[:200],
    )
    session.flush()
    return conflict


def get_job(session: Session, *, actor: Actor, job_id: int) -> Job:
    """A sync job (its state and progress), if the actor may see its account."""
    job = session.get(Job, job_id)
    if job is None or job.account_id is None:
        raise NotFound(f"Job #{job_id} not found")
    try:
        get_account(session, actor=actor, account_id=job.account_id)
    except NotFound:
        raise NotFound(f"Job #{job_id} not found") from None
    return job
