"""Logging e-mail on clients: the appliers of ``MailMessage`` and ``MailMarkedPrivate`` records.

A mail connector hands over parsed messages; this module decides which clients each belongs to
and logs it there, idempotently, so a batch applied twice, the same mail in INBOX and Sent, in a
personal and a shared mailbox, or a folder read again after a UIDVALIDITY change, is logged once.

* **Who "we" are.** Our addresses are the account owner's e-mail and the mailbox's login name
  (mail of a personal mailbox is attributed to its owner, that of a shared one to nobody);
  our domains are ``settings.internal_domains`` plus the mailbox's own domain - unless that is a
  public webmail domain: importing a personal gmail.com mailbox must not make every gmail.com
  correspondent one of us. Mail among ourselves only is never logged, nor are blocklisted
  addresses (``core.mail.matching``, which also keeps webmail domains from matching a company).
* **Most mail is not with clients.** Before anything else, one indexed query asks whether any
  external address of the message, or (when matching by domain) its domain, is a client's at
  all. When none is - the usual case - the message is skipped at once. Only then does
  ``match_clients`` work out the persons and organizations.
* **Bodies only for client mail.** A mail connector sends summaries first (the headers); the
  selector (``select_mail``) tells the engine which could be with a client, and only their
  bodies are read from the server. The rest is settled there and then (nothing to apply), or,
  when the account notes suggestions, decided from its headers.
* **Unmatched mail is not stored** (privacy). When the account asks for suggestions, the
  external addresses go to the owner's suggested-contact queue (``core.mail.suggestions``), with
  counts, never the text.
* **A batch at a time.** The batch's preparer (``prepare_mail``) looks up every address at
  once, skips the mail with no client, and stores and logs the mail with clients itself: the
  stored copies and sightings through ``core.mail.stored`` (planned in order, written in a few
  statements), the interactions of the whole batch at once (``core.work.imports.record_imported``:
  one look-up of import keys, multi-row inserts of the interactions and their audit entries).
  When that fails, nothing of it stays and every message goes to ``apply_mail`` alone; both
  paths write the same rows.
* **Matched mail is stored once per Message-ID**, ever, in its thread, with a sighting per
  place it was seen (``core.mail.stored``). Each matched client gets one interaction (incoming
  or outgoing e-mail, by who sent it) through ``record_external_interaction``, keyed by
  ("imap", Message-ID, client): the interaction carries the client's team, so logged mail
  follows the client's rights, and its attachments are visible through it.
* **Marked private later.** A ``MailMarkedPrivate`` record (the user put the private keyword on a
  message already logged) marks that sighting private; a ``MailMovedPrivate`` record (the user
  moved it into the private folder) marks every sighting of that mailbox private. When the mail
  is then seen nowhere else, its interactions, attachments and stored copy are deleted
  (audited), so it leaves the client cards.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload, load_only, selectinload

from core.config import get_settings
from core.db import among, utcnow
from core.errors import CoreError
from core.integration.apply import SYNC_ACTOR, ApplyOutcome, Selection, applier, preparer, selector
from core.integration.errors import PermanentError
from core.mail.matching import (
    ClientMatch,
    Prefetched,
    _blocked,
    chunks,
    domain_of,
    external_addresses,
    is_outgoing,
    match_clients,
)
from core.mail.records import MailAddress, MailAttachment, MailMessage
from core.mail.stored import StoredMail
from core.mail.suggestions import note_unmatched
from core.models import (
    ConnectorAccount,
    ContactPoint,
    Employment,
    Interaction,
    MailMessageRow,
    MailSighting,
    Organization,
    Person,
    PointKind,
    StoredFile,
    User,
)
from core.normalize import PUBLIC_MAIL_DOMAINS
from core.records.blobs import size_cap, start_writing
from core.records.files import WrittenFile, attach_written, delete_rows
from core.work.imports import ImportedInteraction, record_imported
from core.work.interactions import delete_interaction, record_external_interaction

BODY_MAX = 1_000_000
INTERNAL = "internal mail: no external address"
UNMATCHED = "no client matched"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MailMarkedPrivate:
    """A message already read from this folder now carries the account's private keyword."""

    folder: str
    uid: int
    uidvalidity: int | None = None


