"""Live mode: a watching connection per live account, so a change the server announces runs the account at once.

A connector may offer live mode (``Connector.live`` and ``wait_for_changes``: IMAP IDLE for the
e-mail connector). Every worker runs a ``Watcher`` beside its loop. Now and then
(``refresh_seconds``) it reads which accounts are live (enabled, not paused, of a connector
that can watch, whose settings ask for it) and makes sure each is watched, by one worker only:

* **One watch per account, across workers.** A watch is a row in ``jobs`` of kind ``watch``
  (dedupe key ``watch:<account id>``), claimed under a lease like any work row and renewed by a
  heartbeat. Only the worker holding the lease watches; when it dies, the lease runs out and
  another worker's watcher claims the row. A worker stopping gracefully puts the row back in
  the queue for the others; a watch whose account is no longer live ends the row.
* **A watch only says "run now".** Each watch thread builds its own connector and waits in
  ``wait_for_changes`` (slices of ``wait_seconds``, ended within a second by a stop). When the
  server reports a change it queues a sync of the account through the scheduler's
  ``enqueue_sync`` (trigger ``live``), exactly as "run now" does, so the job queue, its leases
  and one run per account still hold. When a run is already under way, it may have passed the
  new mail: the watch waits for that run to end and then queues one more.
* **Bounded and patient.** At most ``max_watches`` accounts per worker. A watch that fails
  (server away, credentials refused) closes its connection and tries again after an
  exponential backoff with jitter (``backoff_min`` to ``backoff_max``); the account's own runs
  report the error to the admin, so the watch only logs it.
* **Settings edited** (its settings or sealed secrets differ from what the watch started with):
  the watch ends and starts afresh with the new settings at the next refresh.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from core.db import Database, utcnow
from core.integration import Connector
from core.models import ConnectorAccount, Job, JobState
from sync.lease import Heartbeat, Lease, LeaseLost, claim, fence, released
from sync.registry import build_connector, registry
from sync.scheduler import ACTIVE_PREDICATE, PAUSED, enqueue_sync

log = logging.getLogger("crmhub.sync")
WATCH = "watch"


@dataclass(frozen=True)
class WatchOptions:
    """How the watcher behaves; tests shorten the refresh and the backoff."""

    refresh_seconds: float = 30.0
    wait_seconds: float = 300.0
    """One wait on the server (IMAP IDLE is re-issued after it; RFC 2177 asks for less than 29 minutes)."""
    max_watches: int = 50
    backoff_min: float = 2.0
    backoff_max: float = 300.0


def watch_key(account_id: int) -> str:
    """The dedupe key of an account's watch row."""
    return f"{WATCH}:{account_id}"


def can_watch(kind: str) -> bool:
    """True when the installed connector of this kind offers live mode."""
    info = registry().get(kind)
    return info is not None and info.cls.wait_for_changes is not Connector.wait_for_changes


@dataclass
class _Watch:
    thread: threading.Thread
    halt: threading.Event
    """Set to end the watch: it stops waiting within a second."""
    retired: threading.Event
    """Set when the account no longer wants this watch (then its row ends instead of going back to the queue)."""
    version: str


