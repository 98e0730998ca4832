"""The contract between the sync engine and a connector.

A connector is a small class the engine drives. It reads from and writes to one remote
account and knows nothing of our database, our workers or our schedule:

* ``check()`` proves the credentials and the reachability of the server, and says in words
  what failed (DNS, TLS, login, folder...).
* ``streams()`` names what can be pulled (``mail:INBOX``, ``contacts``, ``calendar``).
* ``pull(stream, cursor)`` returns one ``Batch``: the change records it read, the failures of
  single items, and the cursor *after* that batch. It never saves anything: the engine applies
  the changes and stores the cursor in one transaction, so a crash repeats a batch but never
  skips or doubles it. ``Batch.more`` tells the engine to call again at once with the new
  cursor, so a large first import goes batch by batch and resumes where it stopped.
* Summaries first, optional: a pull may return *summaries* (``Batch.summaries``), such as the
  headers of e-mail without their bodies. The engine asks core which of them it wants whole
  (``core.integration.apply.select_changes``: for mail, the messages with a client), drops
  those core settles as they are (mail with no client), and calls ``complete(stream, batch,
  wanted)``, which reads just the wanted ones in full. Most of a mailbox is with no client:
  its bodies never leave the server, and the import reads far fewer bytes.
* ``push(operation)`` makes one outbound change, idempotent by ``operation.key``: pushing
  the same operation twice has no second effect.
* Live mode, optional: a connector whose account asks for it (``live()`` True) can wait for the
  server to report a change (``wait_for_changes``, e.g. IMAP IDLE) on a connection of its own.
  It only *says* that something changed; the engine then runs the account through its usual
  queue, so leases and one run per account still hold, and the pull reads the change.

Change records are plain data classes defined in ``core`` (for example
``core.mail.MailMessage``); ``core`` knows how to apply each of them to the CRM.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel


@dataclass(frozen=True)
class StreamInfo:
    """One stream an account offers, such as ``mail:INBOX`` or ``contacts``."""

    name: str
    direction: Literal["pull", "push", "both"] = "pull"
    label: str = ""


@dataclass(frozen=True)
class ItemFailure:
    """One remote item that could not be read or mapped, with the reason in words."""

    item_ref: str
    reason: str
    raw: str | None = None


@dataclass
class Batch:
    """What one pull returned: changes to apply, failed items, and the cursor after them."""

    changes: list[Any] = field(default_factory=list)
    failures: list[ItemFailure] = field(default_factory=list)
    cursor: dict[str, Any] | None = None
    more: bool = False
    progress_done: int | None = None
    progress_total: int | None = None
    summaries: bool = False
    """The changes are summaries: the engine calls ``Connector.complete`` for those core wants whole."""
    settled: int = 0
    """Summaries core settled when the batch was read (nothing to apply): out of ``changes``, counted as skipped."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of ``check()``: ok, or the step that failed and why."""

    ok: bool
    step: str = ""
    message: str = ""


@dataclass(frozen=True)
class PushOperation:
    """One outbound change; ``key`` makes repeating it harmless."""

    key: str
    action: str
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PushResult:
    """What the remote side now holds for a pushed operation."""

    remote_id: str | None = None
    remote_version: str | None = None
    conflict: str | None = None


@dataclass(frozen=True)
class ConnectorContext:
    """What the engine tells a connector about the account it works for (never secrets in logs)."""

    account_id: int
    owner_email: str | None = None
    internal_domains: tuple[str, ...] = ()


class Connector(abc.ABC):
    """Base class of every connector; subclasses set ``kind``, ``title`` and ``config_model``."""

    kind: ClassVar[str]
    title: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]
    pull_ahead: ClassVar[bool] = False
    """True when ``pull`` (and ``complete``) may run in another thread while the engine commits the
    previous batch (``sync.reader``); no other method of the connector runs meanwhile."""
    pull_in_process: ClassVar[bool] = False
    """True when a long stream may be pulled (and completed) by a second instance of the connector,
    built from the same account in a process of its own (``sync.reader_process``): its change
    records, failures and errors must pickle. The engine still commits every batch itself."""

    def __init__(self, config: BaseModel, context: ConnectorContext) -> None:
        self.config = config
        self.context = context

    @abc.abstractmethod
    def check(self) -> CheckResult:
        """Prove credentials and reachability; say which step failed and why."""

    @abc.abstractmethod
    def streams(self) -> list[StreamInfo]:
        """List the streams this account offers."""

    @abc.abstractmethod
    def pull(self, stream: str, cursor: dict[str, Any] | None) -> Batch:
        """Read the next batch of changes after ``cursor`` (everything when it is None)."""

    def complete(self, stream: str, batch: Batch, wanted: set[int]) -> None:
        """Read in full the summaries at these indices of ``batch.changes`` (in place); the rest stay summaries.

        A change that can no longer be read in full becomes one of ``batch.failures``; one gone
        from the server meanwhile is dropped. Raises the usual connector errors, as ``pull`` does.
        """
        raise NotImplementedError(f"{self.kind} connector returns no summaries")

    def parse_ahead(self, batch: Batch, share: float) -> None:  # noqa: B027 - optional hook
        """Do now this share (0 to 1) of the parsing the batch's changes left for first use.

        A reading process (``sync.reader_process``) calls it before handing a batch over, with
        the share that keeps it and the engine equally busy; what it leaves is parsed by the
        engine when the change is applied. Changes that parse everything at once ignore it.
        """

    def push(self, operation: PushOperation) -> PushResult:
        """Make one outbound change, idempotent by ``operation.key``."""
        raise NotImplementedError(f"{self.kind} connector does not push")

    def live(self) -> bool:
        """True when this account asks to be watched between runs (live mode) and the connector can do it."""
        return False

    def wait_for_changes(self, seconds: float, stop: threading.Event) -> bool:
        """Wait up to ``seconds`` (less once ``stop`` is set) for the server to report a change; True if it did.

        Runs on a connection of its own, in a thread of its own; ``close()`` ends it. Raises the
        usual connector errors (``TransientError`` when the connection drops, ``AuthError``...).
        """
        raise NotImplementedError(f"{self.kind} connector has no live mode")

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the engine calls it after every run."""
