"""The client card, shared by organizations and persons: the summary, the tabs and the e-mails.

``add_card_routes`` gives a client kind its card (``/organizations/12?tab=interactions``; an
htmx click on a tab swaps only ``#card-tabs``), one e-mail message (``.../mail/<id>``, with
``?images=1`` after "Show images") and the message body for its sandboxed frame. All reads
go through ``card_data``, which opens the client through the core services first.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from core.clients.fields import definitions
from core.clients.tombstones import MergedAway
from core.models import Organization, Person, StoredFile, Team
from core.rights import can_see_team
from hub.web import card_data, history, mailview
from hub.web.clients import STATUS_LABELS, can_write, stage_name
from hub.web.nav import N_
from hub.web.pages import LoggedInPage, Page, environment, is_htmx
from hub.web.tables import query_url

TABS = {
    "organization": [
        ("main", N_("Main")),
        ("persons", N_("Contact persons")),
        ("interactions", N_("Interactions")),
        ("tasks", N_("Tasks")),
        ("deals", N_("Deals")),
        ("files", N_("Files")),
        ("comments", N_("Comments")),
        ("history", N_("History")),
    ],
    "person": [
        ("main", N_("Main")),
        ("organizations", N_("Organizations")),
        ("interactions", N_("Interactions")),
        ("tasks", N_("Tasks")),
        ("deals", N_("Deals")),
        ("files", N_("Files")),
        ("comments", N_("Comments")),
        ("history", N_("History")),
    ],
}
TIMELINE_PAGE = 50
TASK_STATES = {"open": N_("Open"), "done": N_("Done"), "cancelled": N_("Cancelled")}
DEAL_STATES = {"open": N_("Open"), "won": N_("Won"), "lost": N_("Lost")}
AUDIT_ACTIONS = {
    "create": N_("created the card"),
    "update": N_("changed"),
    "delete": N_("deleted"),
    "merge": N_("merged"),
}
KIND_ICONS = {
    "call_out": "phone",
    "call_in": "phone",
    "meeting": "users",
    "email_out": "mail",
    "email_in": "mail",
    "demo": "monitor",
    "note": "edit",
    "chat": "message",
}


def file_url(stored: StoredFile) -> str:
    """Where a stored file is downloaded (the files API, which checks rights itself); empty when not stored."""
    return f"/api/v1/files/{stored.id}/content" if stored.sha256 else ""


def _tab_data(page: LoggedInPage, client: card_data.ClientRef, tab: str, offset: int) -> dict[str, Any]:
    s, actor = page.session, page.actor
    if tab == "persons":
        return {"employees": card_data.employees(s, actor=actor, client=client)}
    if tab == "interactions":
        items = card_data.interactions(s, actor=actor, client=client, limit=TIMELINE_PAGE + 1, offset=offset)
        more = len(items) > TIMELINE_PAGE
        items = items[:TIMELINE_PAGE]
        mails = card_data.mails(s, actor=actor, client=client, items=items)
        files = card_data.attachments(s, mail_ids=set(mails))
        return {
            "entries": mailview.timeline(items, mails, files),
            "more_offset": offset + TIMELINE_PAGE if more else None,
            "people": card_data.users_by_id(s, {i.author_id for i in items}),
        }
    if tab == "tasks":
        rows = card_data.tasks(s, actor=actor, client=client)
        return {"tasks": rows, "people": card_data.users_by_id(s, {t.responsible_id for t in rows})}
    if tab == "deals":
        rows = card_data.deals(s, actor=actor, client=client)
        return {"deals": rows, "people": card_data.users_by_id(s, {d.responsible_id for d in rows})}
    if tab == "files":
        rows = card_data.files(s, actor=actor, client=client)
        return {"files": rows, "people": card_data.users_by_id(s, {f.uploaded_by_id for f in rows})}
    if tab == "comments":
        rows = card_data.comments(s, actor=actor, client=client)
        return {"comments": rows, "people": card_data.users_by_id(s, {c.author_id for c in rows})}
    if tab == "history":
        rows = card_data.history(s, actor=actor, client=client)
        return {"lines": history.lines(page, rows, card_data.users_by_id(s, {e.user_id for e in rows}))}
    return {}


def _shared_context(page: LoggedInPage) -> dict[str, Any]:
    """Helpers the card and the e-mail templates use."""
    return {
        "sanitize": mailview.sanitize,
        "file_url": file_url,
        "kind_icons": KIND_ICONS,
        "task_states": TASK_STATES,
        "deal_states": DEAL_STATES,
        "can_see": lambda team_id: can_see_team(page.actor, team_id),
    }


def render_card(page: LoggedInPage, *, kind: str, client_id: int, tab: str, offset: int = 0) -> Response:
    """The card of one client (NotFound, shown as the 404 page, when the user may not see it)."""
    try:
        client = card_data.open_client(page.session, actor=page.actor, kind=kind, client_id=client_id)
    except MergedAway as exc:
        page.flash("info", page._("This card was merged into another one; here it is."))
        return page.redirect(f"/{kind}s/{exc.survivor_id}")
    tabs = TABS[kind]
    if tab not in {key for key, _ in tabs}:
        tab = "main"
    record = client.record
    base = f"/{kind}s/{client.id}"
    context: dict[str, Any] = {
        "client": client,
        "record": record,
        "kind": kind,
        "base": base,
        "tab": tab,
        "tabs": tabs,
        "counts": card_data.counts(page.session, actor=page.actor, client=client),
        "can_write": can_write(page),
        "status_labels": STATUS_LABELS,
        "stage_name": stage_name,
        "tab_url": lambda key: query_url(base, [], tab=None if key == "main" else key),
        **_shared_context(page),
    }
    partial = is_htmx(page.request) and page.request.headers.get("hx-target") == "card-tabs"
    if not partial or tab == "main":
        context["summary"] = card_data.summary(page.session, actor=page.actor, client=client)
        context["people_summary"] = card_data.users_by_id(
            page.session, {i.author_id for i in context["summary"].recent}
        )
    if tab == "main":
        context.update(_main_data(page, record))
    context.update(_tab_data(page, client, tab, offset))
    return page.render("clients/card.html", partials={"card-tabs": "clients/_card_tabs.html"}, **context)


def _main_data(page: LoggedInPage, record: Organization | Person) -> dict[str, Any]:
    """What the Main tab shows besides the record: custom fields, team, responsible, stage."""
    entity = "organization" if isinstance(record, Organization) else "person"
    stages = card_data.stages_by_id(page.session, {getattr(record, "stage_id", None)})
    return {
        "custom_fields": definitions(page.session, entity),
        "team": page.session.get(Team, record.team_id),
        "responsible": card_data.users_by_id(page.session, {record.responsible_id}).get(record.responsible_id or 0),
        "stage": next(iter(stages.values()), None),
    }


def render_mail(page: LoggedInPage, *, kind: str, client_id: int, mail_id: int, images: bool) -> Response:
    """One e-mail of the client's history (a fragment for htmx, a small page otherwise)."""
    client = card_data.open_client(page.session, actor=page.actor, kind=kind, client_id=client_id)
    interaction, mail = card_data.mail_of_client(page.session, actor=page.actor, client=client, mail_id=mail_id)
    files = card_data.attachments(page.session, mail_ids={mail.id}).get(mail.id, [])
    item = mailview.MailItem(interaction, mail, files)
    base = f"/{kind}s/{client.id}"
    cleaned = mailview.sanitize(mail.html or "", allow_images=images) if mail.html else None
    template = "clients/_mail_message.html" if is_htmx(page.request) else "clients/mail.html"
    return page.render(
        template, item=item, base=base, images=images, cleaned=cleaned, record=client.record, **_shared_context(page)
    )


