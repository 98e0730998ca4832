"""The engine's commands: ``crmhub worker``, ``crmhub sync list|run|reset`` and ``crmhub keys rotate``.

``crmhub sync run ACCOUNT`` runs the sync in this process, under the same lease as any worker
(so it never runs beside a worker on the same account), with a progress bar; when a worker
is already running that account, it follows that worker's progress instead.

``crmhub keys rotate`` first writes a new key in front of ``encryption_keys`` in the config
file, then re-encrypts every sealed secret with it in one transaction: at no moment is a
secret sealed with a key the config does not hold. When the keys come from the environment
(``CRMHUB_ENCRYPTION_KEYS``) it cannot edit them: it prints a new key to put first there, and
``--reencrypt-only`` then does the second half.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import time
import tomllib
from pathlib import Path
from types import FrameType

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from core.actor import Actor
from core.config import config_path, get_settings
from core.db import Database
from core.errors import CoreError
from core.integration import accounts
from core.models import ConnectorAccount, Job, JobState, SyncRun
from core.secrets import generate_key, rotate_all
from sync import control
from sync.runner import Progress as RunProgress
from sync.worker import Worker, WorkerOptions, default_name

sync_app = typer.Typer(help="Connector accounts and their syncs.", no_args_is_help=True)
keys_app = typer.Typer(help="The encryption keys that seal connector secrets.", no_args_is_help=True)
log = logging.getLogger("crmhub.sync")
CLI = Actor.system(source="cli")


def console() -> Console:
    """A console for this command (made per call, so it measures the terminal it runs in)."""
    return Console()


def _db() -> Database:
    return Database(get_settings().effective_database_url)


def _fail(message: str) -> None:
    console().print(f"[red]Error:[/red] {message}")
    raise typer.Exit(1)


def _when(value: object) -> str:
    return value.strftime("%m-%d %H:%M") if value is not None else "-"  # type: ignore[attr-defined]


def worker(
    lease_seconds: float = typer.Option(
        60.0, envvar="CRMHUB_WORKER_LEASE_SECONDS", help="How long a claimed job stays ours without a heartbeat"
    ),
    poll_seconds: float = typer.Option(5.0, envvar="CRMHUB_WORKER_POLL_SECONDS", help="Sleep this long when idle"),
    name: str = typer.Option("", help="Worker name shown as the lease owner (default host:pid:random)"),
) -> None:
    """Run a background worker until SIGTERM or SIGINT (the current batch is finished first)."""
    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    w = Worker(_db(), WorkerOptions(lease_seconds=lease_seconds, poll_seconds=poll_seconds), name=name or None)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("worker %s: %s received, stopping after the current batch", w.name, signal.Signals(signum).name)
        w.stop.set()
        signal.signal(signum, signal.SIG_DFL)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    w.run_forever()


@sync_app.command("list")
def sync_list() -> None:
    """List the connector accounts with their status, last run and the progress of a running job."""
    db = _db()
    with db.session(write=True) as s:
        items = accounts.list_accounts(s, actor=CLI)
        jobs = accounts.active_jobs(s, [a.id for a in items])
        table = Table()
        for column in ("id", "name", "kind", "status", "last run", "next run", "pulled", "failed", "job"):
            table.add_column(column, overflow="fold")
        for a in items:
            job = jobs.get(a.id)
            shown = "-"
            if job is not None:
                shown = job.state
                if job.progress_total:
                    shown += f" {job.progress_done or 0}/{job.progress_total}"
            table.add_row(
                str(a.id),
                a.name,
                a.kind,
                a.status if a.enabled else "disabled",
                _when(a.last_run_at),
                _when(a.next_run_at),
                str(a.items_pulled),
                str(a.items_failed),
                shown,
            )
    console().print(table)
    for a in items:
        if a.last_error:
            console().print(f"#{a.id} {a.name}: {a.last_error}")


def _follow(db: Database, job_id: int, bar: Progress, task: int) -> None:
    while True:
        with db.session(write=True) as s:
            job = s.get(Job, job_id)
            if job is None or job.state not in (JobState.queued, JobState.running):
                return
            bar.update(task, completed=job.progress_done or 0, total=job.progress_total)
        time.sleep(0.5)


@sync_app.command("run")
def sync_run(
    account: str = typer.Argument(..., help="Account id or exact name"),
    lease_seconds: float = typer.Option(60.0, envvar="CRMHUB_WORKER_LEASE_SECONDS", help="Lease of the job"),
) -> None:
    """Sync one account now, here, with a progress bar (or follow the worker already running it)."""
    db = _db()
    try:
        with db.session(write=True) as s:
            found = accounts.find_account(s, actor=CLI, ref=account)
            account_id, title = found.id, found.name
            job_id = control.run_now(s, actor=CLI, account_id=found.id).id
    except CoreError as exc:
        _fail(exc.message)
    w = Worker(db, WorkerOptions(lease_seconds=lease_seconds), name=f"cli:{default_name()}")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console()) as bar:
        task = bar.add_task(title, total=None)

        def show(p: RunProgress) -> None:
            bar.update(task, description=f"{title} · {p.stream}", completed=p.done or p.pulled, total=p.total)

        lease = w.claim_job(job_id)
        if lease is None:
            bar.console.print(f"Job #{job_id} is already running on another worker; following its progress.")
            _follow(db, job_id, bar, task)
        else:
            w.run_job(lease, on_progress=show)
    with db.session(write=True) as s:
        acc = s.get(ConnectorAccount, account_id)
        run = s.scalars(select(SyncRun).where(SyncRun.job_id == job_id).order_by(SyncRun.id.desc())).first()
        if acc is None or run is None:
            _fail("the run left no record (was the account deleted?)")
        assert acc is not None and run is not None
        console().print(
            f"{acc.name}: {run.status} — pulled {run.pulled}, applied {run.applied}, skipped {run.skipped}, "
            f"failed {run.failed}, pushed {run.pushed}"
        )
        if run.error:
            console().print(run.error)
        if run.status not in ("ok", "partial"):
            raise typer.Exit(1)


@sync_app.command("reset")
def sync_reset(
    account: str = typer.Argument(..., help="Account id or exact name"),
    stream: str = typer.Option("", help="Only this stream (default: all)"),
) -> None:
    """Forget where an account stands, so its next run reads everything again."""
    try:
        with _db().session(write=True) as s:
            found = accounts.find_account(s, actor=CLI, ref=account)
            count = accounts.reset_cursor(s, actor=CLI, account_id=found.id, stream=stream or None)
            console().print(f"{found.name}: forgot {count} stream position(s); the next run reads everything again.")
    except CoreError as exc:
        _fail(exc.message)


def write_keys(path: Path, keys: list[str]) -> None:
    """Replace ``encryption_keys`` in a TOML config file (or add it), keeping everything else."""
    text = path.read_text()
    line = "encryption_keys = [" + ", ".join(f'"{k}"' for k in keys) + "]"
    pattern = re.compile(r"^encryption_keys\s*=\s*\[[^\]]*\]", re.MULTILINE)
    text = (
        pattern.sub(lambda _m: line, text, count=1) if pattern.search(text) else text.rstrip("\n") + "\n" + line + "\n"
    )
    if tomllib.loads(text).get("encryption_keys") != keys:
        raise RuntimeError(f"could not write the new key into {path}; it was left unchanged")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.chmod(0o600)
    os.replace(tmp, path)


@keys_app.command("rotate")
def keys_rotate(
    reencrypt_only: bool = typer.Option(
        False, help="Do not add a key; re-encrypt every secret with the first configured key"
    ),
) -> None:
    """Add a new encryption key first in the config file, then re-encrypt every sealed secret with it."""
    settings = get_settings()
    current = [k.get_secret_value() for k in settings.encryption_keys]
    keys = current
    if not reencrypt_only:
        new = generate_key()
        if os.environ.get("CRMHUB_ENCRYPTION_KEYS"):
            _fail(
                "the keys come from the environment variable CRMHUB_ENCRYPTION_KEYS, which this command cannot change. "
                f'Put this new key first in that list: "{new}", restart crmhub and its workers, '
                "then run `crmhub keys rotate --reencrypt-only`."
            )
        path = config_path()
        if not path.exists():
            _fail(f"there is no config file at {path}: run `crmhub init` first (or set CRMHUB_CONFIG)")
        keys = [new, *current]
        write_keys(path, keys)
        console().print(f"Added a new key in front of {len(current)} older key(s) in {path}.")
    try:
        with _db().session(write=True) as s:
            count = rotate_all(s, actor=CLI, keys=keys)
    except CoreError as exc:
        _fail(exc.message)
    console().print(
        f"Re-encrypted the secrets of {count} account(s) with the newest key. Restart `crmhub serve` and every "
        "`crmhub worker` so they load it; older keys can then be removed from encryption_keys."
    )
