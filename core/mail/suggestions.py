"""Suggested contacts: who staff exchange mail with that is not a client yet (see ``core.models.mail``).

The mail import calls ``note_unmatched`` for a message that matched no client, when its account
asks for suggestions; the account's owner lists their queue, accepts an address (a new contact
person in one of their teams) or dismisses it. An address that has since become a client's is
left out of the list. Only addresses, names and counts are kept, never a subject or a body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clients.persons import create_person
from core.db import utcnow
from core.errors import Conflict, NotFound
from core.mail.records import MailAddress
from core.models import ContactPoint, ContactSuggestion, ContactSuggestionHit, Person, PointKind, SuggestionState


def _key(message_id: str) -> str:
    return hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()


def note_unmatched(
    session: Session, *, user_id: int, addresses: Iterable[MailAddress], message_id: str, seen_at: datetime | None
) -> int:
    """Count this message once for each external address in the user's queue; returns how many were new."""
    key, when, added = _key(message_id), seen_at or utcnow(), 0
    for addr in addresses:
        email = addr.email.lower()[:320]
        row = session.scalars(
            select(ContactSuggestion).where(ContactSuggestion.user_id == user_id, ContactSuggestion.email == email)
        ).first()
        if row is None:
            row = ContactSuggestion(
                user_id=user_id, email=email, name=addr.name[:256], messages=0, first_seen_at=when, last_seen_at=when
            )
            session.add(row)
            session.flush()
            added += 1
        seen = session.scalar(
            select(ContactSuggestionHit.id).where(
                ContactSuggestionHit.suggestion_id == row.id, ContactSuggestionHit.message_key == key
            )
        )
        if seen is not None:
            continue
        session.add(ContactSuggestionHit(suggestion_id=row.id, message_key=key))
        row.messages += 1
        row.first_seen_at, row.last_seen_at = min(row.first_seen_at, when), max(row.last_seen_at, when)
        if addr.name and not row.name:
            row.name = addr.name[:256]
    session.flush()
    return added


def list_suggestions(
    session: Session, *, actor: Actor, state: str = "pending", limit: int = 50, offset: int = 0
) -> tuple[list[ContactSuggestion], int]:
    """The actor's own suggestions in a state, most frequent first (addresses that became clients left out)."""
    known = select(ContactPoint.value).where(ContactPoint.kind == PointKind.email)
    stmt = select(ContactSuggestion).where(
        ContactSuggestion.user_id == (actor.user_id or -1),
        ContactSuggestion.state == SuggestionState(state),
        ContactSuggestion.email.not_in(known),
    )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = (ContactSuggestion.messages.desc(), ContactSuggestion.last_seen_at.desc(), ContactSuggestion.id)
    return list(session.scalars(stmt.order_by(*order).limit(limit).offset(offset))), total


def _own(session: Session, actor: Actor, suggestion_id: int) -> ContactSuggestion:
    row = session.get(ContactSuggestion, suggestion_id)
    if row is None or row.user_id != actor.user_id:
        raise NotFound(f"Suggestion #{suggestion_id} not found")
    if row.state != SuggestionState.pending:
        raise Conflict(f"Suggestion #{suggestion_id} was already {row.state}")
    return row


def accept_suggestion(
    session: Session,
    *,
    actor: Actor,
    suggestion_id: int,
    first_name: str | None = None,
    last_name: str | None = None,
    team_id: int | None = None,
) -> Person:
    """Make the suggested address a contact person (duplicate and blocklist checks apply); audited."""
    row = _own(session, actor, suggestion_id)
    words = row.name.split()
    if first_name is None and last_name is None:
        first_name, last_name = (words[0], " ".join(words[1:])) if words else (row.email.split("@")[0], "")
    person = create_person(
        session,
        actor=actor,
        first_name=first_name or "",
        last_name=last_name or "",
        emails=[row.email],
        team_id=team_id,
        responsible_id=actor.user_id,
    )
    row.state, row.person_id = SuggestionState.accepted, person.id
    session.flush()
    return person


def dismiss_suggestion(session: Session, *, actor: Actor, suggestion_id: int) -> ContactSuggestion:
    """Dismiss a suggestion: the address stays out of the queue; audited."""
    row = _own(session, actor, suggestion_id)
    row.state = SuggestionState.dismissed
    audit.record(
        session,
        actor=actor,
        action="dismiss",
        entity_type="contact_suggestion",
        entity_id=row.id,
        summary=row.email,
    )
    session.flush()
    return row