def render_mail_body(page: LoggedInPage, *, kind: str, client_id: int, mail_id: int, images: bool) -> Response:
    """The sanitised HTML of one message, as the document of its sandboxed frame."""
    client = card_data.open_client(page.session, actor=page.actor, kind=kind, client_id=client_id)
    _, mail = card_data.mail_of_client(page.session, actor=page.actor, client=client, mail_id=mail_id)
    cleaned = mailview.sanitize(mail.html or "", allow_images=images)
    html = environment().get_template("clients/mail_frame.html").render(body=cleaned.html, locale=page.i18n.locale)
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": mailview.frame_csp(images),
            "X-Frame-Options": "SAMEORIGIN",
            "Cache-Control": "no-cache, private",
        },
    )


def add_card_routes(router: APIRouter, *, prefix: str, kind: str) -> None:
    """Register the card, e-mail and e-mail body routes of one client kind under ``prefix``."""

    @router.get(prefix + "/{client_id}", name=f"{kind}_card")
    def card(page: Page, client_id: int, tab: str = "main", offset: int = Query(0, ge=0, le=1_000_000)) -> Response:
        """The client card."""
        return render_card(page, kind=kind, client_id=client_id, tab=tab, offset=offset)

    @router.get(prefix + "/{client_id}/mail/{mail_id}", name=f"{kind}_mail")
    def mail(page: Page, client_id: int, mail_id: int, images: bool = False) -> Response:
        """One e-mail on the card."""
        return render_mail(page, kind=kind, client_id=client_id, mail_id=mail_id, images=images)

    @router.get(prefix + "/{client_id}/mail/{mail_id}/body", name=f"{kind}_mail_body")
    def mail_body(page: Page, client_id: int, mail_id: int, images: bool = False) -> Response:
        """The sanitised body of one e-mail, for its frame."""
        return render_mail_body(page, kind=kind, client_id=client_id, mail_id=mail_id, images=images)
