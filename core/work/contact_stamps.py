"""A batch's moves of clients' last (and first) contact, written in one statement per table.

``stamp_contact`` moves a client's ``last_contact_at`` (and an organization's
``first_contact_on``) on the loaded object, and the ORM's flush writes each client it changed
with an UPDATE of its own: on a mailbox import, where nearly every message stamps a client,
that flush cost more than inserting the interactions themselves. ``ContactStamps`` gathers a
batch's stamps (the latest contact per client, the earliest day per organization, exactly as
stamping each in turn would leave them), writes them with one executemany UPDATE per table,
``updated_at`` included as the ORM's flush would set it, and expires those attributes of the
loaded objects: the session has nothing to flush for them, and whoever reads them next reads
what the database holds. The ORM never saw these writes as changes, so a rollback would not
expire the objects by itself: the session expires them again after any rollback, so the
one-by-one path that follows a failed batch stamps from what the database really holds.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, event, update
from sqlalchemy.orm import Session

from core.db import utcnow
from core.models import Organization, Person
from core.work.clock import local_date
from core.work.links import Links


class ContactStamps:
    """The latest contact per client and the earliest contact day per organization of one batch."""

    def __init__(self) -> None:
        self._last: dict[Organization | Person, datetime] = {}
        self._first: dict[Organization, date] = {}

    def add(self, links: Links, occurred: datetime) -> None:
        """Note a contact at ``occurred`` with the linked organization and person (as ``stamp_contact`` would)."""
        for client in (links.organization, links.person):
            if client is not None and (client not in self._last or self._last[client] < occurred):
                self._last[client] = occurred
        org = links.organization
        if org is not None:
            day = local_date(occurred)
            if org not in self._first or self._first[org] > day:
                self._first[org] = day

    def write(self, session: Session) -> None:
        """Move each client's stamps where the batch takes them, one UPDATE per table; then forget them."""
        now = utcnow()
        orgs: list[dict[str, object]] = []
        persons: list[dict[str, object]] = []
        for client, occurred in self._last.items():
            last = client.last_contact_at
            last = last if last is not None and last >= occurred else occurred
            if isinstance(client, Organization):
                first = client.first_contact_on
                first = first if first is not None and first <= self._first[client] else self._first[client]
                if (last, first) != (client.last_contact_at, client.first_contact_on):
                    orgs.append({"client_id": client.id, "last": last, "first": first, "now": now})
            elif last != client.last_contact_at:
                persons.append({"client_id": client.id, "last": last, "now": now})
        connection = session.connection()
        if orgs:
            connection.execute(_STAMP_ORGANIZATION, orgs)
        if persons:
            connection.execute(_STAMP_PERSON, persons)
        written = list(self._last)
        _expire(session, written)
        # A rollback of the transaction that wrote them (say, the batch's savepoint) undoes what
        # the ORM never saw as a change: those clients must be read again after it, too.
        event.listen(session, "after_soft_rollback", lambda session, _previous: _expire(session, written))
        self._last.clear()
        self._first.clear()


def _expire(session: Session, clients: list[Organization | Person]) -> None:
    """Have the session read these clients' stamps from the database when they are next asked for."""
    for client in clients:
        if client in session:
            session.expire(client, _ORG_STAMPS if isinstance(client, Organization) else _PERSON_STAMPS)


_PERSON_STAMPS = ["last_contact_at", "updated_at"]
_ORG_STAMPS = [*_PERSON_STAMPS, "first_contact_on"]
_STAMP_ORGANIZATION = (
    update(Organization.__table__)
    .where(Organization.__table__.c.id == bindparam("client_id"))
    .values(last_contact_at=bindparam("last"), first_contact_on=bindparam("first"), updated_at=bindparam("now"))
)
_STAMP_PERSON = (
    update(Person.__table__)
    .where(Person.__table__.c.id == bindparam("client_id"))
    .values(last_contact_at=bindparam("last"), updated_at=bindparam("now"))
)
