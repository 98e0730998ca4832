"""A stream read by a child process of its own, so reading and committing run on two CPU cores.

The engine (``sync.reader``) starts one for a long first import of a connector that allows it
(``Connector.pull_in_process``). The child is given only what it can rebuild the rest from:
the database URL, the account, the stream and the engine's environment (the settings). It
builds the connector from the account exactly as the engine does (its own connection to the
server), opens its own read-only sessions for core's choice of the items it wants whole, and
then answers requests one at a time: a cursor in, the batch after it
(``sync.reader.read_batch``) or that read's error out, pickled through a pipe. It never writes
to the database; the engine commits every batch and stores every cursor as before.

**Where children come from.** Forking the worker itself is not safe (threads, open
connections), and a freshly spawned interpreter spends most of a second importing what a
reader needs before it reads anything. So children are forked from a *fork server*
(``multiprocessing``'s forkserver): a clean single-threaded process, started from a fresh
interpreter, that imports the reader, the connectors and the worker's main module once, then
forks a child per reading in milliseconds. ``warm_up`` starts it when a worker starts, so a
long import starts reading in its own process at once; without that it starts with the first
child, in a thread, while the engine goes on reading. The server keeps SIGINT and SIGTERM
blocked (a service manager's stop is the worker's to handle) and ends with the worker.
Platforms without a fork server spawn each child.

**Sharing the parsing.** Both processes are CPU-bound, and how much each has to do depends on
the mail, the database and the machine. What a connector leaves for first use (the bodies of
the mail read in full) is split between them: with each request the engine sends the share the
child should parse before handing the batch over (``Connector.parse_ahead``); the engine
parses the rest when it applies them. The share (``Share``) grows while the engine finds
batches ready when it asks, and shrinks while it has to wait for them.

Its errors cross as the engine knows them: connector errors as themselves (they pickle), any
other error (a bug, a database outage) as ``ReaderProcessError`` naming it, its traceback
logged by the child. A child that dies (killed, out of memory) is a ``TransientError`` for the
run: the account is retried with backoff, from the last committed batch. The child ignores
SIGINT and SIGTERM, which a terminal or a service manager sends to the whole process group:
the engine finishes its batch first and then ends the child by closing the pipe, and a child
whose engine is gone finds the pipe closed and ends too. Each reply carries the child's CPU
time and peak memory, which the engine logs when the reading ends.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import resource
import signal
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any

from sqlalchemy.engine import make_url

from core.config import get_settings
from core.db import Database, database_url
from core.integration import Batch, Connector, ConnectorError, TransientError
from core.models import ConnectorAccount
from core.secrets import unseal
from sync import collector
from sync.reader import Cursor, read_batch
from sync.redact import Redactor
from sync.registry import GROUP, build_connector

log = logging.getLogger("crmhub.sync")
CLOSE_WAIT = 5.0
"""Seconds the child is given to finish a read in progress and log out, once told to end; then it is stopped
(it only reads, so stopping it mid-read loses nothing)."""


class ReaderProcessError(Exception):
    """The reading process failed with an error that is not a connector's (a bug, a database outage)."""


@dataclass(frozen=True)
class ReadingJob:
    """All the child is told: the rest it rebuilds from the account."""

    database_url: str
    account_id: int
    stream: str
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ), repr=False)
    """The engine's environment, settings and keys included: the fork server may have started with another."""


@dataclass(frozen=True)
class Usage:
    """What a reading process has used so far."""

    cpu_seconds: float
    peak_rss_mb: float

    @classmethod
    def now(cls) -> Usage:
        """This process's CPU time and peak resident memory."""
        own = resource.getrusage(resource.RUSAGE_SELF)
        return cls(own.ru_utime + own.ru_stime, own.ru_maxrss / 1024)


def _context() -> BaseContext:
    """The fork server where the platform has one (see the module's essay), else spawning."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", __name__, *_connector_modules(), *_database_modules()])
    return context


def _database_modules() -> list[str]:
    """The store's SQLAlchemy dialect and driver, which a child would otherwise import first (psycopg: 70 ms)."""
    try:
        dialect = make_url(database_url(get_settings().effective_database_url)).get_dialect()
        return [dialect.__module__, dialect.import_dbapi().__name__]
    except Exception:  # noqa: BLE001 - without them a child only starts more slowly
        log.warning("the database driver could not be found for the reading processes", exc_info=True)
        return []


