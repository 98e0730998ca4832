"""The blocklist of unwanted counterparties (admins only): add by e-mail, domain, phone or name, remove, search.

Through ``core.lists.blocklist``, which stores each value normalised exactly as the create
services compare it (so "8 (495) 111-22-33" and "+74951112233" are one entry) and refuses a
value already listed. The search finds a value as typed, a phone in any format, or words of
the reason.
"""

from __future__ import annotations

from fastapi.responses import Response

from core.errors import Conflict, ValidationFailed
from core.lists import blocklist
from core.models import BlockKind
from core.normalize import format_phone
from hub.web import nav
from hub.web.admin import ADMINS, _core_failed
from hub.web.forms import Form, Submitted
from hub.web.nav import N_, NavItem
from hub.web.pages import AdminPage, LoggedInPage, web_router
from hub.web.tables import ListState, clean_push_url

router = web_router()
nav.add(
    NavItem(
        "admin-blocklist", "/admin/blocklist", N_("Blocklist"), icon="alert", order=94, roles=ADMINS, section="admin"
    )
)
KIND_LABELS = {
    BlockKind.email: N_("E-mail"),
    BlockKind.domain: N_("Domain"),
    BlockKind.phone: N_("Phone"),
    BlockKind.name: N_("Name"),
}


def _render(page: LoggedInPage, form: Form, status: int = 200) -> Response:
    q = page.request.query_params
    search = q.get("q", "").strip()[:200]
    kind = BlockKind(q["kind"]) if q.get("kind") in set(BlockKind) else None
    state = ListState.from_request(page.request, default_sort="", sorts=())
    state.total = blocklist.count_entries(page.session, actor=page.actor, kind=kind, search=search)
    entries = blocklist.list_entries(
        page.session, actor=page.actor, kind=kind, search=search, limit=state.per_page, offset=state.offset
    )
    return page.render(
        "admin/blocklist.html",
        status=status,
        partials={"results": "admin/_blocklist_table.html"},
        headers=clean_push_url(page, state),
        entries=entries,
        state=state,
        search=search,
        kind=kind.value if kind else "",
        form=form,
        kind_options=[(k.value, page._(v)) for k, v in KIND_LABELS.items()],
        kind_labels={k.value: v for k, v in KIND_LABELS.items()},
        shown=lambda e: format_phone(e.value) if e.kind == BlockKind.phone else e.value,
    )


@router.get("/admin/blocklist")
def entries(page: AdminPage) -> Response:
    """The blocklist, newest first, searchable."""
    return _render(page, Form.initial(page.i18n, kind="email"))


@router.post("/admin/blocklist")
def add(page: AdminPage, data: Submitted) -> Response:
    """Put a counterparty on the blocklist, with a reason."""
    form = Form(data, page.i18n)
    kind = form.text("kind")
    value = form.text("value", required=True, max_length=320)
    reason = form.text("reason", max_length=500)
    if kind not in set(BlockKind):
        form.error("kind", page._("Choose one of the options."))
    if form.ok:
        try:
            entry = blocklist.add_entry(page.session, actor=page.actor, kind=kind, value=value, reason=reason)
        except (ValidationFailed, Conflict) as exc:
            _core_failed(page, form, exc, "value")
            if "value" in form.errors and isinstance(exc, Conflict):
                form.errors["value"] = page._("Already on the blocklist.")
        else:
            page.flash("success", page._("“%(value)s” is on the blocklist now.", value=entry.value))
            return page.redirect("/admin/blocklist")
    return _render(page, form, status=422)


@router.post("/admin/blocklist/{entry_id}/delete")
def remove(page: AdminPage, entry_id: int) -> Response:
    """Take an entry off the blocklist."""
    blocklist.remove_entry(page.session, actor=page.actor, entry_id=entry_id)
    page.flash("success", page._("Removed from the blocklist."))
    return page.redirect("/admin/blocklist")
