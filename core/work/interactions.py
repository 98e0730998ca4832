"""Interactions: logging what happened with a client, the timeline, corrections, and imports.

Logging is the heart of the daily work, so ``log_interaction`` does everything a logged call
or meeting implies, in one transaction: it checks the client is visible and writable, takes
the client's team, applies the result (a refusal needs a reason; a stage is reached, see
``core.work.outcome``), stamps the client's last (and first) contact, completes the planned
contact it carried out (``task_id``), and plans the next contact when one is given. When the
result does not end the work and no next contact was given, it returns a proposal instead
(``core.work.proposals``): the caller shows it, and the user accepts or changes it.

Editing an interaction corrects the record (text, time, kind, result); it does not move
stages again: stages move when work is logged, or by moving the deal.

Connectors import through ``record_external_interaction``, idempotent by (source, external
id, organization, person): the same call or message imported twice, or by two workers at
once, is stored once (a unique ``import_key`` settles races).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.db import utcnow
from core.errors import Conflict, FieldProblem, Forbidden, NotFound, ValidationFailed
from core.models import (
    Direction,
    Employment,
    Interaction,
    InteractionResult,
    Organization,
    Person,
    Role,
    Stage,
    Task,
    TaskStatus,
)
from core.rights import WRITERS, can_see_team, visible
from core.work import tasks as task_service
from core.work.clock import local_date, require_aware
from core.work.links import Links, resolve_links
from core.work.outcome import apply_stage
from core.work.proposals import NextContactProposal, propose_next_contact
from core.work.reference import kind_names, resolve_kind, resolve_result

SOURCES = ("manual", "imap", "exchange", "telegram")
FUTURE_TOLERANCE = timedelta(minutes=10)
NEXT_CONTACT_FIELDS = ("due_at", "kind", "title", "responsible_id", "remind_at", "description", "priority")
AUDITED = (
    "kind_id",
    "direction",
    "occurred_at",
    "subject",
    "body",
    "result_id",
    "refusal_reason",
    "stage_id",
    "organization_id",
    "person_id",
    "deal_id",
    "author_id",
    "source",
    "external_id",
)


@dataclass
class LoggedInteraction:
    """What logging produced: the interaction, the next contact planned, or a proposal for one."""

    interaction: Interaction
    next_task: Task | None = None
    proposal: NextContactProposal | None = None

    @property
    def next_contact_expected(self) -> bool:
        """True when the work goes on but no next contact was planned yet."""
        return self.proposal is not None


MAIL_SOURCES = ("imap", "exchange")
"""Sources whose subject and body are somebody's mail."""
WORDS = ("subject", "body")


def audited_fields(source: str) -> tuple[str, ...]:
    """What the audit log's create and delete entries of an interaction record.

    Everything in ``AUDITED``, except the words of imported mail: a message its owner later
    marks private must leave no trace of what it said, and the audit log outlives the card.
    """
    return tuple(f for f in AUDITED if f not in WORDS) if source in MAIL_SOURCES else AUDITED


def _view(interaction: Interaction, fields: tuple[str, ...] = AUDITED) -> dict[str, Any]:
    return {f: getattr(interaction, f) for f in fields}


def import_key(source: str, external_id: str, organization_id: int | None, person_id: int | None) -> str:
    """The idempotency key of an imported interaction."""
    raw = "\x1f".join((source, external_id, str(organization_id or 0), str(person_id or 0)))
    return hashlib.sha256(raw.encode()).hexdigest()


def _check_refusal(result: InteractionResult | None, reason: str) -> None:
    if result is not None and result.is_refusal and not reason.strip():
        raise ValidationFailed.one("refusal_reason", "is required with a refusal: why did the client refuse?")
    if reason.strip() and (result is None or not result.is_refusal):
        raise ValidationFailed.one("refusal_reason", "give a refusal reason only with a refusal result")


def check_time(occurred_at: datetime | None) -> datetime:
    """When it happened, in UTC (now when not given); never noticeably in the future."""
    occurred = require_aware(occurred_at, "occurred_at") or utcnow()
    if occurred > utcnow() + FUTURE_TOLERANCE:
        raise ValidationFailed.one("occurred_at", "is in the future; plan a future contact as a task instead")
    return occurred


