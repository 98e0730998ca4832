"""Deals: create, read, update, delete, list, and move through the stages with a recorded history.

A deal belongs to one organization and takes its team, so the rights by team hold for deals
as for clients. Every stage a deal enters is a ``DealStageChange`` row (including the first),
which gives the time spent at each stage and the sales cycle. A deal moved to a stage whose
outcome is won or lost takes that status and a ``closed_on`` date; moved back to an open
stage, it is open again. ``move_deal`` accepts the time of the move so that imports and the
demo data can record a past history.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.config import get_settings
from core.db import utcnow
from core.errors import NotFound, ValidationFailed
from core.models import Deal, DealStageChange, DealStatus, Pipeline, Stage
from core.normalize import name_key
from core.rights import can_see_team, require_write, visible
from core.work.clock import local_date, require_aware
from core.work.links import check_assignee, resolve_links

AUDITED = (
    "title",
    "organization_id",
    "person_id",
    "pipeline_id",
    "stage_id",
    "amount",
    "currency",
    "expected_close_on",
    "status",
    "closed_on",
    "lost_reason",
    "responsible_id",
    "notes",
)
EDITABLE = ("title", "person_id", "amount", "currency", "expected_close_on", "responsible_id", "notes")
SORTS = {
    "created_at": Deal.created_at,
    "amount": Deal.amount,
    "expected_close_on": Deal.expected_close_on,
    "title": Deal.title,
}


def _view(deal: Deal) -> dict[str, Any]:
    return {f: getattr(deal, f) for f in AUDITED}


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed.one("amount", "must be a number") from None
    if not amount.is_finite() or amount < 0:
        raise ValidationFailed.one("amount", "must be zero or more")
    if amount >= Decimal(10) ** 14:
        raise ValidationFailed.one("amount", "is too large")
    return amount.quantize(Decimal("0.01"))


def _currency(value: Any) -> str:
    code = str(value or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValidationFailed.one("currency", "must be a three-letter code such as RUB, USD or EUR")
    return code


def _stage_of(session: Session, pipeline: Pipeline, stage_id: int | None) -> Stage:
    if stage_id is None:
        first = next((s for s in pipeline.stages if s.outcome == DealStatus.open), None)
        if first is None:
            raise ValidationFailed.one("stage_id", f"the pipeline '{pipeline.name}' has no open stage; choose one")
        return first
    stage = session.get(Stage, stage_id)
    if stage is None or stage.pipeline_id != pipeline.id:
        raise ValidationFailed.one("stage_id", f"there is no stage #{stage_id} in the pipeline '{pipeline.name}'")
    return stage


def _pipeline(session: Session, pipeline_id: int | None) -> Pipeline:
    if pipeline_id is None:
        pipeline = session.scalars(select(Pipeline).where(Pipeline.is_default.is_(True))).first()
        if pipeline is None:
            raise ValidationFailed.one("pipeline_id", "there is no default pipeline; choose one")
        return pipeline
    pipeline = session.get(Pipeline, pipeline_id)
    if pipeline is None:
        raise ValidationFailed.one("pipeline_id", f"there is no pipeline #{pipeline_id}")
    return pipeline


def _enter(deal: Deal, stage: Stage, when: datetime, reason: str) -> None:
    deal.stage_id, deal.stage = stage.id, stage
    deal.status = DealStatus(stage.outcome)
    deal.closed_on = local_date(when) if stage.outcome != DealStatus.open else None
    deal.lost_reason = reason.strip()[:500] if stage.outcome == DealStatus.lost else ""


def create_deal(
    session: Session,
    *,
    actor: Actor,
    title: str,
    organization_id: int | None,
    person_id: int | None = None,
    pipeline_id: int | None = None,
    stage_id: int | None = None,
    amount: Any = 0,
    currency: str | None = None,
    expected_close_on: date | None = None,
    responsible_id: int | None = None,
    notes: str = "",
    created_at: datetime | None = None,
) -> Deal:
    """Open a deal with an organization at a stage (the pipeline's first open one by default); audited."""
    if not str(title or "").strip():
        raise ValidationFailed.one("title", "is required")
    if organization_id is None:
        raise ValidationFailed.one("organization_id", "is required: a deal is made with an organization")
    links = resolve_links(session, actor=actor, organization_id=organization_id, person_id=person_id)
    assert links.organization is not None
    require_write(actor, links.organization, "Organization")
    pipeline = _pipeline(session, pipeline_id)
    stage = _stage_of(session, pipeline, stage_id)
    responsible = responsible_id if responsible_id is not None else actor.user_id
    check_assignee(session, actor, responsible, links.organization.team_id, "responsible_id")
    when = require_aware(created_at, "created_at") or utcnow()
    deal = Deal(
        title=title.strip()[:300],
        title_key=name_key(title)[:300],
        organization_id=links.organization.id,
        person_id=person_id,
        pipeline_id=pipeline.id,
        amount=_amount(amount),
        currency=_currency(currency or get_settings().default_currency),
        expected_close_on=expected_close_on,
        responsible_id=responsible,
        team_id=links.organization.team_id,
        notes=notes or "",
        created_at=when,
        updated_at=when,
    )
    _enter(deal, stage, when, "")
    session.add(deal)
    session.flush()
    session.add(DealStageChange(deal_id=deal.id, to_stage_id=stage.id, changed_at=when, user_id=actor.user_id))
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="deal",
        entity_id=deal.id,
        summary=deal.title,
        changes=audit.diff({}, _view(deal)),
    )
    return deal


def get_deal(session: Session, *, actor: Actor, deal_id: int) -> Deal:
    """The deal, if the actor may see it (NotFound otherwise)."""
    deal = session.get(Deal, deal_id)
    if deal is None or not can_see_team(actor, deal.team_id):
        raise NotFound("Deal not found")
    return deal


