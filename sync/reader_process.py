"""A stream read by a child process of its own, so reading and committing run on two CPU cores.

The engine (``sync.reader``) starts one for a long first import of a connector that allows it
(``Connector.pull_in_process``). The child is *spawned* (a fresh interpreter: forking a worker
with threads and open connections is not safe) and given only what it can rebuild the rest
from: the database URL, the account and the stream. It builds the connector from the account
exactly as the engine does (its own connection to the server), opens its own read-only
sessions for core's choice of the items it wants whole, and then answers requests one at a
time: a cursor in, the batch after it (``sync.reader.read_batch``) or that read's error out,
pickled through a pipe. It never writes to the database; the engine commits every batch
and stores every cursor as before.

Its errors cross as the engine knows them: connector errors as themselves (they pickle), any
other error (a bug, a database outage) as ``ReaderProcessError`` naming it, its traceback
logged by the child. A child
that dies (killed, out of memory) is a ``TransientError`` for the run: the account is retried
with backoff, from the last committed batch. The child ignores SIGINT and SIGTERM, which a
terminal or a service manager sends to the whole process group: the engine finishes its
batch first and then ends the child by closing the pipe, and a child whose engine is gone
finds the pipe closed and ends too.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from core.config import get_settings
from core.db import Database
from core.integration import Batch, Connector, ConnectorError, TransientError
from core.models import ConnectorAccount
from core.secrets import unseal
from sync.reader import Cursor, read_batch
from sync.redact import Redactor
from sync.registry import build_connector

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


class ReaderProcess:
    """The parent's end: starts the child, sends it cursors, receives batches (``sync.reader.Elsewhere``)."""

    def __init__(self, job: ReadingJob) -> None:
        self.job = job
        context = multiprocessing.get_context("spawn")
        self._conn, child_end = context.Pipe()
        self._process = context.Process(
            target=serve, args=(job, child_end), name=f"crmhub-read-{job.account_id}", daemon=True
        )
        self._process.start()
        child_end.close()
        self._started: bool | None = None
        """Whether the child said it is up (None: it has not said yet)."""
        self._failed: BaseException | None = None
        log.info("account #%s: %s is read by process %s", job.account_id, job.stream, self.pid)

    @property
    def pid(self) -> int | None:
        """The child's process id."""
        return self._process.pid

    def started(self, wait: bool = False) -> bool | None:
        """True once the child says it is up, False while it starts, None when it could not start (logged)."""
        if self._started is None:
            try:
                if not wait and not self._conn.poll():
                    return False
                kind, value = self._conn.recv()
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
            self._conn.send(cursor)
        except (OSError, ValueError):
            raise self._gone() from None

    def receive(self) -> Batch:
        """The batch the child read for the last request; its error is raised here."""
        self.started(wait=True)
        if self._failed is not None:
            raise self._failed
        try:
            kind, value = self._conn.recv()
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
        self._conn.close()
        self._process.join(timeout=CLOSE_WAIT)
        if self._process.is_alive():  # it ignores SIGTERM (see above): SIGKILL
            log.warning("account #%s: the reading process did not end in time; stopping it", self.job.account_id)
            self._process.kill()
            self._process.join(timeout=5)
        if not self._process.is_alive():
            self._process.close()


# -------------------------------------------------------------------------------------- the child


def serve(job: ReadingJob, conn: Connection) -> None:
    """The child's life: answer each cursor with the batch after it, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
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
        if not _send(conn, ("ready", None), redact):
            return
        while True:
            try:
                cursor = conn.recv()
            except (EOFError, OSError):
                return  # the engine is done with us (or gone)
            try:
                batch = read_batch(
                    connector, db, account_id=job.account_id, stream=job.stream, cursor=cursor, redact=redact
                )
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
    """Send the reply to the engine; False when the pipe is gone.

    A connector's error goes as itself; any other error (a bug, a database outage) is logged
    here with its traceback and goes as ``ReaderProcessError``, as does a batch that cannot be
    pickled.
    """
    kind, value = reply
    if kind == "error" and not isinstance(value, ConnectorError):
        log.error("reading a batch failed:\n%s", redact("".join(traceback.format_exception(value))))
        reply = ("error", ReaderProcessError(redact(f"{type(value).__name__}: {value}")))
    try:
        conn.send(reply)
        return True
    except (OSError, ValueError):
        return False
    except Exception as exc:  # noqa: BLE001 - it could not be pickled: say so instead
        log.error("a reply could not be sent to the engine:\n%s", redact(traceback.format_exc()))
        failure = ReaderProcessError(redact(f"a {kind} could not be sent to the engine: {type(exc).__name__}: {exc}"))
    try:
        conn.send(("error", failure))
        return True
    except (OSError, ValueError):
        return False
