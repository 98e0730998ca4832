"""GDPR-style requests about one contact person: export everything stored, or erase it.

``export_person`` gathers every row about the person (their fields, contact points, where
they work, interactions, tasks, deals, comments, files' metadata, groups, mails, suppression
state, the audit entries about them, and any duplicates merged into them) into one JSON
document. Admins, managers and auditors who can see the person may export; each export is
recorded in the audit log.

``erase_person`` (admins only) removes the person and their personal data for good:

* the person row and everything hanging only on them (contact points, employments, tags,
  group memberships, comments, files and their bytes), and every duplicate merged into them;
* their interactions and tasks: deleted when they belong to the person alone; when they also
  belong to an organization they stay on its card (the company's history), detached from the
  person, with their text replaced by ``[erased]`` and their files removed;
* the stored copies of mails logged on them: kept as empty shells (the Message-ID only, so a
  later sync does not import the mail again), subject, addresses, text and raw bytes erased;
* the audit entries about the person and about the rows above: summary and diff blanked;
* any remaining mention of their e-mails, phones or full name in free text anywhere in the
  store (``core.records.scrub``), e.g. an organization's notes or a pending outbound change.

Their e-mail addresses go on the suppression list with reason ``erased``, stored only as
SHA-256 hashes (see ``core.lists.suppression``), so mailings never reach them again while the
database no longer holds the addresses. The blocklist is kept as it is: an entry there
exists to keep refusing that counterparty. The erase itself is audited without personal
data: who erased which person id, and how many rows were touched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Text, cast, delete, func, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.db import utcnow
from core.errors import NotFound
from core.lists.suppression import hashed, suppress
from core.models import (
    AuditEntry,
    Comment,
    ContactPoint,
    Deal,
    GroupMember,
    Interaction,
    MailMessageRow,
    Person,
    PointKind,
    Role,
    StoredFile,
    SuppressionEntry,
    Task,
)
from core.records.files import delete_rows
from core.records.scrub import ERASED, scrub_text
from core.rights import require_role, require_visible


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _row(record: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: _plain(getattr(record, f)) for f in fields}


def _merged_into(session: Session, person_id: int) -> list[int]:
    """The person and every duplicate (transitively) merged into them."""
    ids = [person_id]
    frontier = [person_id]
    while frontier:
        found = [
            i for i in session.scalars(select(Person.id).where(Person.merged_into_id.in_(frontier))) if i not in ids
        ]
        ids += found
        frontier = found
    return ids


PERSON_FIELDS = (
    "id",
    "first_name",
    "middle_name",
    "last_name",
    "full_name",
    "position",
    "birthday",
    "notes",
    "team_id",
    "responsible_id",
    "custom",
    "last_contact_at",
    "created_at",
    "updated_at",
    "merged_into_id",
)


def _person_doc(person: Person) -> dict[str, Any]:
    doc = _row(person, PERSON_FIELDS)
    doc["tags"] = sorted(t.name for t in person.tags)
    doc["contact_points"] = [_row(p, ("kind", "value", "display", "label")) for p in person.points]
    doc["employments"] = [
        {
            "organization_id": e.organization_id,
            "organization_name": e.organization.name,
            **_row(e, ("role", "is_primary", "started_on", "ended_on")),
        }
        for e in person.employments
    ]
    return doc


def export_person(session: Session, *, actor: Actor, person_id: int) -> dict[str, Any]:
    """Everything stored about one person, as a JSON-ready document; audited."""
    person = session.get(Person, person_id)
    require_visible(actor, person, "Person")
    require_role(actor, Role.manager, Role.auditor)
    assert person is not None
    ids = _merged_into(session, person.id)
    merged = [session.get(Person, i) for i in ids[1:]]
    interactions = list(
        session.scalars(select(Interaction).where(Interaction.person_id.in_(ids)).order_by(Interaction.occurred_at))
    )
    interaction_ids = [i.id for i in interactions]
    mail_ids = sorted({i.mail_id for i in interactions if i.mail_id is not None})
    emails = [p.value for p in person.points if p.kind == PointKind.email]
    for other in merged:
        emails += [p.value for p in other.points if p.kind == PointKind.email] if other else []
    files = session.scalars(
        select(StoredFile).where(
            or_(
                StoredFile.person_id.in_(ids),
                StoredFile.interaction_id.in_(interaction_ids or [-1]),
                StoredFile.mail_id.in_(mail_ids or [-1]),
            )
        )
    )
    audit_rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "person", AuditEntry.entity_id.in_(ids))
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    suppressed = session.scalars(
        select(SuppressionEntry).where(SuppressionEntry.email.in_(emails + [hashed(e) for e in emails] or [""]))
    )
    doc = {
        "format": "crmhub.person-export/1",
        "exported_at": utcnow().isoformat(),
        "person": _person_doc(person),
        "merged_records": [_person_doc(p) for p in merged if p is not None],
        "groups": [
            {"id": m.group_id} for m in session.scalars(select(GroupMember).where(GroupMember.person_id.in_(ids)))
        ],
        "interactions": [
            {
                **_row(
                    i,
                    (
                        "id",
                        "occurred_at",
                        "direction",
                        "subject",
                        "body",
                        "refusal_reason",
                        "organization_id",
                        "deal_id",
                        "source",
                        "mail_id",
                        "created_at",
                    ),
                ),
                "kind": i.kind.code,
                "result": i.result.code if i.result else None,
            }
            for i in interactions
        ],
        "tasks": [
            _row(t, ("id", "title", "description", "due_at", "status", "priority", "organization_id", "completed_at"))
            for t in session.scalars(select(Task).where(Task.person_id.in_(ids)).order_by(Task.due_at))
        ],
        "deals": [
            _row(d, ("id", "title", "organization_id", "amount", "currency", "status", "created_at"))
            for d in session.scalars(select(Deal).where(Deal.person_id.in_(ids)))
        ],
        "comments": [
            _row(c, ("id", "body", "author_id", "created_at"))
            for c in session.scalars(select(Comment).where(Comment.person_id.in_(ids)).order_by(Comment.created_at))
        ],
        "files": [
            _row(f, ("id", "filename", "content_type", "size", "sha256", "interaction_id", "created_at")) for f in files
        ],
        "mails": [
            _row(m, ("id", "message_id", "subject", "sent_at", "from_addr", "participants", "text"))
            for m in session.scalars(select(MailMessageRow).where(MailMessageRow.id.in_(mail_ids or [-1])))
        ],
        "suppression": [_row(s, ("email", "reason", "created_at")) for s in suppressed],
        "audit": [_row(a, ("at", "user_id", "source", "action", "summary", "changes")) for a in audit_rows],
    }
    audit.record(
        session,
        actor=actor,
        action="privacy_export",
        entity_type="person",
        entity_id=person.id,
        summary="Personal data exported",
    )
    return doc


@dataclass
class ErasureReport:
    """How many rows an erase touched (no personal data in it)."""

    person_ids: list[int] = field(default_factory=list)
    interactions_deleted: int = 0
    interactions_erased: int = 0
    tasks_deleted: int = 0
    tasks_erased: int = 0
    files_deleted: int = 0
    comments_deleted: int = 0
    mails_erased: int = 0
    addresses_suppressed: int = 0
    other_rows_scrubbed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data."""
        return asdict(self)


