"""Reading the headers that carry meaning: addresses, Subject, Date, Message-ID, In-Reply-To, References.

``policy.default``'s header registry parses them (address lists with groups and RFC 2047 names,
dates). Where it raises (its parser has bugs that fuzzing finds: IndexError, AttributeError...),
the compat32 helpers (``decode_header``, ``getaddresses``, ``parsedate_to_datetime``) are tried on
the raw value. The raw value is prepared first: unfolded, capped in length (the address parser
needs ~0.6 s for a 70 KB ``To:``), 8-bit bytes decoded, and encoded words with unknown charset
labels relabelled, because ``policy.default`` turns those into U+FFFD.

The registry is thorough and slow (about 1 ms for a From, To and Cc on a busy machine), while
nearly all real headers are plain: ``Name <addr>``, ``"Last, First" <addr>``, a bare address, an
ASCII subject. Those take a fast path - a strict regular expression for address lists, the value
itself for a subject without encoded words - whose result is what the registry would give; any
value the fast path does not fully match goes the slow way.

Without a Message-ID, a message is known by ``hash:`` + SHA-256 of the normalised From, To, Date
and Subject - never the folder, the UID or the INTERNALDATE - so the copy in Sent and the copy
in INBOX, or a folder re-read after a UIDVALIDITY change, get the same key.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import quopri
import re
from datetime import UTC, datetime
from email import policy
from email.errors import ObsoleteHeaderDefect
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from connectors.email.charsets import (
    CONTROLS,
    SURROGATES,
    Notes,
    clean,
    decode_8bit_header,
    decode_bytes,
    guess_charset,
    is_utf8,
    python_codec,
    resolve_charset,
    short,
)
from core.mail import MailAddress

SUBJECT_MAX = 998
NAME_MAX = 256
ADDRESS_HEADER_MAX = 16 * 1024
TEXT_HEADER_MAX = 8 * 1024
ID_HEADER_MAX = 64 * 1024
PLAIN_ADDRESSES_KEPT = 8192
"""How many plain address header values a process keeps read (``_plain_addresses``)."""
PLAIN_ADDRESSES_LONGEST = 512
"""Longer values (long lists of recipients, rarely seen twice) are not kept: all kept take a few MB at most."""

_REGISTRY = policy.default.header_factory
_ENCODED_WORD = re.compile(r"=\?([^?\s]+?)\?([bBqQ])\?([^?\s]*)\?=")

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_ADDR = rf"{_ATEXT}+(?:\.{_ATEXT}+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_NAME = rf'(?:"[^"\\\r\n]*"|{_ATEXT}+(?:[ \t]+{_ATEXT}+)*)'
_ITEM = rf"(?:(?:({_NAME})[ \t]*)?<({_ADDR})>|({_ADDR}))"
_SIMPLE_ITEM = re.compile(rf"[ \t]*{_ITEM}[ \t]*(?:,|$)")
_SIMPLE_LIST = re.compile(rf"[ \t]*{_ITEM}[ \t]*(?:,[ \t]*{_ITEM}[ \t]*)*")


def raw_headers(msg: Message) -> dict[str, list[str]]:
    """Every header's raw values by lower-case name, in order (read once per message)."""
    out: dict[str, list[str]] = {}
    for key, value in msg.raw_items():
        if isinstance(key, str):
            out.setdefault(key.lower(), []).append(value if isinstance(value, str) else str(value))
    return out


_FIELD_LINES = re.compile(
    r"([\041-\071\073-\176]+):[ \t]*"  # the name, the colon and the blanks compat32 strips
    r"([^\r\n]*(?:(?:\r\n|\r|\n)[ \t][^\r\n]*)*)"  # the value: the rest of the line and its continuations
    r"(?:\r\n|\r|\n|\Z)"
)


def split_header_block(block: str) -> dict[str, list[str]] | None:
    """``raw_headers`` of a plain header block without the stdlib parser, or None when it is not plain.

    What compat32 would make of it, for the ordinary case only: lines ``Name: value`` with
    continuation lines, up to the first blank line; a value keeps its inner line breaks, as
    compat32's ``header_source_parse`` does. A first line that continues nothing, a Unix
    ``From`` line, a line that is neither a header nor blank: None, and the caller asks the
    stdlib parser, which knows what to do with them.
    """
    split = split_header_fields(block)
    return split[0] if split is not None else None


