"""The IMAP connector the engine drives: check a mailbox, list its folders, pull mail batch by batch.

One stream per folder, ``mail:<folder>``: INBOX and the folder the server marks ``\\Sent``
(SPECIAL-USE, else a usual name), or the folders the account names; the private folder is
never imported (its own stream, ``private:<folder>``, only notices what is moved into it, see
below). Each pull selects the folder read-only (EXAMINE; a pull that goes on with the previous
batch keeps it selected up to ``RESELECT`` seconds, since a SELECT of a large folder is slow)
and returns one batch of parsed messages (``core.mail.MailMessage``) with the folder's cursor
after them (``cursor.py`` tells how the first import walks down from the newest mail and new
mail walks up).

How one batch is read, so that memory stays flat however large the mailbox:

1. The UIDs of the batch: new mail above ``last_uid`` first, else the next ``batch_size`` UIDs
   of the first import, found by ``UID SEARCH`` over a window of UIDs (widened when the folder
   is sparse), never by listing the whole folder.
2. ``FETCH (RFC822.SIZE FLAGS BODY.PEEK[HEADER])`` of those (never ``\\Seen``): messages carrying
   the private keyword are passed over unparsed; the batch ends early when the messages would
   exceed ``BATCH_BYTES``; the rest are parsed from their header block (``mapping.parse_message``)
   into *summaries* (``MailMessage.summary``), which is all core needs to tell whether a message
   is with a client: the batch goes to the engine as summaries.
3. ``complete``: the engine asks core which summaries it wants whole (the mail with clients) and
   the connector fetches ``INTERNALDATE BODY.PEEK[TEXT]`` of just those; the header block and
   the text together are the message, built from its summary (``mapping.completed``: the
   headers are not parsed again; the body lazily, when core reads it). A message over
   ``max_message_mb`` keeps its headers only. Most mail is with no
   client: its body never leaves the server. The raw bytes travel on in ``MailMessage.raw``:
   core stores them compressed for the messages it logs.

A message from which no sender and no recipient could be read is returned as a failure with
its UID and the reasons, for the admin's list of skipped items; anything readable is returned,
its problems attached. A message the server itself cannot return (a damaged mail file: Dovecot
answers "Internal error" and drops the connection) must not stop the account for good: the
chunk it was in is read again message by message, and that one becomes a failure with its UID.

Privacy, by the user's own hand: mail in the private folder is never imported; a message
carrying the private keyword (``$Private`` by default) is never read either. When a message
that was already logged gets the keyword later, the next pull (which sees it through
CONDSTORE's HIGHESTMODSEQ, without reading every flag) returns a ``MailMarkedPrivate`` record,
and core takes the logged copy off the client cards. When one is moved into the private folder
later, the stream ``private:<folder>`` (offered when that folder exists) notices: it reads the
Message-ID, From, To, Date and Subject lines of each message that comes into the folder,
nothing else of it, and returns a ``MailMovedPrivate`` record naming what the message is stored
under (its Message-ID, or the hash of the other four), which core treats the same way.

Live mode (``live``): the engine's watcher keeps one more connection per live account, which
waits in IMAP IDLE on INBOX (``wait_for_changes``); when the server announces new mail, the
engine queues a run of the account at once, and the usual pull reads it. A run never waits:
its worker is free for other accounts meanwhile. A server without IDLE is asked with NOOP every
``LIVE_POLL`` seconds instead. Between two waits the folder's UIDNEXT is compared with the last
one seen, so mail that came while no IDLE was running is not missed either.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel

from connectors.email.client import FolderState, Head, MailboxClient
from connectors.email.config import ImapConfig
from connectors.email.cursor import FolderCursor
from connectors.email.mapping import LazyMailMessage, completed, message_identity, parse_message
from core.integration import (
    Batch,
    CheckResult,
    Connector,
    ConnectorContext,
    ConnectorError,
    CursorInvalidError,
    ItemFailure,
    PermanentError,
    StreamInfo,
    TransientError,
)
from core.mail import MailMessage
from core.mail.store import MailMarkedPrivate, MailMovedPrivate

PREFIX = "mail:"
PRIVATE_PREFIX = "private:"
BATCH_BYTES = 32 * 1024 * 1024
"""A batch stops growing once the bodies it would fetch reach this size."""
FETCH_CHUNK = 200
"""Messages per FETCH command; the responses are parsed and released chunk by chunk."""
TIMEOUT = 60.0
RESELECT = 30.0
"""Within a run, a folder is selected again (to see mail that came meanwhile) at most this often (seconds)."""
LIVE_POLL = 15.0
"""How often a server without IDLE is asked for new mail in live mode (seconds)."""
LIVE_FOLDER = "INBOX"


def folder_of(stream: str) -> str:
    """The folder a ``mail:<folder>`` stream reads."""
    if not stream.startswith(PREFIX) or len(stream) == len(PREFIX):
        raise PermanentError(f"'{stream}' is not a mail stream (mail:<folder>)", item_ref=stream)
    return stream[len(PREFIX) :]


def _check_step(exc: ConnectorError) -> str:
    """The failing step of a check, in the words an admin looks for."""
    if "DNS lookup" in exc.message:
        return "DNS"
    if exc.step == "starttls" or "TLS" in exc.message:
        return "TLS"
    return {"login": "login", "select": "folder", "list": "folder"}.get(exc.step, exc.step or "connect")


class ImapConnector(Connector):
    """One mailbox over IMAP, read-only: correspondence is logged on the clients it belongs to."""

    kind: ClassVar[str] = "imap"
    title: ClassVar[str] = "IMAP mailbox (mail lands on the client's card)"
    config_model: ClassVar[type[BaseModel]] = ImapConfig
    pull_ahead: ClassVar[bool] = True
    pull_in_process: ClassVar[bool] = True
    offered_streams: ClassVar[tuple[StreamInfo, ...]] = (
        StreamInfo("mail:INBOX", "pull", "Inbox"),
        StreamInfo("mail:<Sent>", "pull", "Sent (the folder the server marks as Sent)"),
    )

    def __init__(self, config: BaseModel, context: ConnectorContext) -> None:
        super().__init__(config, context)
        assert isinstance(config, ImapConfig)
        self.cfg = config
        self._client: MailboxClient | None = None
        self._folders: list[str] | None = None
        self._watch: MailboxClient | None = None
        self._watch_uidnext: int | None = None
        self._states: dict[str, FolderState] = {}
        self._going_on: set[str] = set()
        """Folders whose last batch said "more": the next pull goes on without selecting again."""
        self._sizes: dict[int, int] = {}
        """RFC822.SIZE of the messages of the last batch, by UID (``complete`` reads only the ones in bounds)."""

    # ------------------------------------------------------------------ connection

    def _new_client(self) -> MailboxClient:
        c = self.cfg
        return MailboxClient(c.host, c.port, c.security, c.username, c.password, timeout=TIMEOUT)

    def _open(self) -> MailboxClient:
        if self._client is None:
            client = self._new_client()
            client.connect()
            self._client = client
        return self._client

    def close(self) -> None:
        """Log out (both connections); the engine calls this after every run and when a watch ends."""
        for client in (self._client, self._watch):
            if client is not None:
                client.close()
        self._client = self._watch = None

    def _wanted_folders(self, client: MailboxClient) -> list[str]:
        if self._folders is None:
            if self.cfg.folders:
                names = list(self.cfg.folders)
            else:
                sent = client.sent_folder()
                names = ["INBOX", *([sent] if sent and sent != "INBOX" else [])]
            private = self.cfg.private_folder
            self._folders = [n for n in names if not private or n != private]
        return self._folders

    # ------------------------------------------------------------------ contract

    def check(self) -> CheckResult:
        """Connect, secure, log in and select every folder to import; say which step failed."""
        client = self._new_client()
        try:
            client.connect()
            folders = self._wanted_folders(client)
            for folder in folders:
                client.select(folder)
        except ConnectorError as exc:
            return CheckResult(ok=False, step=_check_step(exc), message=exc.message)
        finally:
            client.close()
        if not self.cfg.folders and len(folders) == 1:
            return CheckResult(ok=True, message="no Sent folder found (no SPECIAL-USE flag, no usual name): INBOX only")
        return CheckResult(ok=True, message="folders: " + ", ".join(folders))

    def streams(self) -> list[StreamInfo]:
        """One stream per folder to import (INBOX and Sent by default), then the private folder's when it exists."""
        client = self._open()
        found = [StreamInfo(PREFIX + f, "pull", f) for f in self._wanted_folders(client)]
        private = self.cfg.private_folder
        if private and any(f.name == private and f.selectable for f in client.list_folders()):
            found.append(StreamInfo(PRIVATE_PREFIX + private, "pull", f"{private}: mail moved here leaves the clients"))
        return found

    def pull(self, stream: str, cursor: dict[str, Any] | None) -> Batch:
        """The next batch of the folder's mail after ``cursor`` (newest first on the first import)."""
        if stream.startswith(PRIVATE_PREFIX) and len(stream) > len(PRIVATE_PREFIX):
            return self._moved_private(stream[len(PRIVATE_PREFIX) :], cursor)
        folder = folder_of(stream)
        if self.cfg.private_folder and folder == self.cfg.private_folder:
            return Batch(cursor=cursor, more=False)
        client = self._open()
        # A batch that continues the previous one (which said "more") keeps the folder selected.
        state = self._states[folder] = client.select(folder, max_age=RESELECT if folder in self._going_on else 0)
        cur = self._position(client, folder, state, cursor)
        batch = self._new_mail(client, folder, state, cur)
        if batch is None and not cur.initial_done:
            batch = self._first_import(client, folder, state, cur)
        if batch is None:
            batch = self._flag_changes(client, folder, state, cur)
        batch = batch or Batch()
        (self._going_on.add if batch.more else self._going_on.discard)(folder)
        batch.cursor = cur.dump()
        batch.progress_done, batch.progress_total = cur.done, max(cur.total, cur.done)
        return batch

    # ------------------------------------------------------------------ the steps of a pull

    def _position(
        self, client: MailboxClient, folder: str, state: FolderState, cursor: dict[str, Any] | None
    ) -> FolderCursor:
        if cursor is None:
            high = state.uidnext - 1 if state.uidnext else max(client.search_uid_range(1, 2**32 - 1), default=0)
            if self.cfg.since_date is not None:
                total = len(client.search_uid_range(1, high, self.cfg.since_date))
            else:
                total = state.exists
            return FolderCursor.start(
                uidvalidity=state.uidvalidity, uidnext=high + 1, highestmodseq=state.highestmodseq, total=total
            )
        cur = FolderCursor.load(cursor, folder)
        if cur.uidvalidity != state.uidvalidity:
            raise CursorInvalidError(
                f"{folder}: UIDVALIDITY changed from {cur.uidvalidity} to {state.uidvalidity} (the server renumbered "
                "the folder); it is read again, and mail already logged is recognised by its Message-ID",
                step="select",
            )
        return cur

    def _new_mail(self, client: MailboxClient, folder: str, state: FolderState, cur: FolderCursor) -> Batch | None:
        if state.uidnext is not None and state.uidnext - 1 <= cur.last_uid:
            return None
        found = client.search_uid_range(cur.last_uid + 1, 2**32 - 1, self.cfg.since_date)
        if not found:
            if state.uidnext is not None:  # nothing below UIDNEXT can appear any more
                cur.last_uid = max(cur.last_uid, state.uidnext - 1)
            return None
        batch, passed = self._read(client, folder, state, found[: self.cfg.batch_size])
        cur.read_up_to(passed[-1], len(passed))
        batch.more = len(found) > len(passed) or not cur.initial_done
        return batch

    def _first_import(self, client: MailboxClient, folder: str, state: FolderState, cur: FolderCursor) -> Batch | None:
        todo = self._next_down(client, cur)
        if not todo:
            cur.finish_initial()
            return None
        batch, passed = self._read(client, folder, state, todo)
        cur.read_down_to(passed[-1], len(passed))
        batch.more = True  # the next pull finds out whether anything is left below
        return batch

    def _next_down(self, client: MailboxClient, cur: FolderCursor) -> list[int]:
        """The next UIDs of the first import, highest first: one SEARCH over a window below ``initial_low``."""
        high, want = cur.initial_low - 1, self.cfg.batch_size
        width = 2 * want + 16
        while high >= 1:
            low = max(1, high - width + 1)
            found = client.search_uid_range(low, high, self.cfg.since_date)
            if len(found) >= want or low == 1:
                return found[::-1][:want]
            width *= 8  # a sparse folder (much deleted): look further down at once
        return []

    def _flag_changes(self, client: MailboxClient, folder: str, state: FolderState, cur: FolderCursor) -> Batch | None:
        """Messages already passed that the user has since marked private (needs CONDSTORE).

        Asked only when nothing else is left to read, so HIGHESTMODSEQ moves on only here.
        """
        if state.highestmodseq is None:
            return None
        if cur.highestmodseq is None or state.highestmodseq <= cur.highestmodseq:
            cur.highestmodseq = state.highestmodseq
            return None
        marked = client.with_keyword_changed_since(self.cfg.private_flag, cur.highestmodseq)
        cur.highestmodseq = state.highestmodseq
        hidden = [MailMarkedPrivate(folder, uid, state.uidvalidity) for uid in marked if cur.has_read(uid)]
        return Batch(changes=list(hidden), more=True) if hidden else None

    def _moved_private(self, folder: str, cursor: dict[str, Any] | None) -> Batch:
        """What the mail that came into the private folder since ``cursor`` is stored under; nothing else is read.

        Its cursor is the last UID passed, for one UIDVALIDITY; after a change of UIDVALIDITY
        the folder is gone through again (marking private twice changes nothing).
        """
        client = self._open()
        state = self._states[folder] = client.select(folder)
        last = 0
        if cursor and cursor.get("uidvalidity") == state.uidvalidity and isinstance(cursor.get("last_uid"), int):
            last = cursor["last_uid"]
        found = client.search_uid_range(last + 1, 2**32 - 1)
        todo = found[: self.cfg.batch_size]
        if todo:
            last = todo[-1]
        elif state.uidnext is not None:  # nothing below UIDNEXT can appear any more
            last = max(last, state.uidnext - 1)
        batch = Batch(cursor={"uidvalidity": state.uidvalidity, "last_uid": last}, more=len(found) > len(todo))
        for _uid, head in self._chunked(folder, state, todo, _identity_lines):
            if isinstance(head, ItemFailure):
                batch.failures.append(head)
                continue
            identity = message_identity(head)
            if identity:  # one with none of those lines cannot be recognised: it stays where it was logged
                batch.changes.append(MailMovedPrivate(folder, identity))
        return batch

    # ------------------------------------------------------------------ live mode

    def live(self) -> bool:
        """True when the account asks for live mode and INBOX is one of its folders."""
        return self.cfg.live and (not self.cfg.folders or LIVE_FOLDER in self.cfg.folders)

    def wait_for_changes(self, seconds: float, stop: threading.Event) -> bool:
        """Wait in IDLE on INBOX (NOOP polling without IDLE) up to ``seconds``; True when new mail came."""
        try:
            if self._watch is None:
                client = self._new_client()
                client.connect()
                self._watch = client
            state = self._watch.select(LIVE_FOLDER)
            seen, self._watch_uidnext = self._watch_uidnext, state.uidnext
            if seen is None:
                # A watch that starts cannot know what came since the last run read the folder (mail
                # may have arrived just before this SELECT): ask for one run rather than miss it.
                return True
            if state.uidnext != seen:
                return True  # it came between two waits
            if not self._watch.wait_for_mail(seconds, stop, poll=LIVE_POLL):
                return False
            self._watch_uidnext = self._watch.select(LIVE_FOLDER).uidnext
            return True
        except ConnectorError:
            watch, self._watch = self._watch, None
            if watch is not None:
                watch.close()
            raise

    # ------------------------------------------------------------------ reading messages

    def _read(self, client: MailboxClient, folder: str, state: FolderState, uids: list[int]) -> tuple[Batch, list[int]]:
        """The summaries of these UIDs (in this order) within the batch's byte budget; the batch and the UIDs passed.

        A summary is the message parsed from its header block; ``complete`` reads the rest of
        the messages core wants.
        """
        heads: dict[int, Head | ItemFailure] = dict(self._chunked(folder, state, uids, _heads))
        batch = Batch(summaries=True)
        passed: list[int] = []
        self._sizes = {}
        used = taken = 0
        for uid in uids:
            head = heads.get(uid)
            if not isinstance(head, Head) or self.cfg.private_flag in head.flags:
                passed.append(uid)  # unreadable (a failure), expunged meanwhile, or marked private: nothing to read
                if isinstance(head, ItemFailure):
                    batch.failures.append(head)
                continue
            cost = min(head.size, self.cfg.max_message)
            if taken and used + cost > BATCH_BYTES:
                break
            used, taken = used + cost, taken + 1
            passed.append(uid)
            self._sizes[uid] = head.size
            summary = self._parse(folder, state, uid, head.header, None, head.flags, summary=True)
            _file(batch.changes, batch.failures, summary)
        return batch, passed

    def complete(self, stream: str, batch: Batch, wanted: set[int]) -> None:
        """Read the rest of the messages core wants (the text after the header block, INTERNALDATE).

        A message over ``max_message_mb`` stays its headers, with a problem saying so.
        """
        folder = folder_of(stream)
        state = self._states[folder]
        chosen = {i: c for i, c in enumerate(batch.changes) if i in wanted and isinstance(c, MailMessage) and c.summary}
        by_uid = {c.uid: c for c in chosen.values()}
        big = {uid for uid in by_uid if self._sizes.get(uid, 0) > self.cfg.max_message}
        read = itertools.chain(
            self._chunked(folder, state, sorted(set(by_uid) - big), _rests),
            self._chunked(folder, state, sorted(big), _dates),
        )
        full: dict[int, MailMessage | ItemFailure] = {}
        for uid, got in read:
            if isinstance(got, ItemFailure):
                full[uid] = got
                continue
            internal_date, rest = got
            summary = by_uid[uid]
            record = completed(summary, rest, internal_date) or self._parse(
                folder, state, uid, summary.raw + rest, internal_date, summary.flags
            )
            if uid in big:
                record.problems.append(
                    f"message of {self._sizes[uid] // (1024 * 1024)} MB is over the limit of "
                    f"{self.cfg.max_message_mb} MB: only its headers were read"
                )
            full[uid] = record
        changes: list[Any] = []
        for index, change in enumerate(batch.changes):
            got = full.get(change.uid) if index in chosen else change
            if isinstance(got, ItemFailure):
                batch.failures.append(got)
            elif got is not None:  # None: gone from the server since its headers were read
                _file(changes, batch.failures, got)
        batch.changes = changes

    def parse_ahead(self, batch: Batch, share: float) -> None:
        """Parse the bodies of this share of the batch's messages read in full (the rest are parsed where applied)."""
        lazy = [c for c in batch.changes if isinstance(c, LazyMailMessage) and not c.summary and "body" in c.unparsed()]
        for record in lazy[: round(len(lazy) * share)]:
            record.parse_body()

    def _chunked(self, folder: str, state: FolderState, uids: list[int], read: Reading) -> Iterator[tuple[int, Any]]:
        """``read`` FETCH_CHUNK UIDs at a time: (uid, what was read); a chunk the server fails on is read one by one."""
        for start in range(0, len(uids), FETCH_CHUNK):
            chunk = uids[start : start + FETCH_CHUNK]
            try:
                got = list(read(self._reopen(folder, state), chunk))
            except (TransientError, PermanentError) as exc:
                yield from self._one_by_one(folder, state, chunk, read, exc)
                continue
            yield from got

    def _one_by_one(
        self, folder: str, state: FolderState, uids: list[int], read: Reading, error: ConnectorError
    ) -> Iterator[tuple[int, Any]]:
        """Read a chunk the server failed on message by message (on a fresh connection after each failure).

        A message the server cannot return (Dovecot drops the connection with "Internal error" when
        a mail file is unreadable) becomes a failure with its UID, and the rest are read. When no
        message of the chunk can be read, the trouble is the server's, and the error goes up.
        """
        self.close()  # the failed command may have taken the connection down
        out: list[tuple[int, Any]] = []
        for uid in uids:
            client = self._reopen(folder, state)
            try:
                out += list(read(client, [uid]))
            except (TransientError, PermanentError) as exc:
                self.close()
                out.append((uid, ItemFailure(f"{folder} UID {uid}", f"the server could not return it: {exc.message}")))
        if len(uids) > 1 and all(isinstance(got, ItemFailure) for _, got in out):
            raise error
        yield from out

    def _reopen(self, folder: str, state: FolderState) -> MailboxClient:
        """A working connection with the folder selected again, UIDVALIDITY unchanged."""
        if self._client is None:
            again = self._open().select(folder)
            if again.uidvalidity != state.uidvalidity:
                raise CursorInvalidError(f"{folder}: UIDVALIDITY changed during the import", step="select")
        return self._open()

    def _parse(
        self,
        folder: str,
        state: FolderState,
        uid: int,
        raw: bytes,
        internal_date: datetime | None,
        flags: tuple[str, ...],
        *,
        summary: bool = False,
    ) -> MailMessage:
        """The message parsed, its body on first use; a summary's subject, date and ids on first use too."""
        record = parse_message(
            raw,
            folder=folder,
            uid=uid,
            internal_date=internal_date,
            flags=flags,
            attachment_cap=self.cfg.attachment_cap,
            lazy_body=True,
            lazy_details=summary,
        )
        record.uidvalidity = state.uidvalidity
        record.summary = summary
        return record


