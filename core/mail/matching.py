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

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

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


def _blocked(session: Session, emails: list[str]) -> set[str]:
    domains = {domain_of(e) for e in emails}
    rows = session.execute(
        select(BlocklistEntry.kind, BlocklistEntry.value).where(
            or_(
                (BlocklistEntry.kind == BlockKind.email) & BlocklistEntry.value.in_(emails),
                (BlocklistEntry.kind == BlockKind.domain) & BlocklistEntry.value.in_(domains),
            )
        )
    ).all()
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
) -> list[ClientMatch]:
    """The clients the message's external addresses belong to (see the module docstring)."""
    emails = external_addresses(addresses, own_addresses=own_addresses, internal_domains=internal_domains)
    if not emails:
        return []
    emails = [e for e in emails if e not in _blocked(session, emails)]
    if not emails:
        return []
    points = session.scalars(
        select(ContactPoint).where(ContactPoint.kind == PointKind.email, ContactPoint.value.in_(emails))
    ).all()
    by_email: dict[str, list[ContactPoint]] = {}
    for p in points:
        by_email.setdefault(p.value, []).append(p)

    matches: list[ClientMatch] = []
    seen_orgs: set[int] = set()
    seen_persons: set[int] = set()
    unmatched: list[str] = []
    for email in emails:
        owners = by_email.get(email, [])
        if not owners:
            unmatched.append(email)
            continue
        for p in owners:
            if p.person_id is not None and p.person_id not in seen_persons:
                person = session.get(Person, p.person_id)
                if person is None or person.merged_into_id is not None:
                    continue
                seen_persons.add(person.id)
                org_id = _primary_org(session, person.id)
                if org_id is not None:
                    seen_orgs.add(org_id)
                matches.append(ClientMatch(org_id, person.id, person.team_id, email))
            elif p.organization_id is not None and p.organization_id not in seen_orgs:
                org = session.get(Organization, p.organization_id)
                if org is None or org.merged_into_id is not None:
                    continue
                seen_orgs.add(org.id)
                matches.append(ClientMatch(org.id, None, org.team_id, email))
    if match_by_domain and unmatched:
        domains = {domain_of(e): e for e in unmatched if domain_of(e) not in PUBLIC_MAIL_DOMAINS}
        if domains:
            rows = session.scalars(
                select(ContactPoint).where(ContactPoint.kind == PointKind.domain, ContactPoint.value.in_(domains))
            ).all()
            for p in rows:
                if p.organization_id is None or p.organization_id in seen_orgs:
                    continue
                org = session.get(Organization, p.organization_id)
                if org is None or org.merged_into_id is not None:
                    continue
                seen_orgs.add(org.id)
                matches.append(ClientMatch(org.id, None, org.team_id, domains[p.value]))
    return matches


def _primary_org(session: Session, person_id: int) -> int | None:
    stmt = (
        select(Employment.organization_id)
        .where(Employment.person_id == person_id, Employment.ended_on.is_(None))
        .order_by(Employment.is_primary.desc(), Employment.id)
        .limit(1)
    )
    return session.scalar(stmt)


def is_outgoing(sender: Iterable[MailAddress], *, own_addresses: set[str], internal_domains: set[str]) -> bool:
    """True when the message was sent by us (the owner or anyone in an internal domain)."""
    for addr in sender:
        email = addr.email.lower()
        if email in own_addresses or domain_of(email) in internal_domains:
            return True
    return False
