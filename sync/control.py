"""What the admin API and the command line ask of the engine: connectors, accounts, tests, runs.

Thin on purpose: rights, validation, sealing and audit live in ``core.integration.accounts``;
this module adds what needs the connector registry (the config model of a kind, a live
connector for a test) or the job queue (run now).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.config import get_settings
from core.errors import Conflict, CoreError
from core.integration import CheckResult, ConnectorContext, ConnectorError
from core.integration import accounts as core_accounts
from core.models import ConnectorAccount, Job, User
from core.secrets import unseal
from sync.redact import Redactor
from sync.registry import ConnectorInfo, build_connector, connector_info, registry
from sync.scheduler import enqueue_sync


def connectors() -> list[ConnectorInfo]:
    """Every installed connector, by kind."""
    return [registry()[k] for k in sorted(registry())]


def add_account(
    session: Session, *, actor: Actor, kind: str, name: str, settings: dict[str, Any], **values: Any
) -> ConnectorAccount:
    """Add an account of an installed connector kind (settings checked against its config model)."""
    info = connector_info(kind)
    return core_accounts.create_account(
        session, actor=actor, kind=kind, config_model=info.config_model, name=name, settings=settings, **values
    )


def edit_account(session: Session, *, actor: Actor, account_id: int, changes: dict[str, Any]) -> ConnectorAccount:
    """Change an account (settings checked against its connector's config model)."""
    account = core_accounts.writable_account(session, actor=actor, account_id=account_id)
    info = connector_info(account.kind)
    return core_accounts.update_account(
        session, actor=actor, account_id=account.id, config_model=info.config_model, changes=changes
    )


def public_settings(account: ConnectorAccount) -> dict[str, Any]:
    """The account's settings with each secret shown only as ``{"set": ...}``."""
    info = registry().get(account.kind)
    if info is None:
        return dict(account.settings)
    return core_accounts.public_settings(account, config_model=info.config_model)


def test_account(session: Session, *, actor: Actor, account_id: int) -> CheckResult:
    """Check the account's credentials and reachability now; the outcome is stored and audited."""
    account = core_accounts.writable_account(session, actor=actor, account_id=account_id)
    try:
        redact = Redactor(unseal(account.secrets_sealed).values())
        connector = build_connector(session, account)
        session.commit()  # hold no transaction (nor SQLite's write lock) while talking to the server
    except CoreError as exc:
        result = CheckResult(ok=False, step="settings", message=exc.message)
    else:
        result = _checked(connector, redact)
    core_accounts.record_check(
        session, actor=actor, account_id=account.id, ok=result.ok, step=result.step, message=result.message
    )
    return result


def _checked(connector: Any, redact: Redactor) -> CheckResult:
    """Run the connector's check, every failure told in words with the secrets masked; closes the connector."""
    try:
        result = connector.check()
    except ConnectorError as exc:
        result = CheckResult(ok=False, step="check", message=exc.message)
    except Exception as exc:  # noqa: BLE001 - a test reports every failure in words
        result = CheckResult(ok=False, step="check", message=f"internal error: {type(exc).__name__}: {exc}")
    finally:
        connector.close()
    return CheckResult(ok=result.ok, step=result.step, message=redact(result.message))


def check_settings(
    session: Session, *, actor: Actor, kind: str, settings: dict[str, Any], owner_id: int | None = None
) -> CheckResult:
    """Test settings not saved yet (the "Test connection" button of an add form); nothing is stored.

    Raises ValidationFailed when the settings do not fit the connector's config model.
    """
    info = connector_info(kind)
    config = core_accounts.validated_config(info.config_model, settings)
    owner = session.get(User, owner_id) if owner_id else None
    context = ConnectorContext(
        account_id=0,
        owner_email=owner.email if owner else None,
        internal_domains=tuple(get_settings().internal_domains),
    )
    redact = Redactor(core_accounts.secret_values(config))
    session.commit()  # hold no transaction (nor SQLite's write lock) while talking to the server
    return _checked(info.cls(config, context), redact)


def run_now(session: Session, *, actor: Actor, account_id: int) -> Job:
    """Queue a sync of the account to start at once (or return the one already queued or running); audited."""
    account = core_accounts.writable_account(session, actor=actor, account_id=account_id)
    if not account.enabled:
        raise Conflict(f"Account '{account.name}' is disabled: enable it first")
    job = enqueue_sync(session, account_id=account.id, trigger="manual")
    audit.record(
        session,
        actor=actor,
        action="run_now",
        entity_type="connector_account",
        entity_id=account.id,
        summary=f"{account.name}: job #{job.id}",
    )
    session.flush()
    return job
