"""What the client card reads around a client: interactions, tasks, deals, files, comments, history.

Rights first, always: every function takes a ``ClientRef``, and the only way to get one is
``open_client``, which fetches the client through ``core.clients`` (``get_organization`` /
``get_person``: NotFound for a client of a team the actor does not work in). The related
rows are then selected by that client's id and, where the row has a team, also through
``core.rights.visible``, so the card never shows more than the API would.

These are plain reads of the models while the services of interactions, tasks, deals, files,
comments and the audit query are being built; each function has the shape such a service
will have (session, actor, client, paging), so switching a function to its service is a
one-line change here and nothing in the views or templates moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.clients.filters import ClientFilter
from core.clients.organizations import get_organization
from core.clients.persons import get_person, list_persons
from core.errors import NotFound
from core.models import (
    AuditEntry,
    Comment,
    Deal,
    DealStatus,
    Interaction,
    MailMessageRow,
    Organization,
    Person,
    Stage,
    StoredFile,
    Task,
    TaskStatus,
    User,
)
from core.rights import visible


@dataclass(frozen=True)
class ClientRef:
    """A client the actor may see, as fetched by ``open_client``."""

    kind: str
    id: int
    record: Organization | Person

    def owns(self, model: Any) -> ColumnElement[bool]:
        """The condition selecting a related model's rows of this client."""
        column = model.organization_id if self.kind == "organization" else model.person_id
        return column == self.id  # type: ignore[no-any-return]


def open_client(session: Session, *, actor: Actor, kind: str, client_id: int) -> ClientRef:
    """The client through the core services (NotFound when the actor may not see it)."""
    if kind == "organization":
        return ClientRef(kind, client_id, get_organization(session, actor=actor, org_id=client_id))
    if kind == "person":
        return ClientRef(kind, client_id, get_person(session, actor=actor, person_id=client_id))
    raise NotFound("Client not found")


def interactions(
    session: Session, *, actor: Actor, client: ClientRef, limit: int = 50, offset: int = 0
) -> list[Interaction]:
    """The client's interactions, newest first."""
    stmt = (
        select(Interaction)
        .where(client.owns(Interaction), visible(actor, Interaction.team_id))
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt))


def tasks(
    session: Session, *, actor: Actor, client: ClientRef, open_only: bool = False, limit: int = 100
) -> list[Task]:
    """The client's tasks: open ones by due time, then the finished, newest first."""
    stmt = select(Task).where(client.owns(Task), visible(actor, Task.team_id))
    if open_only:
        stmt = stmt.where(Task.status == TaskStatus.open)
    is_open = (Task.status == TaskStatus.open).desc()
    return list(session.scalars(stmt.order_by(is_open, Task.due_at.asc(), Task.id).limit(limit)))


def deals(session: Session, *, actor: Actor, client: ClientRef) -> list[Deal]:
    """The client's deals, open first, newest first."""
    stmt = select(Deal).where(client.owns(Deal), visible(actor, Deal.team_id))
    is_open = (Deal.status == DealStatus.open).desc()
    return list(session.scalars(stmt.order_by(is_open, Deal.created_at.desc(), Deal.id.desc()).limit(200)))


def files(session: Session, *, actor: Actor, client: ClientRef) -> list[StoredFile]:
    """Files attached to the client itself, newest first."""
    stmt = select(StoredFile).where(client.owns(StoredFile)).order_by(StoredFile.created_at.desc(), StoredFile.id)
    return list(session.scalars(stmt.limit(500)))


def comments(session: Session, *, actor: Actor, client: ClientRef) -> list[Comment]:
    """Comments on the client's card, oldest first (a conversation)."""
    stmt = select(Comment).where(client.owns(Comment)).order_by(Comment.created_at.asc(), Comment.id)
    return list(session.scalars(stmt.limit(500)))


def history(session: Session, *, actor: Actor, client: ClientRef, limit: int = 100) -> list[AuditEntry]:
    """Audit entries of the client record, newest first."""
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.entity_type == client.kind, AuditEntry.entity_id == client.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def counts(session: Session, *, actor: Actor, client: ClientRef) -> dict[str, int]:
    """How many rows each tab of the card has."""

    def count(model: Any, *extra: Any) -> int:
        return session.scalar(select(func.count()).select_from(model).where(client.owns(model), *extra)) or 0

    out = {
        "interactions": count(Interaction, visible(actor, Interaction.team_id)),
        "tasks": count(Task, visible(actor, Task.team_id), Task.status == TaskStatus.open),
        "deals": count(Deal, visible(actor, Deal.team_id)),
        "files": count(StoredFile),
        "comments": count(Comment),
    }
    if client.kind == "organization":
        out["persons"] = len(employees(session, actor=actor, client=client))
    else:
        assert isinstance(client.record, Person)
        out["organizations"] = len(client.record.employments)
    return out


