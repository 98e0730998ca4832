"""What a logged result does to the client: the sales stage it reaches.

A result may name a stage (``InteractionResult.stage_id``) and the user may name one
explicitly (``stage_id`` when logging). The deal linked to the interaction moves (with its
stage history), else the organization's own stage does. An explicit stage always applies and
must belong to the deal's pipeline. A stage implied by a result only moves forward: to a
later stage, or to a won or lost one; it never reopens a closed deal, and it brings a client
back from "lost" when the work with them starts again. A result's stage lives in the default
pipeline; for a deal in another pipeline it is matched by name, else by outcome (won/lost),
else the deal stays where it is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import ValidationFailed
from core.models import DealStatus, Organization, Stage
from core.sales.deals import move_deal
from core.work.links import Links


def _in_pipeline(session: Session, target: Stage, pipeline_id: int) -> Stage | None:
    if target.pipeline_id == pipeline_id:
        return target
    stages = list(session.scalars(select(Stage).where(Stage.pipeline_id == pipeline_id).order_by(Stage.position)))
    same_name = next((s for s in stages if s.name.casefold() == target.name.casefold()), None)
    if same_name is not None:
        return same_name
    if target.outcome != DealStatus.open:
        return next((s for s in stages if s.outcome == target.outcome), None)
    return None


def _ahead(target: Stage, current: Stage) -> bool:
    return target.outcome != DealStatus.open or target.position > current.position


def _move_org(session: Session, actor: Actor, org: Organization, target: Stage, explicit: bool) -> Stage:
    current = session.get(Stage, org.stage_id) if org.stage_id is not None else None
    move = (
        explicit
        or current is None
        or current.pipeline_id != target.pipeline_id
        or current.outcome == DealStatus.lost
        or _ahead(target, current)
    )
    if not move or target.id == org.stage_id:
        return current or target
    org.stage_id = target.id
    audit.record(
        session,
        actor=actor,
        action="stage",
        entity_type="organization",
        entity_id=org.id,
        summary=f"{org.name}: {target.name}",
        changes={"stage_id": [current.id if current else None, target.id]},
    )
    return target


def apply_stage(
    session: Session,
    *,
    actor: Actor,
    links: Links,
    target: Stage | None,
    explicit: bool,
    reason: str,
    at: datetime,
) -> Stage | None:
    """Move the linked deal, else the organization, to ``target``; the stage the client is at after it."""
    if target is None:
        return None
    deal = links.deal
    if deal is not None:
        stage = _in_pipeline(session, target, deal.pipeline_id)
        if stage is None:
            if explicit:
                raise ValidationFailed.one("stage_id", f"is not a stage of the pipeline of deal #{deal.id}")
            return None
        if explicit or (deal.status == DealStatus.open and _ahead(stage, deal.stage)):
            move_deal(session, actor=actor, deal_id=deal.id, stage_id=stage.id, reason=reason, at=at)
        return deal.stage
    if links.organization is not None:
        return _move_org(session, actor, links.organization, target, explicit)
    if explicit:
        raise ValidationFailed.one("stage_id", "link an organization or a deal to move the work to a stage")
    return None
