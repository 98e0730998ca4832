"""The pipeline board: deals by stage, moved by drag and drop (or a stage select), with the forecast.

Columns are the stages of one pipeline (a switch when there are several). Every card is a
small form with a stage select and a button, so a keyboard or a browser without script moves
a deal too; ``static/work.js`` turns a drop on a column into choosing that stage and sending
the card's form, which htmx answers with the whole board (``#board``), so the column totals,
the probability-weighted totals and the forecast by expected close month are fresh after
every move. Moving calls ``core.sales.deals.move_deal`` (the stage history and the audit
record the step); the totals come from ``core.sales.forecast``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from fastapi import Query
from fastapi.responses import Response
from sqlalchemy import select

from core.errors import NotFound, ValidationFailed
from core.models import Deal, DealStatus, Organization
from core.rights import visible
from core.sales.deals import list_deals, move_deal
from core.sales.forecast import forecast
from core.sales.pipelines import get_pipeline, list_pipelines
from hub.web import nav
from hub.web.card_data import users_by_id
from hub.web.forms import Submitted
from hub.web.nav import N_, NavItem
from hub.web.pages import LoggedInPage, Page, web_router
from hub.web.planning import local_name, posted_id

router = web_router()
nav.add(NavItem("pipeline", "/pipeline", N_("Pipeline"), icon="columns", order=40))

MAX_DEALS = 500


def _board(page: LoggedInPage, pipeline_id: int | None) -> dict[str, Any]:
    """Everything the board shows for one pipeline."""
    s, actor, locale = page.session, page.actor, page.i18n.locale
    pipeline = get_pipeline(s, actor=actor, pipeline_id=pipeline_id)
    deals, total = list_deals(s, actor=actor, pipeline_id=pipeline.id, sort="expected_close_on", limit=MAX_DEALS)
    by_stage: dict[int, list[Deal]] = {st.id: [] for st in pipeline.stages}
    for deal in deals:
        by_stage.setdefault(deal.stage_id, []).append(deal)
    outlook = forecast(s, actor=actor, pipeline_id=pipeline.id)
    per_stage = {row.stage_id: row for row in outlook.stages}
    closed = {
        st.id: sum((d.amount for d in by_stage[st.id]), Decimal(0)) for st in pipeline.stages if st.outcome != "open"
    }
    org_ids = {d.organization_id for d in deals}
    names = select(Organization.id, Organization.name).where(
        Organization.id.in_(org_ids), visible(actor, Organization.team_id)
    )
    org_names: dict[int, str] = {i: n for i, n in s.execute(names)} if org_ids else {}
    return {
        "pipeline": pipeline,
        "pipelines": list_pipelines(s, actor=actor),
        "stages": pipeline.stages,
        "by_stage": by_stage,
        "per_stage": per_stage,
        "closed_totals": closed,
        "outlook": outlook,
        "truncated": total > len(deals),
        "org_names": org_names,
        "people": users_by_id(s, {d.responsible_id for d in deals}),
        "stage_label": lambda st: local_name(st, locale),
        "stage_options": [(st.id, local_name(st, locale)) for st in pipeline.stages],
        "month_label": lambda m: _month(page, m),
        "open_state": DealStatus.open,
    }


def _month(page: LoggedInPage, month: str | None) -> str:
    if month is None:
        return page._("No close date")
    year, number = month.split("-")
    return format_date(date(int(year), int(number), 1), "LLLL y", locale=page.i18n.locale).capitalize()


@router.get("/pipeline")
def pipeline_page(page: Page, pipeline: int | None = Query(None, ge=1)) -> Response:
    """The board of one pipeline (the default one unless chosen)."""
    return page.render("work/pipeline.html", partials={"board": "work/_board.html"}, **_board(page, pipeline))


@router.post("/pipeline/deals/{deal_id}/move")
def deal_move(page: Page, deal_id: int, data: Submitted) -> Response:
    """Move a deal to the chosen stage; the board comes back with fresh totals."""
    stage_id = posted_id(data, "stage_id")
    try:
        deal = move_deal(page.session, actor=page.actor, deal_id=deal_id, stage_id=stage_id)
    except ValidationFailed:
        raise NotFound("Stage not found") from None
    name = local_name(deal.stage, page.i18n.locale)
    message = page._("“%(deal)s” moved to %(stage)s.", deal=deal.title, stage=name)
    if page.request.headers.get("hx-target") == "board":
        return page.render("work/_board.html", moved=deal.id, message=message, **_board(page, deal.pipeline_id))
    page.flash("success", message)
    return page.redirect(f"/pipeline?pipeline={deal.pipeline_id}")
