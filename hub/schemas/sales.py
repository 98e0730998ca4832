"""Schemas for pipelines, stages, deals, their history and the forecast."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import Field

from core.models import Deal, DealStageChange, DealStatus, Pipeline, Stage
from core.sales.forecast import Forecast
from hub.schemas.common import Input, Output


class StageIn(Input):
    """A stage of a new pipeline (in the order given)."""

    name: str = Field(min_length=1, max_length=200)
    name_ru: str = Field(default="", max_length=200)
    probability: int = Field(ge=0, le=100, description="Per cent, 0 to 100")
    outcome: DealStatus = DealStatus.open


class StageCreate(StageIn):
    """A stage added to a pipeline, at ``position`` (the end by default)."""

    position: int | None = Field(default=None, ge=0)


class StageUpdate(Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_ru: str | None = Field(default=None, max_length=200)
    probability: int | None = Field(default=None, ge=0, le=100)
    outcome: DealStatus | None = None


class StageRead(Output):
    id: int
    pipeline_id: int
    name: str
    name_ru: str
    position: int
    probability: int
    outcome: DealStatus


class PipelineCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    is_default: bool = False
    stages: list[StageIn] = Field(min_length=1, max_length=50)


class PipelineUpdate(Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    is_default: bool | None = None


class PipelineRead(Output):
    id: int
    name: str
    is_default: bool
    stages: list[StageRead]

    @classmethod
    def of(cls, pipeline: Pipeline) -> PipelineRead:
        """Build from the model, stages in order."""
        stages = sorted(pipeline.stages, key=lambda s: s.position)
        return cls(
            id=pipeline.id,
            name=pipeline.name,
            is_default=pipeline.is_default,
            stages=[StageRead.model_validate(s) for s in stages],
        )


class StageOrderIn(Input):
    stage_ids: list[int] = Field(min_length=1, description="Every stage of the pipeline once, in the new order")


class DealCreate(Input):
    title: str = Field(min_length=1, max_length=300)
    organization_id: int
    person_id: int | None = None
    pipeline_id: int | None = Field(default=None, description="The default pipeline when omitted")
    stage_id: int | None = Field(default=None, description="The pipeline's first open stage when omitted")
    amount: Decimal = Field(default=Decimal(0), ge=0, max_digits=16, decimal_places=2)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    expected_close_on: date | None = None
    responsible_id: int | None = None
    notes: str = Field(default="", max_length=20000)


class DealUpdate(Input):
    """Changes to a deal; a new ``stage_id`` moves it (with history)."""

    title: str | None = Field(default=None, min_length=1, max_length=300)
    person_id: int | None = None
    amount: Decimal | None = Field(default=None, ge=0, max_digits=16, decimal_places=2)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    expected_close_on: date | None = None
    responsible_id: int | None = None
    notes: str | None = Field(default=None, max_length=20000)
    stage_id: int | None = None
    lost_reason: str | None = Field(default=None, max_length=500)


class MoveIn(Input):
    stage_id: int
    reason: str = Field(default="", max_length=500, description="Why it was lost, when moving to a lost stage")


class DealRead(Output):
    """A deal as the API shows it, with its stage's name and probability."""

    id: int
    title: str
    organization_id: int
    person_id: int | None
    pipeline_id: int
    stage_id: int
    stage_name: str
    probability: int
    amount: Decimal
    currency: str
    expected_close_on: date | None
    status: DealStatus
    closed_on: date | None
    lost_reason: str
    responsible_id: int | None
    team_id: int
    notes: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, deal: Deal) -> DealRead:
        """Build from the model."""
        plain = (
            "id",
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
            "team_id",
            "notes",
            "created_at",
            "updated_at",
        )
        stage: Stage = deal.stage
        return cls(**{f: getattr(deal, f) for f in plain}, stage_name=stage.name, probability=stage.probability)


class StageChangeRead(Output):
    """A deal entering a stage."""

    id: int
    from_stage_id: int | None
    to_stage_id: int
    changed_at: datetime
    user_id: int | None

    @classmethod
    def of(cls, change: DealStageChange) -> StageChangeRead:
        """Build from the model."""
        return cls.model_validate(change)


class StageForecastRead(Output):
    stage_id: int
    name: str
    name_ru: str
    probability: int
    count: int
    amount: Decimal
    weighted: Decimal


class MonthForecastRead(Output):
    month: str | None = Field(description="YYYY-MM of the expected close date; null for deals without one")
    count: int
    amount: Decimal
    weighted: Decimal


class ForecastRead(Output):
    """Open deals of a pipeline by stage and by expected close month, weighted by probability."""

    pipeline_id: int
    stages: list[StageForecastRead]
    months: list[MonthForecastRead]
    count: int
    amount: Decimal
    weighted: Decimal

    @classmethod
    def of(cls, forecast: Forecast) -> ForecastRead:
        """Build from the core forecast."""
        return cls.model_validate(forecast)
