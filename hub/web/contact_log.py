"""Log an interaction and plan the next contact, in one form on the client card.

``/organizations/12/log`` and ``/persons/7/log``: what happened (kind, result, the stage
reached, the contact person, a summary) and what comes next (when, how, who). The next
contact is pre-filled from core's proposal (``core.work.proposals``); quick choices
(tomorrow, in 3 days, next week) are radio buttons, so they work without script, and the
script only mirrors the chosen day into the date field. Every contact ends with the date of
the next one or a recorded refusal: leaving out the next contact is accepted only with a
result that ends the work. ``?task=5`` logs the carrying out of a planned contact, which
core then marks done. Saving goes through ``core.work.interactions.log_interaction``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import Query
from fastapi.responses import Response

from core.db import utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.models import DealStatus, InteractionResult
from core.sales.pipelines import list_pipelines
from core.work.interactions import log_interaction
from core.work.proposals import propose_next_contact
from core.work.reference import list_kinds, list_results, resolve_kind
from core.work.tasks import get_task
from hub.web import card_data
from hub.web.forms import Form, Submitted
from hub.web.messages import translate
from hub.web.pages import LoggedInPage, Page, web_router
from hub.web.planning import assignees, local_name

router = web_router()

QUICK = ("tomorrow", "3days", "next_week")
ALIASES = {
    "occurred_at": "when",
    "next_contact.due_at": "next_date",
    "next_contact.kind": "next_kind",
    "next_contact.responsible_id": "next_responsible",
    "next_contact.title": "next_title",
    "next_contact.remind_at": "next_date",
    "organization_id": "person_id",
    "task_id": "summary",
}


def quick_days(page: LoggedInPage) -> dict[str, date]:
    """The days of the quick choices, counted from today in the viewer's time zone."""
    today = page.i18n.local(utcnow()).date()
    monday = today + timedelta(days=7 - today.weekday())
    return {"tomorrow": today + timedelta(days=1), "3days": today + timedelta(days=3), "next_week": monday}


def _initial(page: LoggedInPage, task_id: int | None) -> Form:
    kind = resolve_kind(page.session, "call_out")
    proposal = propose_next_contact(
        kind=kind, result=None, now=utcnow(), client_name="", responsible_id=page.actor.user_id
    )
    due = page.i18n.local(proposal.due_at)
    now = page.i18n.local(utcnow())
    return Form.initial(
        page.i18n,
        kind="call_out",
        when=now.strftime("%Y-%m-%dT%H:%M"),
        next_when="date",
        next_date=due.date().isoformat(),
        next_time=due.strftime("%H:%M"),
        next_kind=proposal.kind,
        next_responsible=page.actor.user_id,
        task=task_id or "",
    )


def _context(page: LoggedInPage, client: card_data.ClientRef, form: Form) -> dict[str, Any]:
    s, actor, locale = page.session, page.actor, page.i18n.locale
    record = client.record
    kinds = [(k.code, local_name(k, locale)) for k in list_kinds(s, actor=actor)]
    stages = [
        (st.id, f"{local_name(st, locale)} · {page.i18n.percent(st.probability)}")
        for p in list_pipelines(s, actor=actor)
        for st in p.stages
    ]
    deals = [d for d in card_data.deals(s, actor=actor, client=client) if d.status == DealStatus.open]
    persons = card_data.employees(s, actor=actor, client=client) if client.kind == "organization" else []
    return {
        "form": form,
        "client": client,
        "record": record,
        "kind": client.kind,
        "base": f"/{client.kind}s/{client.id}",
        "title": record.name if client.kind == "organization" else record.full_name,  # type: ignore[union-attr]
        "kinds": kinds,
        "results": list_results(s, actor=actor),
        "stages": stages,
        "deals": [(d.id, f"{d.title} · {page.i18n.money(d.amount, d.currency)}") for d in deals],
        "persons": [(p.id, f"{p.full_name} · {role}" if role else p.full_name) for p, role in persons],
        "assignees": [(u.id, u.full_name) for u in assignees(page, record.team_id)],
        "quick": quick_days(page),
        "result_name": lambda r: local_name(r, locale),
    }


def _open(page: LoggedInPage, kind: str, client_id: int) -> card_data.ClientRef:
    return card_data.open_client(page.session, actor=page.actor, kind=kind, client_id=client_id)


def show_form(page: LoggedInPage, kind: str, client_id: int, task_id: int | None) -> Response:
    """The empty form, pre-filled with the proposed next contact."""
    client = _open(page, kind, client_id)
    if task_id is not None:
        get_task(page.session, actor=page.actor, task_id=task_id)
    return page.render("work/log_form.html", **_context(page, client, _initial(page, task_id)))


def _clock(form: Form, name: str) -> time | None:
    raw = form.text(name, max_length=5)
    if not raw:
        return None
    try:
        return time.fromisoformat(raw)
    except ValueError:
        form.error(name, form.i18n.gettext("Enter a time, for example 14:30."))
        return None