def _blank_audit(session: Session, pairs: list[tuple[str, list[int]]]) -> None:
    for entity_type, ids in pairs:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for entry in session.scalars(
                select(AuditEntry).where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id.in_(chunk))
            ):
                entry.summary, entry.changes = ERASED, {}


def erase_person(session: Session, *, actor: Actor, person_id: int) -> ErasureReport:
    """Delete a person and their personal data everywhere (admins); see the module text."""
    require_role(actor)
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("Person not found")
    report = ErasureReport(person_ids=_merged_into(session, person.id))
    ids = report.person_ids
    persons = [session.get(Person, i) for i in ids]
    emails = sorted({p.value for x in persons if x for p in x.points if p.kind == PointKind.email})
    needles = set(emails)
    for x in persons:
        if x is None:
            continue
        needles.update(p.value for p in x.points if p.kind == PointKind.phone)
        needles.update(p.display for p in x.points if p.display)
        if len(x.full_name.split()) >= 2:
            needles.add(x.full_name)

    interactions = list(session.scalars(select(Interaction).where(Interaction.person_id.in_(ids))))
    mail_ids = {i.mail_id for i in interactions if i.mail_id is not None}
    if emails:
        lowered = [func.lower(cast(MailMessageRow.participants, Text)), func.lower(MailMessageRow.from_addr)]
        conds = [col.contains(e, autoescape=True) for e in emails for col in lowered]
        mail_ids.update(session.scalars(select(MailMessageRow.id).where(or_(*conds))))
    touched_interactions = [i.id for i in interactions]
    files = list(
        session.scalars(
            select(StoredFile).where(
                or_(
                    StoredFile.person_id.in_(ids),
                    StoredFile.interaction_id.in_(touched_interactions or [-1]),
                    StoredFile.mail_id.in_(sorted(mail_ids) or [-1]),
                )
            )
        )
    )
    file_ids = [f.id for f in files]
    report.files_deleted = delete_rows(session, actor=actor, files=files, audited=False)

    for interaction in interactions:
        if interaction.organization_id is None:
            session.delete(interaction)
            report.interactions_deleted += 1
        else:
            interaction.person_id = None
            interaction.subject = interaction.body = ERASED
            interaction.refusal_reason = ""
            report.interactions_erased += 1
    for interaction in session.scalars(select(Interaction).where(Interaction.mail_id.in_(sorted(mail_ids) or [-1]))):
        if interaction.id not in touched_interactions:
            interaction.subject = interaction.body = ERASED
            touched_interactions.append(interaction.id)
    for mail in session.scalars(select(MailMessageRow).where(MailMessageRow.id.in_(sorted(mail_ids) or [-1]))):
        mail.subject, mail.from_addr, mail.participants = ERASED, "", {}
        mail.text, mail.html, mail.raw_compressed, mail.problems = ERASED, None, None, []
        report.mails_erased += 1

    tasks = list(session.scalars(select(Task).where(Task.person_id.in_(ids))))
    for task in tasks:
        if task.organization_id is None:
            session.delete(task)
            report.tasks_deleted += 1
        else:
            task.person_id = None
            task.title, task.description = ERASED, ""
            report.tasks_erased += 1
    comment_ids = list(session.scalars(select(Comment.id).where(Comment.person_id.in_(ids))))
    session.execute(delete(Comment).where(Comment.id.in_(comment_ids or [-1])))
    report.comments_deleted = len(comment_ids)

    for address in emails:
        suppress(session, actor=actor, email=address, reason="erased")
    report.addresses_suppressed = len(emails)

    session.flush()
    for x in reversed(persons):
        if x is not None:
            session.delete(x)
    session.flush()
    session.execute(delete(ContactPoint).where(ContactPoint.person_id.in_(ids)))
    _blank_audit(
        session,
        [
            ("person", ids),
            ("interaction", touched_interactions),
            ("task", [t.id for t in tasks]),
            ("file", file_ids),
            ("comment", comment_ids),
        ],
    )
    report.other_rows_scrubbed = scrub_text(session, sorted(needles))
    audit.record(
        session,
        actor=actor,
        action="erase",
        entity_type="person",
        entity_id=person_id,
        summary=f"Person #{person_id} erased on request",
        changes={k: v for k, v in report.as_dict().items() if k != "person_ids"} | {"person_ids": ids},
    )
    session.flush()
    return report