def split_header_fields(block: str) -> tuple[dict[str, list[str]], int] | None:
    """``split_header_block`` and the offset where the blank line after the fields ends (where a body starts).

    At the end of ``block`` when it has no blank line.
    """
    out: dict[str, list[str]] = {}
    at, end, field = 0, len(block), _FIELD_LINES.match
    while at < end and block[at] not in "\r\n":
        found = field(block, at)
        if found is None:
            return None
        name, value = found.groups()
        key = name.lower()
        if key in out:
            out[key].append(value)
        else:
            out[key] = [value]
        at = found.end()
    blank = 2 if block.startswith("\r\n", at) else 1 if at < end else 0
    return out, at + blank


def relabel_encoded_words(value: str, notes: Notes, name: str) -> str:
    """Give encoded words with unknown or aliased charset labels a label Python can decode."""

    def fix(m: re.Match[str]) -> str:
        label = m.group(1).split("*", 1)[0]
        codec = resolve_charset(label)
        if codec is not None:
            if codec == python_codec(label):
                return m.group(0)
            return f"=?{codec}?{m.group(2)}?{m.group(3)}?="
        data = _decode_word_payload(m.group(2), m.group(3))
        fallback = "utf-8" if is_utf8(data) else guess_charset(data)
        notes.note(f"{name}: unknown charset {short(label)!r} in encoded word, read as {fallback}")
        return f"=?{fallback}?{m.group(2)}?{m.group(3)}?="

    return _ENCODED_WORD.sub(fix, value) if "=?" in value else value


def _decode_word_payload(kind: str, payload: str) -> bytes:
    try:
        if kind in "bB":
            return base64.b64decode(payload + "=" * (-len(payload) % 4), validate=False)
        return quopri.decodestring(payload.replace("_", " ").encode("ascii", "replace"), header=True)
    except Exception:  # a guess only
        return b""


def _prepare(value: str, name: str, limit: int, notes: Notes, *, split_at: str = "") -> str:
    """Unfold, cap, decode 8-bit bytes and relabel charsets of one raw header value."""
    if "\r" in value or "\n" in value:
        value = "".join(re.split(r"[\r\n]", value))
    if len(value) > limit:
        cut = value.rfind(split_at, 0, limit) if split_at else -1
        value = value[: cut if cut > 0 else limit]
        notes.note(f"{name}: header longer than {limit} characters, truncated")
    if not value.isascii() and SURROGATES.search(value):
        value, used = decode_8bit_header(value.encode("utf-8", "surrogateescape"), notes.charset_hint)
        notes.note(f"{name}: raw 8-bit text in header, read as {used}")
    return relabel_encoded_words(value, notes, name)


def _note_defects(header: object, name: str, notes: Notes) -> None:
    for defect in getattr(header, "defects", ()):
        text = defect_text(defect)
        if not isinstance(defect, ObsoleteHeaderDefect) and "null addr-spec" not in text:  # "<>" bounces
            notes.note(f"{name}: {text}")


def defect_text(defect: Exception) -> str:
    """A defect of the stdlib parser in a few words."""
    text = str(defect) or (type(defect).__doc__ or type(defect).__name__).strip().splitlines()[0]
    return short(clean(text), 120)


def fold(text: str) -> str:
    """One line: control characters and runs of whitespace become single spaces."""
    if text.isascii() and text.isprintable():  # the usual name: nothing to clean, only spaces to join
        return " ".join(text.split())
    return " ".join(CONTROLS.sub(" ", clean(text)).split())


def compat_text(value: str, notes: Notes, name: str) -> str:
    """Decode encoded words with compat32's ``decode_header`` (the last resort)."""
    try:
        chunks = decode_header(value)
    except Exception:  # compat32 is the last resort
        return value
    out = []
    for chunk, charset in chunks:
        out.append(chunk if isinstance(chunk, str) else decode_bytes(chunk, charset, notes.problems, name))
    return "".join(out)


def text_header(values: list[str], name: str, notes: Notes, limit: int = SUBJECT_MAX) -> str:
    """An unstructured header (Subject) as one line of text, capped at ``limit`` characters."""
    if not values:
        return ""
    value = _prepare(values[0], name, TEXT_HEADER_MAX, notes)
    if "=?" not in value and not CONTROLS.search(value):
        text = value  # what the registry's unstructured parser gives for a value without encoded words
    elif (plain := _plain_encoded_words(value)) is not None:
        text = plain
    else:
        try:
            header = _REGISTRY(name, value)
            text = str(header)
            _note_defects(header, name, notes)
        except Exception as exc:
            notes.note(f"{name}: parser failed ({type(exc).__name__}), read with compat32")
            text = compat_text(value, notes, name)
    text = fold(text)
    if len(text) > limit:
        notes.note(f"{name}: longer than {limit} characters, truncated")
        text = text[:limit].rstrip()
    return text


