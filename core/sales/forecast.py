"""The sales forecast and the sales cycle.

The forecast looks at open deals only (won and lost ones are history, not forecast). For each
open stage of a pipeline it gives the number of deals, their amount and the amount weighted by
the stage's probability; then the same weighted totals by the month of the expected close
date (deals without a date are grouped under ``None``). Each deal's weighted amount is
rounded to kopecks (half up) before summing, so the totals are exact sums of what a user
sees per deal. Amounts are summed as they are: an installation works in one currency.

The sales cycle of a won deal is the number of days from the first contact of that sale (the
earlier of the deal's creation and its first linked interaction) to the day it was won. The
organization's own first contact date is not used: for a client of many years it would make
every new sale look years long.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.models import Deal, DealStatus, Interaction
from core.rights import visible
from core.sales.deals import get_deal
from core.sales.pipelines import get_pipeline
from core.work.clock import local_date

CENT = Decimal("0.01")


def weighted(amount: Decimal, probability: int) -> Decimal:
    """An amount weighted by a probability in per cent, rounded to kopecks half up."""
    return (Decimal(amount) * probability / 100).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class StageForecast:
    """Open deals at one stage."""

    stage_id: int
    name: str
    name_ru: str
    probability: int
    count: int = 0
    amount: Decimal = Decimal("0.00")
    weighted: Decimal = Decimal("0.00")


@dataclass
class MonthForecast:
    """Open deals expected to close in one month (``YYYY-MM``; None when no date is set)."""

    month: str | None
    count: int = 0
    amount: Decimal = Decimal("0.00")
    weighted: Decimal = Decimal("0.00")


@dataclass
class Forecast:
    """The forecast of one pipeline: by stage, by expected close month, and in total."""

    pipeline_id: int
    stages: list[StageForecast] = field(default_factory=list)
    months: list[MonthForecast] = field(default_factory=list)
    count: int = 0
    amount: Decimal = Decimal("0.00")
    weighted: Decimal = Decimal("0.00")


def forecast(
    session: Session,
    *,
    actor: Actor,
    pipeline_id: int | None = None,
    team_id: int | None = None,
    responsible_id: int | None = None,
) -> Forecast:
    """Open deals the actor may see in a pipeline: per stage, per expected close month, weighted."""
    pipeline = get_pipeline(session, actor=actor, pipeline_id=pipeline_id)
    result = Forecast(pipeline_id=pipeline.id)
    by_stage: dict[int, StageForecast] = {}
    for stage in pipeline.stages:
        if stage.outcome == DealStatus.open:
            by_stage[stage.id] = StageForecast(stage.id, stage.name, stage.name_ru, stage.probability)
            result.stages.append(by_stage[stage.id])
    stmt = select(Deal.stage_id, Deal.amount, Deal.expected_close_on).where(
        visible(actor, Deal.team_id), Deal.pipeline_id == pipeline.id, Deal.status == DealStatus.open
    )
    if team_id is not None:
        stmt = stmt.where(Deal.team_id == team_id)
    if responsible_id is not None:
        stmt = stmt.where(Deal.responsible_id == responsible_id)
    months: dict[str | None, MonthForecast] = {}
    for stage_id, amount, close_on in session.execute(stmt):
        row = by_stage.get(stage_id)
        if row is None:
            continue
        amount = Decimal(amount).quantize(CENT)
        part = weighted(amount, row.probability)
        key = close_on.strftime("%Y-%m") if close_on else None
        month = months.setdefault(key, MonthForecast(key))
        for bucket in (row, month):
            bucket.count += 1
            bucket.amount += amount
            bucket.weighted += part
        result.count += 1
        result.amount += amount
        result.weighted += part
    result.months = sorted(months.values(), key=lambda m: (m.month is None, m.month or ""))
    return result


def _cycle(created: datetime, first_interaction: datetime | None, won: date) -> int:
    start = min(created, first_interaction) if first_interaction is not None else created
    return max(0, (won - local_date(start)).days)


def _first_interactions():  # noqa: ANN202 - a subquery
    return (
        select(Interaction.deal_id.label("deal_id"), func.min(Interaction.occurred_at).label("first"))
        .where(Interaction.deal_id.is_not(None))
        .group_by(Interaction.deal_id)
        .subquery()
    )


def sales_cycle_days(session: Session, *, actor: Actor, deal_id: int) -> int | None:
    """Days from the first contact of the sale to winning it; None unless the deal is won."""
    deal = get_deal(session, actor=actor, deal_id=deal_id)
    if deal.status != DealStatus.won or deal.closed_on is None:
        return None
    first = session.scalar(select(func.min(Interaction.occurred_at)).where(Interaction.deal_id == deal.id))
    return _cycle(deal.created_at, first, deal.closed_on)


@dataclass
class CycleStats:
    """The sales cycle over won deals: how many, and the average and longest in days."""

    deals: int
    average_days: float | None
    max_days: int | None


def sales_cycle_stats(
    session: Session,
    *,
    actor: Actor,
    won_from: date | None = None,
    won_to: date | None = None,
    team_id: int | None = None,
    responsible_id: int | None = None,
) -> CycleStats:
    """The average sales cycle (first contact to won) of the won deals the actor may see."""
    first = _first_interactions()
    stmt = (
        select(Deal.closed_on, Deal.created_at, first.c.first)
        .outerjoin(first, first.c.deal_id == Deal.id)
        .where(visible(actor, Deal.team_id), Deal.status == DealStatus.won, Deal.closed_on.is_not(None))
    )
    if won_from is not None:
        stmt = stmt.where(Deal.closed_on >= won_from)
    if won_to is not None:
        stmt = stmt.where(Deal.closed_on <= won_to)
    if team_id is not None:
        stmt = stmt.where(Deal.team_id == team_id)
    if responsible_id is not None:
        stmt = stmt.where(Deal.responsible_id == responsible_id)
    days = [_cycle(created, first_at, won) for won, created, first_at in session.execute(stmt)]
    if not days:
        return CycleStats(0, None, None)
    return CycleStats(len(days), round(sum(days) / len(days), 1), max(days))