def _when(page: LoggedInPage, form: Form) -> datetime | None:
    raw = form.text("when", max_length=20)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        form.error("when", page._("Enter a date and time."))
        return None
    moment = moment.replace(tzinfo=page.i18n.tz) if moment.tzinfo is None else moment
    if moment > utcnow() + timedelta(minutes=10):
        form.error("when", page._("This is in the future: plan it as the next contact instead."))
    return moment


def _next_contact(page: LoggedInPage, form: Form, result: InteractionResult | None) -> dict[str, Any] | None:
    """The next contact the form asks for, or None (then the result must end the work)."""
    choice = form.text("next_when", max_length=20) or "date"
    day = form.date("next_date")
    moment = _clock(form, "next_time") or time(10, 0)
    kind = form.text("next_kind", max_length=40)
    responsible = form.integer("next_responsible", minimum=1)
    title = form.text("next_title", max_length=500)
    if choice == "none":
        if result is None or not result.ends_work:
            form.error(
                "next_when",
                page._("Every contact ends with the date of the next one, or with a result that ends the work."),
            )
        return None
    if choice in QUICK:
        day = quick_days(page)[choice]
        form.values["next_date"] = day.isoformat()
    elif day is None and "next_date" not in form.errors:
        form.error("next_date", page._("Choose the day of the next contact."))
    if day is None:
        return None
    due = datetime.combine(day, moment, tzinfo=page.i18n.tz)
    if due < utcnow() - timedelta(minutes=1):
        form.error("next_date", page._("The next contact must be in the future."))
    data: dict[str, Any] = {"due_at": due, "kind": kind or None, "responsible_id": responsible}
    if title:
        data["title"] = title
    return data


def _result(page: LoggedInPage, form: Form) -> InteractionResult | None:
    code = form.text("result", max_length=40)
    result = next((r for r in list_results(page.session, actor=page.actor) if r.code == code), None)
    if code and result is None:
        form.error("result", page._("This result no longer exists; choose another."))
    reason = form.text("refusal_reason", max_length=500)
    if result is not None and result.is_refusal and not reason:
        form.error("refusal_reason", page._("Say why the client refused: it is kept with the refusal."))
    if reason and (result is None or not result.is_refusal):
        form.error("refusal_reason", page._("A reason is given only with a refusal; clear it or choose a refusal."))
    return result


def save(page: LoggedInPage, kind: str, client_id: int, data: Submitted) -> Response:
    """Log the interaction with its next contact, or show the form again with what was wrong."""
    client = _open(page, kind, client_id)
    form = Form(data, page.i18n)
    interaction_kind = form.text("kind", required=True, max_length=40)
    occurred = _when(page, form)
    result = _result(page, form)
    stage_id = form.integer("stage_id", minimum=1)
    person_id = form.integer("person_id", minimum=1) if kind == "organization" else client.id
    deal_id = form.integer("deal_id", minimum=1)
    task_id = form.integer("task", minimum=1)
    subject = form.text("subject", max_length=998)
    body = form.text("summary", max_length=100_000)
    if not (subject or body):
        form.error("summary", page._("Write what was said or agreed, even in a few words."))
    next_contact = _next_contact(page, form, result)
    if form.ok:
        try:
            logged = log_interaction(
                page.session,
                actor=page.actor,
                kind=interaction_kind,
                organization_id=client.id if kind == "organization" else None,
                person_id=person_id,
                deal_id=deal_id,
                occurred_at=occurred,
                subject=subject,
                body=body,
                result=result.code if result else None,
                refusal_reason=form.values.get("refusal_reason", ""),
                stage_id=stage_id,
                task_id=task_id,
                next_contact=next_contact,
            )
        except ValidationFailed as exc:
            page.session.rollback()
            form.absorb(exc, ALIASES)
        except (Conflict, Forbidden) as exc:
            page.session.rollback()
            form.summary.append(translate(exc.message, page.i18n))
        except NotFound:
            page.session.rollback()
            form.summary.append(page._("A linked record is no longer available; reload the page."))
        else:
            task = logged.next_task
            if task is not None:
                when = page.i18n.datetime(task.due_at, "short")
                page.flash("success", page._("Interaction logged. Next contact: %(when)s.", when=when))
            else:
                page.flash("success", page._("Interaction logged."))
            return page.redirect(f"/{kind}s/{client.id}")
    return page.render("work/log_form.html", status=422, **_context(page, client, form))


def _routes(kind: str) -> None:
    path = f"/{kind}s/{{client_id}}/log"

    @router.get(path, name=f"{kind}_log_form")
    def log_form(page: Page, client_id: int, task: int | None = Query(None, ge=1)) -> Response:
        """The form to log a contact with this client (``?task=`` when it carries out a planned one)."""
        return show_form(page, kind, client_id, task)

    @router.post(path, name=f"{kind}_log")
    def log(page: Page, client_id: int, data: Submitted) -> Response:
        """Log a contact with this client and plan the next one."""
        return save(page, kind, client_id, data)


_routes("organization")
_routes("person")