def employees(session: Session, *, actor: Actor, client: ClientRef) -> list[tuple[Person, str]]:
    """The contact persons of an organization (through the core person list) with their roles."""
    people, _ = list_persons(session, actor=actor, filter=ClientFilter(organization_id=client.id), limit=500)
    out = []
    for person in people:
        role = next((e.role for e in person.employments if e.organization_id == client.id), "")
        out.append((person, role))
    return out


def mails(session: Session, *, actor: Actor, client: ClientRef, items: list[Interaction]) -> dict[int, MailMessageRow]:
    """The stored e-mails behind some of the client's interactions (as ``interactions`` gave them), by id."""
    ids = {i.mail_id for i in items if i.mail_id is not None}
    if not ids:
        return {}
    linked = select(Interaction.mail_id).where(
        client.owns(Interaction), visible(actor, Interaction.team_id), Interaction.mail_id.in_(ids)
    )
    return {m.id: m for m in session.scalars(select(MailMessageRow).where(MailMessageRow.id.in_(linked)))}


def attachments(session: Session, *, mail_ids: set[int]) -> dict[int, list[StoredFile]]:
    """The attachments of some e-mails (already checked to belong to the client), by e-mail id."""
    out: dict[int, list[StoredFile]] = {}
    if not mail_ids:
        return out
    stmt = select(StoredFile).where(StoredFile.mail_id.in_(mail_ids)).order_by(StoredFile.id)
    for f in session.scalars(stmt):
        out.setdefault(f.mail_id or 0, []).append(f)
    return out


def mail_of_client(
    session: Session, *, actor: Actor, client: ClientRef, mail_id: int
) -> tuple[Interaction, MailMessageRow]:
    """One e-mail and the interaction logging it, only if it is on this client and the actor may see it."""
    interaction = session.scalars(
        select(Interaction)
        .where(client.owns(Interaction), visible(actor, Interaction.team_id), Interaction.mail_id == mail_id)
        .limit(1)
    ).first()
    mail = session.get(MailMessageRow, mail_id) if interaction is not None else None
    if interaction is None or mail is None:
        raise NotFound("E-mail not found")
    return interaction, mail


def users_by_id(session: Session, ids: set[int | None]) -> dict[int, User]:
    """Users by id, for showing names (authors, responsibles)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def stages_by_id(session: Session, ids: set[int | None]) -> dict[int, Stage]:
    """Sales stages by id, for showing their names."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {s.id: s for s in session.scalars(select(Stage).where(Stage.id.in_(wanted)))}


@dataclass
class Summary:
    """What a salesperson reads before a call: recent contacts, open tasks, stage, amount, responsible."""

    recent: list[Interaction] = field(default_factory=list)
    open_tasks: list[Task] = field(default_factory=list)
    stage: Stage | None = None
    amount: Decimal | None = None
    currency: str = ""
    open_deals: int = 0
    responsible: User | None = None
    last_contact: datetime | None = None


def summary(session: Session, *, actor: Actor, client: ClientRef) -> Summary:
    """The summary block at the top of the card."""
    record = client.record
    out = Summary(
        recent=interactions(session, actor=actor, client=client, limit=3),
        open_tasks=tasks(session, actor=actor, client=client, open_only=True, limit=5),
    )
    open_deals = [d for d in deals(session, actor=actor, client=client) if d.status == DealStatus.open]
    out.open_deals = len(open_deals)
    if isinstance(record, Organization):
        out.stage = session.get(Stage, record.stage_id) if record.stage_id else None
        out.amount = record.deal_amount
    if out.stage is None and open_deals:
        out.stage = max(open_deals, key=lambda d: (d.stage.position, d.id)).stage
    if out.amount is None and open_deals:
        currencies = {d.currency for d in open_deals}
        if len(currencies) == 1:
            out.amount, out.currency = sum((d.amount for d in open_deals), Decimal(0)), currencies.pop()
    if record.responsible_id:
        out.responsible = session.get(User, record.responsible_id)
    moments = [m for m in (record.last_contact_at, out.recent[0].occurred_at if out.recent else None) if m]
    out.last_contact = max(moments) if moments else None
    return out