def _connector_modules() -> list[str]:
    """The installed connectors' modules (``sync.registry``'s entry points), for the fork server to import once."""
    return sorted({ep.module for ep in entry_points(group=GROUP)})


def warm_up() -> None:
    """Start the fork server now (a worker starting), so the first long import does not wait for its imports.

    The server is started with SIGINT and SIGTERM blocked, which it keeps: a stop sent to the
    whole process group is then the worker's to handle, and the server ends when the worker does.
    """
    context = _context()
    if context.get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    with _stops_held():
        forkserver.ensure_running()


@contextlib.contextmanager
def _stops_held() -> Iterator[None]:
    """SIGINT and SIGTERM blocked in this thread for the moment: a process it starts meanwhile keeps them blocked.

    Blocked, not ignored: a stop sent in that moment goes to another thread or waits, and the
    worker's handler gets it; an ignored one would be lost. The mask, unlike a handler,
    survives the exec that starts the fork server, and it is the thread's own, so this holds
    in the worker thread of ``crmhub serve`` too. multiprocessing's resource tracker is started
    first: starting it unblocks both signals, whatever they were.
    """
    if not hasattr(signal, "pthread_sigmask"):  # not a POSIX system: no masks, and no fork server either
        yield
        return
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    stops = {signal.SIGINT, signal.SIGTERM}
    blocked_before = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stops - blocked_before)


class Share:
    """How much of the parsing a batch leaves for first use the child does before handing it over.

    Both processes are busy, so the faster one should take more: when the engine finds the next
    batch already waiting, the child had time to spare and gets a larger share; when the engine
    has to wait for it, a smaller one. It starts at half and moves a step per batch.
    """

    def __init__(self, value: float = 0.5, step: float = 0.1) -> None:
        self.value = value
        self.step = step

    def after(self, *, waited: bool) -> None:
        """Move the share after a batch: down when the engine waited for it, else up."""
        self.value = min(1.0, max(0.0, self.value + (-self.step if waited else self.step)))


class ReaderProcess:
    """The parent's end: starts the child, sends it cursors, receives batches (``sync.reader.Elsewhere``).

    The child is started in a thread of its own: with the fork server cold, starting waits for
    its imports, and the engine goes on reading meanwhile.
    """

    def __init__(self, job: ReadingJob) -> None:
        self.job = job
        context = _context()
        self._conn, self._child_end = context.Pipe()
        self._process = context.Process(
            target=serve, args=(job, self._child_end), name=f"crmhub-read-{job.account_id}", daemon=True
        )
        self._started: bool | None = None
        """Whether the child said it is up (None: it has not said yet)."""
        self._failed: BaseException | None = None
        self.usage: Usage | None = None
        """The child's CPU time and peak memory, as of its last reply."""
        self.share = Share()
        self._launching = threading.Thread(target=self._launch, name=f"crmhub-read-start-{job.account_id}", daemon=True)
        self._launching.start()

    def _launch(self) -> None:
        try:
            with _stops_held():  # the fork server may start here, when the worker did not warm up
                self._process.start()
        except Exception as exc:  # noqa: BLE001 - no process (a limit, a broken install): said by started()
            self._failed = ReaderProcessError(f"the reading process could not be started: {type(exc).__name__}: {exc}")
        else:
            log.info("account #%s: %s is read by process %s", self.job.account_id, self.job.stream, self.pid)
        finally:
            self._child_end.close()

    @property
    def pid(self) -> int | None:
        """The child's process id (None until it is started)."""
        return self._process.pid

    def started(self, wait: bool = False) -> bool | None:
        """True once the child says it is up, False while it starts, None when it could not start (logged)."""
        if self._started is None:
            if not wait and self._launching.is_alive():
                return False
            self._launching.join()
            try:
                if self._failed is not None:
                    kind, value = "error", self._failed
                elif not wait and not self._conn.poll():
                    return False
                else:
                    kind, value, _usage = self._conn.recv()
            except (EOFError, OSError, ValueError):
                kind, value = "error", self._gone()
            self._started = kind == "ready"
            if not self._started:
                self._failed = value
                log.warning("account #%s: the reading process could not start: %s", self.job.account_id, value)
        return self._started or None

    def request(self, cursor: Cursor) -> None:
        """Ask the child for the batch after ``cursor``."""
        if self._failed is not None:
            return
        try:
            self._conn.send((cursor, self.share.value))
        except (OSError, ValueError):
            raise self._gone() from None

    def receive(self) -> Batch:
        """The batch the child read for the last request; its error is raised here."""
        self.started(wait=True)
        if self._failed is not None:
            raise self._failed
        try:
            self.share.after(waited=not self._conn.poll())
            kind, value, self.usage = self._conn.recv()
        except (EOFError, OSError, ValueError):
            raise self._gone() from None
        if kind == "error":
            raise value
        return value

    def _gone(self) -> TransientError:
        self._process.join(timeout=5)
        code = self._process.exitcode
        return TransientError(
            f"{self.job.stream}: the process reading it stopped unexpectedly (exit code {code}); "
            "the run is retried from the last batch stored",
            step="read",
        )

    def close(self) -> None:
        """Tell the child to end (closing the pipe) and wait for it; stop it when it does not end in time."""
        self._launching.join()
        self._conn.close()
        pid = self._process.pid
        if pid is None:
            return  # it was never started
        self._process.join(timeout=CLOSE_WAIT)
        if self._process.is_alive():  # it ignores SIGTERM (see above): SIGKILL
            log.warning("account #%s: the reading process did not end in time; stopping it", self.job.account_id)
            self._process.kill()
            self._process.join(timeout=5)
        if not self._process.is_alive():
            self._process.close()
        if self.usage is not None:
            log.info(
                "account #%s: %s was read by process %s: %.1f s of CPU, peak memory %.0f MB",
                self.job.account_id,
                self.job.stream,
                pid,
                self.usage.cpu_seconds,
                self.usage.peak_rss_mb,
                extra={"reader_usage": self.usage},
            )