@dataclass(frozen=True)
class MailMovedPrivate:
    """The user moved a message into the account's private folder; it is known by what it is stored under.

    That is its Message-ID, or for mail without one the ``hash:`` key the import gave it.
    """

    folder: str
    message_id: str


@dataclass(frozen=True)
class _Us:
    own: set[str]
    internal: set[str]
    by_domain: bool
    suggest: bool
    owner_id: int | None
    """Whose suggested-contact queue unmatched addresses go to."""
    author_id: int | None
    """Who the logged mail is attributed to: the owner of a personal mailbox; nobody for a shared one."""

    @property
    def notes_suggestions(self) -> bool:
        """True when unmatched mail feeds someone's suggested-contact queue (so it still needs applying)."""
        return self.suggest and self.owner_id is not None


_OWNER = select(User.id, User.email, User.is_active).where(User.id == bindparam("id"))
"""The columns ``_us`` reads (a whole ``User`` would load its teams too: a round trip more per batch)."""


def _us(session: Session, account: ConnectorAccount) -> _Us:
    """Who "we" are for this account (see the module docstring); kept for the session (one batch)."""
    key = ("crmhub.mail.us", account.id)
    cached = session.info.get(key)
    if cached is not None:
        return cached
    settings = account.settings or {}
    personal = settings.get("mailbox_type", "personal") != "shared"
    owner = session.execute(_OWNER, {"id": account.owner_id}).first() if account.owner_id else None
    own = {e.lower() for e in (owner.email if owner else "", str(settings.get("username", ""))) if "@" in e}
    internal = {d.strip().lower().lstrip("@") for d in get_settings().internal_domains if d.strip()}
    internal |= {domain_of(e) for e in own if domain_of(e) not in PUBLIC_MAIL_DOMAINS}
    us = _Us(
        own=own,
        internal=internal,
        by_domain=bool(settings.get("match_by_domain", True)),
        suggest=bool(settings.get("suggest_contacts", False)),
        owner_id=owner.id if owner is not None and owner.is_active else None,
        author_id=owner.id if owner is not None and owner.is_active and personal else None,
    )
    session.info[key] = us
    return us


@applier(MailMessage)
def apply_mail(session: Session, *, account: ConnectorAccount, change: MailMessage) -> ApplyOutcome:
    """Log the message on every client it belongs to (once per Message-ID and client); skip the rest."""
    try:
        return _apply(session, account, change, _us(session, account))
    except CoreError as exc:
        where = f"{change.folder} UID {change.uid}"
        raise PermanentError(f"{where}: {exc.message}", item_ref=where, detail=_summary(change)) from exc


@selector(MailMessage)
def select_mail(session: Session, *, account: ConnectorAccount, changes: list[tuple[int, MailMessage]]) -> Selection:
    """The messages (by their headers) that could be with a client, to read whole; those with none, settled.

    Mail with no external address, and mail with no client when there are no suggestions to
    note, needs nothing at all: settled here, it is never read further nor handed on.
    """
    us = _us(session, account)
    internal, hits = _client_hits(session, us, changes)
    unmatched = set() if us.notes_suggestions else {index for index, found in hits.items() if not found}
    return Selection(
        full=frozenset(index for index, found in hits.items() if found),
        settled=frozenset(internal) | frozenset(unmatched),
    )


def _client_hits(
    session: Session, us: _Us, changes: list[tuple[int, MailMessage]]
) -> tuple[dict[int, ApplyOutcome], dict[int, list[str]]]:
    """Internal mail decided at once; per other message, its addresses and domains that are a client's.

    One query for the whole batch (of the values this session has not asked about yet).
    """
    decided: dict[int, ApplyOutcome] = {}
    wanted: dict[int, list[str]] = {}
    for index, change in changes:
        external = external_addresses(change.all_addresses(), own_addresses=us.own, internal_domains=us.internal)
        if not external:
            decided[index] = ApplyOutcome.skipped(INTERNAL)
            continue
        wanted[index] = _point_values(external, us.by_domain)
    known = _known_points(session)
    unknown = sorted({v for values in wanted.values() for v in values if v not in known})
    for chunk in chunks(unknown):
        found = set(session.connection().execute(_CLIENT_POINTS, {"values": chunk}).scalars())
        known.update({v: v in found for v in chunk})
    return decided, {index: [v for v in values if known[v]] for index, values in wanted.items()}


