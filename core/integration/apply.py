"""Applying change records to the CRM: one applier per record type, chosen by a small registry.

Connectors hand the engine plain change records defined in core (``RemoteContact``,
``core.mail.MailMessage``...). The engine does not know what a record means: it calls
``apply_change`` for each one, inside its batch transaction and a savepoint, and counts the
``ApplyOutcome``. Core owns the domain rules, so the rules for a contact that arrives from
Outlook are the same as for one typed in the web UI (duplicates, blocklist, rights, audit).

Every applier must be idempotent: the engine's delivery is at-least-once (a worker killed
after applying but before committing repeats the batch, and a repeated batch arrives after a
crash or a lease takeover). Appliers key their effect by the remote identity of the item
(``remote_links``, Message-ID, UID...) and return ``skipped`` when there is nothing new.

An applier raises a ``CoreError`` (or ``PermanentError``) when the item cannot be applied as
it is; the engine rolls back the item's savepoint, records it with the reason and goes on.

A record type may also register a *preparer* (``@preparer(RecordType)``): the engine calls
``prepare_changes`` once per batch, before applying it, so the type can make its look-ups for
the whole batch in a few queries instead of a few per item. A preparer may decide items that
need no write at all (an e-mail with no client: most of a mailbox) and return their outcomes;
the engine counts those without applying them. A preparer may also write items in bulk (the
mail with clients of a batch, ``core.mail.store``) and return their outcomes; then it must do
everything their appliers would, in a savepoint of its own, and when the bulk write fails,
roll it back and leave those items undecided, so each is applied alone and a bad one costs
only itself. Everything else is applied one by one as usual, and must come out the same
whether or not the preparer ran.

A record type that connectors may send as summaries (``Batch.summaries``: e-mail headers
without bodies) registers a *selector* (``@selector(RecordType)``): ``select_changes`` asks it
which summaries of a batch core wants in full, and the engine has the connector read only
those. It may also *settle* summaries that need nothing applied at all (mail with no client
and no suggestions to note): the engine counts those as skipped and drops them before the
batch goes further, so they are decided when the batch is read rather than when it is
committed, a batch or two later. A summary neither wanted nor settled must still be
applicable: it is skipped or applied from what it carries.

Appliers living in other core packages register themselves with ``@applier(RecordType)``
when their module is imported; list such modules in ``APPLIER_MODULES`` so the registry is
complete whoever imports it first.

``RemoteContact`` (contacts of Outlook, CardDAV, the loopback test server) is applied here:
a remote item is linked to one ``Person`` by ``remote_links``. A new item creates a person in
the account's team, or, when the person already exists (same e-mail or phone), links to that
person instead of failing. A changed item updates the person (the remote side wins for the
fields it carries); an unchanged version is skipped; a deleted item removes the link, and the
person only when the account's settings say ``delete_removed_persons``. Every link notes the
stream and the time a pull last returned its item, so that after a cursor reset the engine can
remove the links whose items were deleted while the cursor was stale (``stale_links``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clients.organizations import create_organization
from core.clients.persons import create_person, delete_person, update_person
from core.db import utcnow
from core.errors import Conflict, CoreError, DuplicateError
from core.integration.records import RemoteContact
from core.models import ConnectorAccount, Organization, Person, RemoteLink, User
from core.normalize import name_key

APPLIER_MODULES: tuple[str, ...] = ("core.mail.store",)
"""Modules elsewhere in core whose import registers more appliers (one line per record family)."""

SYNC_ACTOR = Actor.system(source="sync")
STREAM_KEY = "crmhub.sync.stream"
"""Where ``apply_change`` tells appliers which stream the change came from (``session.info``)."""


@dataclass(frozen=True)
class ApplyOutcome:
    """What applying one change did: applied to a record, or skipped with the reason."""

    applied: bool
    reason: str = ""
    entity_type: str | None = None
    entity_id: int | None = None

    @classmethod
    def done(cls, entity_type: str, entity_id: int) -> ApplyOutcome:
        """The change was applied to this record."""
        return cls(True, "", entity_type, entity_id)

    @classmethod
    def skipped(cls, reason: str, entity_type: str | None = None, entity_id: int | None = None) -> ApplyOutcome:
        """There was nothing to do, and why."""
        return cls(False, reason, entity_type, entity_id)


class NoApplier(CoreError):
    """A connector returned a record type core does not know how to apply."""

    code = "no_applier"


Applier = Callable[..., ApplyOutcome]
Preparer = Callable[..., dict[int, ApplyOutcome]]
Selector = Callable[..., "Selection"]
F = TypeVar("F", bound=Applier)
P = TypeVar("P", bound=Preparer)
S = TypeVar("S", bound=Selector)
_APPLIERS: dict[type, Applier] = {}
_PREPARERS: dict[type, Preparer] = {}
_SELECTORS: dict[type, Selector] = {}
_loaded = False


def applier(record_type: type) -> Callable[[F], F]:
    """Register the decorated ``fn(session, *, account, change)`` as the applier of ``record_type``."""

    def register(fn: F) -> F:
        _APPLIERS[record_type] = fn
        return fn

    return register


def preparer(record_type: type) -> Callable[[P], P]:
    """Register ``fn(session, *, account, changes)`` to look at a batch's ``record_type`` items at once.

    ``changes`` is a list of (index in the batch, change); it returns {index: outcome} for the
    items it decided without writing anything.
    """

    def register(fn: P) -> P:
        _PREPARERS[record_type] = fn
        return fn

    return register


@dataclass(frozen=True)
class Selection:
    """Core's choice among a batch's summaries, by index: those to read in full, those settled as they are."""

    full: frozenset[int] = frozenset()
    settled: frozenset[int] = frozenset()
    """Nothing to apply for these (counted as skipped); decided from what they carry when the batch is read."""

    def __or__(self, other: Selection) -> Selection:
        return Selection(self.full | other.full, self.settled | other.settled)


def selector(record_type: type) -> Callable[[S], S]:
    """Register ``fn(session, *, account, changes)`` to choose which summaries of ``record_type`` core wants whole.

    ``changes`` is a list of (index in the batch, summary); it returns a ``Selection``.
    """

    def register(fn: S) -> S:
        _SELECTORS[record_type] = fn
        return fn

    return register


def select_changes(session: Session, *, account: ConnectorAccount, changes: list[Any]) -> Selection:
    """Which summaries in ``changes`` core wants in full (all of a type without a selector), and which it settles."""
    groups, unhandled = _grouped(_SELECTORS, changes)
    chosen = Selection(full=frozenset(unhandled))
    for fn, items in groups.items():
        chosen |= fn(session, account=account, changes=items)
    return chosen


def prepare_changes(session: Session, *, account: ConnectorAccount, changes: list[Any]) -> dict[int, ApplyOutcome]:
    """Run every record type's preparer over this batch; the outcomes already decided, by index in ``changes``."""
    groups, _unhandled = _grouped(_PREPARERS, changes)
    decided: dict[int, ApplyOutcome] = {}
    for fn, items in groups.items():
        decided.update(fn(session, account=account, changes=items))
    return decided


