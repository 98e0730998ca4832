"""Reading a stream's batches one batch ahead of the commits: in a thread, or in a process of its own.

A batch costs two kinds of work: reading it (the server's time, the network, parsing the
responses, asking core which items it wants whole: ``read_batch``) and committing it
(matching, writing, the database's own time). Done in turn, each waits for the other.

* **In a thread.** A connector whose pulls may run in another thread (``Connector.pull_ahead``)
  has its next batch read in a thread of the reader while the engine commits the current one.
  Python runs one thread at a time, so this wins only what either side spends waiting on a
  socket, a database server or a C library: about a tenth of a mailbox import.
* **In a process.** Both sides are mostly Python, so a long first import is CPU-bound on one
  core. A connector that can be rebuilt in another process from its account
  (``Connector.pull_in_process``) has a stream with many items left (``elsewhere_from``, the
  setting ``sync_reader_process_items``) read by a child process of its own
  (``sync.reader_process``), on the other core, from the batch after the one that showed it:
  its own connection to the server and to the database, the batches pickled across. Until the
  child is up (it imports and connects for most of a second), batches go on being read here,
  and they still are if it cannot start. Short runs, the usual ones, never pay for starting it.

Nothing else changes. The engine still stores a batch's cursor only with the batch, so a crash
or a stop repeats at most what was read ahead, never skips it. Only one batch is read ahead
(memory holds two at most), and only for the cursor the engine is about to store: when the
engine asks for another (after a cursor reset) the read-ahead is dropped and the batch read
afresh. An error of the read-ahead (a dropped connection, an invalid cursor) is raised where
the engine asks for that batch, exactly as a direct read would raise it. The thread is always
finished before the reader closes, so the connector is never used by two threads at once and
is closed only after its last read; the process is told to end and waited for.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError

from core.db import Database
from core.integration import Batch, Connector
from core.integration.apply import Selection, select_changes
from core.models import ConnectorAccount
from sync.redact import Redactor

Cursor = dict[str, Any] | None
log = logging.getLogger("crmhub.sync")


def read_batch(
    connector: Connector, db: Database, *, account_id: int, stream: str, cursor: Cursor, redact: Redactor
) -> Batch:
    """Pull the next batch; when it holds summaries, drop those core settles and have the rest it wants read in full."""
    batch = connector.pull(stream, cursor)
    if batch.summaries and batch.changes:
        chosen = _selection(db, account_id, batch.changes, redact)
        wanted = set(chosen.full)
        if chosen.settled:
            kept = [i for i in range(len(batch.changes)) if i not in chosen.settled]
            wanted = {new for new, old in enumerate(kept) if old in chosen.full}
            batch.changes = [batch.changes[i] for i in kept]
            batch.settled += len(chosen.settled)
        connector.complete(stream, batch, wanted)
    return batch


def _selection(db: Database, account_id: int, changes: list[Any], redact: Redactor) -> Selection:
    """Core's choice among the summaries (a read-only look-up); all of them read in full when asking fails."""
    try:
        with db.session() as s:
            account = s.get(ConnectorAccount, account_id)
            assert account is not None
            return select_changes(s, account=account, changes=changes)
    except SQLAlchemyError:
        raise
    except Exception:  # noqa: BLE001 - a selector bug only costs bytes: everything is read in full
        log.error("choosing the items to read in full failed:\n%s", redact(traceback.format_exc()))
        return Selection(full=frozenset(range(len(changes))))


class Elsewhere(Protocol):
    """Batches read somewhere else (``sync.reader_process``): one request answered at a time."""

    def started(self) -> bool | None:
        """Without waiting: True once it takes requests, False while it starts, None when it could not start."""

    def request(self, cursor: Cursor) -> None:
        """Start reading the batch after ``cursor``."""

    def receive(self) -> Batch:
        """The batch last requested; its read's error is raised here."""

    def close(self) -> None:
        """End the reading (an unanswered request is dropped)."""


