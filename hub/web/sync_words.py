"""The sync console's words: an account's status, its last error and a connection test's failing step.

The engine stores states as codes and errors as the English sentences the connector wrote
("test failed at login: login refused (...)"). The console leads with a translated sentence
that says what is wrong and what to do, and keeps the raw text under it for whoever must dig.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.models import AccountStatus, ConnectorAccount, Job, JobState
from hub.web.nav import N_

STATUS = {
    "ok": (N_("OK"), "ok"),
    "new": (N_("Not run yet"), "new"),
    "failing": (N_("Failing"), "failing"),
    "needs_reauth": (N_("Needs re-authentication"), "reauth"),
    "disabled": (N_("Disabled"), "disabled"),
    "running": (N_("Running"), "running"),
    "queued": (N_("Queued"), "running"),
}
STEPS = {
    "DNS": N_("The server name could not be found (DNS). Check the server name."),
    "connect": N_("Could not connect to the server (TCP). Check the server name, the port and the firewall."),
    "TLS": N_("The secure connection (TLS) failed. Check the security setting and the port."),
    "login": N_("The server refused the login. Check the user name and the password."),
    "folder": N_("A folder to import could not be opened. Check the folder names."),
    "settings": N_("The saved settings are not valid any more. Edit them and save again."),
}
OTHER_STEP = N_("The connection test failed.")
STATUS_HINTS = {
    "needs_reauth": N_("The server refused the login; the account waits until you enter the password again."),
    "failing": N_("The last runs failed; crmhub keeps retrying with growing pauses."),
}


@dataclass(frozen=True)
class Shown:
    """What the console shows of an account's state: a label, a CSS kind, the step's words."""

    label: str
    kind: str


def status_of(account: ConnectorAccount, job: Job | None = None) -> Shown:
    """The account's state in plain words (a running job wins, then disabled, then the stored status)."""
    if job is not None and account.enabled:
        key = "running" if job.state == JobState.running else "queued"
    elif not account.enabled:
        key = "disabled"
    elif account.status == AccountStatus.new and account.last_error:
        key = "failing"  # a connection test failed before any run
    else:
        key = str(account.status)
    label, kind = STATUS.get(key, (key, "new"))
    return Shown(label, kind)


def step_of(message: str) -> str:
    """The failing step named in a stored error ("test failed at login: ..."), or ""."""
    if message.startswith("test failed at "):
        return message.removeprefix("test failed at ").split(":", 1)[0]
    return ""


def error_headline(account: ConnectorAccount) -> str:
    """The msgid of the sentence that explains the account's last error ("" when there is none)."""
    if not account.last_error:
        return ""
    step = step_of(account.last_error)
    if step:
        return STEPS.get(step, OTHER_STEP)
    if account.status == AccountStatus.needs_reauth:
        return STEPS["login"]
    return STATUS_HINTS.get(str(account.status), N_("The last run failed."))
