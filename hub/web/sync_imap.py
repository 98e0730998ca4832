"""Adding and editing an IMAP account in the sync console, with a "Test connection" button.

The form is the connector's config (``connectors.email.config.ImapConfig``, through the
registry: the hub never imports a connector) plus what the engine keeps per account: name,
owner, team, interval. Its messages come from the config model's validators, which are
written for admins; they are catalogued here so they show in the reader's language.

The password is never sent back to the browser: an edit form shows only whether one is set,
and leaving the field empty keeps it. "Test connection" on the add form tests the settings
typed so far without saving anything (``sync.control.check_settings``); with htmx only the
result box is replaced, so nothing typed (the password neither) is lost. A wrong password may
be saved: the account page then says so, and entering the right one resumes the account.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from core.errors import Conflict, Forbidden, ValidationFailed
from core.integration import accounts
from core.models import ConnectorAccount
from core.users.service import list_teams, list_users
from hub.web.forms import Form, Submitted
from hub.web.nav import N_
from hub.web.pages import LoggedInPage, Page, is_htmx, web_router
from hub.web.sync_console import check_words
from sync import control

router = web_router()
KIND = "imap"
SECURITY = (("tls", N_("TLS (port 993)")), ("starttls", N_("STARTTLS (port 143)")), ("plain", N_("None (tests only)")))
DEFAULT_PORT = {"tls": 993, "starttls": 143, "plain": 143}
MAILBOX_TYPES = (
    ("personal", N_("Personal: the owner's own mail")),
    ("shared", N_("Shared: a common mailbox such as sales@")),
)
FIELDS = ("host", "port", "security", "username", "password", "folders", "match_by_domain", "live", "mailbox_type")
CONFIG_MESSAGES = (
    N_("the server name is not a valid international domain name"),
    N_("the server name is empty"),
    N_("give the server name only, without imap:// or a path"),
    N_("the server name may contain only letters, digits, dots and dashes"),
    N_("the port must be between 1 and 65535"),
    N_("the login name is empty"),
    N_("the login name may not contain line breaks"),
    N_("the password is empty"),
    N_("the password may not contain line breaks"),
    N_("a folder name is empty"),
    N_("port 143 is for starttls or plain; tls (IMAPS) uses port 993"),
    N_("port 993 is for tls (IMAPS); starttls and plain use port 143"),
    N_("give the account a name (what it is, e.g. 'Sales mailbox')"),
)
"""The config model's messages a form can meet, for the catalog (others are shown as written)."""


def _choices(page: LoggedInPage) -> dict[str, Any]:
    teams = list_teams(page.session, actor=page.actor)
    if not page.actor.is_admin:
        teams = [t for t in teams if t.id in page.actor.team_ids]
    users = list_users(page.session, actor=page.actor) if page.actor.is_admin else [page.user]
    return {
        "security_options": [(v, page._(label)) for v, label in SECURITY],
        "type_options": [(v, page._(label)) for v, label in MAILBOX_TYPES],
        "team_options": [(t.id, t.name) for t in teams],
        "owner_options": [(u.id, f"{u.full_name} <{u.email}>") for u in users],
    }


def _render(
    page: LoggedInPage, form: Form, *, account: ConnectorAccount | None, status: int = 200, **extra: Any
) -> Response:
    context = {"form": form, "account": account, "check": None, "check_text": "", "problems": [], **_choices(page)}
    context.update(extra)
    return page.render("sync/imap_form.html", status=status, partials={"test-result": "sync/_check.html"}, **context)


def _read(page: LoggedInPage, data: Submitted, *, editing: bool) -> tuple[Form, dict[str, Any], dict[str, Any]]:
    """The form's values: (form, settings for the connector, account fields)."""
    form = Form(data, page.i18n)
    name = form.text("name", required=True, max_length=200)
    host = form.text("host", required=True, max_length=255)
    security = form.text("security") or "tls"
    if security not in DEFAULT_PORT:
        form.error("security", page._("Choose one of the options."))
    port = form.integer("port", minimum=1, maximum=65535)
    username = form.text("username", required=True, max_length=320)
    password = data.get("password")
    password = password if isinstance(password, str) else ""
    if not password and not editing:
        form.error("password", page._("Fill this in."))
    folders_text = form.text("folders", max_length=2000)
    folders = [f.strip() for f in folders_text.replace("\r", "").replace(",", "\n").split("\n") if f.strip()]
    mailbox_type = form.text("mailbox_type") or "personal"
    if mailbox_type not in dict(MAILBOX_TYPES):
        form.error("mailbox_type", page._("Choose one of the options."))
    settings: dict[str, Any] = {
        "host": host,
        "port": port or DEFAULT_PORT.get(security, 993),
        "security": security,
        "username": username,
        "folders": folders,
        "match_by_domain": form.checked("match_by_domain"),
        "live": form.checked("live"),
        "mailbox_type": mailbox_type,
    }
    if password:
        settings["password"] = password
    minutes = form.integer("interval_minutes", minimum=1, maximum=7 * 24 * 60)
    team_ids = form.integers("team_id")
    values: dict[str, Any] = {"name": name, "team_id": team_ids[0] if team_ids else None}
    if minutes is not None:
        values["interval_seconds"] = minutes * 60
    if page.actor.is_admin:
        owner_ids = form.integers("owner_id")
        values["owner_id"] = owner_ids[0] if owner_ids else None
    else:
        values["owner_id"] = page.actor.user_id
    return form, settings, values