@preparer(MailMessage)
def prepare_mail(
    session: Session, *, account: ConnectorAccount, changes: list[tuple[int, MailMessage]]
) -> dict[int, ApplyOutcome]:
    """Look up every address of the batch in one query; decide at once the mail that can match no client."""
    us = _us(session, account)
    decided, client_hits = _client_hits(session, us, changes)
    hits: set[str] = set()
    matched: list[tuple[int, MailMessage]] = []
    by_index = dict(changes)
    for index, found in client_hits.items():
        hits.update(found)
        if found:
            matched.append((index, by_index[index]))
        elif not us.notes_suggestions:  # with suggestions, unmatched mail still writes
            decided[index] = ApplyOutcome.skipped(UNMATCHED)
    emails = {e for _, change in matched for e in _external(change, us)}
    known_owners = Prefetched(session, emails, hits) if matched else None
    _preload_clients(session, known_owners)
    decided.update(_log_in_bulk(session, account, us, matched, known_owners))
    return decided


def _log_in_bulk(
    session: Session,
    account: ConnectorAccount,
    us: _Us,
    changes: list[tuple[int, MailMessage]],
    known: Prefetched | None,
) -> dict[int, ApplyOutcome]:
    """Store and log the batch's mail with clients in one go; {} (nothing written) when anything fails.

    Each message is stored as ``_apply`` stores it, in order (threads depend on it), and the
    interactions of the whole batch are written at once (``core.work.imports``). Any problem
    rolls the lot back and leaves every message to its own applier, where a bad one costs only
    itself.
    """
    if not changes:
        return {}
    items: list[ImportedInteraction] = []
    owners: list[tuple[int, int, bool, int]] = []  # (index, mail id, stored now, its items) per message
    try:
        with session.begin_nested():
            stored = StoredMail(session, account, [change for _, change in changes])
            planned: list[tuple[int, MailMessage, list[ClientMatch]]] = []
            for index, change in changes:
                matches = _matches(session, change, us, known)
                if not matches:
                    continue  # left to the applier (suggestions)
                stored.add(change)
                planned.append((index, change, matches))
            attachments = _Attachments(change for _, change, _ in planned if stored.storing(change.message_id))
            stored.write()
            new_mail: list[tuple[MailMessage, int]] = []
            for index, change, matches in planned:
                mail_id, created = _stored_now(stored, change)
                if created:
                    new_mail.append((change, mail_id))
                owners.append((index, mail_id, created, len(matches)))
                items.extend(_item(change, us, match, mail_id) for match in matches)
            attachments.attach(session, new_mail)
            logged = record_imported(session, actor=SYNC_ACTOR, items=items) if items else []
    except (CoreError, IntegrityError) as exc:
        log.info("logging %d messages at once failed (%s); logging them one by one", len(changes), exc)
        return {}
    return _outcomes(owners, iter(logged))


def _outcomes(owners: list[tuple[int, int, bool, int]], logged: Iterator[bool]) -> dict[int, ApplyOutcome]:
    """Per message: applied when it was stored or logged on a client now, else already logged."""
    decided: dict[int, ApplyOutcome] = {}
    for index, mail_id, created, count in owners:
        new = [next(logged) for _ in range(count)]
        if created or any(new):
            decided[index] = ApplyOutcome.done("mail", mail_id)
        else:
            decided[index] = ApplyOutcome.skipped("already logged", "mail", mail_id)
    return decided


def _preload_clients(session: Session, known: Prefetched | None) -> None:
    """Load the clients the batch will be logged on in a few queries, and keep them for the batch.

    Logging an interaction loads its person or organization; one by one that was most of the
    import's time. A person matched is logged on the organization it works for now, which the
    batch's look-ups already know (``Prefetched.primary``): those organizations are loaded
    with the rest, and a person's employments only for persons without one, where logging
    looks for a primary employer among them.
    """
    if known is None:
        return
    owners = known.all_owners()
    if not owners:
        return
    persons = {o.person_id for o in owners if o.person_id is not None}
    employers = known.primary(persons)
    orgs = {o.organization_id for o in owners if o.organization_id is not None} | set(employers.values())
    _keep_clients_loaded(session)
    for model, ids, options in (
        (Person, persons & employers.keys(), _PERSON_ONLY),
        (Person, persons - employers.keys(), _PERSON_AND_EMPLOYERS),
        (Organization, orgs, _ORGANIZATION_ONLY),
    ):
        for chunk in chunks(sorted(ids)):
            session.scalars(select(model).where(among(model.id, "ids")).options(*options), {"ids": chunk}).all()


