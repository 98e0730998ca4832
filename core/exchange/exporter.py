"""Exporting the client base the actor may see: organizations and persons as CSV, persons as vCard.

Exports go through ``list_organizations`` / ``list_persons`` page by page with the caller's
filter, so they contain exactly what the same user sees in the lists (rights, filters,
merged records left out). Column names are the English names the importer knows, so an
exported file imports back unchanged. Each export is written to the audit log (who took
how many records out, and with which filter).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clients.fields import definitions
from core.clients.filters import ClientFilter
from core.clients.organizations import list_organizations
from core.clients.persons import list_persons
from core.errors import ValidationFailed
from core.exchange.columns import escape_cell
from core.exchange.csv_io import iter_csv_lines
from core.exchange.vcard import VERSIONS, person_card
from core.models import Organization, Person, PointKind, Team, User

PAGE = 500
ORG_HEADER = [
    "id",
    "name",
    "brand",
    "industry",
    "address",
    "website",
    "category",
    "status",
    "potential",
    "deal amount",
    "first contact",
    "emails",
    "phones",
    "email domains",
    "tags",
    "team",
    "responsible",
    "notes",
]
PERSON_HEADER = [
    "id",
    "last name",
    "first name",
    "middle name",
    "position",
    "organization",
    "emails",
    "phones",
    "birthday",
    "tags",
    "team",
    "responsible",
    "notes",
]


def _all(
    lister: Callable[..., tuple[list[Any], int]], session: Session, actor: Actor, f: ClientFilter
) -> Iterator[Any]:
    offset = 0
    while True:
        rows, _total = lister(session, actor=actor, filter=f, limit=PAGE, offset=offset)
        yield from rows
        if len(rows) < PAGE:
            return
        offset += PAGE


def _points(record: Organization | Person, kind: PointKind) -> str:
    return ", ".join(p.value for p in record.points if p.kind == kind)


def _str(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class _Names:
    """Team and user names by id, loaded once per export."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[tuple[type, int], str] = {}

    def of(self, model: type[Team] | type[User], record_id: int | None) -> str:
        if record_id is None:
            return ""
        key = (model, record_id)
        if key not in self.cache:
            record = self.session.get(model, record_id)
            self.cache[key] = "" if record is None else (record.name if isinstance(record, Team) else record.email)
        return self.cache[key]


def _audit_export(session: Session, actor: Actor, entity: str, count: int, f: ClientFilter, fmt: str) -> None:
    audit.record(
        session,
        actor=actor,
        action="export",
        entity_type=entity,
        entity_id=None,
        summary=f"{count} {entity}(s) exported as {fmt}",
        changes={"filter": f.to_dict(), "count": count, "format": fmt},
    )


def export_organizations_csv(session: Session, *, actor: Actor, filter: ClientFilter | None = None) -> str:
    """The organizations the actor may see (filtered) as CSV text; audited."""
    f = filter or ClientFilter()
    custom = [d.key for d in definitions(session, "organization")]
    names = _Names(session)
    rows = []
    for org in _all(list_organizations, session, actor, f):
        row = [
            org.id,
            org.name,
            org.brand,
            org.industry,
            org.address,
            org.website,
            org.category,
            org.status,
            org.potential,
            org.deal_amount,
            org.first_contact_on,
            _points(org, PointKind.email),
            _points(org, PointKind.phone),
            _points(org, PointKind.domain),
            ", ".join(t.name for t in org.tags),
            names.of(Team, org.team_id),
            names.of(User, org.responsible_id),
            org.notes,
        ]
        row += [(org.custom or {}).get(k) for k in custom]
        rows.append([escape_cell(_str(v)) for v in row])
    _audit_export(session, actor, "organization", len(rows), f, "csv")
    return "".join(iter_csv_lines(ORG_HEADER + custom, rows))


def export_persons_csv(session: Session, *, actor: Actor, filter: ClientFilter | None = None) -> str:
    """The persons the actor may see (filtered) as CSV text; audited."""
    f = filter or ClientFilter()
    custom = [d.key for d in definitions(session, "person")]
    names = _Names(session)
    rows = []
    for person in _all(list_persons, session, actor, f):
        primary = next((e for e in person.employments if e.is_primary), None) or next(iter(person.employments), None)
        row = [
            person.id,
            person.last_name,
            person.first_name,
            person.middle_name,
            person.position or (primary.role if primary else ""),
            primary.organization.name if primary else "",
            _points(person, PointKind.email),
            _points(person, PointKind.phone),
            person.birthday,
            ", ".join(t.name for t in person.tags),
            names.of(Team, person.team_id),
            names.of(User, person.responsible_id),
            person.notes,
        ]
        row += [(person.custom or {}).get(k) for k in custom]
        rows.append([escape_cell(_str(v)) for v in row])
    _audit_export(session, actor, "person", len(rows), f, "csv")
    return "".join(iter_csv_lines(PERSON_HEADER + custom, rows))


def export_persons_vcf(
    session: Session, *, actor: Actor, filter: ClientFilter | None = None, version: str = "3.0"
) -> str:
    """The persons the actor may see (filtered) as one vCard file of the given version; audited."""
    if version not in VERSIONS:
        raise ValidationFailed.one("version", f"must be one of: {', '.join(VERSIONS)}")
    f = filter or ClientFilter()
    cards = [person_card(p, version=version) for p in _all(list_persons, session, actor, f)]
    _audit_export(session, actor, "person", len(cards), f, f"vcard {version}")
    return "".join(cards)