def _absorb(page: LoggedInPage, form: Form, exc: ValidationFailed | Conflict | Forbidden) -> None:
    """Put the core's objections under the fields of this form, in the reader's language."""
    page.session.rollback()
    if not isinstance(exc, ValidationFailed):
        form.summary.append(page._(exc.message))
        return
    for problem in exc.problems:
        field = problem.field.removeprefix("settings.").removeprefix("settings")
        field = {"": "port", "interval_seconds": "interval_minutes"}.get(field.split(".")[0], field.split(".")[0])
        if field in form.values or field == "password":
            form.error(field, page._(problem.message))
        else:
            form.summary.append(page._(problem.message))


@router.get("/sync/imap/new")
def new_account(page: Page) -> Response:
    """The form for a new IMAP account (for myself, unless an admin chooses another owner)."""
    mine = page.request.query_params.get("mine") == "1" or not page.actor.is_admin
    form = Form.initial(
        page.i18n,
        name=page._("Mailbox of %(name)s", name=page.user.full_name) if mine else "",
        security="tls",
        port="993",
        username=page.user.email if mine else "",
        match_by_domain=True,
        live=True,
        mailbox_type="personal",
        owner_id=page.user.id if mine else "",
        team_id=next(iter(sorted(page.actor.team_ids)), "") if mine else "",
        interval_minutes="5",
    )
    return _render(page, form, account=None)


@router.post("/sync/imap/new")
def create_account(page: Page, data: Submitted) -> Response:
    """Save a new IMAP account (a wrong password is allowed: the account page will say so)."""
    form, settings, values = _read(page, data, editing=False)
    if data.get("action") == "test":
        return _test_typed(page, form, settings, values, account=None)
    if form.ok:
        try:
            account = control.add_account(page.session, actor=page.actor, kind=KIND, settings=settings, **values)
        except (ValidationFailed, Conflict, Forbidden) as exc:
            _absorb(page, form, exc)
        else:
            page.flash("success", page._("Account saved. Test the connection or run it now."))
            return page.redirect(f"/sync/accounts/{account.id}")
    return _render(page, form, account=None, status=422)


def _test_typed(
    page: LoggedInPage,
    form: Form,
    settings: dict[str, Any],
    values: dict[str, Any],
    *,
    account: ConnectorAccount | None,
) -> Response:
    """Test the settings typed in the form, saving nothing."""
    if account is not None and "password" not in settings and form.ok:
        status = 200 if is_htmx(page.request) else 422
        return _render(page, form, account=account, status=status, check_text=page._("Type the password to test it."))
    if form.ok:
        try:
            result = control.check_settings(
                page.session, actor=page.actor, kind=KIND, settings=settings, owner_id=values.get("owner_id")
            )
        except ValidationFailed as exc:
            _absorb(page, form, exc)
        else:
            return _render(page, form, account=account, check=result, check_text=check_words(page, result))
    # htmx swaps only the result box (so the password typed stays): the problems are listed in it
    status = 200 if is_htmx(page.request) else 422
    problems = [*form.errors.values(), *form.summary]
    return _render(
        page, form, account=account, status=status, check_text=page._("Correct the form first:"), problems=problems
    )


@router.get("/sync/accounts/{account_id}/edit")
def edit_account(page: Page, account_id: int) -> Response:
    """The form to change an IMAP account; the password shows only as set."""
    account = accounts.writable_account(page.session, actor=page.actor, account_id=account_id)
    settings = control.public_settings(account)
    form = Form.initial(
        page.i18n,
        name=account.name,
        host=settings.get("host", ""),
        port=str(settings.get("port", "")),
        security=settings.get("security", "tls"),
        username=settings.get("username", ""),
        folders="\n".join(settings.get("folders") or []),
        match_by_domain=bool(settings.get("match_by_domain", True)),
        live=bool(settings.get("live", False)),
        mailbox_type=settings.get("mailbox_type", "personal"),
        owner_id=account.owner_id or "",
        team_id=account.team_id or "",
        interval_minutes=str(max(1, account.interval_seconds // 60)),
    )
    return _render(page, form, account=account, password_set=bool(settings.get("password", {}).get("set")))


@router.post("/sync/accounts/{account_id}/edit")
def update_account(page: Page, account_id: int, data: Submitted) -> Response:
    """Save the changes; a new password replaces the old one, an empty field keeps it."""
    account = accounts.writable_account(page.session, actor=page.actor, account_id=account_id)
    form, settings, values = _read(page, data, editing=True)
    if data.get("action") == "test":
        return _test_typed(page, form, settings, values, account=account)
    if form.ok:
        settings.setdefault("password", None)  # None keeps the stored password
        changes = {**values, "settings": settings}
        if not page.actor.is_admin:
            changes.pop("owner_id")
        try:
            control.edit_account(page.session, actor=page.actor, account_id=account.id, changes=changes)
        except (ValidationFailed, Conflict, Forbidden) as exc:
            _absorb(page, form, exc)
        else:
            page.flash("success", page._("Changes saved. The account runs again with them."))
            return page.redirect(f"/sync/accounts/{account.id}")
        account = accounts.writable_account(page.session, actor=page.actor, account_id=account_id)
    return _render(page, form, account=account, status=422, password_set=True)