class Reader:
    """The batches of one stream, ``read(cursor)`` by ``read``; one read ahead in a thread when ``ahead``.

    With ``elsewhere`` (which starts a reading process), the batches after the first that leaves
    at least ``elsewhere_from`` items to go are read there instead.
    """

    def __init__(
        self,
        read: Callable[[Cursor], Batch],
        *,
        ahead: bool,
        elsewhere: Callable[[], Elsewhere] | None = None,
        elsewhere_from: int = 0,
    ) -> None:
        self.read = read
        self.ahead = ahead
        self.elsewhere = elsewhere if elsewhere_from > 0 else None
        self.elsewhere_from = elsewhere_from
        self._pool: ThreadPoolExecutor | None = None
        self._pending: tuple[Cursor, Future[Batch]] | None = None
        self._starting: Elsewhere | None = None
        self._remote: Elsewhere | None = None
        self._asked: tuple[Cursor] | None = None
        """The cursor the remote reader was last asked about and has not answered yet."""

    @property
    def remote(self) -> bool:
        """True once the batches are read in another process."""
        return self._remote is not None

    def read_ahead(self, cursor: Cursor, *, left: int | None = None) -> None:
        """Start reading the batch after ``cursor`` in the background (nothing when not ``ahead``).

        ``left``: how many items the stream has still to go, when the connector knows; enough of
        them moves the reading into a process of its own.
        """
        if self._remote is None and self._starting is None and self._worth_a_process(left):
            self._starting = self._start_elsewhere()  # until it is up, batches are read here as before
        if self._starting is not None and self._pending is None:
            self._take_over(self._starting)
        if self._remote is not None:
            if self._asked is None:
                self._remote.request(cursor)
                self._asked = (cursor,)
            return
        if not self.ahead or self._pending is not None:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmhub-read")
        self._pending = (cursor, self._pool.submit(self.read, cursor))

    def _start_elsewhere(self) -> Elsewhere | None:
        """The other reader, starting; None (and reading here from now on) when it cannot even be started."""
        assert self.elsewhere is not None
        try:
            return self.elsewhere()
        except Exception:  # noqa: BLE001 - no process (a limit, a broken install): the worker reads, as before
            log.warning("no reading process could be started; the stream is read by the worker itself", exc_info=True)
            self.elsewhere = None
            return None

    def _take_over(self, starting: Elsewhere) -> None:
        """Read there from now on once it is up; when it could not start, go on reading here."""
        up = starting.started()
        if up:
            self._remote, self._starting = starting, None
        elif up is None:
            starting.close()
            self._starting, self.elsewhere = None, None
            log.warning("reading in a process of its own could not start; the stream is read by the worker itself")

    def _worth_a_process(self, left: int | None) -> bool:
        return self.elsewhere is not None and left is not None and left >= self.elsewhere_from

    def next(self, cursor: Cursor) -> Batch:
        """The batch after ``cursor``: the one read ahead for it, else read now; a read's error is raised here."""
        if self._remote is not None:
            return self._next_remote(self._remote, cursor)
        pending, self._pending = self._pending, None
        if pending is not None:
            wanted, future = pending
            if wanted == cursor:
                return future.result()
            _settle(future)  # read ahead for a cursor the engine no longer asks for
        return self.read(cursor)

    def _next_remote(self, remote: Elsewhere, cursor: Cursor) -> Batch:
        asked, self._asked = self._asked, None
        if asked is not None:
            if asked[0] == cursor:
                return remote.receive()
            _settle_remote(remote)  # read ahead for a cursor the engine no longer asks for
        remote.request(cursor)
        return remote.receive()

    def close(self) -> None:
        """Wait for a read still running (its batch or error is dropped), end the thread and the process."""
        pending, self._pending = self._pending, None
        if pending is not None:
            _settle(pending[1])
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for remote in (self._starting, self._remote):
            if remote is not None:
                remote.close()
        self._starting = self._remote = self._asked = None

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _settle(future: Future[Batch]) -> None:
    """Wait for a read nobody will use; whatever it raised no longer matters."""
    with contextlib.suppress(BaseException):  # the batch is dropped with its error
        future.result()


def _settle_remote(remote: Elsewhere) -> None:
    """Take an answer nobody will use; whatever it raised no longer matters."""
    with contextlib.suppress(Exception):  # the batch is dropped with its error
        remote.receive()
