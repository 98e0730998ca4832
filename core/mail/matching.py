"""Which clients an e-mail belongs to.

Every address of the message (From, To, Cc, Bcc, Reply-To) is looked at once:

1. Our own addresses never match: the mailbox owner's, and any address in an internal
   domain (``settings.internal_domains`` plus the account's own). Neither do blocklisted
   addresses or domains.
2. An address that is a contact person's e-mail matches that person (and the organization
   they primarily work for).
3. An address that is an organization's own e-mail (info@...) matches the organization.
4. Otherwise, when matching by domain is on, an address whose domain is an organization's
   mail domain matches the organization — unless the domain is a public webmail domain
   (gmail.com, mail.ru...), which says nothing about the company.

A message can match several clients; it is then logged on each. An organization already
matched through one of its persons is not matched a second time by domain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select, union_all
from sqlalchemy.orm import Session

from core.db import among
from core.mail.records import MailAddress
from core.models import BlockKind, BlocklistEntry, ContactPoint, Employment, Organization, Person, PointKind
from core.normalize import PUBLIC_MAIL_DOMAINS


@dataclass(frozen=True)
class ClientMatch:
    """One client a message belongs to; ``person_id`` None for an organization-level match."""

    organization_id: int | None
    person_id: int | None
    team_id: int
    matched_address: str


def domain_of(email: str) -> str:
    """The lower-case domain of an address."""
    return email.rsplit("@", 1)[-1].lower()


def external_addresses(
    addresses: Iterable[MailAddress], *, own_addresses: set[str], internal_domains: set[str]
) -> list[str]:
    """The addresses that are not ours, each once, in order."""
    out: list[str] = []
    for addr in addresses:
        email = addr.email.lower()
        if not email or "@" not in email or email in own_addresses or domain_of(email) in internal_domains:
            continue
        if email not in out:
            out.append(email)
    return out


_BLOCKED = select(BlocklistEntry.kind, BlocklistEntry.value).where(
    or_(
        (BlocklistEntry.kind == BlockKind.email) & among(BlocklistEntry.value, "emails"),
        (BlocklistEntry.kind == BlockKind.domain) & among(BlocklistEntry.value, "domains"),
    )
)
"""Built once, its lists given when it runs (``among``), so it is compiled once (it runs for every message logged)."""


def _blocked(session: Session, emails: list[str]) -> set[str]:
    domains = sorted({domain_of(e) for e in emails})
    rows = session.execute(_BLOCKED, {"emails": emails, "domains": domains}).all()
    blocked_emails = {v for k, v in rows if k == BlockKind.email}
    blocked_domains = {v for k, v in rows if k == BlockKind.domain}
    return {e for e in emails if e in blocked_emails or domain_of(e) in blocked_domains}


def match_clients(
    session: Session,
    addresses: Iterable[MailAddress],
    *,
    own_addresses: set[str],
    internal_domains: set[str],
    match_by_domain: bool = True,
    known: Prefetched | None = None,
) -> list[ClientMatch]:
    """The clients the message's external addresses belong to (see the module docstring).

    ``known`` holds the look-ups made for a whole batch (``Prefetched``); without it, they are
    made for this message.
    """
    look: Prefetched | _Direct = known if known is not None else _Direct(session)
    emails = external_addresses(addresses, own_addresses=own_addresses, internal_domains=internal_domains)
    if not emails:
        return []
    emails = [e for e in emails if e not in look.blocked(emails)]
    if not emails:
        return []
    by_email: dict[str, list[PointOwner]] = {}
    for owner in look.owners(PointKind.email, emails):
        by_email.setdefault(owner.value, []).append(owner)
    primary = look.primary({o.person_id for owners in by_email.values() for o in owners if o.person_id})

    matches: list[ClientMatch] = []
    seen_orgs: set[int] = set()
    seen_persons: set[int] = set()
    unmatched: list[str] = []
    for email in emails:
        owners = by_email.get(email, [])
        if not owners:
            unmatched.append(email)
            continue
        for o in owners:
            if o.person_id is not None and o.person_id not in seen_persons:
                seen_persons.add(o.person_id)
                org_id = primary.get(o.person_id)
                if org_id is not None:
                    seen_orgs.add(org_id)
                matches.append(ClientMatch(org_id, o.person_id, o.team_id, email))
            elif o.organization_id is not None and o.person_id is None and o.organization_id not in seen_orgs:
                seen_orgs.add(o.organization_id)
                matches.append(ClientMatch(o.organization_id, None, o.team_id, email))
    if match_by_domain and unmatched:
        domains = {domain_of(e): e for e in unmatched if domain_of(e) not in PUBLIC_MAIL_DOMAINS}
        if domains:
            for o in look.owners(PointKind.domain, list(domains)):
                if o.organization_id is None or o.person_id is not None or o.organization_id in seen_orgs:
                    continue
                seen_orgs.add(o.organization_id)
                matches.append(ClientMatch(o.organization_id, None, o.team_id, domains[o.value]))
    return matches


class _Direct:
    """The look-ups of ``match_clients``, made for one message."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def blocked(self, emails: list[str]) -> set[str]:
        return _blocked(self.session, emails)

    def owners(self, kind: PointKind, values: list[str]) -> list[PointOwner]:
        return owners_of(self.session, kind, values)

    def primary(self, person_ids: set[int]) -> dict[int, int]:
        return _primary_orgs(self.session, person_ids)


