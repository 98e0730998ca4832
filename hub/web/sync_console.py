"""The sync console: connector accounts, their state in plain words, runs, skipped items, and actions.

Admins see every account; every other user sees the accounts they own (their own mailbox):
``core.integration.accounts`` decides, as it does for the API, so someone else's account is
the 404 page. The account page runs the account now, enables or disables it, forgets its
cursor (after a confirmation), tests the connection and shows the run log and the items the
runs skipped with the raw reason of each (for IMAP: the folder, the UID and why).

While a run is queued or running, the page polls a small fragment (``.../progress``) every two
seconds; once the job is over the fragment answers ``HX-Refresh`` and the page reloads with
the new run in the log. Adding and editing IMAP accounts lives in ``sync_imap``.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from core.integration import CheckResult, accounts
from core.models import ConnectorAccount, JobState, User
from core.users.service import list_users
from hub.web import nav
from hub.web.nav import N_, NavItem
from hub.web.pages import LoggedInPage, Page, web_router
from hub.web.sync_words import OTHER_STEP, STEPS, error_headline, status_of
from hub.web.tables import ListState
from sync import control

router = web_router()
nav.add(NavItem("sync", "/sync", N_("Sync"), icon="refresh", order=80))
RUNS_SHOWN = 20
RUN_STATUS = {
    "ok": N_("OK"),
    "partial": N_("Some items skipped"),
    "running": N_("Running"),
    "failed": N_("Failed"),
    "interrupted": N_("Interrupted; resumed by another run"),
}


def owners(page: LoggedInPage) -> dict[int, User]:
    """The users an account list may name as owners (admins: everyone; others: themselves)."""
    if page.actor.is_admin:
        return {u.id: u for u in list_users(page.session, actor=page.actor, include_inactive=True)}
    return {page.user.id: page.user}


def check_words(page: LoggedInPage, result: CheckResult) -> str:
    """A connection test's outcome as one sentence that names the failing step."""
    if result.ok:
        return page._("Connection works.")
    return page._(STEPS.get(result.step, OTHER_STEP))


def _mail_accounts(page: LoggedInPage) -> list[ConnectorAccount]:
    return accounts.list_accounts(page.session, actor=page.actor)


def my_mailboxes(page: LoggedInPage) -> list[dict[str, Any]]:
    """The IMAP accounts the user owns, with their state and running job (for the Me page)."""
    mine = [a for a in _mail_accounts(page) if a.owner_id == page.user.id and a.kind == "imap"]
    jobs = accounts.active_jobs(page.session, [a.id for a in mine])
    return [{"account": a, "status": status_of(a, jobs.get(a.id)), "headline": error_headline(a)} for a in mine]


@router.get("/sync")
def console(page: Page) -> Response:
    """The accounts this user may see, with status, last and next run, counts and the last error."""
    items = _mail_accounts(page)
    jobs = accounts.active_jobs(page.session, [a.id for a in items])
    rows = [
        {"account": a, "status": status_of(a, jobs.get(a.id)), "job": jobs.get(a.id), "headline": error_headline(a)}
        for a in items
    ]
    return page.render("sync/console.html", rows=rows, owners=owners(page))


def _account_context(page: LoggedInPage, account: ConnectorAccount) -> dict[str, Any]:
    job = accounts.active_jobs(page.session, [account.id]).get(account.id)
    runs, run_total = accounts.list_runs(page.session, actor=page.actor, account_id=account.id, limit=RUNS_SHOWN)
    state = ListState.from_request(page.request, default_sort="", sorts=())
    errors, state.total = accounts.list_item_errors(
        page.session, actor=page.actor, account_id=account.id, limit=state.per_page, offset=state.offset
    )
    writable = page.actor.is_admin or account.owner_id == page.actor.user_id
    return {
        "account": account,
        "job": job,
        "shown": status_of(account, job),
        "headline": error_headline(account),
        "settings": control.public_settings(account),
        "owner": owners(page).get(account.owner_id or -1),
        "runs": runs,
        "run_total": run_total,
        "run_status": RUN_STATUS,
        "errors": errors,
        "state": state,
        "writable": writable,
        "check": None,
    }


def render_account(page: LoggedInPage, account_id: int, *, status: int = 200, **extra: Any) -> Response:
    """The account page (or, for htmx, the fragment it targets)."""
    account = accounts.get_account(page.session, actor=page.actor, account_id=account_id)
    context = {**_account_context(page, account), **extra}
    partials = {"errors": "sync/_errors.html", "test-result": "sync/_check.html", "progress": "sync/_progress.html"}
    return page.render("sync/account.html", status=status, partials=partials, **context)


@router.get("/sync/accounts/{account_id}")
def account_page(page: Page, account_id: int) -> Response:
    """One account: state, settings, actions, progress, run log and skipped items."""
    return render_account(page, account_id)


@router.get("/sync/accounts/{account_id}/progress")
def progress(page: Page, account_id: int) -> Response:
    """The progress fragment of a running import; reloads the page once the run is over."""
    account = accounts.get_account(page.session, actor=page.actor, account_id=account_id)
    job = accounts.active_jobs(page.session, [account.id]).get(account.id)
    if job is None:
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    return page.render("sync/_progress.html", account=account, job=job, running=job.state == JobState.running)


@router.post("/sync/accounts/{account_id}/run")
def run_now(page: Page, account_id: int) -> Response:
    """Queue a run to start at once (a worker picks it up)."""
    control.run_now(page.session, actor=page.actor, account_id=account_id)
    page.flash("success", page._("The run is queued; a worker starts it within seconds."))
    return page.redirect(f"/sync/accounts/{account_id}")


@router.post("/sync/accounts/{account_id}/enable")
def enable(page: Page, account_id: int) -> Response:
    """Enable the account; it runs at once."""
    accounts.set_enabled(page.session, actor=page.actor, account_id=account_id, enabled=True)
    page.flash("success", page._("Account enabled; it runs at once."))
    return page.redirect(f"/sync/accounts/{account_id}")


@router.post("/sync/accounts/{account_id}/disable")
def disable(page: Page, account_id: int) -> Response:
    """Disable the account; queued runs are cancelled."""
    accounts.set_enabled(page.session, actor=page.actor, account_id=account_id, enabled=False)
    page.flash("success", page._("Account disabled; it does not run until you enable it."))
    return page.redirect(f"/sync/accounts/{account_id}")


@router.post("/sync/accounts/{account_id}/reset-cursor")
def reset_cursor(page: Page, account_id: int) -> Response:
    """Forget where the account stands: the next run reads everything again (nothing is logged twice)."""
    accounts.reset_cursor(page.session, actor=page.actor, account_id=account_id)
    page.flash("success", page._("The next run reads the whole mailbox again; mail already logged is not doubled."))
    return page.redirect(f"/sync/accounts/{account_id}")


@router.post("/sync/accounts/{account_id}/test")
def test(page: Page, account_id: int) -> Response:
    """Test the saved settings now and say which step failed."""
    result = control.test_account(page.session, actor=page.actor, account_id=account_id)
    return render_account(page, account_id, check=result, check_text=check_words(page, result))


@router.post("/sync/accounts/{account_id}/delete")
def delete(page: Page, account_id: int) -> Response:
    """Delete the account (the clients and mail it brought in stay)."""
    accounts.delete_account(page.session, actor=page.actor, account_id=account_id)
    page.flash("success", page._("Account deleted. The mail it logged stays on the cards."))
    return page.redirect("/sync")