def check_text(subject: str, body: str) -> None:
    """ValidationFailed when the subject or the body is longer than an interaction holds."""
    if len(subject) > 998:
        raise ValidationFailed.one("subject", "is longer than 998 characters")
    if len(body) > 1_000_000:
        raise ValidationFailed.one("body", "is longer than 1,000,000 characters")


def _fulfilled_task(session: Session, actor: Actor, task_id: int | None, links: Links) -> Task | None:
    if task_id is None:
        return None
    task = task_service.get_task(session, actor=actor, task_id=task_id)
    if task.status != TaskStatus.open:
        raise Conflict(f"Task #{task.id} is already {task.status}")
    ours = {("organization", links.organization.id) if links.organization else None}
    ours.add(("person", links.person.id) if links.person else None)
    its = {("organization", task.organization_id) if task.organization_id else None}
    its.add(("person", task.person_id) if task.person_id else None)
    its.discard(None)
    if its and not its & ours:
        raise ValidationFailed.one("task_id", f"task #{task.id} is planned with another client")
    return task


def stamp_contact(links: Links, occurred: datetime) -> None:
    """Move the clients' last contact (and first, when unset) to this contact's time."""
    for client in (links.organization, links.person):
        if client is not None and (client.last_contact_at is None or client.last_contact_at < occurred):
            client.last_contact_at = occurred
    org = links.organization
    day = local_date(occurred)
    if org is not None and (org.first_contact_on is None or org.first_contact_on > day):
        org.first_contact_on = day


def _plan_next(
    session: Session, actor: Actor, interaction: Interaction, links: Links, data: dict[str, Any], default: Any
) -> Task:
    unknown = set(data) - set(NEXT_CONTACT_FIELDS)
    if unknown:
        raise ValidationFailed.one(f"next_contact.{sorted(unknown)[0]}", "is not a field of a planned contact")
    try:
        return task_service.create_task(
            session,
            actor=actor,
            title=data.get("title") or default.title,
            due_at=data.get("due_at"),
            kind=data.get("kind") or default.kind,
            remind_at=data.get("remind_at"),
            description=data.get("description") or "",
            priority=data.get("priority") or "normal",
            responsible_id=data.get("responsible_id") or interaction.author_id,
            from_interaction_id=interaction.id,
            **links.ids,
        )
    except ValidationFailed as exc:
        raise ValidationFailed([FieldProblem(f"next_contact.{p.field}", p.message) for p in exc.problems]) from None


def log_interaction(
    session: Session,
    *,
    actor: Actor,
    kind: str | int,
    organization_id: int | None = None,
    person_id: int | None = None,
    deal_id: int | None = None,
    occurred_at: datetime | None = None,
    direction: str | None = None,
    subject: str = "",
    body: str = "",
    result: str | int | None = None,
    refusal_reason: str = "",
    stage_id: int | None = None,
    task_id: int | None = None,
    next_contact: dict[str, Any] | None = None,
    source: str = "manual",
    external_id: str | None = None,
    author_id: int | None = None,
) -> LoggedInteraction:
    """Log an interaction with a client and apply its result; proposes the next contact when one is due."""
    if source not in SOURCES:
        raise ValidationFailed.one("source", f"must be one of: {', '.join(SOURCES)}")
    if author_id is not None and author_id != actor.user_id and not actor.is_admin:
        raise ValidationFailed.one("author_id", "you can log only your own interactions")
    subject, body, refusal_reason = (subject or "").strip(), body or "", (refusal_reason or "").strip()
    check_text(subject, body)
    the_kind = resolve_kind(session, kind)
    the_result = resolve_result(session, result)
    if direction is not None and direction not in tuple(Direction):
        raise ValidationFailed.one("direction", f"must be one of: {', '.join(Direction)}")
    occurred = check_time(occurred_at)
    _check_refusal(the_result, refusal_reason)
    explicit = session.get(Stage, stage_id) if stage_id is not None else None
    if stage_id is not None and explicit is None:
        raise ValidationFailed.one("stage_id", f"there is no stage #{stage_id}")
    links = resolve_links(session, actor=actor, organization_id=organization_id, person_id=person_id, deal_id=deal_id)
    fulfils = _fulfilled_task(session, actor, task_id, links)
    key = None
    if external_id:
        key = import_key(source, external_id, organization_id, person_id)
        existing = session.scalar(select(Interaction.id).where(Interaction.import_key == key))
        if existing is not None:
            raise Conflict(f"This {source} item was already logged as interaction #{existing}")
    team_id = links.team_id
    assert team_id is not None
    interaction = Interaction(
        kind_id=the_kind.id,
        kind=the_kind,
        direction=Direction(direction or the_kind.direction),
        occurred_at=occurred,
        subject=subject,
        body=body,
        result_id=the_result.id if the_result else None,
        result=the_result,
        refusal_reason=refusal_reason[:500],
        team_id=team_id,
        author_id=author_id if author_id is not None else actor.user_id,
        source=source,
        external_id=external_id,
        import_key=key,
        **links.ids,
    )
    session.add(interaction)
    session.flush()
    target = explicit or (session.get(Stage, the_result.stage_id) if the_result and the_result.stage_id else None)
    reached = apply_stage(
        session,
        actor=actor,
        links=links,
        target=target,
        explicit=explicit is not None,
        reason=refusal_reason,
        at=occurred,
    )
    interaction.stage_id = reached.id if reached else None
    stamp_contact(links, occurred)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="interaction",
        entity_id=interaction.id,
        summary=f"{the_kind.name}: {links.client_name}"[:500],
        changes=audit.diff({}, _view(interaction, audited_fields(interaction.source))),
    )
    if fulfils is not None:
        task_service.complete_task(session, actor=actor, task_id=fulfils.id, by_interaction_id=interaction.id)
    logged = LoggedInteraction(interaction)
    ends = the_result is not None and the_result.ends_work
    if next_contact is not None or not ends:
        default = propose_next_contact(
            kind=the_kind,
            result=the_result,
            now=utcnow(),
            client_name=links.client_name,
            responsible_id=interaction.author_id,
            kind_names=kind_names(session, interaction.author_id),
            **links.ids,
        )
        if next_contact is not None:
            logged.next_task = _plan_next(session, actor, interaction, links, next_contact, default)
        else:
            logged.proposal = default
    return logged


