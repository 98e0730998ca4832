"""Raw e-mail bytes -> ``core.mail.MailMessage``: pure functions, no I/O, never an exception.

Real mailboxes hold everything: mail from 1998 mailers, spam with 8-bit garbage in its headers,
bounces without a Date, Outlook's charset labels, MIME trees whose boundaries never close. The
choices below keep one broken detail from costing the whole message.

* **Never raise.** Each field is read in its own guarded step. When a step fails, the field keeps a
  safe default and the reason goes to ``MailMessage.problems`` (which the engine shows to admins).
  ``parse_message`` has a last guard of its own, so the worst case is a record that carries the raw
  bytes, the folder, the UID and a problem saying why nothing else could be read.
* **The stdlib does the parsing**, in three helper modules: ``headers`` (addresses, Subject, Date,
  ids, the hash key of a message without a Message-ID), ``bodies`` (the MIME tree, bodies and
  attachments), ``charsets`` (labels, guesses, safe strings). ``quoting`` trims quoted history.
* **Stable identity.** ``message_id`` is the Message-ID without brackets, else a ``hash:`` key of
  the normalised From, To, Date and Subject, the same in every folder and mailbox.
* **Text for people.** The text/plain body, else the HTML converted to text; quoted history
  trimmed. The HTML itself is kept as sent (sanitised only when shown).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from email import policy
from email.errors import HeaderDefect, MessageDefect
from email.message import Message
from email.parser import BytesParser
from typing import Any, Literal, TypeVar

from connectors.email.bodies import Bodies, content_type, html_to_text, leaves, safe_filename, take
from connectors.email.charsets import (
    Notes,
    clean,
    decode_text,
    guess_charset,
    resolve_charset,
)
from connectors.email.headers import (
    address_header,
    defect_text,
    hash_key,
    message_ids,
    raw_headers,
    sent_date,
    split_header_block,
    split_header_fields,
    text_header,
    to_utc,
)
from connectors.email.multipart import content_headers, with_parts
from connectors.email.quoting import trim_quoted
from core.mail import MailMessage

__all__ = [
    "completed",
    "decode_text",
    "guess_charset",
    "message_identity",
    "html_to_text",
    "LazyMailMessage",
    "message_direction",
    "parse_message",
    "resolve_charset",
    "safe_filename",
    "trim_quoted",
]

HTML_TO_TEXT_MAX = 2 * 1024 * 1024
T = TypeVar("T")


def _parse(raw: bytes, notes: Notes) -> Message:
    """The MIME tree, built with compat32 (see ``bodies``); policy.default if that ever fails."""
    try:
        return BytesParser(policy=policy.compat32).parsebytes(raw)
    except Exception as exc:
        notes.note(f"MIME: parser failed with compat32 ({type(exc).__name__}), used policy.default")
        return BytesParser(policy=policy.default).parsebytes(raw)


def _fast_tree(raw: bytes) -> Message | None:
    """The MIME tree of a plain message, built without the feed parser; None for any other message.

    Plain: a plain ASCII header block, and a body in one part (neither multipart nor message/*)
    or in well-formed multipart (see ``multipart``). Of a message in one part the feed parser
    reads the header block and takes the rest, unchanged, as the payload; ``split_header_fields``
    reads a plain block as it does. Only the Content-* headers are set, which is all the walk
    (``bodies``) reads. It takes about a third of the feed parser's time for a plain-text
    message, a fifth for text and HTML in multipart/alternative, a tenth or less with attachments.
    """
    head = _ascii_header_block(raw)
    split = split_header_fields(head.decode("ascii")) if head is not None else None
    if split is None:
        return None
    fields, body_at = split
    msg = content_headers(fields)
    maintype = msg.get_content_maintype()
    if maintype == "message":
        return None
    if maintype == "multipart":
        return with_parts(msg, raw, body_at)
    msg.set_payload(raw[body_at:].decode("ascii", "surrogateescape"))
    return msg


def _charset_hint(msg: Message) -> str | None:
    for part in [msg, *_first_parts(msg)]:
        try:
            charset = part.get_content_charset()
        except Exception:  # noqa: S112
            continue
        if charset and resolve_charset(charset) not in (None, "ascii"):
            return charset
    return None


def _first_parts(msg: Message, limit: int = 20) -> Iterator[Message]:
    stack = [msg]
    seen = 0
    while stack and seen < limit:
        part = stack.pop(0)
        seen += 1
        if part.is_multipart() and not content_type(part).startswith("message/"):
            stack.extend(p for p in part.get_payload() if isinstance(p, Message))
        else:
            yield part


def _guard(notes: Notes, what: str, fn: Callable[[], T], default: T) -> T:
    try:
        return fn()
    except Exception as exc:  # every failure becomes a problem, never an exception
        notes.note(f"{what}: could not be read ({type(exc).__name__})")
        return default


def parse_message(
    raw: bytes,
    *,
    folder: str,
    uid: int,
    internal_date: datetime | None,
    flags: Iterable[str | bytes] = (),
    attachment_cap: int = 10 * 1024 * 1024,
    lazy_body: bool = False,
    lazy_details: bool = False,
) -> MailMessage:
    """Parse one raw e-mail into a MailMessage; problems are recorded, never raised.

    With ``lazy_body`` the headers are read now and the body (text, HTML, attachments and the
    problems found there) on first use; the record is then a ``LazyMailMessage``. With
    ``lazy_details`` too, only the addresses are read now, and the subject, the date and the
    ids on first use: what a summary needs to be matched is a third of the header work.
    """
    if not isinstance(raw, bytes):
        raw = bytes(raw) if isinstance(raw, bytearray | memoryview) else str(raw).encode("utf-8", "replace")
    try:
        flag_names = tuple(f.decode("utf-8", "replace") if isinstance(f, bytes) else str(f) for f in flags)
    except Exception:
        flag_names = ()
    head = _ascii_header_block(raw) if lazy_body else None
    notes = Notes()
    cls = MailMessage if head is None else LazyMailMessage
    record = cls(message_id="", folder=folder, uid=uid, subject="", sent_at=None, raw=raw, flags=flag_names)
    heads: dict[str, list[str]] = {}
    try:
        if head is None:
            _fill(record, raw, internal_date, attachment_cap, notes)
        else:
            heads = _head_values(head, notes)
            _fill_addresses(record, heads, notes)
    except Exception as exc:  # last guard
        notes.note(f"message could not be parsed ({type(exc).__name__})")
    if isinstance(record, LazyMailMessage):
        if not lazy_details:
            _fill_lazy_details(record, heads, raw, internal_date, notes)
        record.defer(_Pending(notes, attachment_cap, internal_date, heads if lazy_details else None, lazy_details))
    else:
        _fallbacks(record, raw, internal_date, notes)
        record.problems = notes.problems
    return record


def completed(summary: MailMessage, rest: bytes, internal_date: datetime | None) -> MailMessage | None:
    """The message in full from its summary (parsed from its header block) and the bytes after that block.

    Its headers are not parsed again: the addresses are the summary's, the details come from the
    header values it kept. None when the summary kept none (8-bit headers, details already
    read): then parse the whole message.
    """
    pending = summary.__dict__.get("_pending") if isinstance(summary, LazyMailMessage) else None
    if pending is None or not pending.details or pending.heads is None:
        return None
    raw = summary.raw + rest
    record = LazyMailMessage(
        message_id="", folder=summary.folder, uid=summary.uid, subject="", sent_at=None, raw=raw, flags=summary.flags
    )
    record.from_, record.to, record.cc = list(summary.from_), list(summary.to), list(summary.cc)
    record.bcc, record.reply_to = list(summary.bcc), list(summary.reply_to)
    record.uidvalidity = summary.uidvalidity
    notes = Notes(problems=list(pending.notes.problems), charset_hint=pending.notes.charset_hint)
    _fill_lazy_details(record, pending.heads, raw, internal_date, notes)
    record.defer(_Pending(notes, pending.cap, internal_date, None, False))
    return record


def _fill_lazy_details(
    record: MailMessage, heads: dict[str, list[str]], raw: bytes, internal_date: datetime | None, notes: Notes
) -> None:
    try:
        _fill_details(record, heads, raw, internal_date, notes)
    except Exception as exc:  # last guard
        notes.note(f"message could not be parsed ({type(exc).__name__})")
    _fallbacks(record, raw, internal_date, notes)


def _fallbacks(record: MailMessage, raw: bytes, internal_date: datetime | None, notes: Notes) -> None:
    """A Message-ID and a date for a record whose headers gave none."""
    if not record.message_id:
        record.message_id = hash_key([], [], "", "", raw)
    if record.sent_at is None and internal_date is not None:
        record.sent_at = _guard(notes, "INTERNALDATE", lambda: to_utc(internal_date), None)


_HEADER_END = re.compile(rb"\r?\n\r?\n")


def _ascii_header_block(raw: bytes) -> bytes | None:
    """The header block of a message whose headers are plain ASCII (then the charset hint is never needed)."""
    end = _HEADER_END.search(raw, 0, 256 * 1024)
    if end is None:
        return None
    block = raw[: end.end()]
    return block if block.isascii() else None


class _Deferred:
    """A field of a ``LazyMailMessage`` that its loader fills on first read: one of the ``details`` or the ``body``."""

    def __init__(self, group: Literal["details", "body"]) -> None:
        self.group = group
        self.key = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = "_" + name

    def __get__(self, record: LazyMailMessage | None, owner: type | None = None) -> Any:
        if record is None:
            return self
        return record._detail(self.key) if self.group == "details" else record._body(self.key)

    def __set__(self, record: LazyMailMessage, value: Any) -> None:
        record.__dict__[self.key] = value


@dataclass
class _Pending:
    """What a ``LazyMailMessage`` still has to parse: its details (while ``details``) and its body (while ``body``)."""

    notes: Notes
    cap: int
    internal_date: datetime | None
    heads: dict[str, list[str]] | None
    """The raw header values, kept for the details; None when not kept (split again from ``raw`` if needed)."""
    details: bool = True
    body: bool = True


class LazyMailMessage(MailMessage):
    """A MailMessage whose body fields (text, html, attachments, problems) are parsed on first use.

    Most mail in a mailbox is with no client and is dropped after its addresses are matched, so
    the body - most of the parsing time - is read only for what is logged. Reading any body
    field parses it; equality and repr read them too, so a lazy record behaves as an eager one.
    A summary defers its details too (subject, date, ids).

    Pickled (to cross into another process), a record travels as far parsed as it is: the
    reading process parses the bodies of its share of a batch (``ImapConnector.parse_ahead``),
    the engine the rest on first use. A summary travels lazy, its raw header values left behind
    and split again from ``raw`` if its details are ever read.
    """

    def defer(self, pending: _Pending) -> None:
        """Parse the body (and the details, when ``pending.details``) when one of those fields is first read."""
        self.__dict__["_pending"] = pending

    def unparsed(self) -> set[str]:
        """What is still to be parsed on first use: "details", "body", both or neither."""
        pending = self.__dict__.get("_pending")
        if pending is None:
            return set()
        return {name for name, left in (("details", pending.details), ("body", pending.body)) if left}

    def _load_details(self) -> None:
        pending = self.__dict__.get("_pending")
        if pending is None or not pending.details:
            return
        pending.details = False
        heads, pending.heads = pending.heads, None
        if heads is None:  # it crossed a process without them
            block = _ascii_header_block(self.raw)
            heads = _head_values(block, pending.notes) if block is not None else {}
        _fill_lazy_details(self, heads, self.raw, pending.internal_date, pending.notes)

    def _detail(self, name: str) -> Any:
        self._load_details()
        return self.__dict__[name]

    def _body(self, name: str) -> Any:
        self._load_details()  # the problems found in the details come before those of the body
        pending = self.__dict__.get("_pending")
        if pending is not None and pending.body:
            pending.body = False
            _fill_lazy_body(self, self.raw, pending.cap, pending.notes)
        return self.__dict__[name]

    def parse_body(self) -> None:
        """Parse the body now (and the details, if still to do) rather than on first use."""
        self._body("_text")

    def __getstate__(self) -> dict[str, Any]:
        """The state to pickle: parsed what was parsed, the rest lazy; a summary without its raw header values."""
        state = dict(self.__dict__)
        pending = state.get("_pending")
        if pending is not None and pending.heads is not None:
            state["_pending"] = replace(pending, heads=None)
        return state

    subject = _Deferred("details")
    sent_at = _Deferred("details")
    message_id = _Deferred("details")
    in_reply_to = _Deferred("details")
    references = _Deferred("details")
    text = _Deferred("body")
    html = _Deferred("body")
    attachments = _Deferred("body")
    problems = _Deferred("body")


def _fill_lazy_body(record: MailMessage, raw: bytes, cap: int, notes: Notes) -> None:
    try:
        tree = _fast_tree(raw)
        _fill_body(record, tree if tree is not None else _parse(raw, notes), cap, notes)
    except Exception as exc:  # last guard
        notes.note(f"message could not be parsed ({type(exc).__name__})")
    record.problems = notes.problems


def _fill(record: MailMessage, raw: bytes, internal_date: datetime | None, cap: int, notes: Notes) -> None:
    msg = _parse(raw, notes)
    notes.charset_hint = _guard(notes, "charset", lambda: _charset_hint(msg), None)
    _fill_headers(record, _guard(notes, "headers", lambda: raw_headers(msg), {}), raw, internal_date, notes)
    _fill_body(record, msg, cap, notes)


def _head_values(head: bytes, notes: Notes) -> dict[str, list[str]]:
    """The raw header values of an ASCII header block: split directly when plain, else by compat32."""
    plain = split_header_block(head.decode("ascii"))
    if plain is not None:
        return plain
    msg = BytesParser(policy=policy.compat32).parsebytes(head, headersonly=True)
    return _guard(notes, "headers", lambda: raw_headers(msg), {})


def message_identity(head: bytes) -> str | None:
    """What a message is stored under, from its Message-ID, From, To, Date and Subject lines alone.

    Its Message-ID, else the ``hash:`` key of the other four that ``parse_message`` gives the
    whole message. None when it has none of them: the whole message's key would then hash its
    bytes, which those lines cannot stand for.
    """
    record = parse_message(head, folder="", uid=0, internal_date=None)
    if record.message_id.startswith("hash:") and not (record.from_ or record.to or record.subject or record.sent_at):
        return None
    return record.message_id or None


def _fill_headers(
    record: MailMessage, heads: dict[str, list[str]], raw: bytes, internal_date: datetime | None, notes: Notes
) -> None:
    _fill_addresses(record, heads, notes)
    _fill_details(record, heads, raw, internal_date, notes)


def _fill_addresses(record: MailMessage, heads: dict[str, list[str]], notes: Notes) -> None:
    def addresses(name: str) -> list:
        values = heads.get(name.lower())
        if not values:
            return []
        return _guard(notes, name, lambda: address_header(values, name, notes), [])

    record.from_ = addresses("From")
    record.to = addresses("To")
    record.cc = addresses("Cc")
    record.bcc = addresses("Bcc")
    record.reply_to = addresses("Reply-To")


def _fill_details(
    record: MailMessage, heads: dict[str, list[str]], raw: bytes, internal_date: datetime | None, notes: Notes
) -> None:
    record.subject = _guard(notes, "Subject", lambda: text_header(heads.get("subject", []), "Subject", notes), "")
    record.sent_at, date_key = _guard(
        notes, "Date", lambda: sent_date(heads.get("date", []), internal_date, notes), (None, "")
    )
    in_reply_to = _guard(
        notes, "In-Reply-To", lambda: message_ids(heads.get("in-reply-to", []), "In-Reply-To", notes), []
    )
    record.in_reply_to = in_reply_to[0] if in_reply_to else None
    record.references = _guard(
        notes, "References", lambda: message_ids(heads.get("references", []), "References", notes), []
    )
    ids = _guard(notes, "Message-ID", lambda: message_ids(heads.get("message-id", []), "Message-ID", notes), [])
    if ids:
        record.message_id = ids[0]
    else:
        notes.note("Message-ID: missing or empty, used a hash of From, To, Date and Subject")
        record.message_id = hash_key(record.from_, record.to, date_key, record.subject, raw)


def _fill_body(record: MailMessage, msg: Message, cap: int, notes: Notes) -> None:
    bodies = Bodies()
    try:
        for part in leaves(msg, notes, bodies):
            _guard(notes, f"MIME part {content_type(part)}", lambda p=part: take(p, notes, bodies, cap), None)
    except Exception as exc:
        notes.note(f"MIME: structure could not be walked ({type(exc).__name__})")
    for part in bodies.visited:  # after the walk: decoding a payload adds defects (bad base64...)
        for defect in getattr(part, "defects", ()):
            if isinstance(defect, MessageDefect) and not isinstance(defect, HeaderDefect):
                notes.note(f"MIME: {defect_text(defect)}")
    record.attachments = bodies.attachments
    html = clean(bodies.htmls[0]) if bodies.htmls else None
    record.html = html
    text = "\n\n".join(t.strip("\r\n") for t in bodies.texts if t.strip())
    if not text.strip() and html is not None:
        if len(html) > HTML_TO_TEXT_MAX:
            notes.note(f"HTML body larger than {HTML_TO_TEXT_MAX} characters, only the start converted to text")
            html = html[:HTML_TO_TEXT_MAX]
        text = _guard(notes, "HTML body", lambda: html_to_text(html), "")
    record.text = clean(_guard(notes, "quoted history", lambda: trim_quoted(text), text))


def message_direction(
    msg: MailMessage, own_addresses: set[str], internal_domains: set[str]
) -> Literal["incoming", "outgoing"]:
    """'outgoing' when the sender is ours (or internal, writing to someone outside); else 'incoming'."""
    own = {a.strip().lower() for a in own_addresses}
    domains = {d.strip().lower().lstrip("@") for d in internal_domains if d.strip()}

    def internal(email: str) -> bool:
        domain = email.rpartition("@")[2]
        return any(domain == d or domain.endswith("." + d) for d in domains)

    senders = [a.email for a in msg.from_]
    if any(s in own for s in senders):
        return "outgoing"
    recipients = [a.email for a in [*msg.to, *msg.cc, *msg.bcc]]
    if senders and all(internal(s) for s in senders) and any(not internal(r) for r in recipients):
        return "outgoing"
    return "incoming"