class Watcher:
    """Keeps one watch per live account this worker holds; ``run_forever`` until ``stop`` is set."""

    def __init__(
        self, db: Database, *, owner: str, stop: threading.Event, lease_seconds: float, options: WatchOptions
    ) -> None:
        self.db = db
        self.owner = owner
        self.stop = stop
        self.lease_seconds = lease_seconds
        self.options = options
        self._watches: dict[int, _Watch] = {}

    # ------------------------------------------------------------------ the loop

    def run_forever(self) -> None:
        """Refresh the watches every ``refresh_seconds`` until ``stop``; then end them all and wait for them."""
        while not self.stop.is_set():
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 - e.g. the database is away: try again at the next refresh
                log.exception("watcher of %s: refresh failed", self.owner)
            self.stop.wait(self.options.refresh_seconds)
        for watch in self._watches.values():
            watch.halt.set()
        for watch in self._watches.values():
            watch.thread.join()
        self._watches.clear()

    def watched(self) -> list[int]:
        """The accounts this worker is watching now."""
        return sorted(a for a, w in self._watches.items() if w.thread.is_alive())

    def refresh(self) -> None:
        """End the watches of accounts no longer live (or edited); claim and start those of new live accounts."""
        self._watches = {a: w for a, w in self._watches.items() if w.thread.is_alive()}
        live = self._live_accounts()
        for account_id, watch in self._watches.items():
            if account_id not in live or live[account_id] != watch.version:
                watch.retired.set()
                watch.halt.set()
        for account_id, version in live.items():
            if account_id in self._watches or len(self._watches) >= self.options.max_watches:
                continue
            lease = self._claim(account_id)
            if lease is None:
                continue  # another worker watches it
            halt, retired = threading.Event(), threading.Event()
            thread = threading.Thread(
                target=self._watch, args=(account_id, lease, halt, retired), name=f"watch-{account_id}", daemon=True
            )
            self._watches[account_id] = _Watch(thread, halt, retired, version)
            thread.start()

    def _live_accounts(self) -> dict[int, str]:
        """Account id -> a fingerprint of its settings, for every account that asks for live mode."""
        found: dict[int, str] = {}
        with self.db.session() as s:
            accounts = s.scalars(
                select(ConnectorAccount).where(
                    ConnectorAccount.enabled.is_(True), ConnectorAccount.status.not_in(PAUSED)
                )
            ).all()
            for account in accounts:
                if not can_watch(account.kind):
                    continue
                try:
                    connector = build_connector(s, account)
                except Exception:  # noqa: BLE001 - bad settings: its runs tell the admin
                    log.debug("account #%s cannot be built for a watch", account.id)
                    continue
                if connector.live():
                    found[account.id] = _fingerprint(account)
                connector.close()
        return found

    def _claim(self, account_id: int) -> Lease | None:
        now = utcnow()
        with self.db.session(write=True) as s:
            dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
            s.execute(
                dialect.insert(Job)
                .values(
                    kind=WATCH,
                    account_id=account_id,
                    payload={},
                    state=JobState.queued,
                    run_after=now,
                    attempts=0,
                    last_error="",
                    dedupe_key=watch_key(account_id),
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["dedupe_key"], index_where=ACTIVE_PREDICATE)
            )
        return claim(
            self.db,
            Job,
            owner=self.owner,
            seconds=self.lease_seconds,
            where=(Job.kind == WATCH, Job.account_id == account_id),
            values={"started_at": now},
        )

    # ------------------------------------------------------------------ one watch

    def _watch(self, account_id: int, lease: Lease, halt: threading.Event, retired: threading.Event) -> None:
        log.info("watching account #%s for changes (live mode)", account_id)
        connector: Connector | None = None
        failures = 0
        with Heartbeat(self.db, lease) as heartbeat:
            while not (self.stop.is_set() or halt.is_set() or heartbeat.lost.is_set()):
                try:
                    if connector is None:
                        connector = self._connector(account_id)
                        if connector is None:  # disabled or paused meanwhile
                            retired.set()
                            break
                    if connector.wait_for_changes(self.options.wait_seconds, halt):
                        self._run_now(account_id, halt)
                    failures = 0
                except Exception as exc:  # noqa: BLE001 - the server is away, credentials refused...: back off
                    failures += 1
                    delay = self._backoff(failures)
                    log.warning(
                        "watch of account #%s failed (%s); trying again in %.0f s", account_id, _words(exc), delay
                    )
                    if connector is not None:
                        connector.close()
                        connector = None
                    halt.wait(delay)
            if connector is not None:
                connector.close()
        self._release(lease, requeue=not retired.is_set())
        log.info("stopped watching account #%s", account_id)

    def _connector(self, account_id: int) -> Connector | None:
        with self.db.session() as s:
            account = s.get(ConnectorAccount, account_id)
            if account is None or not account.enabled or account.status in PAUSED:
                return None
            return build_connector(s, account)

    def _run_now(self, account_id: int, halt: threading.Event) -> None:
        """Queue a run of the account; when one is running already, queue one more once it has ended."""
        while not halt.is_set() and not self.stop.is_set():
            with self.db.session(write=True) as s:
                account = s.get(ConnectorAccount, account_id)
                if account is None or not account.enabled or account.status in PAUSED:
                    return
                job = enqueue_sync(s, account_id=account_id, trigger="live")
                running = job.state == JobState.running
            if not running:
                return
            halt.wait(1.0)

    def _backoff(self, failures: int) -> float:
        o = self.options
        return min(o.backoff_max, o.backoff_min * 2 ** min(failures - 1, 16)) * random.uniform(0.5, 1.0)

    def _release(self, lease: Lease, *, requeue: bool) -> None:
        """Give the watch row up: back to the queue when this worker stops, ended when the account is not live."""
        now = utcnow()
        values = (
            released(state=JobState.queued, run_after=now, attempts=Job.attempts - 1)
            if requeue
            else released(state=JobState.done, finished_at=now)
        )
        try:
            with self.db.session(write=True) as s:
                fence(s, lease, **values)
        except LeaseLost:
            pass  # another worker took the watch over meanwhile
        except Exception:  # noqa: BLE001 - the lease runs out by itself
            log.warning("could not release the watch of account #%s", lease.row_id)


def _fingerprint(account: ConnectorAccount) -> str:
    """What a watch depends on: the settings and the sealed secrets (not the run counters)."""
    text = json.dumps(account.settings, sort_keys=True, default=str) + "\n" + repr(account.secrets_sealed)
    return hashlib.sha256(text.encode()).hexdigest()


def _words(exc: Exception) -> str:
    message = getattr(exc, "message", None)
    return str(message) if message else f"{type(exc).__name__}: {exc}"