_STRICT_WORD = re.compile(r"=\?([A-Za-z0-9_.:-]+)\?([bBqQ])\?([!->@-~]*)\?=")
_B64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def _plain_encoded_words(value: str) -> str | None:
    """A value of whole, well-formed encoded words and plain words, decoded; None when anything is unusual.

    RFC 2047: whitespace between two encoded words goes, other whitespace stays. Only labels
    Python knows as they are, strictly valid payloads and text without control characters
    qualify, so the result is the registry's; everything else takes the registry's way.
    """
    out: list[str] = []
    last_encoded = False
    for token in re.split(r"([ \t]+)", value):
        if not token:
            continue
        if token[0] in " \t":
            out.append(token)
            continue
        m = _STRICT_WORD.fullmatch(token)
        if m is None:
            if "=?" in token or "?=" in token:
                return None
            out.append(token)
            last_encoded = False
            continue
        label, kind, payload = m.groups()
        codec = python_codec(label)
        if codec is None or resolve_charset(label) != codec:
            return None
        try:
            if kind in "bB":
                if not _B64.fullmatch(payload):
                    return None
                data = base64.b64decode(payload, validate=True)
            else:
                if re.search(r"=(?![0-9A-Fa-f]{2})", payload):
                    return None
                data = quopri.decodestring(payload.replace("_", " ").encode("ascii"), header=True)
            text = data.decode(codec)
        except (ValueError, UnicodeError, LookupError):
            return None
        if CONTROLS.search(text) or "\r" in text or "\n" in text:
            return None
        if last_encoded and out and out[-1][0] in " \t":
            out.pop()  # whitespace between two encoded words is not part of the text
        out.append(text)
        last_encoded = True
    return "".join(out)


_BAD = r"\s\x00-\x1f\x7f<>()\[\],;:\\\"@"
_LOCAL_OK = re.compile(rf"^[^{_BAD}]{{1,64}}$")
_DOMAIN_OK = re.compile(rf"^(?=.{{1,253}}$)[^{_BAD}.]{{1,63}}(\.[^{_BAD}.]{{1,63}})*$")


def valid_email(local: str, domain: str) -> bool:
    """True when ``local@domain`` looks like a deliverable address (practical, not RFC-complete)."""
    if not (local + domain).isascii() and SURROGATES.search(local + domain):
        return False
    return bool(_LOCAL_OK.match(local) and _DOMAIN_OK.match(domain))


def _simple_pairs(value: str) -> list[tuple[str, str, str]] | None:
    """(name, local, domain) of a plain address list, or None when it needs the full parser."""
    if "=?" in value or not value.isascii() or not _SIMPLE_LIST.fullmatch(value):
        return None
    pairs = []
    for m in _SIMPLE_ITEM.finditer(value):
        name, bracketed, bare = m.groups()
        local, _, domain = (bracketed or bare).rpartition("@")
        if name and name.startswith('"'):
            name = name[1:-1]
        pairs.append((name or "", local, domain))
    return pairs


@functools.lru_cache(maxsize=PLAIN_ADDRESSES_KEPT)
def _plain_addresses(value: str) -> tuple[MailAddress, ...] | None:
    """``address_header`` of a value with nothing to note (plain, every address valid); None for any other value.

    Kept for the process: the same correspondents come back in message after message, and
    their header values with them, so most are read once.
    """
    if "\r" in value or "\n" in value or len(value) > ADDRESS_HEADER_MAX:
        return None  # _prepare would change it, or note something
    pairs = _simple_pairs(value)
    if pairs is None:
        return None
    found, dropped = _valid_addresses(pairs)
    return None if dropped else tuple(found)  # one dropped: the full path drops it and says so


def address_header(values: list[str], name: str, notes: Notes) -> list[MailAddress]:
    """The valid addresses of an address header (each once, lower-cased), names decoded."""
    if not values:
        return []
    joined = ", ".join(values)
    plain = _plain_addresses(joined) if len(joined) <= PLAIN_ADDRESSES_LONGEST else None
    return list(plain) if plain is not None else read_addresses(joined, name, notes)


