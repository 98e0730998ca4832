"""Pipelines and stages (admins edit, everyone reads), deals, their history and the forecast."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from core.sales import deals as service
from core.sales import pipelines
from core.sales.forecast import forecast
from hub.deps import CurrentActor, DbSession
from hub.schemas.common import Page
from hub.schemas.sales import (
    DealCreate,
    DealRead,
    DealUpdate,
    ForecastRead,
    MoveIn,
    PipelineCreate,
    PipelineRead,
    PipelineUpdate,
    StageChangeRead,
    StageCreate,
    StageOrderIn,
    StageRead,
    StageUpdate,
)

router = APIRouter(tags=["sales"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


@router.get("/pipelines", response_model=list[PipelineRead])
def list_pipelines(session: DbSession, actor: CurrentActor) -> list[PipelineRead]:
    """Every pipeline with its stages, the default first."""
    return [PipelineRead.of(p) for p in pipelines.list_pipelines(session, actor=actor)]


@router.post("/pipelines", response_model=PipelineRead, status_code=201)
def create_pipeline(body: PipelineCreate, session: DbSession, actor: CurrentActor) -> PipelineRead:
    """Create a pipeline with its stages (admins)."""
    stages = [s.model_dump() for s in body.stages]
    return PipelineRead.of(
        pipelines.create_pipeline(session, actor=actor, name=body.name, stages=stages, is_default=body.is_default)
    )


@router.get("/pipelines/{pipeline_id}", response_model=PipelineRead)
def get_pipeline(pipeline_id: int, session: DbSession, actor: CurrentActor) -> PipelineRead:
    """One pipeline with its stages."""
    return PipelineRead.of(pipelines.get_pipeline(session, actor=actor, pipeline_id=pipeline_id))


@router.patch("/pipelines/{pipeline_id}", response_model=PipelineRead)
def update_pipeline(pipeline_id: int, body: PipelineUpdate, session: DbSession, actor: CurrentActor) -> PipelineRead:
    """Rename a pipeline or make it the default (admins)."""
    return PipelineRead.of(
        pipelines.update_pipeline(session, actor=actor, pipeline_id=pipeline_id, **body.model_dump(exclude_unset=True))
    )


@router.delete("/pipelines/{pipeline_id}", status_code=204)
def delete_pipeline(pipeline_id: int, session: DbSession, actor: CurrentActor) -> None:
    """Delete a pipeline without deals that is not the default (admins)."""
    pipelines.delete_pipeline(session, actor=actor, pipeline_id=pipeline_id)


@router.post("/pipelines/{pipeline_id}/stages", response_model=StageRead, status_code=201)
def add_stage(pipeline_id: int, body: StageCreate, session: DbSession, actor: CurrentActor) -> StageRead:
    """Add a stage to a pipeline (admins)."""
    return StageRead.model_validate(
        pipelines.add_stage(session, actor=actor, pipeline_id=pipeline_id, **body.model_dump())
    )


@router.put("/pipelines/{pipeline_id}/stages/order", response_model=PipelineRead)
def reorder_stages(pipeline_id: int, body: StageOrderIn, session: DbSession, actor: CurrentActor) -> PipelineRead:
    """Put the stages in a new order: every stage id once (admins)."""
    return PipelineRead.of(
        pipelines.reorder_stages(session, actor=actor, pipeline_id=pipeline_id, stage_ids=body.stage_ids)
    )


@router.patch("/stages/{stage_id}", response_model=StageRead)
def update_stage(stage_id: int, body: StageUpdate, session: DbSession, actor: CurrentActor) -> StageRead:
    """Change a stage's names, probability or outcome (admins)."""
    changes = body.model_dump(exclude_unset=True)
    return StageRead.model_validate(pipelines.update_stage(session, actor=actor, stage_id=stage_id, changes=changes))


@router.delete("/stages/{stage_id}", status_code=204)
def delete_stage(stage_id: int, session: DbSession, actor: CurrentActor) -> None:
    """Delete a stage no deal is or was at (admins)."""
    pipelines.delete_stage(session, actor=actor, stage_id=stage_id)


@router.get("/pipelines/{pipeline_id}/forecast", response_model=ForecastRead)
def pipeline_forecast(
    pipeline_id: int,
    session: DbSession,
    actor: CurrentActor,
    team_id: int | None = None,
    responsible_id: int | None = None,
) -> ForecastRead:
    """Open deals by stage and by expected close month, with probability-weighted amounts."""
    return ForecastRead.of(
        forecast(session, actor=actor, pipeline_id=pipeline_id, team_id=team_id, responsible_id=responsible_id)
    )


@router.get("/deals", response_model=Page[DealRead])
def list_deals(
    session: DbSession,
    actor: CurrentActor,
    pipeline_id: int | None = None,
    stage_id: int | None = None,
    status: str | None = Query(None, max_length=10),
    organization_id: int | None = None,
    responsible_id: int | None = None,
    team_id: int | None = None,
    q: str = Query("", max_length=200),
    close_from: date | None = None,
    close_to: date | None = None,
    sort: str = Query("-created_at", max_length=40),
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[DealRead]:
    """Deals the caller may see, filtered, sorted and paginated."""
    rows, total = service.list_deals(
        session,
        actor=actor,
        pipeline_id=pipeline_id,
        stage_id=stage_id,
        status=status,
        organization_id=organization_id,
        responsible_id=responsible_id,
        team_id=team_id,
        q=q,
        close_from=close_from,
        close_to=close_to,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return Page(items=[DealRead.of(d) for d in rows], total=total, limit=limit, offset=offset)


@router.post("/deals", response_model=DealRead, status_code=201)
def create_deal(body: DealCreate, session: DbSession, actor: CurrentActor) -> DealRead:
    """Open a deal with an organization."""
    return DealRead.of(service.create_deal(session, actor=actor, **body.model_dump()))


@router.get("/deals/{deal_id}", response_model=DealRead)
def get_deal(deal_id: int, session: DbSession, actor: CurrentActor) -> DealRead:
    """One deal."""
    return DealRead.of(service.get_deal(session, actor=actor, deal_id=deal_id))


@router.patch("/deals/{deal_id}", response_model=DealRead)
def update_deal(deal_id: int, body: DealUpdate, session: DbSession, actor: CurrentActor) -> DealRead:
    """Change the fields sent; a new stage_id moves the deal."""
    changes = body.model_dump(exclude_unset=True)
    return DealRead.of(service.update_deal(session, actor=actor, deal_id=deal_id, changes=changes))


@router.delete("/deals/{deal_id}", status_code=204)
def delete_deal(deal_id: int, session: DbSession, actor: CurrentActor) -> None:
    """Delete a deal with its history."""
    service.delete_deal(session, actor=actor, deal_id=deal_id)


@router.post("/deals/{deal_id}/move", response_model=DealRead)
def move_deal(deal_id: int, body: MoveIn, session: DbSession, actor: CurrentActor) -> DealRead:
    """Move a deal to a stage of its pipeline (won/lost stages close it)."""
    return DealRead.of(
        service.move_deal(session, actor=actor, deal_id=deal_id, stage_id=body.stage_id, reason=body.reason)
    )


@router.get("/deals/{deal_id}/history", response_model=list[StageChangeRead])
def deal_history(deal_id: int, session: DbSession, actor: CurrentActor) -> list[StageChangeRead]:
    """Every stage the deal entered, oldest first."""
    return [StageChangeRead.of(c) for c in service.deal_history(session, actor=actor, deal_id=deal_id)]