_PERSON_LOGGED = (Person.id, Person.team_id, Person.full_name, Person.last_contact_at)
_ORG_LOGGED = (
    Organization.id,
    Organization.team_id,
    Organization.name,
    Organization.last_contact_at,
    Organization.first_contact_on,
)
_ORGANIZATION_ONLY = (load_only(*_ORG_LOGGED), lazyload(Organization.tags), lazyload(Organization.points))
_PERSON_LIGHT = (load_only(*_PERSON_LOGGED), lazyload(Person.tags), lazyload(Person.points))
_PERSON_ONLY = (*_PERSON_LIGHT, lazyload(Person.employments))
_PERSON_AND_EMPLOYERS = (
    *_PERSON_LIGHT,
    selectinload(Person.employments)
    .load_only(Employment.is_primary, Employment.organization_id)
    .joinedload(Employment.organization)
    .options(*_ORGANIZATION_ONLY),
)
"""Logging needs a client's team, name, last (and first) contact and, for a person without a current
employer, its employments: only those columns are loaded, its tags and points stay unloaded. Anything
else is loaded if something asks for it."""


def _summary(change: MailMessage) -> str:
    people = ", ".join(a.email for a in change.all_addresses()[:10])
    return f"Message-ID {change.message_id}; subject {change.subject[:200]!r}; {people}"


def _external(change: MailMessage, us: _Us) -> list[str]:
    """The message's addresses that are not ours."""
    return external_addresses(change.all_addresses(), own_addresses=us.own, internal_domains=us.internal)


def _matches(session: Session, change: MailMessage, us: _Us, known: Prefetched | None = None) -> list[ClientMatch]:
    """The clients the message belongs to ([] when it can match none); ``known``: the batch's look-ups."""
    external = _external(change, us)
    if not external or not _could_match(session, external, us.by_domain):
        return []
    _keep_clients_loaded(session)
    return match_clients(
        session,
        change.all_addresses(),
        own_addresses=us.own,
        internal_domains=us.internal,
        match_by_domain=us.by_domain,
        known=known,
    )


def _store(session: Session, account: ConnectorAccount, change: MailMessage) -> tuple[int, bool]:
    """Store one message (once per Message-ID), its sighting and, when stored now, its attachments."""
    stored = StoredMail(session, account, [change])
    stored.add(change)
    stored.write()
    mail_id, created = _stored_now(stored, change)
    if created:
        _Attachments([change]).attach(session, [(change, mail_id)])
    return mail_id, created


def _stored_now(stored: StoredMail, change: MailMessage) -> tuple[int, bool]:
    """The message's stored id, and True (attachments to store now) the first time the batch asks of one it stored."""
    mail_id = stored.id_of(change.message_id)
    created = stored.created(change.message_id)
    if created:
        stored.created_done(change.message_id)
    return mail_id, created


def _item(change: MailMessage, us: _Us, match: ClientMatch, mail_id: int) -> ImportedInteraction:
    """The interaction logging this message on one matched client."""
    outgoing = is_outgoing(change.from_, own_addresses=us.own, internal_domains=us.internal)
    occurred = min(change.sent_at, utcnow()) if change.sent_at else None  # a clock in the future is not news
    return ImportedInteraction(
        source="imap",
        external_id=change.message_id,
        kind="email_out" if outgoing else "email_in",
        organization_id=match.organization_id,
        person_id=match.person_id,
        occurred_at=occurred,
        subject=change.subject[:998],
        body=change.text[:BODY_MAX],
        author_id=us.author_id,
        mail_id=mail_id,
    )