def _handler(registry: dict[type, Any], change: Any) -> Any:
    """What ``registry`` holds for the change's type (or the nearest base class), else None."""
    _load()
    return next((registry[c] for c in type(change).__mro__ if c in registry), None)


def _grouped(registry: dict[type, Any], changes: list[Any]) -> tuple[dict[Any, list[tuple[int, Any]]], list[int]]:
    """The (index, change) pairs of a batch grouped by their handler in ``registry``; the indices of those with none."""
    groups: dict[Any, list[tuple[int, Any]]] = {}
    unhandled: list[int] = []
    for index, change in enumerate(changes):
        fn = _handler(registry, change)
        if fn is None:
            unhandled.append(index)
        else:
            groups.setdefault(fn, []).append((index, change))
    return groups, unhandled


def _load() -> None:
    global _loaded
    if not _loaded:
        for module in APPLIER_MODULES:
            importlib.import_module(module)
        _loaded = True


def apply_change(session: Session, *, account: ConnectorAccount, change: Any, stream: str = "") -> ApplyOutcome:
    """Apply one change record of this account to the CRM (idempotent); raises CoreError when it cannot."""
    session.info[STREAM_KEY] = stream
    fn = _handler(_APPLIERS, change)
    if fn is not None:
        return fn(session, account=account, change=change)
    raise NoApplier(f"crmhub does not know how to apply a {type(change).__name__} record")


def _link_of(session: Session, account_id: int, remote_id: str) -> RemoteLink | None:
    stmt = select(RemoteLink).where(RemoteLink.account_id == account_id, RemoteLink.remote_id == remote_id)
    return session.scalars(stmt).first()


def _organization_id(session: Session, account: ConnectorAccount, name: str) -> int | None:
    key = name_key(name)
    if not key:
        return None
    stmt = select(Organization.id).where(
        or_(Organization.name_key == key, Organization.brand_key == key), Organization.merged_into_id.is_(None)
    )
    found = session.scalars(stmt.order_by(Organization.id).limit(1)).first()
    if found is not None:
        return found
    try:
        return create_organization(session, actor=SYNC_ACTOR, name=name.strip(), team_id=account.team_id).id
    except DuplicateError as exc:
        return exc.existing.id or None


def _responsible(session: Session, account: ConnectorAccount) -> int | None:
    owner = session.get(User, account.owner_id) if account.owner_id else None
    return owner.id if owner is not None and owner.is_active else None


