"""Logging a batch of imported interactions at once: the bulk twin of ``record_external_interaction``.

A mailbox import logs hundreds of messages per batch. One by one, each costs a savepoint, an
import-key look-up, an ORM insert and flush, and an audit entry: most of the import's time.
``record_imported`` does the same work for a whole batch in a few statements:

* every item is checked exactly as ``record_external_interaction`` checks it (source, external
  id, text limits, time, the clients visible to the actor and writable by its role, the team
  taken from the client); a problem raises the same ``CoreError`` and nothing of the batch is
  written, so the caller can fall back to logging the items one by one;
* the batch's import keys are looked up in one query: an item already logged (or repeated in
  the batch) is not logged again, and one the actor may not see is ``NotFound``, as one by one;
* the new interactions go in at once (``core.bulk``: COPY on PostgreSQL, with ids taken from the
  sequence first; one executemany on SQLite, the ids read back by import key), their audit
  entries ("create", with the same changes as ``log_interaction`` writes) likewise;
* each client's last (and first) contact is moved once for the batch, one UPDATE per table
  (``core.work.contact_stamps``).

Only what an import carries is taken here: no result, stage, task or next contact (imported
mail has none); anything else goes through ``record_external_interaction``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.bulk import insert_many, reserve_ids
from core.db import among
from core.errors import NotFound, ValidationFailed
from core.models import AuditEntry, Direction, Interaction
from core.rights import can_see_team
from core.work.contact_stamps import ContactStamps
from core.work.interactions import (
    SOURCES,
    audited_fields,
    check_text,
    check_time,
    import_key,
)
from core.work.links import resolve_links
from core.work.reference import resolve_kinds


@dataclass(frozen=True)
class ImportedInteraction:
    """One imported call or message to log on one client (organization and/or person)."""

    source: str
    external_id: str
    kind: str | int
    organization_id: int | None = None
    person_id: int | None = None
    occurred_at: datetime | None = None
    subject: str = ""
    body: str = ""
    author_id: int | None = None
    mail_id: int | None = None

    @property
    def key(self) -> str:
        """The idempotency key (``core.work.interactions.import_key``)."""
        return import_key(self.source, self.external_id, self.organization_id, self.person_id)


_KEYS_CHUNK = 500
_TABLE = Interaction.__table__
_IDS_BY_KEY = select(_TABLE.c.import_key, _TABLE.c.id).where(among(_TABLE.c.import_key, "keys"))
_TEAMS_BY_KEY = select(_TABLE.c.import_key, _TABLE.c.team_id).where(among(_TABLE.c.import_key, "keys"))


def record_imported(session: Session, *, actor: Actor, items: list[ImportedInteraction]) -> list[bool]:
    """Log a batch of imported interactions once each; per item, True when it was logged now (False: already there)."""
    keys = [item.key for item in items]
    existing = _existing(session, actor, keys)
    stamps = ContactStamps()
    rows: list[dict[str, Any]] = []
    views: list[tuple[str, dict[str, Any]]] = []
    new: list[bool] = []
    kinds = resolve_kinds(session, (item.kind for item, key in zip(items, keys, strict=True) if key not in existing))
    for item, key in zip(items, keys, strict=True):
        if key in existing:
            new.append(False)
            continue
        row, view, summary = _checked(session, actor, item, key, kinds, stamps)
        existing.add(key)
        rows.append(row)
        views.append((summary, view))
        new.append(True)
    if rows:
        ids = _insert_rows(session, rows)
        insert_many(
            session,
            AuditEntry.__table__,
            [
                {
                    "user_id": actor.user_id,
                    "source": actor.source,
                    "action": "create",
                    "entity_type": "interaction",
                    "entity_id": interaction_id,
                    "summary": summary[:500],
                    "changes": audit.created(view),
                }
                for interaction_id, (summary, view) in zip(ids, views, strict=True)
            ],
        )
        stamps.write(session)
    session.flush()
    return new


def _insert_rows(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the new interactions at once (``core.bulk``) and return their ids in the order of ``rows``.

    On PostgreSQL the ids are taken from the sequence first. On SQLite they are read back by
    import key (unique) rather than by ``RETURNING``: SQLite cannot promise the order of a
    multi-row RETURNING, so SQLAlchemy would insert row by row.
    """
    reserved = reserve_ids(session, _TABLE, len(rows))
    if reserved is not None:
        insert_many(session, _TABLE, [{**row, "id": row_id} for row, row_id in zip(rows, reserved, strict=True)])
        return reserved
    insert_many(session, _TABLE, rows)
    keys = [row["import_key"] for row in rows]
    ids: dict[str, int] = {}
    for start in range(0, len(keys), _KEYS_CHUNK):
        chunk = keys[start : start + _KEYS_CHUNK]
        ids.update((key, row_id) for key, row_id in session.execute(_IDS_BY_KEY, {"keys": chunk}))
    return [ids[key] for key in keys]


def _existing(session: Session, actor: Actor, keys: list[str]) -> set[str]:
    """The keys already logged; NotFound when one is in a team the actor cannot see (as one by one)."""
    found: set[str] = set()
    wanted = sorted(set(keys))
    for start in range(0, len(wanted), _KEYS_CHUNK):
        for key, team_id in session.execute(_TEAMS_BY_KEY, {"keys": wanted[start : start + _KEYS_CHUNK]}).all():
            if not can_see_team(actor, team_id):
                raise NotFound("Interaction not found")
            found.add(key)
    return found


def _checked(
    session: Session,
    actor: Actor,
    item: ImportedInteraction,
    key: str,
    kinds: dict[str | int, Any],
    stamps: ContactStamps,
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The row of one new interaction, its audited view and summary; the contact noted for the client's stamps."""
    if item.source == "manual" or item.source not in SOURCES:
        raise ValidationFailed.one("source", f"must be one of: {', '.join(s for s in SOURCES if s != 'manual')}")
    if not item.external_id or not item.external_id.strip():
        raise ValidationFailed.one("external_id", "is required for an imported interaction")
    if item.author_id is not None and item.author_id != actor.user_id and not actor.is_admin:
        raise ValidationFailed.one("author_id", "you can log only your own interactions")
    subject, body = (item.subject or "").strip(), item.body or ""
    check_text(subject, body)
    kind = kinds[item.kind]
    occurred = check_time(item.occurred_at)
    links = resolve_links(session, actor=actor, organization_id=item.organization_id, person_id=item.person_id)
    team_id = links.team_id
    assert team_id is not None
    row: dict[str, Any] = {
        "kind_id": kind.id,
        "direction": Direction(kind.direction),
        "occurred_at": occurred,
        "subject": subject,
        "body": body,
        "result_id": None,
        "refusal_reason": "",
        "stage_id": None,
        "team_id": team_id,
        "author_id": item.author_id if item.author_id is not None else actor.user_id,
        "source": item.source,
        "external_id": item.external_id,
        "import_key": key,
        "mail_id": item.mail_id,
        **links.ids,
    }
    stamps.add(links, occurred)
    view = {f: row[f] for f in audited_fields(item.source)}
    return row, view, f"{kind.name}: {links.client_name}"
