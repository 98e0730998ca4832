"""Comments on client cards: anyone who may change the client writes; authors, managers and admins delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import Forbidden, NotFound, ValidationFailed
from core.models import Comment, Organization, Person, Role
from core.rights import can_see_team, require_visible, require_write

MAX_BODY = 20000


def _client(session: Session, organization_id: int | None, person_id: int | None) -> tuple[Any, str]:
    if (organization_id is None) == (person_id is None):
        raise ValidationFailed.one("organization_id", "give exactly one of organization or person")
    if organization_id is not None:
        return session.get(Organization, organization_id), "Organization"
    return session.get(Person, person_id), "Person"


def add_comment(
    session: Session, *, actor: Actor, body: str, organization_id: int | None = None, person_id: int | None = None
) -> Comment:
    """Comment on an organization or person card; audited."""
    client, what = _client(session, organization_id, person_id)
    require_write(actor, client, what)
    text = (body or "").strip()
    if not text:
        raise ValidationFailed.one("body", "is required")
    if len(text) > MAX_BODY:
        raise ValidationFailed.one("body", f"must be at most {MAX_BODY} characters")
    comment = Comment(organization_id=organization_id, person_id=person_id, author_id=actor.user_id, body=text)
    session.add(comment)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="comment",
        entity_id=comment.id,
        summary=text[:200],
        changes={"organization_id": organization_id, "person_id": person_id},
    )
    return comment


def list_comments(
    session: Session, *, actor: Actor, organization_id: int | None = None, person_id: int | None = None
) -> list[Comment]:
    """The comments on a card the actor may see, oldest first."""
    client, what = _client(session, organization_id, person_id)
    require_visible(actor, client, what)
    column = Comment.organization_id if organization_id is not None else Comment.person_id
    stmt = select(Comment).where(column == client.id).order_by(Comment.created_at, Comment.id)
    return list(session.scalars(stmt))


def delete_comment(session: Session, *, actor: Actor, comment_id: int) -> None:
    """Delete a comment: its author, or a manager or admin who sees the card; audited."""
    comment = session.get(Comment, comment_id)
    client = None
    if comment is not None:
        client, _ = _client(session, comment.organization_id, comment.person_id)
    if comment is None or client is None or not can_see_team(actor, client.team_id):
        raise NotFound("Comment not found")
    own = comment.author_id is not None and comment.author_id == actor.user_id
    if not (own or actor.is_admin or actor.role == Role.manager):
        raise Forbidden("Only the author, managers and admins may delete a comment")
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity_type="comment",
        entity_id=comment.id,
        summary=comment.body[:200],
    )
    session.delete(comment)
    session.flush()