def _update(session: Session, account: ConnectorAccount, person: Person, change: RemoteContact) -> None:
    changes: dict[str, Any] = {
        "first_name": change.first_name,
        "last_name": change.last_name,
        "position": change.position,
        "emails": list(change.emails),
        "phones": list(change.phones),
    }
    org_id = _organization_id(session, account, change.organization) if change.organization else None
    current = [{"organization_id": e.organization_id, "role": e.role} for e in person.employments]
    if org_id is not None and org_id not in [e["organization_id"] for e in current]:
        changes["organizations"] = [*current, {"organization_id": org_id, "role": change.position}]
    update_person(session, actor=SYNC_ACTOR, person_id=person.id, changes=changes)


def _create_or_match(session: Session, account: ConnectorAccount, change: RemoteContact) -> tuple[Person, bool]:
    org_id = _organization_id(session, account, change.organization) if change.organization else None
    try:
        person = create_person(
            session,
            actor=SYNC_ACTOR,
            first_name=change.first_name,
            last_name=change.last_name,
            position=change.position,
            team_id=account.team_id,
            emails=list(change.emails),
            phones=list(change.phones),
            organizations=[{"organization_id": org_id, "role": change.position}] if org_id else [],
            responsible_id=_responsible(session, account),
        )
        return person, True
    except DuplicateError as exc:
        if exc.existing.type != "person" or not exc.existing.id:
            raise
        person = session.get(Person, exc.existing.id)
        if person is None:
            raise
        return person, False


def _seen(session: Session, link: RemoteLink) -> None:
    """Note that a pull returned the link's item just now, from the stream being applied."""
    link.stream = session.info.get(STREAM_KEY, "") or link.stream
    link.seen_at = utcnow()


def remove_link(session: Session, account: ConnectorAccount, link: RemoteLink | None) -> ApplyOutcome:
    """The remote item is gone: drop its link, and its person when the account says so (audited either way)."""
    if link is None:
        return ApplyOutcome.skipped("deleted remotely, and never linked here")
    entity_type, entity_id = link.entity_type, link.entity_id
    session.delete(link)
    session.flush()
    person = session.get(Person, entity_id) if entity_type == "person" else None
    if person is not None and account.settings.get("delete_removed_persons"):
        delete_person(session, actor=SYNC_ACTOR, person_id=person.id)
    elif person is not None:
        audit.record(
            session,
            actor=SYNC_ACTOR,
            action="unlink",
            entity_type="person",
            entity_id=person.id,
            summary=f"deleted in {account.name}; the person is kept",
        )
    return ApplyOutcome.done(entity_type, entity_id)


@applier(RemoteContact)
def apply_remote_contact(session: Session, *, account: ConnectorAccount, change: RemoteContact) -> ApplyOutcome:
    """Create, update, link or unlink the person a remote contact stands for (idempotent by remote id)."""
    link = _link_of(session, account.id, change.remote_id)
    if change.deleted:
        return remove_link(session, account, link)
    person = session.get(Person, link.entity_id) if link is not None and link.entity_type == "person" else None
    if link is not None and person is None:
        session.delete(link)
        session.flush()
        link = None
    if link is not None and person is not None:
        _seen(session, link)
        if change.remote_version is not None and link.remote_version == change.remote_version:
            return ApplyOutcome.skipped("unchanged", "person", person.id)
        _update(session, account, person, change)
        link.remote_version = change.remote_version
        return ApplyOutcome.done("person", person.id)
    person, created = _create_or_match(session, account, change)
    if not created:
        taken = session.scalars(
            select(RemoteLink).where(
                RemoteLink.account_id == account.id,
                RemoteLink.entity_type == "person",
                RemoteLink.entity_id == person.id,
            )
        ).first()
        if taken is not None:
            raise Conflict(
                f"{person.full_name} (#{person.id}) is already linked to remote item {taken.remote_id}; "
                f"remote item {change.remote_id} has the same e-mail or phone (a duplicate on the remote side?)"
            )
        audit.record(
            session,
            actor=SYNC_ACTOR,
            action="link",
            entity_type="person",
            entity_id=person.id,
            summary=f"matched remote contact {change.remote_id} of {account.name}",
        )
    session.add(
        RemoteLink(
            account_id=account.id,
            entity_type="person",
            entity_id=person.id,
            remote_id=change.remote_id,
            remote_version=change.remote_version,
            stream=session.info.get(STREAM_KEY, ""),
            seen_at=utcnow(),
        )
    )
    session.flush()
    return ApplyOutcome.done("person", person.id)


def stale_links(session: Session, *, account: ConnectorAccount, stream: str, since: datetime) -> list[RemoteLink]:
    """The links of this stream that no pull has returned since ``since``: items deleted remotely meanwhile.

    After a cursor reset the stream is read again from the start, and every item still there is
    seen again; what was deleted while our cursor was stale never comes back as a deletion, so
    the engine removes these (``remove_link``) once the stream has been read to its end.
    """
    stmt = select(RemoteLink).where(
        RemoteLink.account_id == account.id,
        RemoteLink.stream == stream,
        or_(RemoteLink.seen_at.is_(None), RemoteLink.seen_at < since),
    )
    return list(session.scalars(stmt.order_by(RemoteLink.id)))