def get_interaction(session: Session, *, actor: Actor, interaction_id: int) -> Interaction:
    """The interaction, if the actor may see it (NotFound otherwise)."""
    interaction = session.get(Interaction, interaction_id)
    if interaction is None or not can_see_team(actor, interaction.team_id):
        raise NotFound("Interaction not found")
    return interaction


def _editable(session: Session, actor: Actor, interaction_id: int) -> Interaction:
    interaction = get_interaction(session, actor=actor, interaction_id=interaction_id)
    if actor.is_admin or actor.role == Role.manager:
        return interaction
    if actor.role in WRITERS and interaction.author_id is not None and interaction.author_id == actor.user_id:
        return interaction
    raise Forbidden("Only the author of an interaction or a manager may change it")


def _refresh_last_contact(session: Session, organization_id: int | None, person_id: int | None) -> None:
    if organization_id is not None and (org := session.get(Organization, organization_id)) is not None:
        org.last_contact_at = session.scalar(
            select(func.max(Interaction.occurred_at)).where(Interaction.organization_id == organization_id)
        )
    if person_id is not None and (person := session.get(Person, person_id)) is not None:
        person.last_contact_at = session.scalar(
            select(func.max(Interaction.occurred_at)).where(Interaction.person_id == person_id)
        )


def update_interaction(session: Session, *, actor: Actor, interaction_id: int, changes: dict[str, Any]) -> Interaction:
    """Correct an interaction (author, managers, admins); stages are not moved again; audited."""
    interaction = _editable(session, actor, interaction_id)
    allowed = ("kind", "direction", "occurred_at", "subject", "body", "result", "refusal_reason")
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValidationFailed.one(sorted(unknown)[0], "cannot be changed here")
    before = _view(interaction)
    if "kind" in changes:
        interaction.kind = resolve_kind(session, changes["kind"])
        interaction.kind_id = interaction.kind.id
    if "result" in changes:
        interaction.result = resolve_result(session, changes["result"])
        interaction.result_id = interaction.result.id if interaction.result else None
    if "direction" in changes:
        if changes["direction"] not in tuple(Direction):
            raise ValidationFailed.one("direction", f"must be one of: {', '.join(Direction)}")
        interaction.direction = Direction(changes["direction"])
    if "subject" in changes or "body" in changes:
        subject = str(changes.get("subject", interaction.subject) or "").strip()
        body = str(changes.get("body", interaction.body) or "")
        check_text(subject, body)
        interaction.subject, interaction.body = subject, body
    if "refusal_reason" in changes:
        interaction.refusal_reason = str(changes["refusal_reason"] or "").strip()[:500]
    _check_refusal(interaction.result, interaction.refusal_reason)
    if "occurred_at" in changes:
        if changes["occurred_at"] is None:
            raise ValidationFailed.one("occurred_at", "is required: when did it happen?")
        interaction.occurred_at = check_time(changes["occurred_at"])
        session.flush()
        _refresh_last_contact(session, interaction.organization_id, interaction.person_id)
    session.flush()
    delta = audit.diff(before, _view(interaction))
    audit.record_update(
        session,
        actor=actor,
        entity_type="interaction",
        entity_id=interaction.id,
        summary=interaction.subject or interaction.kind.name,
        changes=delta,
    )
    return interaction


