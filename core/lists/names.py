"""Names of groups and segments: trimmed, bounded, unique whatever their case or alphabet."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Conflict, ValidationFailed
from core.models import Group, Segment

MAX_NAME = 200


def clean_name(name: str) -> str:
    """The name with runs of spaces folded; ValidationFailed when empty or too long."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed.one("name", "is required")
    if len(name) > MAX_NAME:
        raise ValidationFailed.one("name", f"must be at most {MAX_NAME} characters")
    return name


def check_name_free(
    session: Session, model: type[Group] | type[Segment], name: str, exclude: int | None = None
) -> None:
    """Conflict when another list of this kind has the name (compared with casefold, which knows every alphabet)."""
    wanted = name.casefold()
    for other_id, other in session.execute(select(model.id, model.name)):
        if other_id != exclude and other.casefold() == wanted:
            what = "group" if model is Group else "segment"
            raise Conflict(f"A {what} named '{name}' already exists; choose another name")
