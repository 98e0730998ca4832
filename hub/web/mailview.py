"""Showing imported e-mail safely: the HTML sanitiser and the grouping of messages into threads.

E-mail HTML is hostile by default. It is cleaned with nh3 (ammonia): no scripts, no styles
blocks, no event handlers, no forms or frames, links only to http(s) and mailto (opening in
a new tab, without a referrer), CSS limited to harmless properties (nothing that can carry
``url()``). Remote images are tracking pixels until the user says otherwise: by default an
``<img>`` keeps only an inline ``data:`` picture; "Show images" re-renders that one message
with http(s) images allowed, still cleaned.

The cleaned HTML is then shown in a sandboxed frame of its own (``sandbox`` without scripts,
its own CSP that allows the message's inline styles but nothing else), so even a sanitiser
bug could not run script in the hub's pages, and the message's styling cannot break the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import nh3

from core.models import Interaction, MailMessageRow, StoredFile

TAGS = (set(nh3.ALLOWED_TAGS) | {"font"}) - {"map", "area"}
_WIDTHS = {"width", "height", "align", "valign", "bgcolor"}
ATTRIBUTES: dict[str, set[str]] = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
for _tag, _extra in {
    "*": {"style", "dir", "lang", "title"},
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "title"},
    "font": {"color", "size", "face"},
    "table": _WIDTHS | {"border", "cellpadding", "cellspacing"},
    "td": _WIDTHS | {"colspan", "rowspan", "nowrap"},
    "th": _WIDTHS | {"colspan", "rowspan", "nowrap"},
    "tr": _WIDTHS,
    "div": {"align"},
    "p": {"align"},
}.items():
    ATTRIBUTES.setdefault(_tag, set()).update(_extra)
STYLE_PROPERTIES = {
    "color",
    "background-color",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "line-height",
    "letter-spacing",
    "text-align",
    "text-decoration",
    "text-transform",
    "vertical-align",
    "white-space",
    "margin",
    "margin-top",
    "margin-right",
    "margin-bottom",
    "margin-left",
    "padding",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border",
    "border-top",
    "border-right",
    "border-bottom",
    "border-left",
    "border-color",
    "border-style",
    "border-width",
    "border-collapse",
    "border-spacing",
    "border-radius",
    "width",
    "max-width",
    "min-width",
    "height",
    "display",
}
LINK_SCHEMES = ("http://", "https://", "mailto:")
REMOTE = ("http://", "https://")


@dataclass(frozen=True)
class Cleaned:
    """Sanitised HTML and how many remote images were held back."""

    html: str
    blocked_images: int


def sanitize(html: str, *, allow_images: bool = False) -> Cleaned:
    """E-mail HTML made safe to show; remote images only when ``allow_images``."""
    blocked = 0

    def keep(tag: str, attr: str, value: str) -> str | None:
        nonlocal blocked
        text = value.strip()
        lowered = text.lower()
        if tag == "img" and attr == "src":
            if lowered.startswith("data:image/"):
                return text
            if lowered.startswith(REMOTE):
                if allow_images:
                    return text
                blocked += 1
            return None
        if attr == "href":
            return text if lowered.startswith(LINK_SCHEMES) else None
        return value

    cleaned = nh3.clean(
        html,
        tags=TAGS,
        clean_content_tags={"script", "style", "title"},
        attributes=ATTRIBUTES,
        attribute_filter=keep,
        strip_comments=True,
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        url_schemes={"http", "https", "mailto", "data"},
        filter_style_properties=STYLE_PROPERTIES,
        id_prefix="mail-",
    )
    return Cleaned(cleaned, blocked)


def frame_csp(allow_images: bool) -> str:
    """The policy of the frame showing one message: its inline styles, images only when allowed."""
    images = "data: https: http:" if allow_images else "data:"
    return (
        f"default-src 'none'; img-src {images}; style-src 'self' 'unsafe-inline'; frame-ancestors 'self'; "
        "base-uri 'none'; form-action 'none'; sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox"
    )


@dataclass(frozen=True)
class Address:
    """One participant of a message."""

    email: str
    name: str = ""

    @property
    def label(self) -> str:
        """The name when known, else the address."""
        return self.name or self.email


def _addresses(value: Any) -> list[Address]:
    items = value if isinstance(value, list) else [value] if value else []
    out = []
    for item in items:
        if isinstance(item, dict) and item.get("email"):
            out.append(Address(str(item["email"]).lower(), str(item.get("name") or "")))
        elif isinstance(item, list | tuple) and len(item) == 2:
            name, email = item
            if email:
                out.append(Address(str(email).lower(), str(name or "")))
        elif isinstance(item, str) and "@" in item:
            out.append(Address(item.strip().lower()))
    return out


def addresses(mail: MailMessageRow) -> dict[str, list[Address]]:
    """From, To and Cc of a stored message (read tolerantly: lists of dicts, pairs or strings)."""
    parts = mail.participants if isinstance(mail.participants, dict) else {}
    out = {role: _addresses(parts.get(role)) for role in ("from", "to", "cc")}
    if not out["from"] and mail.from_addr:
        out["from"] = _addresses(mail.from_addr) or [Address(mail.from_addr)]
    return out


@dataclass
class MailItem:
    """One message of a thread, with the interaction it is logged as and its attachments."""

    interaction: Interaction
    mail: MailMessageRow
    attachments: list[StoredFile] = field(default_factory=list)

    @property
    def at(self) -> datetime:
        """When the message was sent (or logged)."""
        return self.mail.sent_at or self.interaction.occurred_at

    @property
    def people(self) -> dict[str, list[Address]]:
        """From, To and Cc."""
        return addresses(self.mail)


@dataclass
class Thread:
    """Messages of one conversation (same thread key), oldest first."""

    key: str
    items: list[MailItem] = field(default_factory=list)

    @property
    def subject(self) -> str:
        """The subject of the first message."""
        return next((i.mail.subject for i in self.items if i.mail.subject), "")

    @property
    def last_at(self) -> datetime:
        """When the newest message was sent."""
        return max(i.at for i in self.items)

    @property
    def participants(self) -> list[Address]:
        """Everyone who wrote or was written to, in order of appearance."""
        seen: dict[str, Address] = {}
        for item in self.items:
            for role in ("from", "to", "cc"):
                for a in item.people[role]:
                    if a.email not in seen or (a.name and not seen[a.email].name):
                        seen[a.email] = a
        return list(seen.values())


@dataclass
class Entry:
    """One line of the timeline: an interaction, or a whole e-mail thread."""

    at: datetime
    interaction: Interaction | None = None
    thread: Thread | None = None


def timeline(
    items: list[Interaction], mails: dict[int, MailMessageRow], attachments: dict[int, list[StoredFile]]
) -> list[Entry]:
    """Interactions newest first, with e-mails gathered into threads placed at their newest message."""
    threads: dict[str, Thread] = {}
    entries: list[Entry] = []
    for interaction in items:
        mail = mails.get(interaction.mail_id) if interaction.mail_id is not None else None
        if mail is None:
            entries.append(Entry(at=interaction.occurred_at, interaction=interaction))
            continue
        key = mail.thread_key or mail.message_id
        thread = threads.get(key)
        if thread is None:
            thread = threads[key] = Thread(key)
        if all(i.mail.id != mail.id for i in thread.items):
            thread.items.append(MailItem(interaction, mail, attachments.get(mail.id, [])))
    for thread in threads.values():
        thread.items.sort(key=lambda i: (i.at, i.mail.id))
        entries.append(Entry(at=thread.last_at, thread=thread))
    entries.sort(key=lambda e: e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC), reverse=True)
    return entries