def delete_interaction(session: Session, *, actor: Actor, interaction_id: int) -> None:
    """Delete an interaction (author, managers, admins); the client's last contact is recomputed; audited."""
    interaction = _editable(session, actor, interaction_id)
    org_id, person_id = interaction.organization_id, interaction.person_id
    fields = audited_fields(interaction.source)
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity_type="interaction",
        entity_id=interaction.id,
        summary=(interaction.subject if "subject" in fields else "") or interaction.kind.name,
        changes=audit.diff(_view(interaction, fields), {}),
    )
    session.delete(interaction)
    session.flush()
    _refresh_last_contact(session, org_id, person_id)
    session.flush()


def list_interactions(
    session: Session,
    *,
    actor: Actor,
    organization_id: int | None = None,
    person_id: int | None = None,
    deal_id: int | None = None,
    kind: str | int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    author_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Interaction], int]:
    """A page of the timeline (newest first): of an organization with its persons, a person, or a deal."""
    if organization_id is not None or person_id is not None or deal_id is not None:
        resolve_links(
            session, actor=actor, organization_id=organization_id, person_id=person_id, deal_id=deal_id, write=False
        )
    stmt = select(Interaction).where(visible(actor, Interaction.team_id))
    if organization_id is not None:
        staff = select(Employment.person_id).where(Employment.organization_id == organization_id)
        stmt = stmt.where(or_(Interaction.organization_id == organization_id, Interaction.person_id.in_(staff)))
    if person_id is not None:
        stmt = stmt.where(Interaction.person_id == person_id)
    if deal_id is not None:
        stmt = stmt.where(Interaction.deal_id == deal_id)
    if kind not in (None, ""):
        stmt = stmt.where(Interaction.kind_id == resolve_kind(session, kind).id)  # type: ignore[arg-type]
    if since is not None:
        stmt = stmt.where(Interaction.occurred_at >= require_aware(since, "since"))
    if until is not None:
        stmt = stmt.where(Interaction.occurred_at < require_aware(until, "until"))
    if author_id is not None:
        stmt = stmt.where(Interaction.author_id == author_id)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    order = (Interaction.occurred_at.desc(), Interaction.id.desc())
    rows = session.scalars(stmt.order_by(*order).limit(limit).offset(offset)).unique().all()
    return list(rows), total


def record_external_interaction(
    session: Session,
    *,
    actor: Actor,
    source: str,
    external_id: str,
    kind: str | int,
    organization_id: int | None = None,
    person_id: int | None = None,
    **fields: Any,
) -> tuple[Interaction, bool]:
    """Log an imported call or message once: the existing row (and False) when it is already there."""
    if source == "manual" or source not in SOURCES:
        raise ValidationFailed.one("source", f"must be one of: {', '.join(s for s in SOURCES if s != 'manual')}")
    if not external_id or not external_id.strip():
        raise ValidationFailed.one("external_id", "is required for an imported interaction")
    key = import_key(source, external_id, organization_id, person_id)

    def existing() -> Interaction | None:
        found = session.scalars(select(Interaction).where(Interaction.import_key == key)).first()
        if found is not None and not can_see_team(actor, found.team_id):
            raise NotFound("Interaction not found")
        return found

    found = existing()
    if found is not None:
        return found, False
    fields.pop("next_contact", None)
    try:
        with session.begin_nested():
            logged = log_interaction(
                session,
                actor=actor,
                kind=kind,
                organization_id=organization_id,
                person_id=person_id,
                source=source,
                external_id=external_id,
                **fields,
            )
    except (IntegrityError, Conflict):
        found = existing()
        if found is None:
            raise
        return found, False
    return logged.interaction, True