class Prefetched:
    """The look-ups of ``match_clients`` made once for a batch: blocklist, point owners, employers.

    ``emails`` are all the external addresses of the batch's messages, ``values`` the addresses
    and domains known to be some client's (only those can have owners). Answers come out as
    ``_Direct`` gives them, in the same order (owners by point id).
    """

    CHUNK = 500

    def __init__(self, session: Session, emails: Iterable[str], values: Iterable[str]) -> None:
        emails, values = sorted(set(emails)), sorted(set(values))
        self._blocked: set[str] = set()
        for chunk in chunks(emails, self.CHUNK):
            self._blocked |= _blocked(session, chunk)
        self._owners: dict[tuple[PointKind, str], list[PointOwner]] = {}
        addresses = chunks([v for v in values if "@" in v], self.CHUNK)
        domains = chunks([v for v in values if "@" not in v], self.CHUNK)
        for emails, names in zip_longest(addresses, domains, fillvalue=[]):  # both kinds in one query
            for kind, *owner in session.execute(_OWNERS_OF_BOTH, {"emails": emails, "domains": names}):
                self._owners.setdefault((PointKind(kind), owner[0]), []).append(PointOwner(*owner))
        persons = {o.person_id for o in self.all_owners() if o.person_id is not None}
        self._primary: dict[int, int] = {}
        for chunk in chunks(sorted(persons), self.CHUNK):
            self._primary.update(_primary_orgs(session, set(chunk)))

    def all_owners(self) -> list[PointOwner]:
        """Every owner found for the batch."""
        return [o for found in self._owners.values() for o in found]

    def blocked(self, emails: list[str]) -> set[str]:
        return {e for e in emails if e in self._blocked}

    def owners(self, kind: PointKind, values: list[str]) -> list[PointOwner]:
        found = [o for v in dict.fromkeys(values) for o in self._owners.get((kind, v), [])]
        return sorted(found, key=lambda o: o.point_id)

    def primary(self, person_ids: set[int]) -> dict[int, int]:
        return {p: self._primary[p] for p in person_ids if p in self._primary}


def chunks(values: list[str] | list[int], size: int = 500) -> Iterable[list]:
    """``values`` in lists of at most ``size``, for IN (...) look-ups that stay within every database's limits."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass(frozen=True)
class PointOwner:
    """A live client owning a contact point: a person or an organization, and its team."""

    value: str
    person_id: int | None
    organization_id: int | None
    team_id: int
    point_id: int = 0


_PERSON = Person.__table__
_ORG = Organization.__table__
_POINT = ContactPoint.__table__


def owners_of(session: Session, kind: PointKind, values: list[str]) -> list[PointOwner]:
    """The live (not merged) persons and organizations owning these points; plain rows, no ORM objects.

    Loading ``Person`` objects pulled their tags, points and employments along for every message.
    """
    if not values:
        return []
    rows = session.execute(_OWNERS, {"kind": kind.value, "values": list(values)})
    return [PointOwner(*owner) for _kind, *owner in rows]


def _owners_query(kind: Any, values: str) -> Select[Any]:
    """The live owners of the points of this kind among the list ``values`` names, with the point's kind."""
    return (
        select(
            _POINT.c.kind,
            _POINT.c.value,
            _POINT.c.person_id,
            _POINT.c.organization_id,
            func.coalesce(_PERSON.c.team_id, _ORG.c.team_id),
            _POINT.c.id,
        )
        .select_from(_POINT.outerjoin(_PERSON, _PERSON.c.id == _POINT.c.person_id))
        .outerjoin(_ORG, _ORG.c.id == _POINT.c.organization_id)
        .where(
            _POINT.c.kind == kind,
            among(_POINT.c.value, values),
            or_(
                and_(_PERSON.c.id.is_not(None), _PERSON.c.merged_into_id.is_(None)),
                and_(_ORG.c.id.is_not(None), _ORG.c.merged_into_id.is_(None)),
            ),
        )
    )


_OWNERS = _owners_query(bindparam("kind"), "values").order_by(_POINT.c.id)
_OWNERS_OF_BOTH = union_all(
    _owners_query(PointKind.email.value, "emails"), _owners_query(PointKind.domain.value, "domains")
)
"""A batch's e-mail and domain owners in one round trip (a UNION: each half is planned on its own index).

Unordered: ``Prefetched.owners`` orders what it gives by point id, as ``_OWNERS`` does.
"""


_PRIMARY = (
    select(Employment.person_id, Employment.organization_id)
    .where(among(Employment.person_id, "ids"), Employment.ended_on.is_(None))
    .order_by(Employment.person_id, Employment.is_primary.desc(), Employment.id)
)


def _primary_orgs(session: Session, person_ids: set[int]) -> dict[int, int]:
    """Person id -> the organization each primarily works for now (one query for all)."""
    if not person_ids:
        return {}
    out: dict[int, int] = {}
    for person_id, org_id in session.execute(_PRIMARY, {"ids": sorted(person_ids)}):
        out.setdefault(person_id, org_id)
    return out


def is_outgoing(sender: Iterable[MailAddress], *, own_addresses: set[str], internal_domains: set[str]) -> bool:
    """True when the message was sent by us (the owner or anyone in an internal domain)."""
    for addr in sender:
        email = addr.email.lower()
        if email in own_addresses or domain_of(email) in internal_domains:
            return True
    return False
