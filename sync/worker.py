"""The worker: a loop that enqueues due work, claims one job at a time under a lease, and runs it.

Any number of workers can run side by side, on one machine or several (``crmhub worker``
processes, and one thread inside ``crmhub serve``): they share nothing but the database.
Each loop turn runs the scheduler (cheap and safe to repeat), then claims one job
(``sync.lease.claim``); when there is nothing to do it sleeps ``poll_seconds``. Now and then
it prunes the sync log. A worker is named ``host:pid:random`` so the admin can tell from a
job's ``lease_owner`` which process holds it.

Beside the loop, a watcher thread (``sync.watcher``) keeps one waiting connection per account
in live mode (IMAP IDLE) and queues a run of the account as soon as its server reports a
change; ``WorkerOptions.watch`` turns it off.

Stopping (``stop`` set by SIGTERM/SIGINT in ``crmhub worker``, or by the app shutting down)
lets the current batch finish and commit, puts the job back in the queue for another worker,
and ends the loop. A worker killed outright (SIGKILL, power loss) just stops renewing its
lease; when the lease runs out another worker claims the job and resumes it from the cursor
of the last committed batch.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from core.config import get_settings
from core.db import Database, utcnow
from core.models import Job
from sync import collector, reader_process
from sync.lease import Lease, claim
from sync.prune import prune
from sync.retry import RetryPolicy
from sync.runner import JobRunner, Progress
from sync.scheduler import schedule_due
from sync.watcher import Watcher, WatchOptions

log = logging.getLogger("crmhub.sync")


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker behaves; production defaults, tests shorten the lease and the poll."""

    lease_seconds: float = 60.0
    poll_seconds: float = 5.0
    prune_every: float = 3600.0
    log_days: int | None = None
    """Keep the sync log this many days (default: the ``sync_log_days`` setting)."""
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    watch: bool = True
    """Run a watcher beside the loop for accounts in live mode (``sync.watcher``)."""
    watch_options: WatchOptions = field(default_factory=WatchOptions)


def default_name() -> str:
    """A worker name that tells host and process apart: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    """One worker loop over one database."""

    def __init__(self, db: Database, options: WorkerOptions | None = None, *, name: str | None = None) -> None:
        self.db = db
        self.options = options or WorkerOptions()
        self.name = name or default_name()
        self.stop = threading.Event()
        self._last_prune = 0.0
        self.watcher = Watcher(
            db,
            owner=self.name,
            stop=self.stop,
            lease_seconds=self.options.lease_seconds,
            options=self.options.watch_options,
        )

    def claim_job(self, job_id: int | None = None) -> Lease | None:
        """Claim the next ready sync job (or this one, if it is ready)."""
        where = (Job.kind == "sync",) if job_id is None else (Job.kind == "sync", Job.id == job_id)
        return claim(
            self.db,
            Job,
            owner=self.name,
            seconds=self.options.lease_seconds,
            where=where,
            values={"started_at": utcnow()},
        )

    def run_job(self, lease: Lease, on_progress: Callable[[Progress], None] | None = None) -> str:
        """Run a claimed job to its end; returns how it ended."""
        runner = JobRunner(self.db, lease, policy=self.options.policy, stop=self.stop, on_progress=on_progress)
        return runner.run()

    def run_once(self) -> bool:
        """Enqueue due work, then claim and run one job; False when there was none."""
        schedule_due(self.db)
        lease = self.claim_job()
        if lease is None:
            return False
        self.run_job(lease)
        return True

    def prune_if_due(self) -> None:
        """Prune the sync log when ``prune_every`` seconds have passed since the last time."""
        if time.monotonic() - self._last_prune < self.options.prune_every and self._last_prune:
            return
        self._last_prune = time.monotonic()
        days = self.options.log_days or get_settings().sync_log_days
        counts = prune(self.db, days=days)
        if any(counts.values()):
            log.info("pruned sync history older than %d days: %s", days, counts)

    def warm_up(self) -> None:
        """Get ready for a long import before one comes: the collector settled, the fork server of readers up."""
        collector.settle()
        if get_settings().sync_reader_process_items <= 0:
            return
        try:
            reader_process.warm_up()
        except Exception:  # noqa: BLE001 - without it a reading process starts more slowly, nothing worse
            log.warning("worker %s: the reading processes' fork server could not be started", self.name, exc_info=True)

    def run_forever(self) -> None:
        """Loop until ``stop`` is set, sleeping ``poll_seconds`` whenever there is nothing to do."""
        log.info("worker %s started", self.name)
        self.warm_up()
        watcher = None
        if self.options.watch:
            watcher = threading.Thread(target=self.watcher.run_forever, name=f"watcher-{self.name}", daemon=True)
            watcher.start()
        while not self.stop.is_set():
            worked = False
            try:
                self.prune_if_due()
                worked = self.run_once()
            except Exception:  # noqa: BLE001 - e.g. the database is away: wait and try again
                log.exception("worker %s: loop failed; trying again in %g s", self.name, self.options.poll_seconds)
            if not worked:
                self.stop.wait(self.options.poll_seconds)
        if watcher is not None:
            watcher.join()
        log.info("worker %s stopped", self.name)


@asynccontextmanager
async def background_worker(
    db: Database, *, enabled: bool = True, options: WorkerOptions | None = None
) -> AsyncIterator[None]:
    """Run one worker in a thread for as long as the context lasts (the app's lifespan in ``crmhub serve``)."""
    if not enabled:
        yield
        return
    worker = Worker(db, options)
    thread = threading.Thread(target=worker.run_forever, name="crmhub-worker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        worker.stop.set()
        await asyncio.to_thread(thread.join)
