"""A thin, read-only wrapper over imapclient: connect, list, select, search, fetch.

It exists so the connector talks in our terms (UTC datetimes, ``str`` flags, folder states as
data) and so every failure leaves as a core error class with the step named (``connect``,
``starttls``, ``login``, ``list``, ``select``, ``search``, ``fetch``, ``noop``, ``idle``); the
mapping itself is ``errors.classify``.

Choices, most of them forced by the protocol or by imapclient:

* **Read-only by construction.** Folders are selected with EXAMINE (``readonly=True``) and bodies
  fetched with ``BODY.PEEK[]``, so importing never sets ``\\Seen`` on the user's mail.
* **Timeouts everywhere.** imapclient can hang on long runs; one socket timeout covers the
  connect and every read, and ``noop()`` is there for keep-alives.
* **imapclient quirks.** It defaults to TLS, so plain ports pass ``ssl=False``. UIDs are always
  explicit lists, found by ``UID SEARCH`` over a window of UIDs (``search_uid_range``), never by
  listing a whole folder (imapclient's own ``fetch()`` would drop every response of a range
  such as ``'1:*'``); times are read as imapclient reads them with ``normalise_times = False``
  (aware) and converted to UTC here.
* **Headers before bodies.** ``fetch_heads`` reads RFC822.SIZE, FLAGS and the header block
  (``BODY.PEEK[HEADER]``), which is what deciding needs: private mail is skipped, batches are
  planned by bytes, and core tells which messages are with a client. ``fetch_rest`` then reads
  the text after the header block (``BODY.PEEK[TEXT]``: header block and text together are the
  whole message) and INTERNALDATE of those alone. INTERNALDATE is left out of the first
  FETCH on purpose: imapclient turns every one into a datetime, which costs as much as
  parsing the rest of the response.
* **FETCH responses read fast** (``responses.py``): imapclient's parser reads a response a byte
  at a time, which was the largest cost of reading a mailbox of small mail; the plain responses
  an import asks for are read a token at a time instead, the rest still by imapclient.
* **imaplib's debug lines off.** imapclient sets imaplib's debug level to 5 and hands its
  messages to the ``imapclient.imaplib`` logger, and imaplib builds every message (the repr of
  each line and literal it reads) before the logger can drop it: a quarter of the CPU time of
  a header FETCH, over half of a body FETCH. Unless that logger is enabled for DEBUG, the level goes back to imaplib's
  own default, 0 (``_quiet``), so protocol traces are still there for whoever turns them on.
* **CONDSTORE** is ENABLEd at login when the server offers it, so SELECT reports HIGHESTMODSEQ,
  and ``SEARCH KEYWORD ... MODSEQ n`` finds the messages marked with a keyword since a pull.
* **IDLE** (``wait_for_mail``) waits for new mail for a bounded time, ends early on a stop
  event, and always leaves the connection in command mode; a server without IDLE is asked
  with NOOP every so often instead.
* **Secrets.** The password is kept in a ``SecretStr``, never in a repr, and masked out of every
  error message by ``classify``. Credentials that are not ASCII go through AUTHENTICATE PLAIN
  (UTF-8), which the LOGIN command cannot carry.
* Not thread safe, like imapclient itself: one client per worker.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from imapclient import IMAPClient, SocketTimeout
from pydantic import SecretStr

from connectors.email.errors import classify
from connectors.email.responses import fetch
from core.integration import AuthError, PermanentError

Security = Literal["tls", "starttls", "plain"]

SENT_NAMES = ("sent", "sent items", "sent messages", "sent mail", "отправленные", "inbox.sent", "inbox/sent")
HEAD_ITEMS = ["RFC822.SIZE", "FLAGS", "BODY.PEEK[HEADER]"]
REST_ITEMS = ["INTERNALDATE", "BODY.PEEK[TEXT]"]


@dataclass(frozen=True)
class Head:
    """What ``fetch_heads`` returns for one message: its size, flags and header block (no body)."""

    uid: int
    size: int
    flags: tuple[str, ...]
    header: bytes


@dataclass(frozen=True)
class Folder:
    """One folder from LIST: its name, its attributes (``\\Sent``, ``\\Noselect``...) and delimiter."""

    name: str
    flags: tuple[str, ...] = ()
    delimiter: str | None = None

    @property
    def special_use(self) -> str | None:
        """The RFC 6154 SPECIAL-USE attribute (``\\Sent``, ``\\Trash``...), if the server gave one."""
        for flag in self.flags:
            if flag.lower() in _SPECIAL_USE:
                return _SPECIAL_USE[flag.lower()]
        return None

    @property
    def selectable(self) -> bool:
        """False for folders that only hold other folders."""
        return not any(f.lower() in ("\\noselect", "\\nonexistent") for f in self.flags)


_SPECIAL_USE = {f.lower(): f for f in ("\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash")}


@dataclass(frozen=True)
class FolderState:
    """What SELECT said about a folder; a change of ``uidvalidity`` invalidates every stored UID."""

    uidvalidity: int
    uidnext: int | None
    exists: int
    highestmodseq: int | None


def _text(value: bytes | str | int | None) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def to_utc(value: datetime | None) -> datetime | None:
    """An aware UTC datetime (a naive one is taken as UTC), or None."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _quiet(client: IMAPClient) -> None:
    """Turn imaplib's debug messages off unless imapclient's protocol log is enabled (see the module notes)."""
    if logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
        return
    imap = getattr(client, "_imap", None)  # imapclient's imaplib connection: it has no public switch
    if imap is not None and hasattr(imap, "debug"):
        imap.debug = 0


