"""Storing the mail of a batch: each message once per Message-ID, in its thread, and where it was seen.

``core.mail.store`` decides which mail is logged on which clients; this module keeps the stored
copies (``MailMessageRow``) and their sightings (``MailSighting``), a batch at a time:

* **Plan in memory, write at once.** ``StoredMail`` looks up, in two queries, the stored
  messages among the batch's Message-IDs and the messages they answer, and the thread keys
  rows already wait on. ``add`` then goes through the batch's messages *in order* (threads
  depend on it) without touching the database: it decides each new message's thread, and
  which rows must move into a thread once its first message is stored. ``write`` moves those
  rows, inserts the new messages at once and the sightings with one executemany: a handful of
  statements per batch where there were four or five per message. The messages go in with
  ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (SQLAlchemy sends it as multi-row
  statements); on PostgreSQL by COPY (``core.bulk``), their ids taken first, and only when
  that meets a message stored meanwhile, skipping conflicts as elsewhere.
* **Once per Message-ID**, ever: a unique index and ``ON CONFLICT DO NOTHING``, so two mailboxes
  storing the same message at once end with one row; the loser reads the winner's id and
  stores no attachments. The raw message is kept compressed (``core.mail.rawcopy``: zstd, older
  rows gzip) so a better parser can read it again.
* **Threads.** A message takes the thread of the first stored message among its References and
  In-Reply-To, else the first Reference (or In-Reply-To, or itself). The first import reads the
  newest mail first, so replies often arrive before what they answer: when a message is stored,
  the rows that named it as their thread move to its thread, and the conversation reads as one.
  What the batch stores itself counts as stored for the rest of the batch.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.bulk import insert_many, reserve_ids
from core.db import among, utcnow
from core.mail.matching import chunks
from core.mail.rawcopy import pack
from core.mail.records import MailMessage
from core.models import ConnectorAccount, MailMessageRow, MailSighting

ANCESTORS_MAX = 100
HEADERS_ONLY = "only the headers were read: no client matched the message when its batch was read"
"""Stored with a summary (``MailMessage.summary``): its client was added between the reading and the logging."""

_MAIL = MailMessageRow.__table__
_SIGHTING = MailSighting.__table__
_KNOWN = select(_MAIL.c.message_id, _MAIL.c.id, _MAIL.c.thread_key).where(among(_MAIL.c.message_id, "ids"))
_AWAITED = select(_MAIL.c.thread_key).where(among(_MAIL.c.thread_key, "ids")).distinct()
_JOIN_THREAD = (
    update(_MAIL).where(_MAIL.c.thread_key == bindparam("old")).values(thread_key=bindparam("new", type_=String()))
)
_SIGHTING_KEY = ["account_id", "folder", "uidvalidity", "uid"]


class StoredMail:
    """The stored mail of one batch: what is there already, what the batch adds, and where each was seen."""

    def __init__(self, session: Session, account: ConnectorAccount, changes: list[MailMessage]) -> None:
        self.session = session
        self.account_id = account.id
        own = {c.message_id for c in changes}
        wanted = sorted(own | {a for c in changes for a in _ancestors(c)})
        db = session.connection()
        self._mail: dict[str, tuple[int | None, str]] = {}
        """Message-ID -> (id, thread key); the id is None until a new message is written."""
        for chunk in chunks(wanted):
            self._mail.update((m, (i, t)) for m, i, t in db.execute(_KNOWN, {"ids": chunk}))
        self._awaited: set[str] = set()
        """Thread keys that rows carry, among the Message-IDs the batch may still store."""
        for chunk in chunks(sorted(own)):
            self._awaited.update(db.execute(_AWAITED, {"ids": chunk}).scalars())
        self._new: dict[str, dict[str, Any]] = {}
        self._joins: list[dict[str, str]] = []
        self._seen: list[MailMessage] = []
        self._created: set[str] = set()

    def add(self, change: MailMessage) -> None:
        """Plan the message's row (when it is not stored yet) and its sighting; nothing is written yet."""
        self._seen.append(change)
        message_id = change.message_id
        if message_id in self._mail:
            return
        thread = self._thread_of(change)
        self._new[message_id] = _row(change, thread)
        self._mail[message_id] = (None, thread)
        if thread != message_id and message_id in self._awaited:  # replies read before it join its thread
            self._joins.append({"old": message_id, "new": thread})
            self._join(message_id, thread)
        self._awaited.add(thread)

    def write(self) -> None:
        """Move the waiting rows into their threads, insert the new messages and every sighting."""
        db = self.session.connection()
        for join in self._joins:  # in order: a row may move twice
            db.execute(_JOIN_THREAD, join)
        if self._new and not self._copied():
            stmt = _insert(self.session, _MAIL).on_conflict_do_nothing(index_elements=["message_id"])
            stmt = stmt.returning(_MAIL.c.message_id, _MAIL.c.id)
            for message_id, mail_id in db.execute(stmt, list(self._new.values())):  # SQLAlchemy's insertmanyvalues
                self._stored(message_id, mail_id)
        lost = [m for m in self._new if m not in self._created]  # another mailbox stored them a moment ago
        for chunk in chunks(lost):
            self._mail.update((m, (i, t)) for m, i, t in db.execute(_KNOWN, {"ids": chunk}))
        self._write_sightings()
        self._joins, self._new = [], {}

    def _copied(self) -> bool:
        """Insert the new messages by COPY (PostgreSQL), with ids taken first; False when that is not for here.

        COPY cannot skip a message another mailbox stored since the look-up: then the COPY's
        savepoint is rolled back and the caller inserts them skipping conflicts.
        """
        rows = list(self._new.values())
        ids = reserve_ids(self.session, _MAIL, len(rows))
        if ids is None:
            return False
        try:
            with self.session.begin_nested():
                insert_many(self.session, _MAIL, [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
        except IntegrityError:
            return False
        for row, mail_id in zip(rows, ids, strict=True):
            self._stored(row["message_id"], mail_id)
        return True

    def _stored(self, message_id: str, mail_id: int) -> None:
        self._created.add(message_id)
        self._mail[message_id] = (mail_id, self._mail[message_id][1])

    def storing(self, message_id: str) -> bool:
        """True when ``write`` is to store this message (it was added, and was not stored before)."""
        return message_id in self._new

    def id_of(self, message_id: str) -> int:
        """The stored id of a message added to this batch (after ``write``)."""
        mail_id = self._mail[message_id][0]
        assert mail_id is not None, "write() first"
        return mail_id

    def created(self, message_id: str) -> bool:
        """True when this batch stored the message (False: it was there already, or another mailbox won)."""
        return message_id in self._created

    def created_done(self, message_id: str) -> None:
        """The rest of the batch sees the message as stored before it (it comes twice in the batch)."""
        self._created.discard(message_id)

    def _thread_of(self, change: MailMessage) -> str:
        """The thread a new message joins: that of the first stored message it answers, else its own root."""
        for ancestor in _ancestors(change):
            if ancestor in self._mail:
                return self._mail[ancestor][1]
        return change.thread_root[:998]

    def _join(self, old: str, new: str) -> None:
        """Rows of thread ``old``, stored or about to be, now belong to thread ``new``."""
        for message_id, (mail_id, thread) in list(self._mail.items()):
            if thread == old:
                self._mail[message_id] = (mail_id, new)
        for row in self._new.values():
            if row["thread_key"] == old:
                row["thread_key"] = new
        self._awaited.discard(old)

    def _write_sightings(self) -> None:
        """One row per account, folder, UIDVALIDITY and UID, however often it is seen."""
        now, keyed, unkeyed = utcnow(), [], []
        for change in self._seen:
            values = {
                "mail_id": self.id_of(change.message_id),
                "account_id": self.account_id,
                "folder": change.folder[:500],
                "uid": change.uid,
                "uidvalidity": change.uidvalidity,
                "private": False,
                "seen_at": now,
            }
            (keyed if change.uidvalidity is not None else unkeyed).append(values)
        db = self.session.connection()
        if keyed:
            db.execute(_insert(self.session, _SIGHTING).on_conflict_do_nothing(index_elements=_SIGHTING_KEY), keyed)
        for values in unkeyed:  # NULL never conflicts: look first
            found = db.execute(
                select(_SIGHTING.c.id).where(
                    _SIGHTING.c.account_id == values["account_id"],
                    _SIGHTING.c.folder == values["folder"],
                    _SIGHTING.c.uid == values["uid"],
                    _SIGHTING.c.uidvalidity.is_(None),
                )
            ).first()
            if found is None:
                db.execute(_insert(self.session, _SIGHTING).values(**values))
        self._seen = []


def _row(change: MailMessage, thread: str) -> dict[str, Any]:
    """The stored row of a new message."""
    return {
        "message_id": change.message_id,
        "thread_key": thread,
        "in_reply_to": change.in_reply_to,
        "subject": change.subject[:998],
        "sent_at": change.sent_at,
        "from_addr": change.from_[0].email[:1000] if change.from_ else "",
        "participants": _participants(change),
        "text": change.text,
        "html": change.html,
        "raw_compressed": pack(change.raw) if change.raw else None,
        "problems": list(change.problems) + ([HEADERS_ONLY] if change.summary else []),
        "created_at": utcnow(),
    }


def _participants(change: MailMessage) -> dict[str, list[dict[str, str]]]:
    fields = (("from", change.from_), ("to", change.to), ("cc", change.cc), ("bcc", change.bcc))
    return {name: [{"email": a.email, "name": a.name} for a in addrs] for name, addrs in fields if addrs}


def _ancestors(change: MailMessage) -> list[str]:
    """The messages this one answers, oldest first: its References, then its In-Reply-To."""
    return change.references[:ANCESTORS_MAX] + ([change.in_reply_to] if change.in_reply_to else [])


def _insert(session: Session, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike)."""
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)
