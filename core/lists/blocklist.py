"""The blocklist of unwanted counterparties (реестр нежелательных контрагентов).

Entries are stored in exactly the normalised form that ``core.clients.common.check_blocklist``
compares against: e-mails lower-cased and validated, domains bare (no ``@``, scheme or
``www.``), phones in E.164 (the default region fills in a missing country code), names as
``core.normalize.name_key`` (case, quotes and legal forms ignored). Admins and managers keep
the list; auditors may read it. A blocklisted e-mail, domain, phone or name makes the create
services refuse the client, whoever asks.
"""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.config import get_settings
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import BlockKind, BlocklistEntry, Role
from core.normalize import name_key, normalize_domain, normalize_email, normalize_phone
from core.rights import require_role


def normalize_value(kind: BlockKind | str, value: str) -> str:
    """The value in the form ``check_blocklist`` compares (ValidationFailed names ``value``)."""
    try:
        kind = BlockKind(kind)
    except ValueError:
        raise ValidationFailed.one("kind", f"must be one of: {', '.join(k.value for k in BlockKind)}") from None
    raw = (value or "").strip()
    if not raw:
        raise ValidationFailed.one("value", "is required")
    if kind == BlockKind.email:
        return normalize_email(raw, field="value")
    if kind == BlockKind.domain:
        return normalize_domain(raw, field="value")
    if kind == BlockKind.phone:
        return normalize_phone(raw, region=get_settings().default_region, field="value")
    key = name_key(raw)
    if not key:
        raise ValidationFailed.one("value", "must contain letters or digits")
    return key


def _entries(kind: BlockKind | None, search: str) -> Select[tuple[BlocklistEntry]]:
    stmt = select(BlocklistEntry)
    if kind is not None:
        stmt = stmt.where(BlocklistEntry.kind == kind)
    words = " ".join(search.split()).casefold()
    if words:
        # values are stored normalised (lower-case e-mails and domains, E.164 phones, name keys):
        # match the text as typed, its digits (a phone in any format) and its name key
        digits = "".join(c for c in words if c.isdigit())
        wanted = [BlocklistEntry.value.contains(words), BlocklistEntry.reason.contains(" ".join(search.split()))]
        wanted += [BlocklistEntry.value.contains(digits)] if len(digits) >= 4 else []
        wanted += [BlocklistEntry.value.contains(name_key(words))] if name_key(words) else []
        stmt = stmt.where(or_(*wanted))
    return stmt


def list_entries(
    session: Session,
    *,
    actor: Actor,
    kind: BlockKind | None = None,
    search: str = "",
    limit: int = 100,
    offset: int = 0,
) -> list[BlocklistEntry]:
    """Blocklist entries, newest first, optionally those whose value or reason contains ``search``."""
    require_role(actor, Role.manager, Role.auditor)
    stmt = _entries(kind, search).order_by(BlocklistEntry.id.desc())
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def count_entries(session: Session, *, actor: Actor, kind: BlockKind | None = None, search: str = "") -> int:
    """How many entries ``list_entries`` would page through."""
    require_role(actor, Role.manager, Role.auditor)
    return session.scalar(select(func.count()).select_from(_entries(kind, search).subquery())) or 0


def add_entry(session: Session, *, actor: Actor, kind: BlockKind | str, value: str, reason: str = "") -> BlocklistEntry:
    """Put a counterparty on the blocklist (admins, managers); audited."""
    require_role(actor, Role.manager)
    normal = normalize_value(kind, value)
    kind = BlockKind(kind)
    existing = session.scalars(
        select(BlocklistEntry).where(BlocklistEntry.kind == kind, BlocklistEntry.value == normal)
    ).first()
    if existing is not None:
        raise Conflict(f"{kind.value} '{normal}' is already on the blocklist (entry #{existing.id})")
    entry = BlocklistEntry(kind=kind, value=normal, reason=(reason or "").strip()[:500], created_by_id=actor.user_id)
    session.add(entry)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="blocklist",
        entity_id=entry.id,
        summary=f"{kind.value} {normal}",
        changes={"kind": kind, "value": normal, "reason": entry.reason},
    )
    return entry


def remove_entry(session: Session, *, actor: Actor, entry_id: int) -> None:
    """Take an entry off the blocklist (admins, managers); audited."""
    require_role(actor, Role.manager)
    entry = session.get(BlocklistEntry, entry_id)
    if entry is None:
        raise NotFound("Blocklist entry not found")
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity_type="blocklist",
        entity_id=entry.id,
        summary=f"{entry.kind} {entry.value}",
        changes={"kind": entry.kind, "value": entry.value},
    )
    session.delete(entry)
    session.flush()
