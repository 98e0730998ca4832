"""Pipelines and their stages, edited by admins; everyone reads them.

Exactly one pipeline is the default: new deals go there unless told otherwise, and the
default results (``core.bootstrap``) point at its stages. Making another pipeline the
default takes the mark from the old one. Stages are ordered by ``position`` (0, 1, 2...);
``reorder_stages`` takes the full new order so two admins editing at once cannot leave gaps
or ties. A stage with deals cannot be deleted (move the deals first), nor one that is in a
deal's stage history (the history would lose a step: rename the stage instead); nor can the
last stage of a pipeline, nor a pipeline with deals.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from core.models import Deal, DealStageChange, DealStatus, Pipeline, Stage
from core.rights import require_role

STAGE_FIELDS = ("name", "name_ru", "probability", "outcome", "position")


def list_pipelines(session: Session, *, actor: Actor) -> list[Pipeline]:
    """Every pipeline with its stages, the default first."""
    return list(session.scalars(select(Pipeline).order_by(Pipeline.is_default.desc(), Pipeline.name)))


def get_pipeline(session: Session, *, actor: Actor, pipeline_id: int | None = None) -> Pipeline:
    """A pipeline by id, or the default one when no id is given."""
    if pipeline_id is None:
        pipeline = session.scalars(select(Pipeline).where(Pipeline.is_default.is_(True))).first()
        if pipeline is None:
            raise NotFound("There is no default pipeline; an admin must create one")
        return pipeline
    pipeline = session.get(Pipeline, pipeline_id)
    if pipeline is None:
        raise NotFound(f"Pipeline #{pipeline_id} not found")
    return pipeline


def get_stage(session: Session, *, actor: Actor, stage_id: int) -> Stage:
    """A stage by id."""
    stage = session.get(Stage, stage_id)
    if stage is None:
        raise NotFound(f"Stage #{stage_id} not found")
    return stage


def _stage_problems(values: dict[str, Any], prefix: str = "") -> list[FieldProblem]:
    problems = []
    if "name" in values and not str(values["name"] or "").strip():
        problems.append(FieldProblem(f"{prefix}name", "is required"))
    if "probability" in values:
        p = values["probability"]
        if not isinstance(p, int) or isinstance(p, bool) or not 0 <= p <= 100:
            problems.append(FieldProblem(f"{prefix}probability", "must be a whole number from 0 to 100"))
    if "outcome" in values and values["outcome"] not in tuple(DealStatus):
        problems.append(FieldProblem(f"{prefix}outcome", f"must be one of: {', '.join(DealStatus)}"))
    return problems


def _name_free(session: Session, name: str, exclude: int | None = None) -> None:
    # compared in Python: SQLite's lower() folds only ASCII, and there are a handful of pipelines
    for pid, existing in session.execute(select(Pipeline.id, Pipeline.name)):
        if pid != exclude and existing.casefold() == name.casefold():
            raise Conflict(f"A pipeline named '{existing}' already exists")


def _make_default(session: Session, pipeline: Pipeline) -> None:
    session.execute(update(Pipeline).where(Pipeline.id != pipeline.id).values(is_default=False))
    pipeline.is_default = True


def create_pipeline(
    session: Session, *, actor: Actor, name: str, stages: list[dict[str, Any]], is_default: bool = False
) -> Pipeline:
    """Create a pipeline with its stages in the given order; admins only, audited."""
    require_role(actor)
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed.one("name", "is required")
    if not stages:
        raise ValidationFailed.one("stages", "give at least one stage")
    problems = [p for i, s in enumerate(stages) for p in _stage_problems({"name": "", **s}, f"stages[{i}].")]
    if problems:
        raise ValidationFailed(problems)
    _name_free(session, name)
    pipeline = Pipeline(name=name, is_default=False)
    pipeline.stages = [
        Stage(
            name=str(s["name"]).strip(),
            name_ru=str(s.get("name_ru") or "").strip(),
            probability=s.get("probability", 0),
            outcome=DealStatus(s.get("outcome", DealStatus.open)),
            position=i,
        )
        for i, s in enumerate(stages)
    ]
    session.add(pipeline)
    session.flush()
    if is_default or session.scalar(select(func.count()).select_from(Pipeline)) == 1:
        _make_default(session, pipeline)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="pipeline",
        entity_id=pipeline.id,
        summary=name,
        changes={"stages": [None, [s.name for s in pipeline.stages]]},
    )
    return pipeline


def update_pipeline(
    session: Session, *, actor: Actor, pipeline_id: int, name: str | None = None, is_default: bool | None = None
) -> Pipeline:
    """Rename a pipeline or make it the default; admins only, audited."""
    require_role(actor)
    pipeline = get_pipeline(session, actor=actor, pipeline_id=pipeline_id)
    before = {"name": pipeline.name, "is_default": pipeline.is_default}
    if name is not None:
        name = " ".join(name.split())
        if not name:
            raise ValidationFailed.one("name", "is required")
        _name_free(session, name, exclude=pipeline.id)
        pipeline.name = name
    if is_default is True:
        _make_default(session, pipeline)
    elif is_default is False and pipeline.is_default:
        raise ValidationFailed.one("is_default", "make another pipeline the default instead")
    session.flush()
    after = {"name": pipeline.name, "is_default": pipeline.is_default}
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="pipeline",
        entity_id=pipeline.id,
        summary=pipeline.name,
        changes=audit.diff(before, after),
    )
    return pipeline


def delete_pipeline(session: Session, *, actor: Actor, pipeline_id: int) -> None:
    """Delete a pipeline without deals that is not the default; admins only, audited."""
    require_role(actor)
    pipeline = get_pipeline(session, actor=actor, pipeline_id=pipeline_id)
    if pipeline.is_default:
        raise Conflict("The default pipeline cannot be deleted; make another one the default first")
    count = session.scalar(select(func.count()).select_from(Deal).where(Deal.pipeline_id == pipeline.id)) or 0
    if count:
        raise Conflict(f"The pipeline has {count} deal(s); move or delete them first")
    audit.record(
        session, actor=actor, action="delete", entity_type="pipeline", entity_id=pipeline.id, summary=pipeline.name
    )
    session.delete(pipeline)
    session.flush()


def add_stage(
    session: Session,
    *,
    actor: Actor,
    pipeline_id: int,
    name: str,
    probability: int,
    name_ru: str = "",
    outcome: str = DealStatus.open,
    position: int | None = None,
) -> Stage:
    """Add a stage at a position (the end by default); admins only, audited."""
    require_role(actor)
    pipeline = get_pipeline(session, actor=actor, pipeline_id=pipeline_id)
    problems = _stage_problems({"name": name, "probability": probability, "outcome": outcome})
    if problems:
        raise ValidationFailed(problems)
    stages = list(pipeline.stages)
    at = len(stages) if position is None else max(0, min(position, len(stages)))
    stage = Stage(name=name.strip(), name_ru=name_ru.strip(), probability=probability, outcome=DealStatus(outcome))
    stages.insert(at, stage)
    for i, s in enumerate(stages):
        s.position = i
    pipeline.stages = stages
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="stage",
        entity_id=stage.id,
        summary=f"{pipeline.name}: {stage.name}",
        changes={"probability": [None, probability], "position": [None, at]},
    )
    return stage


def update_stage(session: Session, *, actor: Actor, stage_id: int, changes: dict[str, Any]) -> Stage:
    """Change a stage's names, probability or outcome (order with ``reorder_stages``); admins only."""
    require_role(actor)
    stage = get_stage(session, actor=actor, stage_id=stage_id)
    changes = {k: v for k, v in changes.items() if k in ("name", "name_ru", "probability", "outcome")}
    problems = _stage_problems(changes)
    if problems:
        raise ValidationFailed(problems)
    before = {f: getattr(stage, f) for f in STAGE_FIELDS}
    for key, value in changes.items():
        setattr(stage, key, str(value).strip() if key in ("name", "name_ru") else value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="stage",
        entity_id=stage.id,
        summary=stage.name,
        changes=audit.diff(before, {f: getattr(stage, f) for f in STAGE_FIELDS}),
    )
    return stage