class MailboxClient:
    """One IMAP connection to one mailbox, read-only; every error is a core error class."""

    def __init__(
        self,
        host: str,
        port: int,
        security: Security,
        username: str,
        password: str | SecretStr,
        timeout: float = 30.0,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in ("tls", "starttls", "plain"):
            raise ValueError(f"unknown security {security!r}; use tls, starttls or plain")
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self._password = password if isinstance(password, SecretStr) else SecretStr(password)
        self.timeout = timeout
        self._ssl_context = ssl_context
        self._client: IMAPClient | None = None
        self._folder: str | None = None
        self._selected: tuple[str, bool, float, FolderState] | None = None
        """The folder last selected on this connection: name, read-only, when, and its state then."""

    def __repr__(self) -> str:
        return f"MailboxClient({self.host}:{self.port}, {self.security}, user={self.username!r})"

    def __enter__(self) -> MailboxClient:
        self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ connection

    def connect(self) -> None:
        """Open the connection, secure it as configured, log in and enable CONDSTORE."""
        self.close()
        target = f"{self.host}:{self.port}"
        context = self._ssl_context or ssl.create_default_context()
        try:
            client = IMAPClient(
                self.host,
                self.port,
                ssl=self.security == "tls",
                ssl_context=context if self.security == "tls" else None,
                timeout=SocketTimeout(connect=self.timeout, read=self.timeout),
            )
        except Exception as exc:
            raise classify(exc, "connect", target=target) from exc
        client.normalise_times = False
        _quiet(client)
        try:
            if self.security == "starttls":
                try:
                    client.starttls(context)
                except Exception as exc:
                    raise classify(exc, "starttls", target=target) from exc
            self._login(client)
            self._enable_condstore(client)
        except BaseException:
            _shutdown(client)
            raise
        self._client = client

    def _login(self, client: IMAPClient) -> None:
        password = self._password.get_secret_value()
        target = f"as {self.username}"
        try:
            if f"{self.username}{password}".isascii():
                client.login(self.username, password)
            elif client.has_capability("AUTH=PLAIN"):
                client.plain_login(self.username, password)
            else:
                raise AuthError(
                    f"login {target}: the server cannot take non-ASCII credentials (no AUTH=PLAIN)", step="login"
                )
        except Exception as exc:
            raise classify(exc, "login", target=target, secrets=[password]) from exc

    @staticmethod
    def _enable_condstore(client: IMAPClient) -> None:
        try:
            if client.has_capability("CONDSTORE") and client.has_capability("ENABLE"):
                client.enable("CONDSTORE")
        except Exception as exc:
            raise classify(exc, "enable CONDSTORE") from exc

    def _require(self) -> IMAPClient:
        if self._client is None:
            raise RuntimeError("MailboxClient is not connected; call connect() first")
        return self._client

    @property
    def capabilities(self) -> frozenset[str]:
        """The server's capabilities after login, upper-case."""
        try:
            return frozenset(_text(c).upper() for c in self._require().capabilities())
        except RuntimeError:
            raise
        except Exception as exc:
            raise classify(exc, "capability") from exc

    def noop(self) -> None:
        """Send NOOP: keeps the connection alive and proves it still works."""
        try:
            self._require().noop()
        except RuntimeError:
            raise
        except Exception as exc:
            raise classify(exc, "noop") from exc

    def close(self) -> None:
        """Log out and close the socket; never raises."""
        client, self._client, self._folder, self._selected = self._client, None, None, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:
            _shutdown(client)

    # ------------------------------------------------------------------ folders

    def list_folders(self) -> list[Folder]:
        """All folders with their LIST attributes, SPECIAL-USE flags included."""
        try:
            listing = self._require().list_folders()
        except RuntimeError:
            raise
        except Exception as exc:
            raise classify(exc, "list") from exc
        return [
            Folder(name=_text(name), flags=tuple(_text(f) for f in flags), delimiter=_text(delim) or None)
            for flags, delim, name in listing
        ]

    def sent_folder(self, folders: Iterable[Folder] | None = None) -> str | None:
        """The folder marked ``\\Sent`` by SPECIAL-USE, else one with a usual Sent name, else None."""
        folders = list(self.list_folders() if folders is None else folders)
        for folder in folders:
            if folder.special_use == "\\Sent" and folder.selectable:
                return folder.name
        for wanted in SENT_NAMES:
            for folder in folders:
                if folder.name.lower() == wanted and folder.selectable:
                    return folder.name
        return None

    def select(self, folder: str, readonly: bool = True, *, max_age: float = 0.0) -> FolderState:
        """Select a folder (EXAMINE by default) and return UIDVALIDITY, UIDNEXT, EXISTS, HIGHESTMODSEQ.

        With ``max_age``, a folder this connection selected (the same way) less than that many
        seconds ago stays selected and its state is returned as it was: a SELECT of a large
        folder costs the server about 2 ms per thousand messages (60 ms at 30,000).
        """
        last = self._selected
        if max_age > 0 and last is not None and last[:2] == (folder, readonly) and time.monotonic() - last[2] < max_age:
            return last[3]
        try:
            response = self._require().select_folder(folder, readonly=readonly)
        except RuntimeError:
            raise
        except Exception as exc:
            raise classify(exc, "select", target=repr(folder)) from exc
        uidvalidity = response.get(b"UIDVALIDITY")
        if uidvalidity is None:
            raise PermanentError(f"select {folder!r}: the server sent no UIDVALIDITY")
        self._folder = folder
        state = FolderState(
            uidvalidity=int(uidvalidity),
            uidnext=_int_or_none(response.get(b"UIDNEXT")),
            exists=int(response.get(b"EXISTS", 0)),
            highestmodseq=_int_or_none(response.get(b"HIGHESTMODSEQ")),
        )
        self._selected = (folder, readonly, time.monotonic(), state)
        return state

    # ------------------------------------------------------------------ messages

    def search_uids(self, since_uid: int | None = None, since_date: date | None = None) -> list[int]:
        """UIDs in the selected folder at or above ``since_uid`` and on or after ``since_date``, ascending."""
        criteria: list[object] = []
        if since_uid is not None:
            criteria += ["UID", f"{max(1, int(since_uid))}:*"]
        if since_date is not None:
            criteria += ["SINCE", since_date.date() if isinstance(since_date, datetime) else since_date]
        try:
            uids = self._require().search(criteria or ["ALL"])
        except RuntimeError:
            raise
        except Exception as exc:
            raise classify(exc, "search", target=repr(self._folder)) from exc
        # "n:*" always matches the highest UID, even when it is below n.
        return sorted(int(u) for u in uids if since_uid is None or int(u) >= since_uid)

    def search_uid_range(self, low: int, high: int, since_date: date | None = None) -> list[int]:
        """UIDs from ``low`` to ``high`` (both included), on or after ``since_date`` if given, ascending."""
        if high < max(1, low):
            return []
        criteria: list[object] = ["UID", f"{max(1, int(low))}:{int(high)}"]
        if since_date is not None:
            criteria += ["SINCE", since_date.date() if isinstance(since_date, datetime) else since_date]
        try:
            uids = self._require().search(criteria)
        except RuntimeError:
            raise
        except Exception as exc:
            raise classify(exc, "search", target=repr(self._folder)) from exc
        return sorted(int(u) for u in uids if low <= int(u) <= high)

    def fetch_heads(self, uids: Iterable[int]) -> Iterator[Head]:
        """Size, flags and header block of these messages, in UID order, without setting \\Seen."""
        for uid, item in self._fetch(uids, HEAD_ITEMS):
            header = item.get(b"BODY[HEADER]")
            flags = tuple(_text(f) for f in item.get(b"FLAGS", ()))
            yield Head(uid, _int_or_none(item.get(b"RFC822.SIZE")) or 0, flags, bytes(header or b""))

    def fetch_identity_headers(self, uids: Iterable[int]) -> Iterator[tuple[int, bytes]]:
        """(uid, its Message-ID, From, To, Date and Subject lines) per message, in UID order: nothing else is read.

        Those are what a message is known by when stored: its Message-ID, or without one a hash
        of the other four (``mapping.message_identity``).
        """
        for uid, item in self._fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID FROM TO DATE SUBJECT)]"]):
            value = next((v for k, v in item.items() if isinstance(k, bytes) and k.startswith(b"BODY[")), b"")
            yield uid, bytes(value or b"")

    def fetch_rest(self, uids: Iterable[int], *, text: bool = True) -> Iterator[tuple[int, datetime | None, bytes]]:
        """(uid, INTERNALDATE in UTC, the message after its header block) per message, in UID order.

        ``text=False`` reads INTERNALDATE alone (for a message too large to read whole).
        """
        for uid, item in self._fetch(uids, REST_ITEMS if text else REST_ITEMS[:1]):
            idate = item.get(b"INTERNALDATE")
            body = item.get(b"BODY[TEXT]") if text else None
            yield uid, to_utc(idate) if isinstance(idate, datetime) else None, bytes(body or b"")

    def _fetch(self, uids: Iterable[int], items: list[str]) -> Iterator[tuple[int, dict[bytes, object]]]:
        """One UID FETCH of these items; (uid, response) per message still there, in UID order."""
        wanted = sorted({int(u) for u in uids})
        if not wanted:
            return
        try:
            response = fetch(self._require(), wanted, items)
        except RuntimeError:
            raise
        except Exception as exc:
            raise classify(exc, "fetch", target=repr(self._folder)) from exc
        for uid in wanted:
            item = response.pop(uid, None)
            if item is not None:  # else expunged since the search
                yield uid, item

    def with_keyword_changed_since(self, keyword: str, modseq: int) -> list[int]:
        """UIDs of the messages that carry ``keyword`` and whose flags changed after ``modseq`` (CONDSTORE)."""
        try:
            uids = self._require().search(["KEYWORD", keyword, "MODSEQ", str(int(modseq) + 1)])
        except RuntimeError:
            raise
        except Exception as exc:
            raise classify(exc, "search", target=repr(self._folder)) from exc
        return sorted(int(u) for u in uids)

    def wait_for_mail(self, seconds: float, stop: threading.Event | None = None, *, poll: float = 30.0) -> bool:
        """Wait in IMAP IDLE up to ``seconds`` for new mail in the selected folder; True when it came.

        ``stop`` ends the wait early (checked every second). A server without IDLE is asked with
        NOOP every ``poll`` seconds instead. Either way the connection is back in normal command
        mode on return.
        """
        client = self._require()
        stop = stop or threading.Event()
        deadline = time.monotonic() + max(0.0, seconds)
        if not client.has_capability("IDLE"):
            return self._poll_for_mail(client, deadline, stop, poll)
        try:
            client.idle()
            arrived = False
            while not arrived and not stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                arrived = _new_mail(client.idle_check(timeout=min(left, 1.0)))
            client.idle_done()
        except Exception as exc:
            raise classify(exc, "idle", target=repr(self._folder)) from exc
        return arrived

    @staticmethod
    def _poll_for_mail(client: IMAPClient, deadline: float, stop: threading.Event, poll: float) -> bool:
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if stop.wait(min(left, max(0.1, poll))):
                return False
            try:
                if _new_mail(client.noop()[1]):
                    return True
            except Exception as exc:
                raise classify(exc, "noop") from exc
        return False


def _new_mail(responses: Iterable[object]) -> bool:
    """True when untagged responses announce messages (``n EXISTS`` or ``n RECENT``)."""
    return any(isinstance(r, tuple) and len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses)


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _shutdown(client: IMAPClient) -> None:
    with contextlib.suppress(Exception):  # the socket is gone either way
        client.shutdown()
