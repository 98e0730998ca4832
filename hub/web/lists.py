"""List actions of the client lists: save the current search and filters as a segment, open a
saved segment, and add the ticked rows to a static group.

A segment is a saved ``ClientFilter`` (``core.lists.segments``): opening one simply opens the
list with its filter in the address, so it is evaluated afresh with the viewer's rights. Group
membership goes through ``core.lists.groups.add_members``, which skips clients the user may not
see; the message says how many were added, already there, or skipped.
"""

from __future__ import annotations

from fastapi.responses import Response

from core.errors import Conflict, CoreError, Forbidden, NotFound, ValidationFailed
from core.lists import groups, segments
from core.models import ClientType
from hub.web.clients import filter_from, list_query
from hub.web.forms import Form, Submitted
from hub.web.messages import translate
from hub.web.pages import LoggedInPage, Page, web_router

router = web_router()

LIST_PATHS = {ClientType.organization: "/organizations", ClientType.person: "/persons"}


def _kind(form: Form) -> ClientType:
    try:
        return ClientType(form.text("kind"))
    except ValueError:
        return ClientType.organization


def _back(form: Form, kind: ClientType) -> str:
    """Where to return: the list the form was sent from (never another site)."""
    path = LIST_PATHS[kind]
    back = form.text("back", max_length=2000)
    return back if back == path or back.startswith(path + "?") else path


def _refused(page: LoggedInPage, exc: CoreError) -> None:
    """Tell why core refused, in the user's language: each field problem, or the one sentence."""
    problems = exc.problems if isinstance(exc, ValidationFailed) else []
    for message in [p.message for p in problems] or [exc.message]:
        page.flash("error", translate(message, page.i18n))


@router.post("/clients/segments")
def save_segment(page: Page, data: Submitted) -> Response:
    """Save the list's current search and filters under a name, then show the list as the segment."""
    form = Form(data, page.i18n)
    kind = _kind(form)
    f, _values = filter_from(data)
    if kind == ClientType.person:
        f.status = ""
    try:
        segment = segments.create_segment(
            page.session, actor=page.actor, name=form.text("name", max_length=300), client_type=kind, filter=f
        )
    except (ValidationFailed, Conflict, Forbidden) as exc:
        _refused(page, exc)
        return page.redirect(_back(form, kind))
    page.flash(
        "success", page._("Segment “%(name)s” saved: it shows whoever matches, now and later.", name=segment.name)
    )
    query = list_query(segments.segment_filter(segment))
    return page.redirect(LIST_PATHS[kind] + (f"?{query}" if query else ""))


@router.get("/clients/segments/{segment_id}")
def open_segment(page: Page, segment_id: int) -> Response:
    """Open the list with the segment's filter."""
    segment = segments.get_segment(page.session, actor=page.actor, segment_id=segment_id)
    query = list_query(segments.segment_filter(segment))
    return page.redirect(LIST_PATHS[ClientType(segment.client_type)] + (f"?{query}" if query else ""))


@router.post("/clients/group-members")
def add_to_group(page: Page, data: Submitted) -> Response:
    """Add the ticked rows to a group (an existing one, or a new one named in the form)."""
    form = Form(data, page.i18n)
    kind = _kind(form)
    back = _back(form, kind)
    ids = form.integers("ids")
    if not ids:
        page.flash("error", page._("Tick the clients to add first."))
        return page.redirect(back)
    new_name = form.text("new_group", max_length=300)
    try:
        if new_name:
            group = groups.create_group(page.session, actor=page.actor, name=new_name)
        else:
            group_id = form.integer("group_id")
            if group_id is None:
                page.flash("error", page._("Choose a group, or name a new one."))
                return page.redirect(back)
            group = groups.get_group(page.session, actor=page.actor, group_id=group_id)
        ids_of = {"organization_ids": ids} if kind == ClientType.organization else {"person_ids": ids}
        change = groups.add_members(page.session, actor=page.actor, group_id=group.id, **ids_of)
    except (ValidationFailed, Conflict, Forbidden, NotFound) as exc:
        page.session.rollback()  # a group made for this request goes too
        _refused(page, exc)
        return page.redirect(back)
    added, already = len(change.changed[kind.value]), len(change.unchanged[kind.value])
    skipped = len(change.not_found[kind.value])
    if added:
        message = page.i18n.ngettext(
            "%(num)s added to “%(name)s”.", "%(num)s added to “%(name)s”.", added, name=group.name
        )
        if already:
            message += " " + page.i18n.ngettext("%(num)s was there already.", "%(num)s were there already.", already)
    elif already:
        message = page._("Nothing added: they are in “%(name)s” already.", name=group.name)
    else:
        message = page._("Nothing added.")
    if skipped:
        message += " " + page.i18n.ngettext(
            "%(num)s skipped: not among the clients you can see.",
            "%(num)s skipped: not among the clients you can see.",
            skipped,
        )
    page.flash("success", message)
    return page.redirect(back)