def _writable(session: Session, actor: Actor, deal_id: int) -> Deal:
    deal = get_deal(session, actor=actor, deal_id=deal_id)
    require_write(actor, deal, "Deal")
    return deal


def move_deal(
    session: Session, *, actor: Actor, deal_id: int, stage_id: int, reason: str = "", at: datetime | None = None
) -> Deal:
    """Move a deal to a stage of its pipeline, recording the step; won/lost stages close it; audited."""
    deal = _writable(session, actor, deal_id)
    pipeline = session.get(Pipeline, deal.pipeline_id)
    assert pipeline is not None
    stage = _stage_of(session, pipeline, stage_id)
    if stage.id == deal.stage_id:
        return deal
    when = require_aware(at, "at") or utcnow()
    before = _view(deal)
    previous = deal.stage_id
    _enter(deal, stage, when, reason)
    session.add(
        DealStageChange(
            deal_id=deal.id, from_stage_id=previous, to_stage_id=stage.id, changed_at=when, user_id=actor.user_id
        )
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="move",
        entity_type="deal",
        entity_id=deal.id,
        summary=f"{deal.title}: {stage.name}",
        changes=audit.diff(before, _view(deal)),
    )
    return deal


def update_deal(session: Session, *, actor: Actor, deal_id: int, changes: dict[str, Any]) -> Deal:
    """Change a deal's fields; a new ``stage_id`` moves it (with history); audited."""
    deal = _writable(session, actor, deal_id)
    unknown = set(changes) - {*EDITABLE, "stage_id", "lost_reason"}
    if unknown:
        raise ValidationFailed.one(sorted(unknown)[0], "cannot be changed here")
    if changes.get("stage_id") is not None and changes["stage_id"] != deal.stage_id:
        move_deal(
            session, actor=actor, deal_id=deal.id, stage_id=changes["stage_id"], reason=changes.get("lost_reason", "")
        )
    before = _view(deal)
    if "title" in changes:
        if not str(changes["title"] or "").strip():
            raise ValidationFailed.one("title", "is required")
        deal.title = str(changes["title"]).strip()[:300]
        deal.title_key = name_key(deal.title)[:300]
    if "person_id" in changes:
        if changes["person_id"] is not None:
            resolve_links(session, actor=actor, person_id=changes["person_id"])
        deal.person_id = changes["person_id"]
    if "amount" in changes:
        deal.amount = _amount(changes["amount"])
    if "currency" in changes:
        deal.currency = _currency(changes["currency"])
    if "responsible_id" in changes:
        check_assignee(session, actor, changes["responsible_id"], deal.team_id, "responsible_id")
        deal.responsible_id = changes["responsible_id"]
    if "lost_reason" in changes and deal.status == DealStatus.lost:
        deal.lost_reason = str(changes["lost_reason"] or "").strip()[:500]
    for field in ("expected_close_on", "notes"):
        if field in changes:
            setattr(deal, field, changes[field] if field != "notes" else changes[field] or "")
    session.flush()
    delta = audit.diff(before, _view(deal))
    audit.record_update(session, actor=actor, entity_type="deal", entity_id=deal.id, summary=deal.title, changes=delta)
    return deal


def delete_deal(session: Session, *, actor: Actor, deal_id: int) -> None:
    """Delete a deal with its stage history; audited."""
    deal = _writable(session, actor, deal_id)
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity_type="deal",
        entity_id=deal.id,
        summary=deal.title,
        changes=audit.diff(_view(deal), {}),
    )
    session.delete(deal)
    session.flush()


def deal_history(session: Session, *, actor: Actor, deal_id: int) -> list[DealStageChange]:
    """Every stage the deal entered, oldest first."""
    deal = get_deal(session, actor=actor, deal_id=deal_id)
    stmt = select(DealStageChange).where(DealStageChange.deal_id == deal.id)
    return list(session.scalars(stmt.order_by(DealStageChange.changed_at, DealStageChange.id)))


def list_deals(
    session: Session,
    *,
    actor: Actor,
    pipeline_id: int | None = None,
    stage_id: int | None = None,
    status: str | None = None,
    organization_id: int | None = None,
    responsible_id: int | None = None,
    team_id: int | None = None,
    q: str = "",
    close_from: date | None = None,
    close_to: date | None = None,
    sort: str = "-created_at",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Deal], int]:
    """A page of the deals the actor may see, filtered and sorted, and the total count."""
    stmt = select(Deal).where(visible(actor, Deal.team_id))
    for column, value in (
        (Deal.pipeline_id, pipeline_id),
        (Deal.stage_id, stage_id),
        (Deal.organization_id, organization_id),
        (Deal.responsible_id, responsible_id),
        (Deal.team_id, team_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if status:
        if status not in tuple(DealStatus):
            raise ValidationFailed.one("status", f"must be one of: {', '.join(DealStatus)}")
        stmt = stmt.where(Deal.status == status)
    if q.strip():
        stmt = stmt.where(Deal.title_key.contains(name_key(q), autoescape=True))
    if close_from is not None:
        stmt = stmt.where(Deal.expected_close_on >= close_from)
    if close_to is not None:
        stmt = stmt.where(Deal.expected_close_on <= close_to)
    column = SORTS.get(sort.lstrip("-"))
    if column is None:
        raise ValidationFailed.one("sort", f"must be one of: {', '.join(SORTS)} (prefix - to reverse)")
    order = column.desc().nulls_last() if sort.startswith("-") else column.asc().nulls_last()
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.scalars(stmt.order_by(order, Deal.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), total
