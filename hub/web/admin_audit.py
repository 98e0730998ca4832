"""The audit log viewer (admins only): who changed what and when, filtered and paged.

Through ``core.records.audit_log.query_log``. Filters: the user, the kind of record, the
action and a date range (whole days in the viewer's time zone). An entry links to its record
when the record still exists (``existing_records``); a deleted or merged record is named
without a link.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi.responses import Response

from core.errors import ValidationFailed
from core.models import AuditEntry
from core.records.audit_log import existing_records, query_log
from core.users.service import list_users
from hub.web import nav
from hub.web.admin import ADMINS
from hub.web.nav import N_, NavItem
from hub.web.pages import AdminPage, LoggedInPage, web_router
from hub.web.tables import ListState, clean_push_url

router = web_router()
nav.add(
    NavItem("admin-audit", "/admin/audit", N_("Audit log"), icon="history", order=95, roles=ADMINS, section="admin")
)
ENTITY_LABELS = {
    "organization": N_("Organization"),
    "person": N_("Contact person"),
    "interaction": N_("Interaction"),
    "task": N_("Task"),
    "deal": N_("Deal"),
    "user": N_("User"),
    "team": N_("Team"),
    "pipeline": N_("Pipeline"),
    "stage": N_("Stage"),
    "custom_field": N_("Custom field"),
    "blocklist": N_("Blocklist"),
    "connector_account": N_("Sync account"),
}
ACTION_LABELS = {
    "create": N_("created"),
    "update": N_("changed"),
    "delete": N_("deleted"),
    "merge": N_("merged"),
    "login": N_("logged in"),
    "test": N_("tested"),
    "run_now": N_("ran now"),
    "enable": N_("enabled"),
    "disable": N_("disabled"),
    "reset_cursor": N_("reset the cursor"),
    "needs_reauth": N_("lost the login"),
    "reorder": N_("reordered"),
}
LINKS = {
    "organization": "/organizations/{}",
    "person": "/persons/{}",
    "user": "/admin/users/{}",
    "connector_account": "/sync/accounts/{}",
    "pipeline": "/admin/pipelines/{}",
    "custom_field": "/admin/fields/{}",
}


EMPTY = (None, "", [], {})
SHOWN_CHANGES = 6


def details(entry: AuditEntry) -> list[tuple[str, Any, Any]]:
    """The first changes of an entry as (field, before, after), leaving out fields empty on both sides."""
    out: list[tuple[str, Any, Any]] = []
    for name, change in (entry.changes or {}).items():
        if isinstance(change, list) and len(change) == 2:
            before, after = change
        else:
            before, after = None, change
        if before in EMPTY and after in EMPTY:
            continue
        out.append((name, before, after))
    return out[:SHOWN_CHANGES]


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _filters(page: LoggedInPage) -> tuple[dict[str, Any], dict[str, str]]:
    """The query's filters for core, and the values to show back in the filter form."""
    q = page.request.query_params
    shown = {k: q.get(k, "").strip()[:100] for k in ("user", "entity", "action", "since", "until")}
    tz = page.i18n.tz
    since, until = _day(shown["since"]), _day(shown["until"])
    args: dict[str, Any] = {
        "user_id": int(shown["user"]) if shown["user"].isdigit() else None,
        "entity_type": shown["entity"] or None,
        "action": shown["action"] or None,
        "since": datetime.combine(since, time(), tz) if since else None,
        "until": datetime.combine(until + timedelta(days=1), time(), tz) if until else None,
    }
    return args, shown


@router.get("/admin/audit")
def audit(page: AdminPage) -> Response:
    """The audit log, newest first, filtered by user, kind of record, action and dates."""
    state = ListState.from_request(page.request, default_sort="", sorts=())
    args, shown = _filters(page)
    problem = ""
    try:
        if args["since"] and args["until"] and args["until"] <= args["since"]:
            raise ValidationFailed.one("until", "must not be before 'since'")
        entries, state.total = query_log(
            page.session, actor=page.actor, limit=state.per_page, offset=state.offset, **args
        )
    except ValidationFailed:
        problem = page._("The end of the period is before its start.")
        entries, state.total = [], 0
    users = list_users(page.session, actor=page.actor, include_inactive=True)
    return page.render(
        "admin/audit.html",
        partials={"results": "admin/_audit_table.html"},
        headers=clean_push_url(page, state),
        entries=entries,
        state=state,
        shown=shown,
        problem=problem,
        existing=existing_records(page.session, actor=page.actor, entries=entries),
        links=LINKS,
        names={u.id: u.full_name for u in users},
        user_options=[(u.id, u.full_name) for u in users],
        entity_options=[(k, page._(v)) for k, v in ENTITY_LABELS.items()],
        action_options=[(a, page._(label)) for a, label in ACTION_LABELS.items()],
        entity_labels=ENTITY_LABELS,
        action_labels=ACTION_LABELS,
        details=details,
    )
