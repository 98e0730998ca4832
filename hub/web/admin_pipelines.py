"""Pipelines and their stages (admins only): ordered stages with win probabilities.

Through ``core.sales.pipelines``: add a pipeline (with its first stage), rename it or make it
the default; add, rename, move up or down and delete stages. A stage can be deleted only
while no deal is or was at it (core says why otherwise, shown as a message). Reordering
sends the pipeline's full new order, as core wants, so two admins cannot leave gaps.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.responses import Response

from core.errors import Conflict, ValidationFailed
from core.models import DealStatus, Pipeline
from core.sales import pipelines
from hub.web import nav
from hub.web.admin import ADMINS, _core_failed
from hub.web.forms import Form, Submitted
from hub.web.messages import translate
from hub.web.nav import N_, NavItem
from hub.web.pages import AdminPage, LoggedInPage, web_router

router = web_router()
nav.add(
    NavItem(
        "admin-pipelines", "/admin/pipelines", N_("Pipelines"), icon="columns", order=93, roles=ADMINS, section="admin"
    )
)
CORE_SENTENCES = [
    (re.compile(p), t)
    for p, t in (
        (
            r"(?P<n>\d+) deal\(s\) are at the stage '(?P<name>.*)'; .*",
            N_("%(n)s deal(s) are at the stage “%(name)s”: move them to another stage first."),
        ),
        (
            r"The stage '(?P<name>.*)' is in the history of (?P<n>\d+) deal move\(s\); .*",
            N_("Deals have passed the stage “%(name)s” (%(n)s moves in their history): rename it instead."),
        ),
        (r"A pipeline needs at least one stage", N_("A pipeline needs at least one stage.")),
        (r"A pipeline named '(?P<name>.*)' already exists", N_("A pipeline named “%(name)s” already exists.")),
        (r"must be a whole number from 0 to 100", N_("A whole number from 0 to 100.")),
    )
]
"""Core's sentences about pipelines, in the reader's language."""
OUTCOMES = {DealStatus.open: N_("In progress"), DealStatus.won: N_("Won"), DealStatus.lost: N_("Lost")}


def _words(page: LoggedInPage, message: str) -> str:
    for pattern, text in CORE_SENTENCES:
        match = pattern.fullmatch(message)
        if match:
            return page._(text, **match.groupdict())
    return translate(message, page.i18n)


def _failed(page: LoggedInPage, form: Form, exc: ValidationFailed | Conflict, conflict_field: str = "") -> None:
    """Show core's objection under the field it names, in the reader's language."""
    _core_failed(page, form, exc, conflict_field)
    for name, message in list(form.errors.items()):
        form.errors[name] = _words(page, message)
    form.summary = [_words(page, m) for m in form.summary]


def _stage_values(page: LoggedInPage, form: Form) -> dict[str, Any]:
    return {
        "name": form.text("name", required=True, max_length=200),
        "name_ru": form.text("name_ru", max_length=200),
        "probability": form.integer("probability", minimum=0, maximum=100),
        "outcome": form.text("outcome") or DealStatus.open.value,
    }


def _render(page: LoggedInPage, pipeline: Pipeline | None = None, status: int = 200, **forms: Form) -> Response:
    items = pipelines.list_pipelines(page.session, actor=page.actor)
    chosen = pipeline or (items[0] if items else None)
    context: dict[str, Any] = {
        "pipelines": items,
        "pipeline": chosen,
        "outcomes": [(k.value, page._(v)) for k, v in OUTCOMES.items()],
        "outcome_labels": {k.value: v for k, v in OUTCOMES.items()},
        "new_pipeline": Form.initial(page.i18n, probability="10"),
        "rename": Form.initial(page.i18n, name=chosen.name if chosen else ""),
        "new_stage": Form.initial(page.i18n, probability="", outcome="open"),
        "stage_errors": {},
    }
    context.update(forms)
    return page.render("admin/pipelines.html", status=status, **context)


@router.get("/admin/pipelines")
def pipelines_page(page: AdminPage) -> Response:
    """The default pipeline's stages (or another's), and the list of pipelines."""
    return _render(page)


@router.get("/admin/pipelines/{pipeline_id}")
def pipeline_page(page: AdminPage, pipeline_id: int) -> Response:
    """One pipeline's stages."""
    return _render(page, pipelines.get_pipeline(page.session, actor=page.actor, pipeline_id=pipeline_id))