# -------------------------------------------------------------------------------------- the child


def serve(job: ReadingJob, conn: Connection) -> None:
    """The child's life: answer each cursor with the batch after it, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(job.environ)
    get_settings.cache_clear()
    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    db = Database(job.database_url)
    connector: Connector | None = None
    redact = Redactor()
    try:
        try:
            connector, redact = _connector(db, job.account_id)
        except Exception as exc:  # noqa: BLE001 - the engine says why the run failed
            _send(conn, ("error", exc), redact)
            return
        collector.settle()  # what the child holds now lives as long as it does (see sync.collector)
        if not _send(conn, ("ready", None), redact):
            return
        while True:
            try:
                cursor, share = conn.recv()
            except (EOFError, OSError):
                return  # the engine is done with us (or gone)
            try:
                batch = read_batch(
                    connector, db, account_id=job.account_id, stream=job.stream, cursor=cursor, redact=redact
                )
                connector.parse_ahead(batch, share)
                reply: tuple[str, Any] = ("batch", batch)
            except Exception as exc:  # noqa: BLE001 - every error goes to the engine, which decides
                reply = ("error", exc)
            if not _send(conn, reply, redact):
                return
    finally:
        if connector is not None:
            try:
                connector.close()
            except Exception:  # noqa: BLE001 - ending must not hide anything
                log.warning("account #%s: closing the reading process's connector failed", job.account_id)
        db.dispose()


def _connector(db: Database, account_id: int) -> tuple[Connector, Redactor]:
    """The account's connector, built as the engine builds it, and a redactor of its secrets."""
    with db.session() as s:
        account = s.get(ConnectorAccount, account_id)
        if account is None:
            raise ReaderProcessError(f"account #{account_id} no longer exists")
        return build_connector(s, account), Redactor(unseal(account.secrets_sealed).values())


def _send(conn: Connection, reply: tuple[str, Any], redact: Redactor) -> bool:
    """Send the reply to the engine, with this process's usage so far; False when the pipe is gone.

    A connector's error goes as itself; any other error (a bug, a database outage) is logged
    here with its traceback and goes as ``ReaderProcessError``, as does a batch that cannot be
    pickled.
    """
    kind, value = reply
    if kind == "error" and not isinstance(value, ConnectorError):
        log.error("reading a batch failed:\n%s", redact("".join(traceback.format_exception(value))))
        value = ReaderProcessError(redact(f"{type(value).__name__}: {value}"))
    try:
        conn.send((kind, value, Usage.now()))
        return True
    except (OSError, ValueError):
        return False
    except Exception as exc:  # noqa: BLE001 - it could not be pickled: say so instead
        log.error("a reply could not be sent to the engine:\n%s", redact(traceback.format_exc()))
        failure = ReaderProcessError(redact(f"a {kind} could not be sent to the engine: {type(exc).__name__}: {exc}"))
    try:
        conn.send(("error", failure, Usage.now()))
        return True
    except (OSError, ValueError):
        return False
