"""Tombstones of merged clients: a merged-away record keeps its id and points at the survivor.

Old links (a bookmarked card, an e-mail, an API script) then lead somewhere useful: reading
a tombstone answers ``MergedAway``, a 404 whose body names the survivor, and nothing can
change a tombstone any more.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.models import Organization, Person


class MergedAway(NotFound):
    """The record was merged into another one; ``survivor_id`` says which."""

    code = "merged"

    def __init__(self, what: str, record_id: int, survivor_id: int) -> None:
        self.survivor_id = survivor_id
        super().__init__(f"{what} #{record_id} was merged into #{survivor_id}; open #{survivor_id} instead")


def survivor_of(session: Session, model: type[Organization] | type[Person], record_id: int) -> int:
    """The id a record's links lead to now: itself, or the record it was (transitively) merged into."""
    seen = {record_id}
    current = record_id
    while True:
        nxt = session.scalar(select(model.merged_into_id).where(model.id == current))
        if nxt is None or nxt in seen:
            return current
        seen.add(nxt)
        current = nxt


def ensure_not_merged(session: Session, record: Organization | Person) -> None:
    """Raise MergedAway when the record is a tombstone of a merge."""
    if record.merged_into_id is not None:
        model = type(record)
        raise MergedAway(model.__name__, record.id, survivor_of(session, model, record.id))
