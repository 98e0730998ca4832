"""The suppression list: addresses mailings must never reach.

Marketers and admins keep it by hand (``manual``); the mailing engine adds ``bounced`` and
``complaint``, the unsubscribe link ``unsubscribed``. Before sending, a campaign asks
``is_suppressed`` (one address) or ``suppressed_among`` (a batch).

Erased persons are the exception to "store the address": after a GDPR erase the database
must not hold their e-mail, yet mailings must still never reach them. Their entries keep
``sha256:<hex of the normalised address>`` instead of the address (reason ``erased``), and
the look-ups hash each address they are asked about, so the rule holds without the data.
Only admins may lift an ``erased`` entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.models import Role, SuppressionEntry
from core.normalize import normalize_email
from core.rights import require_role

REASONS = ("unsubscribed", "bounced", "complaint", "manual", "erased")
HASH_PREFIX = "sha256:"


def _plain(email: str) -> str:
    return (email or "").strip().lower()


def hashed(email: str) -> str:
    """The stored form of an erased person's address: ``sha256:`` and the hex digest."""
    return HASH_PREFIX + hashlib.sha256(_plain(email).encode()).hexdigest()


def _keys(email: str) -> list[str]:
    plain = _plain(email)
    return [plain, hashed(plain)]


def is_suppressed(session: Session, email: str) -> bool:
    """True when mailings must not be sent to this address."""
    if not _plain(email):
        return False
    return (
        session.scalar(select(SuppressionEntry.id).where(SuppressionEntry.email.in_(_keys(email))).limit(1)) is not None
    )


def suppressed_among(session: Session, emails: Iterable[str]) -> set[str]:
    """Those of the given addresses (as given, lower-cased) that mailings must not reach."""
    by_key: dict[str, str] = {}
    for email in emails:
        if _plain(email):
            for key in _keys(email):
                by_key[key] = _plain(email)
    found: set[str] = set()
    keys = list(by_key)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(
            by_key[k] for k in session.scalars(select(SuppressionEntry.email).where(SuppressionEntry.email.in_(chunk)))
        )
    return found


def _check_reason(reason: str) -> str:
    if reason not in REASONS:
        raise ValidationFailed.one("reason", f"must be one of: {', '.join(REASONS)}")
    return reason


def suppress(
    session: Session, *, actor: Actor, email: str, reason: str = "manual", detail: str = ""
) -> SuppressionEntry:
    """Add an address (kept as it is; an existing entry is returned unchanged); audited when new.

    For core callers (bounces, unsubscribes, erasure); rights are checked by ``add_suppression``.
    """
    _check_reason(reason)
    key = hashed(email) if reason == "erased" else normalize_email(email, field="email")
    existing = session.scalars(select(SuppressionEntry).where(SuppressionEntry.email.in_(_keys(email)))).all()
    if reason == "erased":
        for row in existing:
            if row.email != key:
                session.delete(row)
        existing = [row for row in existing if row.email == key]
    if existing:
        return existing[0]
    entry = SuppressionEntry(email=key, reason=reason, detail=(detail or "").strip()[:1000])
    session.add(entry)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="suppression",
        entity_id=entry.id,
        summary=f"{reason}: {'(erased person)' if reason == 'erased' else key}",
        changes={} if reason == "erased" else {"email": key, "reason": reason},
    )
    return entry


def add_suppression(
    session: Session, *, actor: Actor, email: str, reason: str = "manual", detail: str = ""
) -> SuppressionEntry:
    """Put an address on the suppression list by hand (marketers, admins); Conflict if already there."""
    require_role(actor, Role.marketer)
    _check_reason(reason)
    if reason == "erased":
        raise ValidationFailed.one("reason", "'erased' is set only by erasing a person")
    key = normalize_email(email, field="email")
    if is_suppressed(session, key):
        raise Conflict(f"{key} is already on the suppression list")
    return suppress(session, actor=actor, email=key, reason=reason, detail=detail)


def list_suppressions(
    session: Session, *, actor: Actor, reason: str | None = None, q: str = "", limit: int = 100, offset: int = 0
) -> list[SuppressionEntry]:
    """Suppression entries, newest first, optionally by reason or one address (marketers, admins, auditors)."""
    require_role(actor, Role.marketer, Role.auditor)
    stmt = select(SuppressionEntry).order_by(SuppressionEntry.id.desc())
    if reason:
        stmt = stmt.where(SuppressionEntry.reason == _check_reason(reason))
    if q.strip():
        stmt = stmt.where(SuppressionEntry.email.in_(_keys(q)))
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def remove_suppression(session: Session, *, actor: Actor, entry_id: int) -> None:
    """Lift an entry so the address may be mailed again (marketers, admins; erased ones admins only)."""
    require_role(actor, Role.marketer)
    entry = session.get(SuppressionEntry, entry_id)
    if entry is None:
        raise NotFound("Suppression entry not found")
    if entry.reason == "erased" and not actor.is_admin:
        raise Forbidden("Only admins may lift the suppression of an erased person")
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity_type="suppression",
        entity_id=entry.id,
        summary=f"{entry.reason}: {entry.email if entry.reason != 'erased' else '(erased person)'}",
    )
    session.delete(entry)
    session.flush()


def check_not_suppressed(session: Session, email: str) -> None:
    """Raise Conflict when the address is suppressed (for senders that want an error, not a bool)."""
    if is_suppressed(session, email):
        raise Conflict(f"{_plain(email)} is on the suppression list and must not be mailed")
