"""Running one sync job: pull every stream batch by batch, apply, store the cursor; then push the outbox.

One batch is one transaction: it starts with the lease fence (so a worker that lost its job
writes nothing), applies every change of the batch (each in a savepoint, so a bad item is
recorded in ``sync_item_errors`` and the rest go on), records the items the connector could
not read, stores the cursor the connector returned *after* the batch, and adds to the run's
counts. A worker killed anywhere in between leaves the previous batch's cursor in place; the
worker that takes the job over pulls the same batch again and applies it again, which changes
nothing the second time because every applier is idempotent. So a crash repeats work but
never loses or doubles a change.

How a batch is read: ``connector.pull``, and when the batch holds summaries (e-mail headers),
core's choice (``select_changes``, a read-only look-up): the summaries it settles are dropped
(counted as skipped) and ``connector.complete`` reads those it wants whole. A connector that
allows it (``pull_ahead``) has its next batch read in a thread while the current one is
committed, and a long first import read by a process of its own on another core
(``pull_in_process``; ``sync.reader``); what the engine sees, and when it stores which cursor,
stays the same.

The run then settles the account according to how it ended (DESIGN.md, "Connectors classify
errors, the engine decides"):

* success: status ok, the next run one interval later;
* ``TransientError``: the next run after an exponential backoff with jitter, or after the
  server's hint; failing after several in a row;
* ``AuthError``: needs re-authentication, no next run at all, an audit entry for the admins;
  it stays so until someone edits or tests the account (``core.integration.accounts``);
* ``CursorInvalidError``: the stream's cursor is dropped and the stream read again at once,
  at most a few times a day (``RetryPolicy.cursor_reset``), then failing; once the stream has
  been read to its end, the links of items no pull returned since the reset (deleted remotely
  while the cursor was stale) are removed (``core.integration.apply.stale_links``);
* ``PermanentError`` from a whole pull: recorded against the stream, the other streams go on.

A graceful stop (SIGTERM) ends the current batch, puts the job back in the queue and marks
the run interrupted; a run left ``running`` by a worker that died is closed as interrupted by
the worker that takes the job over.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.config import get_settings
from core.db import Database, utcnow
from core.errors import CoreError
from core.integration import (
    AuthError,
    Batch,
    Connector,
    ConnectorError,
    CursorInvalidError,
    PermanentError,
    TransientError,
)
from core.integration.apply import apply_change, prepare_changes, remove_link, stale_links
from core.models import AccountStatus, ConnectorAccount, Job, JobState, SyncCursor, SyncItemError, SyncRun
from core.secrets import unseal
from sync.lease import Heartbeat, Lease, LeaseLost, fence, released
from sync.outbox import push_due
from sync.reader import Reader, read_batch
from sync.reader_process import ReaderProcess, ReadingJob
from sync.redact import Redactor
from sync.registry import build_connector
from sync.retry import RetryPolicy

log = logging.getLogger("crmhub.sync")
REF_ATTRIBUTES = ("remote_id", "message_id", "uid", "key", "id")


class Interrupted(Exception):
    """The worker is stopping: the job goes back to the queue after the current batch."""


class CursorCapReached(Exception):
    """The server invalidated our position too often; the account is failing until later."""


@dataclass
class Progress:
    """Where a running job stands, for progress bars."""

    stream: str = ""
    done: int | None = None
    total: int | None = None
    pulled: int = 0
    applied: int = 0
    skipped: int = 0
    failed: int = 0
    pushed: int = 0
    notes: list[str] = field(default_factory=list)


def _ref(change: Any) -> str:
    for name in REF_ATTRIBUTES:
        value = getattr(change, name, None)
        if value not in (None, ""):
            return str(value)[:500]
    return type(change).__name__


def _left(batch: Batch) -> int | None:
    """How many items the stream has still to go after this batch, when the connector says."""
    if batch.progress_total is None or batch.progress_done is None:
        return None
    return max(0, batch.progress_total - batch.progress_done)


def _message(exc: BaseException) -> str:
    if isinstance(exc, CoreError | ConnectorError):
        return exc.message
    if isinstance(exc, IntegrityError):
        return f"the database refused it: {exc.orig}"
    return f"internal error: {type(exc).__name__}: {exc}"


class JobRunner:
    """Runs one claimed sync job to its end."""

    def __init__(
        self,
        db: Database,
        lease: Lease,
        *,
        policy: RetryPolicy | None = None,
        stop: threading.Event | None = None,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.db = db
        self.lease = lease
        self.policy = policy or RetryPolicy()
        self.stop = stop or threading.Event()
        self.on_progress = on_progress
        self.progress = Progress()
        self.redact = Redactor()
        self.account_id = 0
        self.run_id = 0
        self.mode = "full"
        self._heartbeat: Heartbeat | None = None

    def run(self) -> str:
        """Run the job; returns how it ended: done, failed, cancelled, requeued or lost."""
        try:
            connector = self._start()
        except LeaseLost:
            return "lost"
        if isinstance(connector, str):
            return connector
        try:
            return self._work(connector)
        except LeaseLost:
            log.warning("job #%s: another worker took it over; this worker stops without writing", self.lease.row_id)
            return "lost"
        finally:
            try:
                connector.close()
            except Exception:  # noqa: BLE001 - closing must not hide how the run ended
                log.warning("job #%s: closing the connector failed", self.lease.row_id)

    def _work(self, connector: Connector) -> str:
        try:
            with Heartbeat(self.db, self.lease) as heartbeat:
                self._heartbeat = heartbeat
                if self.mode == "full":
                    for stream in connector.streams():
                        if stream.direction in ("pull", "both"):
                            self._pull_stream(connector, stream.name)
                # Pulls are done; a stop from here on only cuts the push phase short (the rest waits).
                pushed = push_due(
                    self.db,
                    connector,
                    account_id=self.account_id,
                    owner=self.lease.owner,
                    lease_seconds=self.lease.seconds,
                    policy=self.policy,
                    redact=self.redact,
                    halted=lambda: self.stop.is_set() or heartbeat.lost.is_set(),
                )
                self.progress.pushed += pushed.pushed
            self._finish_ok()
            return "done"
        except Interrupted:
            self._requeue()
            return "requeued"
        except AuthError as exc:
            self._fail("auth", self.redact(exc.message))
        except TransientError as exc:
            self._fail("transient", self.redact(exc.message), retry_after=exc.retry_after)
        except CursorCapReached as exc:
            self._fail("cursor", self.redact(exc))
        except ConnectorError as exc:
            self._fail("transient", self.redact(exc.message))
        except LeaseLost:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug or a database outage: retried with backoff
            log.error("job #%s failed unexpectedly:\n%s", self.lease.row_id, self.redact(traceback.format_exc()))
            self._fail("transient", self.redact(_message(exc)))
        return "failed"

    # -- start -------------------------------------------------------------------------------

    def _start(self) -> Connector | str:
        now = utcnow()
        with self.db.session(write=True) as s:
            fence(s, self.lease)
            job = s.get(Job, self.lease.row_id)
            assert job is not None
            account = s.get(ConnectorAccount, job.account_id) if job.account_id else None
            if account is None or not account.enabled:
                fence(s, self.lease, **released(state=JobState.cancelled, finished_at=now))
                return "cancelled"
            self.account_id, self.mode = account.id, str(job.payload.get("mode", "full"))
            s.execute(
                update(SyncRun)
                .where(SyncRun.job_id == job.id, SyncRun.status == "running")
                .values(
                    status="interrupted", finished_at=now, error="its worker stopped; another worker resumed the job"
                )
            )
            run = SyncRun(account_id=account.id, job_id=job.id, trigger=str(job.payload.get("trigger", "schedule")))
            s.add(run)
            s.flush()
            self.run_id = run.id
            account.last_run_at = now
            if job.attempts > self.policy.max_job_attempts:
                message = f"the job was started {job.attempts - 1} times and never finished (its worker died each time)"
                self._settle(s, account, run, "failing", message)
                return "failed"
            try:
                self.redact = Redactor(unseal(account.secrets_sealed).values())
                connector = build_connector(s, account)
            except Exception as exc:  # noqa: BLE001 - bad settings, a missing connector, a broken key
                if not isinstance(exc, CoreError):
                    log.error("job #%s: no connector:\n%s", job.id, self.redact(traceback.format_exc()))
                message = self.redact(_message(exc))
                self._settle(s, account, run, "failing", f"the account cannot be used as configured: {message}")
                return "failed"
        log.info("job #%s: syncing account #%s (%s, %s)", self.lease.row_id, account.id, account.name, self.mode)
        return connector

    # -- pulling -----------------------------------------------------------------------------

    def _checkpoint(self) -> None:
        if self._heartbeat is not None and self._heartbeat.lost.is_set():
            raise LeaseLost(f"job #{self.lease.row_id}: the heartbeat lost the lease")
        if self.stop.is_set():
            raise Interrupted

    def _load_cursor(self, stream: str) -> dict[str, Any] | None:
        with self.db.session(write=True) as s:
            stmt = select(SyncCursor.cursor).where(
                SyncCursor.account_id == self.account_id, SyncCursor.stream == stream
            )
            return s.scalars(stmt).first()

    def _pull_stream(self, connector: Connector, stream: str) -> None:
        self.progress.stream = stream
        cursor = self._load_cursor(stream)

        def read(at: dict[str, Any] | None) -> Batch:
            return read_batch(
                connector, self.db, account_id=self.account_id, stream=stream, cursor=at, redact=self.redact
            )

        reading = ReadingJob(self.db.url, self.account_id, stream)
        with Reader(
            read,
            ahead=connector.pull_ahead,
            elsewhere=(lambda: ReaderProcess(reading)) if connector.pull_in_process else None,
            elsewhere_from=get_settings().sync_reader_process_items,
        ) as reader:
            while True:
                self._checkpoint()
                try:
                    batch = reader.next(cursor)
                except CursorInvalidError as exc:
                    if cursor is None:
                        raise TransientError(f"{stream}: the server refused a full read ({exc.message})") from None
                    self._reset_cursor(stream, self.redact(exc.message))
                    cursor = None
                    continue
                except PermanentError as exc:
                    self._stream_failed(stream, exc)
                    return
                stuck = batch.more and batch.cursor == cursor and not (batch.changes or batch.failures or batch.settled)
                if batch.more and not stuck:
                    reader.read_ahead(batch.cursor, left=_left(batch))  # read while this one is committed
                self._commit(stream, batch)
                if stuck:
                    raise TransientError(f"{stream}: the connector asked for more without moving its cursor")
                cursor = batch.cursor
                if not batch.more:
                    self._sweep(stream)
                    return

    def _commit(self, stream: str, batch: Batch) -> None:
        counts = {"applied": 0, "skipped": batch.settled, "failed": 0}
        with self.db.session(write=True) as s:
            fence(s, self.lease, progress_done=batch.progress_done, progress_total=batch.progress_total)
            account = s.get(ConnectorAccount, self.account_id)
            assert account is not None
            decided = self._prepare(s, account, batch.changes)
            for index, change in enumerate(batch.changes):
                if index in decided:  # nothing to write (e.g. mail with no client): no savepoint needed
                    counts["applied" if decided[index].applied else "skipped"] += 1
                    continue
                try:
                    with s.begin_nested():
                        outcome = apply_change(s, account=account, change=change, stream=stream)
                except (CoreError, ConnectorError, IntegrityError) as exc:
                    detail = exc.detail if isinstance(exc, ConnectorError) and exc.detail else repr(change)
                    self._item_error(s, stream, _ref(change), _message(exc), detail)
                    counts["failed"] += 1
                    continue
                except SQLAlchemyError:
                    raise
                except Exception as exc:  # noqa: BLE001 - an applier bug must not block the account forever
                    log.error("applying %s failed:\n%s", _ref(change), self.redact(traceback.format_exc()))
                    self._item_error(s, stream, _ref(change), _message(exc), repr(change))
                    counts["failed"] += 1
                    continue
                counts["applied" if outcome.applied else "skipped"] += 1
            for failure in batch.failures:
                self._item_error(s, stream, failure.item_ref, failure.reason, failure.raw)
                counts["failed"] += 1
            # Written as UPDATEs, not loaded and changed: two round trips less for every batch.
            moved = s.execute(
                update(SyncCursor)
                .where(SyncCursor.account_id == account.id, SyncCursor.stream == stream)
                .values(cursor=batch.cursor)
            )
            if moved.rowcount == 0:
                s.add(SyncCursor(account_id=account.id, stream=stream, cursor=batch.cursor))
            pulled = len(batch.changes) + len(batch.failures) + batch.settled
            s.execute(
                update(SyncRun)
                .where(SyncRun.id == self.run_id)
                .values(
                    pulled=SyncRun.pulled + pulled,
                    applied=SyncRun.applied + counts["applied"],
                    skipped=SyncRun.skipped + counts["skipped"],
                    failed=SyncRun.failed + counts["failed"],
                )
            )
            account.items_pulled += pulled
            account.items_failed += counts["failed"]
        p = self.progress
        p.done, p.total = batch.progress_done, batch.progress_total
        p.pulled += pulled
        p.applied += counts["applied"]
        p.skipped += counts["skipped"]
        p.failed += counts["failed"]
        if self.on_progress is not None:
            self.on_progress(p)

    def _prepare(self, s: Session, account: ConnectorAccount, changes: list[Any]) -> dict[int, Any]:
        """The batch's bulk look-ups; when they fail, every change is simply applied one by one."""
        try:
            with s.begin_nested():
                return prepare_changes(s, account=account, changes=changes)
        except SQLAlchemyError:
            raise
        except Exception:  # noqa: BLE001 - a preparer bug only costs speed: the appliers decide alone
            log.error("preparing a batch failed:\n%s", self.redact(traceback.format_exc()))
            return {}

    def _item_error(self, s: Session, stream: str, ref: str, reason: str, raw: str | None) -> None:
        s.add(
            SyncItemError(
                account_id=self.account_id,
                run_id=self.run_id,
                stream=stream[:200],
                item_ref=self.redact(ref)[:500],
                reason=self.redact(reason),
                raw=self.redact(raw) if raw is not None else None,
            )
        )

    def _stream_failed(self, stream: str, exc: PermanentError) -> None:
        with self.db.session(write=True) as s:
            fence(s, self.lease)
            self._item_error(s, stream, exc.item_ref or stream, exc.message, exc.detail)
            run = s.get(SyncRun, self.run_id)
            assert run is not None
            run.failed += 1
        self.progress.failed += 1

    def _reset_cursor(self, stream: str, reason: str) -> None:
        now = utcnow()
        with self.db.session(write=True) as s:
            fence(s, self.lease)
            account = s.get(ConnectorAccount, self.account_id)
            assert account is not None
            allowed, count, since = self.policy.cursor_reset(account.cursor_resets, account.cursor_resets_since, now)
            if not allowed:
                hours = self.policy.cursor_window.total_seconds() / 3600
                raise CursorCapReached(
                    f"{stream}: the server invalidated our sync position {count} times within {hours:g} h ({reason}); "
                    "crmhub stopped re-reading it: check the server, then reset the account's cursor"
                )
            account.cursor_resets, account.cursor_resets_since = count, since
            s.execute(
                update(SyncCursor)
                .where(SyncCursor.account_id == account.id, SyncCursor.stream == stream)
                .values(cursor=None, resync_since=func.coalesce(SyncCursor.resync_since, now))
            )
            note = f"{stream}: the server no longer knew our position ({reason}); read again from the start"
            run = s.get(SyncRun, self.run_id)
            assert run is not None
            run.error = (run.error + "\n" + note).strip()
            self.progress.notes.append(note)
        log.warning("account #%s: %s", self.account_id, note)

    def _sweep(self, stream: str) -> None:
        """After a reset stream has been read to its end: remove the links of items deleted while it was stale."""
        with self.db.session(write=True) as s:
            fence(s, self.lease)
            row = s.scalars(
                select(SyncCursor).where(SyncCursor.account_id == self.account_id, SyncCursor.stream == stream)
            ).first()
            if row is None or row.resync_since is None:
                return
            account = s.get(ConnectorAccount, self.account_id)
            run = s.get(SyncRun, self.run_id)
            assert account is not None and run is not None
            removed = 0
            for link in stale_links(s, account=account, stream=stream, since=row.resync_since):
                ref = link.remote_id
                try:
                    with s.begin_nested():
                        remove_link(s, account, link)
                except (CoreError, IntegrityError) as exc:
                    self._item_error(
                        s, stream, ref, f"deleted remotely, but could not be unlinked: {_message(exc)}", None
                    )
                    run.failed += 1
                    continue
                removed += 1
            row.resync_since = None
            run.applied += removed
        self.progress.applied += removed
        if removed:
            log.info(
                "account #%s: %s: %d items deleted remotely while the cursor was stale",
                self.account_id,
                stream,
                removed,
            )

    # -- ending ------------------------------------------------------------------------------

    def _finish_ok(self) -> None:
        now = utcnow()
        with self.db.session(write=True) as s:
            fence(s, self.lease, **released(state=JobState.done, finished_at=now, last_error=""))
            account = s.get(ConnectorAccount, self.account_id)
            run = s.get(SyncRun, self.run_id)
            assert account is not None and run is not None
            run.status = "partial" if run.failed else "ok"
            run.pushed += self.progress.pushed
            run.finished_at = now
            account.items_pushed += self.progress.pushed
            if self.mode == "full":  # a push-only run says nothing about how pulling fares
                account.last_success_at = now
                account.consecutive_failures = 0
                account.last_error = ""
                if account.enabled:
                    account.status = AccountStatus.ok
                    account.next_run_at = now + timedelta(seconds=account.interval_seconds)
            p = self.progress
        log.info(
            "job #%s: account #%s done: pulled %d, applied %d, skipped %d, failed %d, pushed %d",
            self.lease.row_id,
            self.account_id,
            p.pulled,
            p.applied,
            p.skipped,
            p.failed,
            p.pushed,
        )

    def _fail(self, kind: str, message: str, retry_after: float | None = None) -> None:
        with self.db.session(write=True) as s:
            fence(s, self.lease)
            account = s.get(ConnectorAccount, self.account_id)
            run = s.get(SyncRun, self.run_id)
            assert account is not None and run is not None
            self._settle(s, account, run, kind, message, retry_after=retry_after)
        log.warning("job #%s: account #%s failed (%s): %s", self.lease.row_id, self.account_id, kind, message)

    def _settle(
        self,
        s: Session,
        account: ConnectorAccount,
        run: SyncRun,
        kind: str,
        message: str,
        *,
        retry_after: float | None = None,
    ) -> None:
        """End the job as failed and set the account's status and next run for this kind of failure."""
        now = utcnow()
        fence(s, self.lease, **released(state=JobState.failed, finished_at=now, last_error=message))
        run.status, run.finished_at = "failed", now
        run.pushed += self.progress.pushed
        run.error = (run.error + "\n" + message).strip()
        account.last_error = message
        account.consecutive_failures += 1
        if kind == "auth":
            account.status, account.next_run_at = AccountStatus.needs_reauth, None
            audit.record(
                s,
                actor=Actor.system(source="sync"),
                action="needs_reauth",
                entity_type="connector_account",
                entity_id=account.id,
                summary=f"{account.name}: the server refused the credentials ({message}); "
                "edit or test the account to resume",
            )
        elif kind == "cursor":
            account.status = AccountStatus.failing
            since = account.cursor_resets_since or now
            account.next_run_at = since + self.policy.cursor_window
        elif kind == "failing":
            account.status = AccountStatus.failing
            account.next_run_at = now + timedelta(seconds=account.interval_seconds)
        else:
            wait = self.policy.delay(account.consecutive_failures, retry_after=retry_after)
            account.next_run_at = now + timedelta(seconds=wait)
            if self.policy.is_failing(account.consecutive_failures) and account.status != AccountStatus.needs_reauth:
                account.status = AccountStatus.failing
        if account.status in (AccountStatus.needs_reauth, AccountStatus.disabled) or not account.enabled:
            account.next_run_at = None

    def _requeue(self) -> None:
        now = utcnow()
        with self.db.session(write=True) as s:
            fence(s, self.lease, **released(state=JobState.queued, run_after=now, attempts=Job.attempts - 1))
            run = s.get(SyncRun, self.run_id)
            assert run is not None
            run.status, run.finished_at = "interrupted", now
            run.pushed += self.progress.pushed
            run.error = (run.error + "\nthe worker was stopped; the job went back to the queue").strip()
        log.info("job #%s: stopped after a batch and put back in the queue", self.lease.row_id)
