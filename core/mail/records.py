"""The e-mail record a mail connector hands to core.

It is already parsed and normalised by the connector (``connectors/email/mapping.py``), so
core never touches MIME: it matches the addresses to clients and logs the message. The raw
bytes travel along so the stored copy can be parsed again later by a better parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class MailAddress:
    """One address from a header; ``email`` is lower-cased, ``name`` as displayed."""

    email: str
    name: str = ""


@dataclass(frozen=True)
class MailAttachment:
    """One attachment; ``content`` is None when it was over the size cap (then only metadata)."""

    filename: str
    content_type: str
    size: int
    content: bytes | None = None
    content_id: str | None = None
    """The Content-ID without brackets, so ``cid:`` references in the HTML can find this part."""
    inline: bool = False


@dataclass
class MailMessage:
    """A parsed e-mail, as read from one folder of one mailbox."""

    message_id: str
    """The Message-ID without angle brackets; a ``hash:...`` key when the mail had none."""
    folder: str
    uid: int
    subject: str
    sent_at: datetime | None
    """From the Date header (timezone-aware, UTC) or the server's INTERNALDATE when absent or broken."""
    from_: list[MailAddress] = field(default_factory=list)
    to: list[MailAddress] = field(default_factory=list)
    cc: list[MailAddress] = field(default_factory=list)
    bcc: list[MailAddress] = field(default_factory=list)
    reply_to: list[MailAddress] = field(default_factory=list)
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    text: str = ""
    """Plain text body with quoted history trimmed (HTML converted when there was no text part)."""
    html: str | None = None
    """The HTML body as sent (sanitised only when shown), or None."""
    attachments: list[MailAttachment] = field(default_factory=list)
    raw: bytes = b""
    flags: tuple[str, ...] = ()
    problems: list[str] = field(default_factory=list)
    """What was wrong with the message but could be worked around (bad charset, broken part...)."""
    uidvalidity: int | None = None
    """The folder's UIDVALIDITY when ``uid`` was read (folder, UIDVALIDITY and UID name one sighting)."""
    summary: bool = False
    """Read from its header block only, so far: ``raw`` is the header block, the body is not read yet."""

    def all_addresses(self) -> list[MailAddress]:
        """Every participant address, each once, in header order."""
        seen: set[str] = set()
        out: list[MailAddress] = []
        for addr in [*self.from_, *self.to, *self.cc, *self.bcc, *self.reply_to]:
            if addr.email and addr.email not in seen:
                seen.add(addr.email)
                out.append(addr)
        return out

    @property
    def thread_root(self) -> str:
        """The Message-ID that starts this conversation (first of References, else In-Reply-To, else own)."""
        if self.references:
            return self.references[0]
        if self.in_reply_to:
            return self.in_reply_to
        return self.message_id