def _apply(session: Session, account: ConnectorAccount, change: MailMessage, us: _Us) -> ApplyOutcome:
    external = external_addresses(change.all_addresses(), own_addresses=us.own, internal_domains=us.internal)
    if not external:
        return ApplyOutcome.skipped(INTERNAL)
    matches = _matches(session, change, us)
    if not matches:
        if us.notes_suggestions:
            assert us.owner_id is not None
            _suggest(session, us.owner_id, change, external)
        return ApplyOutcome.skipped(UNMATCHED)
    mail_id, created = _store(session, account, change)
    logged = 0
    for match in matches:
        item = _item(change, us, match, mail_id)
        interaction, new = record_external_interaction(
            session,
            actor=SYNC_ACTOR,
            source=item.source,
            external_id=item.external_id,
            kind=item.kind,
            organization_id=item.organization_id,
            person_id=item.person_id,
            occurred_at=item.occurred_at,
            subject=item.subject,
            body=item.body,
            author_id=item.author_id,
        )
        if new:
            interaction.mail_id = mail_id
            logged += 1
    session.flush()
    if created or logged:
        return ApplyOutcome.done("mail", mail_id)
    return ApplyOutcome.skipped("already logged", "mail", mail_id)


_CLIENT_POINT = (
    select(ContactPoint.__table__.c.id)
    .where(
        ContactPoint.__table__.c.kind.in_([PointKind.email.value, PointKind.domain.value]),
        among(ContactPoint.__table__.c.value, "values"),
    )
    .limit(1)
)
"""A Core statement (no ORM on the way): it runs for nearly every message of a mailbox."""

_CLIENT_POINTS = select(ContactPoint.__table__.c.value).where(
    ContactPoint.__table__.c.kind.in_([PointKind.email.value, PointKind.domain.value]),
    among(ContactPoint.__table__.c.value, "values"),
)
"""Which of these addresses and domains are any client's (the batch's look-up, ``prepare_mail``)."""


def _point_values(emails: list[str], by_domain: bool) -> list[str]:
    """The values a message can match by: its external addresses and, matching by domain, their domains."""
    if not by_domain:
        return list(emails)
    return list(emails) + sorted({domain_of(e) for e in emails} - PUBLIC_MAIL_DOMAINS)


def _known_points(session: Session) -> dict[str, bool]:
    """Value -> whether it is any client's, as far as this session (one batch) has asked."""
    return session.info.setdefault("crmhub.mail.points", {})


def _could_match(session: Session, emails: list[str], by_domain: bool) -> bool:
    """False when no address (nor, matching by domain, its domain) is any client's: nothing can match.

    Answers are kept for the session (one batch), where the same correspondents come back often.
    """
    known = _known_points(session)
    values = _point_values(emails, by_domain)
    if any(known.get(v) for v in values):
        return True
    unknown = [v for v in values if v not in known]
    if not unknown:
        return False
    found = session.connection().execute(_CLIENT_POINT, {"values": unknown}).first() is not None
    if not found or len(unknown) == 1:
        known.update(dict.fromkeys(unknown, found))
    return found


def _keep_clients_loaded(session: Session) -> None:
    """Hold the clients and users the batch loads, so the identity map keeps them for the whole batch.

    The identity map holds objects weakly: a person matched, then looked up again to log the
    interaction, was loaded twice (with its tags, points and employments), and again for the
    next message with that person. Holding them for the session (one batch) loads each once.
    """
    if session.info.get("crmhub.mail.keep") is not None:
        return
    kept: list[object] = []
    session.info["crmhub.mail.keep"] = kept

    def keep(_session: Session, instance: object) -> None:
        if isinstance(instance, Person | Organization | User):
            kept.append(instance)

    event.listen(session, "loaded_as_persistent", keep)


def _suggest(session: Session, owner_id: int, change: MailMessage, external: list[str]) -> None:
    blocked = _blocked(session, external)
    names = {a.email: a.name for a in change.all_addresses()}
    addresses = [MailAddress(e, names.get(e, "")) for e in external if e not in blocked]
    if addresses:
        note_unmatched(
            session, user_id=owner_id, addresses=addresses, message_id=change.message_id, seen_at=change.sent_at
        )


