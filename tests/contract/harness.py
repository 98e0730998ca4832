"""What the contract suite needs from each connector: a harness that drives its peer.

A harness stands up the connector's peer (a real server on 127.0.0.1, or an HTTP-level fake,
or the loopback folder) with a few records on it, and can make changes on the server side.
Each connector issue adds a module ``tests/contract/harness_<kind>.py`` with a factory, and one
line to ``HARNESSES`` in ``tests/contract/conftest.py``; the whole suite then runs against it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from core.integration import Batch, Connector, PushOperation


class ConnectorHarness(Protocol):
    """A connector configured against its peer, plus the peer's server-side controls."""

    kind: str
    stream: str
    """The stream the suite pulls."""
    secret: str
    """A secret of the config (a password, a token), which must never show in its repr."""

    def connector(self) -> Connector:
        """A fresh connector configured for the peer (the engine makes one per run)."""

    def expected_keys(self) -> set[str]:
        """The keys of every record the stream holds now."""

    def key(self, change: Any) -> str:
        """The remote identity of a change record (remote id, Message-ID, UID...)."""

    def server_change(self) -> str:
        """Change (or add) one record on the server side; returns its key."""

    def stale_cursor(self, cursor: dict[str, Any]) -> dict[str, Any]:
        """Make the server forget this position (expire a token, compact, change UIDVALIDITY); returns it."""

    def push_operation(self) -> PushOperation | None:
        """An outbound change this connector can push, or None when it does not push."""

    def remote_state(self) -> Any:
        """A comparable snapshot of what the server holds (to see that a repeated push changed nothing)."""


HarnessFactory = Callable[[Path], AbstractContextManager[ConnectorHarness]]
"""Builds a harness in a temporary folder; the context manager stops the peer on exit."""


def read_batch(
    connector: Connector, stream: str, cursor: dict[str, Any] | None = None, wanted: set[int] | None = None
) -> Batch:
    """One batch as the engine reads it: a pull, then, for summaries, ``complete`` of ``wanted`` (default: all)."""
    batch = connector.pull(stream, cursor)
    if batch.summaries:
        connector.complete(stream, batch, set(range(len(batch.changes))) if wanted is None else wanted)
    return batch


def pull_all(connector: Connector, stream: str, cursor: dict[str, Any] | None = None) -> tuple[list[Any], dict | None]:
    """Pull batch after batch until the connector says there is no more; all changes and the last cursor."""
    changes: list[Any] = []
    for _ in range(10_000):
        batch = read_batch(connector, stream, cursor)
        changes += batch.changes
        cursor = batch.cursor
        if not batch.more:
            return changes, cursor
    raise AssertionError("the connector kept saying 'more' for 10,000 batches")