Reading = Callable[[MailboxClient, list[int]], Iterable[tuple[int, Any]]]
"""One FETCH of some UIDs: (uid, what was read) per message still on the server."""


def _heads(client: MailboxClient, uids: list[int]) -> Iterator[tuple[int, Head]]:
    return ((head.uid, head) for head in client.fetch_heads(uids))


def _identity_lines(client: MailboxClient, uids: list[int]) -> Iterator[tuple[int, bytes]]:
    return client.fetch_identity_headers(uids)


def _rests(client: MailboxClient, uids: list[int]) -> Iterator[tuple[int, tuple[datetime | None, bytes]]]:
    return ((uid, (internal_date, rest)) for uid, internal_date, rest in client.fetch_rest(uids))


def _dates(client: MailboxClient, uids: list[int]) -> Iterator[tuple[int, tuple[datetime | None, bytes]]]:
    return ((uid, (internal_date, b"")) for uid, internal_date, _ in client.fetch_rest(uids, text=False))


def _file(changes: list[Any], failures: list[ItemFailure], record: MailMessage) -> None:
    """A change when anything useful could be read; otherwise a failure with the UID and the reasons."""
    ref = f"{record.folder} UID {record.uid}"
    if not record.raw:
        failures.append(ItemFailure(ref, "the server returned an empty message"))
    elif not record.from_ and not (record.to or record.cc or record.bcc):
        reasons = "; ".join(record.problems) or "no From, To or Cc header"
        raw = record.raw[:4000].decode("utf-8", "replace").replace("\x00", "")
        failures.append(ItemFailure(ref, f"no sender or recipient could be read ({reasons})", raw))
    else:
        changes.append(record)