def read_addresses(value: str, name: str, notes: Notes) -> list[MailAddress]:
    """``address_header`` of one joined value, read the whole way (nothing kept), its problems noted."""
    value = _prepare(value, name, ADDRESS_HEADER_MAX, notes, split_at=",")
    pairs = _simple_pairs(value)
    if pairs is None:
        pairs = []
        try:
            header = _REGISTRY(name, value)
            for addr in header.addresses:  # type: ignore[attr-defined]
                pairs.append((addr.display_name or "", addr.username or "", addr.domain or ""))
            _note_defects(header, name, notes)
        except Exception as exc:
            notes.note(f"{name}: parser failed ({type(exc).__name__}), read with compat32")
            pairs = []
            for display, spec in getaddresses([value]):
                local, _, domain = spec.rpartition("@")
                pairs.append((compat_text(display, notes, name), local, domain))
    found, dropped = _valid_addresses(pairs)
    if dropped:
        notes.note(f"{name}: {dropped} invalid address(es) dropped")
    return found


def _valid_addresses(pairs: list[tuple[str, str, str]]) -> tuple[list[MailAddress], int]:
    """The valid addresses of (name, local part, domain) pairs, each once, lower-cased; and how many were invalid."""
    out: list[MailAddress] = []
    seen: set[str] = set()
    dropped = 0
    for display, local, domain in pairs:
        local, domain = local.strip(), domain.strip().rstrip(".")
        if not local and not domain:
            continue  # "<>" (bounces) or an empty group
        if not valid_email(local, domain):
            dropped += 1
            continue
        email = f"{local}@{domain}".lower()
        if email in seen:
            continue
        seen.add(email)
        out.append(MailAddress(email=email, name=fold(display)[:NAME_MAX]))
    return out, dropped


_MSGID = re.compile(r"<([^<>]*)>")


def message_ids(values: list[str], name: str, notes: Notes) -> list[str]:
    """The ids of Message-ID, In-Reply-To or References, without brackets, each once."""
    if not values:
        return []
    value = _prepare(" ".join(values), name, ID_HEADER_MAX, notes, split_at=" ")
    found = [m for m in _MSGID.findall(value) if m.strip()]
    if not found and name == "Message-ID":  # no brackets: the first token is the id
        found = value.split()[:1]
    elif not found:  # in References and In-Reply-To only tokens that look like ids
        found = [tok for tok in value.split() if "@" in tok]
    out: list[str] = []
    for item in found:
        ident = CONTROLS.sub("", clean("".join(item.split()))).strip("<>")[:SUBJECT_MAX]
        if ident and ident not in out:
            out.append(ident)
    return out


def to_utc(value: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _parse_date(value: str) -> datetime | None:
    try:  # what the registry's date header does, without building a header object
        return parsedate_to_datetime(value)
    except Exception:  # noqa: S110 - the registry, then looser readings below
        pass
    try:
        header = _REGISTRY("date", value)
        if header.datetime is not None:  # type: ignore[attr-defined]
            return header.datetime  # type: ignore[attr-defined]
    except Exception:  # noqa: S110 - compat32 below
        pass
    stripped = re.sub(r"\([^)]*\)", " ", value).strip()
    try:
        return parsedate_to_datetime(stripped)
    except Exception:  # noqa: S110
        pass
    try:
        return datetime.fromisoformat(stripped)
    except Exception:
        return None


def sent_date(values: list[str], internal_date: datetime | None, notes: Notes) -> tuple[datetime | None, str]:
    """The sent time in UTC (the Date header, else INTERNALDATE) and the normalised Date text for the hash key."""
    raw = _prepare(values[0], "Date", 512, notes).strip() if values else ""
    sent = None
    if raw:
        parsed = _parse_date(raw)
        if parsed is not None:
            try:
                sent = to_utc(parsed)
            except (OverflowError, ValueError):
                sent = None
    key = sent.isoformat() if sent else " ".join(raw.split())
    if sent is None:
        reason = "missing" if not raw else f"unparseable ({short(clean(raw))!r})"
        if internal_date is not None:
            notes.note(f"Date: header {reason}, used the server's INTERNALDATE")
            try:
                sent = to_utc(internal_date)
            except (OverflowError, ValueError):
                sent = None
        else:
            notes.note(f"Date: header {reason} and no INTERNALDATE")
    return sent, key


def hash_key(from_: list[MailAddress], to: list[MailAddress], date_key: str, subject: str, raw: bytes) -> str:
    """The stable key of a message without a Message-ID (see the module notes)."""
    parts = [",".join(a.email for a in from_), ",".join(a.email for a in to), date_key, subject.lower()]
    if not any(parts):
        parts = [raw.replace(b"\r\n", b"\n").decode("latin-1")]
    return "hash:" + hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