class _Attachments:
    """The attachments of the mail a batch is about to store: bytes first, rows once the mail is stored.

    Their bytes start being written (``blobs.start_writing``) as soon as the batch knows which
    mail it will store, so the disk's flushes overlap the batch's database writes; ``attach``
    then waits for them and adds the rows of the mail stored now. One over the upload cap is
    kept as its name and size only. Bytes of mail another mailbox stored meanwhile stay on
    disk unreferenced, as those of a rolled-back upload do (``core.records.blobs``).
    """

    def __init__(self, changes: Iterable[MailMessage]) -> None:
        cap = size_cap()
        self._parts: dict[str, list[tuple[MailAttachment, bytes | None]]] = {}
        for change in changes:
            parts = change.attachments
            kept = [(p, p.content if p.content is not None and len(p.content) <= cap else None) for p in parts]
            self._parts.setdefault(change.message_id, kept)
        self._writing = start_writing([kept for parts in self._parts.values() for _, kept in parts if kept is not None])

    def attach(self, session: Session, new_mail: list[tuple[MailMessage, int]]) -> None:
        """Wait for the bytes, then attach the files of each message stored now (``mail_id``)."""
        blobs = iter(self._writing.result())
        written = {
            message_id: [(part, next(blobs) if kept is not None else None) for part, kept in parts]
            for message_id, parts in self._parts.items()
        }
        files = [
            WrittenFile(
                filename=part.filename,
                content_type=part.content_type,
                size=part.size,
                written=blob,
                owners={"organization_id": None, "person_id": None, "interaction_id": None, "mail_id": mail_id},
            )
            for change, mail_id in new_mail
            for part, blob in written[change.message_id]
        ]
        if files:
            attach_written(session, actor=SYNC_ACTOR, files=files)


@applier(MailMarkedPrivate)
def apply_marked_private(session: Session, *, account: ConnectorAccount, change: MailMarkedPrivate) -> ApplyOutcome:
    """Take a message the user marked private off the client cards, unless it was seen in another mailbox too."""
    stmt = select(MailSighting).where(
        MailSighting.account_id == account.id,
        MailSighting.folder == change.folder,
        MailSighting.uid == change.uid,
    )
    if change.uidvalidity is not None:
        stmt = stmt.where(MailSighting.uidvalidity == change.uidvalidity)
    sighting = session.scalars(stmt).first()
    if sighting is None:
        return ApplyOutcome.skipped("never logged")
    if sighting.private:
        return ApplyOutcome.skipped("already private", "mail", sighting.mail_id)
    sighting.private = True
    session.flush()
    return _leave_the_cards(session, sighting.mail_id)


@applier(MailMovedPrivate)
def apply_moved_private(session: Session, *, account: ConnectorAccount, change: MailMovedPrivate) -> ApplyOutcome:
    """Take a message the user moved into the private folder off the client cards, unless another mailbox has it."""
    mail_id = session.scalar(select(MailMessageRow.id).where(MailMessageRow.message_id == change.message_id))
    if mail_id is None:
        return ApplyOutcome.skipped("never logged")
    sightings = session.scalars(
        select(MailSighting).where(MailSighting.mail_id == mail_id, MailSighting.account_id == account.id)
    ).all()
    if not sightings:
        return ApplyOutcome.skipped("never logged from this mailbox", "mail", mail_id)
    if all(s.private for s in sightings):
        return ApplyOutcome.skipped("already private", "mail", mail_id)
    for sighting in sightings:  # where it was read before the move: that copy is gone or private now
        sighting.private = True
    session.flush()
    return _leave_the_cards(session, mail_id)


def _leave_the_cards(session: Session, mail_id: int) -> ApplyOutcome:
    """Delete the stored mail, its interactions and files (audited) unless a public sighting remains."""
    public = session.scalar(
        select(func.count()).where(MailSighting.mail_id == mail_id, MailSighting.private.is_(False))
    )
    if public:
        return ApplyOutcome.done("mail", mail_id)
    for interaction_id in session.scalars(select(Interaction.id).where(Interaction.mail_id == mail_id)).all():
        delete_interaction(session, actor=SYNC_ACTOR, interaction_id=interaction_id)
    files = session.scalars(select(StoredFile).where(StoredFile.mail_id == mail_id)).all()
    delete_rows(session, actor=SYNC_ACTOR, files=files)
    session.execute(delete(MailMessageRow).where(MailMessageRow.id == mail_id))
    return ApplyOutcome.done("mail", mail_id)