def reorder_stages(session: Session, *, actor: Actor, pipeline_id: int, stage_ids: list[int]) -> Pipeline:
    """Put the pipeline's stages in the given order (every stage exactly once); admins only, audited."""
    require_role(actor)
    pipeline = get_pipeline(session, actor=actor, pipeline_id=pipeline_id)
    current = {s.id: s for s in pipeline.stages}
    if sorted(stage_ids) != sorted(current) or len(set(stage_ids)) != len(stage_ids):
        raise ValidationFailed.one("stage_ids", f"list every stage of the pipeline once: {sorted(current)}")
    before = [s.id for s in pipeline.stages]
    for i, sid in enumerate(stage_ids):
        current[sid].position = i
    session.flush()
    session.expire(pipeline, ["stages"])
    audit.record(
        session,
        actor=actor,
        action="reorder",
        entity_type="pipeline",
        entity_id=pipeline.id,
        summary=pipeline.name,
        changes={"stages": [before, stage_ids]},
    )
    return pipeline


def delete_stage(session: Session, *, actor: Actor, stage_id: int) -> None:
    """Delete a stage no deal is at or has been at; admins only, audited."""
    require_role(actor)
    stage = get_stage(session, actor=actor, stage_id=stage_id)
    count = session.scalar(select(func.count()).select_from(Deal).where(Deal.stage_id == stage.id)) or 0
    if count:
        raise Conflict(f"{count} deal(s) are at the stage '{stage.name}'; move them to another stage first")
    passed = (
        session.scalar(select(func.count()).select_from(DealStageChange).where(DealStageChange.to_stage_id == stage.id))
        or 0
    )
    if passed:
        raise Conflict(f"The stage '{stage.name}' is in the history of {passed} deal move(s); rename it instead")
    pipeline = stage.pipeline
    if len(pipeline.stages) == 1:
        raise Conflict("A pipeline needs at least one stage")
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity_type="stage",
        entity_id=stage.id,
        summary=f"{pipeline.name}: {stage.name}",
    )
    pipeline.stages = [s for s in pipeline.stages if s.id != stage.id]
    for i, s in enumerate(pipeline.stages):
        s.position = i
    session.flush()