@router.post("/admin/pipelines")
def pipeline_create(page: AdminPage, data: Submitted) -> Response:
    """Create a pipeline with its first stage."""
    form = Form(data, page.i18n)
    name = form.text("pipeline_name", required=True, max_length=200)
    stage = _stage_values(page, form)
    if stage["probability"] is None and "probability" not in form.errors:
        form.error("probability", page._("Fill this in."))
    if form.ok:
        try:
            created = pipelines.create_pipeline(page.session, actor=page.actor, name=name, stages=[stage])
        except (ValidationFailed, Conflict) as exc:
            _failed(page, form, exc, "pipeline_name")
        else:
            page.flash("success", page._("Pipeline “%(name)s” created.", name=created.name))
            return page.redirect(f"/admin/pipelines/{created.id}")
    return _render(page, status=422, new_pipeline=form)


@router.post("/admin/pipelines/{pipeline_id}")
def pipeline_update(page: AdminPage, pipeline_id: int, data: Submitted) -> Response:
    """Rename a pipeline, or make it the default."""
    pipeline = pipelines.get_pipeline(page.session, actor=page.actor, pipeline_id=pipeline_id)
    form = Form(data, page.i18n)
    make_default = data.get("make_default") == "1"
    name = None if make_default else form.text("name", required=True, max_length=200)
    if form.ok:
        try:
            pipelines.update_pipeline(
                page.session, actor=page.actor, pipeline_id=pipeline.id, name=name, is_default=make_default or None
            )
        except (ValidationFailed, Conflict) as exc:
            _failed(page, form, exc, "name")
        else:
            page.flash("success", page._("Changes saved."))
            return page.redirect(f"/admin/pipelines/{pipeline.id}")
    return _render(page, pipeline, status=422, rename=form)


@router.post("/admin/pipelines/{pipeline_id}/stages")
def stage_create(page: AdminPage, pipeline_id: int, data: Submitted) -> Response:
    """Add a stage at the end of the pipeline."""
    pipeline = pipelines.get_pipeline(page.session, actor=page.actor, pipeline_id=pipeline_id)
    form = Form(data, page.i18n)
    stage = _stage_values(page, form)
    if stage["probability"] is None and "probability" not in form.errors:
        form.error("probability", page._("Fill this in."))
    if form.ok:
        try:
            pipelines.add_stage(page.session, actor=page.actor, pipeline_id=pipeline.id, **stage)
        except ValidationFailed as exc:
            _failed(page, form, exc)
        else:
            page.flash("success", page._("Stage “%(name)s” added.", name=stage["name"]))
            return page.redirect(f"/admin/pipelines/{pipeline.id}")
    return _render(page, pipeline, status=422, new_stage=form)


@router.post("/admin/stages/{stage_id}")
def stage_update(page: AdminPage, stage_id: int, data: Submitted) -> Response:
    """Rename a stage or change its probability or outcome."""
    stage = pipelines.get_stage(page.session, actor=page.actor, stage_id=stage_id)
    form = Form(data, page.i18n)
    values = _stage_values(page, form)
    if values["probability"] is None:
        values.pop("probability")
        if "probability" not in form.errors:
            form.error("probability", page._("Fill this in."))
    if form.ok:
        try:
            pipelines.update_stage(page.session, actor=page.actor, stage_id=stage.id, changes=values)
        except ValidationFailed as exc:
            _failed(page, form, exc)
        else:
            page.flash("success", page._("Changes saved."))
            return page.redirect(f"/admin/pipelines/{stage.pipeline_id}")
    pipeline = pipelines.get_pipeline(page.session, actor=page.actor, pipeline_id=stage.pipeline_id)
    return _render(page, pipeline, status=422, stage_errors={stage.id: form})


@router.post("/admin/stages/{stage_id}/move")
def stage_move(page: AdminPage, stage_id: int, data: Submitted) -> Response:
    """Move a stage one place up or down."""
    stage = pipelines.get_stage(page.session, actor=page.actor, stage_id=stage_id)
    pipeline = pipelines.get_pipeline(page.session, actor=page.actor, pipeline_id=stage.pipeline_id)
    order = [s.id for s in pipeline.stages]
    at = order.index(stage.id)
    to = at - 1 if data.get("direction") == "up" else at + 1
    if 0 <= to < len(order):
        order[at], order[to] = order[to], order[at]
        pipelines.reorder_stages(page.session, actor=page.actor, pipeline_id=pipeline.id, stage_ids=order)
    return page.redirect(f"/admin/pipelines/{pipeline.id}")


@router.post("/admin/stages/{stage_id}/delete")
def stage_delete(page: AdminPage, stage_id: int) -> Response:
    """Delete a stage no deal is or was at."""
    stage = pipelines.get_stage(page.session, actor=page.actor, stage_id=stage_id)
    pipeline_id, name = stage.pipeline_id, stage.name
    try:
        pipelines.delete_stage(page.session, actor=page.actor, stage_id=stage.id)
    except Conflict as exc:
        page.session.rollback()
        page.flash("error", _words(page, exc.message))
    else:
        page.flash("success", page._("Stage “%(name)s” deleted.", name=name))
    return page.redirect(f"/admin/pipelines/{pipeline_id}")
