"""Reading a stream's batches one batch ahead of the commits, when the connector allows it.

A batch costs two kinds of work: reading it (the server's time, the network, parsing the
responses, asking core which items it wants whole) and committing it (matching, writing, the
database's own time). Done in turn, each waits for the other. A connector whose pulls may run
in another thread (``Connector.pull_ahead``) has its next batch read in a thread of the reader
while the engine commits the current one. Python runs one thread at a time, so the overlap is
what either side spends waiting on a socket, a database server or a C library: about a tenth
of a mailbox import on this machine (bench/README.md).

Nothing else changes. The engine still stores a batch's cursor only with the batch, so a crash
or a stop repeats at most what was read ahead, never skips it. Only one batch is read ahead
(memory holds two at most), and only for the cursor the engine is about to store: when the
engine asks for another (after a cursor reset) the read-ahead is dropped and the batch read
afresh. An error of the read-ahead (a dropped connection, an invalid cursor) is raised where
the engine asks for that batch, exactly as a direct read would raise it. The thread is always
finished before the reader closes, so the connector is never used by two threads at once and
is closed only after its last read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any

from core.integration import Batch

Cursor = dict[str, Any] | None


class Reader:
    """The batches of one stream, ``read(cursor)`` by ``read``; one read ahead in a thread when ``ahead``."""

    def __init__(self, read: Callable[[Cursor], Batch], *, ahead: bool) -> None:
        self.read = read
        self.ahead = ahead
        self._pool: ThreadPoolExecutor | None = None
        self._pending: tuple[Cursor, Future[Batch]] | None = None

    def read_ahead(self, cursor: Cursor) -> None:
        """Start reading the batch after ``cursor`` in the background (nothing when not ``ahead``)."""
        if not self.ahead or self._pending is not None:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmhub-read")
        self._pending = (cursor, self._pool.submit(self.read, cursor))

    def next(self, cursor: Cursor) -> Batch:
        """The batch after ``cursor``: the one read ahead for it, else read now; a read's error is raised here."""
        pending, self._pending = self._pending, None
        if pending is not None:
            wanted, future = pending
            if wanted == cursor:
                return future.result()
            _settle(future)  # read ahead for a cursor the engine no longer asks for
        return self.read(cursor)

    def close(self) -> None:
        """Wait for a read still running (its batch or error is dropped) and end the thread."""
        pending, self._pending = self._pending, None
        if pending is not None:
            _settle(pending[1])
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _settle(future: Future[Batch]) -> None:
    """Wait for a read nobody will use; whatever it raised no longer matters."""
    with contextlib.suppress(BaseException):  # the batch is dropped with its error
        future.result()
