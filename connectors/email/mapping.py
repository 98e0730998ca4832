"""Raw e-mail bytes -> ``core.mail.MailMessage``: pure functions, no I/O, never an exception.

Real mailboxes hold everything: mail from 1998 mailers, spam with 8-bit garbage in its headers,
bounces without a Date, Outlook's charset labels, MIME trees whose boundaries never close. The
choices below keep one broken detail from costing the whole message.

* **Never raise.** Each field is read in its own guarded step. When a step fails, the field keeps a
  safe default and the reason goes to ``MailMessage.problems`` (which the engine shows to admins).
  ``parse_message`` has a last guard of its own, so the worst case is a record that carries the raw
  bytes, the folder, the UID and a problem saying why nothing else could be read.
* **The stdlib does the parsing.** ``policy.default``'s header registry parses the headers that carry
  meaning (address lists with groups and RFC 2047 names, Subject, Date). Where it raises (its
  parser has bugs that fuzzing finds: IndexError, AttributeError...), the compat32 helpers
  (``decode_header``, ``getaddresses``, ``parsedate_to_datetime``) are tried on the raw value. The
  raw value is prepared first: unfolded, capped in length (the address parser needs ~0.6 s for a
  70 KB ``To:``), 8-bit bytes decoded, and encoded words with unknown charset labels relabelled,
  because ``policy.default`` turns those into U+FFFD.
* **The MIME tree is built with compat32.** The feed parser and the tree it builds are the same
  under both policies, but under ``policy.default`` every ``get_content_type()`` re-parses the
  header with the slow modern parser: building and walking the tree took 9 ms instead of 0.65 ms
  for a message with ten parts. RFC 2231 file names come from compat32's ``get_filename``; RFC 2047
  words in names (Outlook's habit) and raw 8-bit names are decoded here.
* **Charsets.** Bodies: the declared charset (``win-1251`` and other aliases resolved), then
  UTF-8, then the declared charset with replacement characters - except that "UTF-8" without a
  single UTF-8 sequence is a mislabel and goes to the guess: Cyrillic by its letter density
  (windows-1251 or KOI8-R by which byte range holds the lower-case letters), anything else
  windows-1252. Raw 8-bit headers: UTF-8 first (cp1251 would "decode" anything), then the
  message's charset, then the guess. Every fallback is noted as a problem.
* **Stable identity.** ``message_id`` is the Message-ID without brackets. Without one it is
  ``hash:`` + SHA-256 of the normalised From, To, Date and Subject - never the folder, the UID or
  the INTERNALDATE - so the copy in Sent and the copy in INBOX, or a folder re-read after a
  UIDVALIDITY change, get the same key.
* **Text for people.** The text/plain body, else the HTML converted by html2text (a pure parser:
  nothing is executed or fetched, images are dropped). Quoted history is trimmed by a handful of
  line patterns in ``trim_quoted``: deliberately simple, and tested line by line.
* **Safe strings.** Every string leaves without NUL characters or lone surrogates, which
  PostgreSQL and UTF-8 encoders reject.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import quopri
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.errors import HeaderDefect, MessageDefect, ObsoleteHeaderDefect
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Literal, TypeVar

import html2text

from core.mail import MailAddress, MailAttachment, MailMessage

SUBJECT_MAX = 998
NAME_MAX = 256
FILENAME_MAX = 200
ADDRESS_HEADER_MAX = 16 * 1024
TEXT_HEADER_MAX = 8 * 1024
ID_HEADER_MAX = 64 * 1024
HTML_TO_TEXT_MAX = 2 * 1024 * 1024
MAX_DEPTH = 30
MAX_PARTS = 500

_REGISTRY = policy.default.header_factory
T = TypeVar("T")

# --------------------------------------------------------------------------- charsets

_CHARSET_ALIASES = {
    "win-1251": "cp1251", "win1251": "cp1251", "windows1251": "cp1251", "cp-1251": "cp1251",
    "x-cp1251": "cp1251", "windows-1251r": "cp1251", "koi8r": "koi8_r", "koi8": "koi8_r",
    "x-koi8-r": "koi8_r", "ks_c_5601-1987": "cp949", "gb2312": "gb18030", "gbk": "gb18030",
    "iso-8859-8-i": "iso8859_8", "unicode-1-1-utf-7": "utf_7", "utf8": "utf_8",
    "latin1": "cp1252", "iso-8859-1": "cp1252", "us-ascii": "ascii", "ansi_x3.4-1968": "ascii",
}
_UNSAFE_CODECS = {"idna", "punycode", "unicode_escape", "raw_unicode_escape", "undefined", "mbcs", "oem"}
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def resolve_charset(label: str | None) -> str | None:
    """Map a charset label from a mail to a Python text codec name, or None when unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    for candidate in (_CHARSET_ALIASES.get(name), name, name[2:] if name.startswith("x-") else None):
        if not candidate:
            continue
        try:
            info = codecs.lookup(candidate)
        except (LookupError, ValueError, TypeError):
            continue
        if getattr(info, "_is_text_encoding", True) and info.name not in _UNSAFE_CODECS:
            return info.name
    return None


def guess_charset(data: bytes) -> str:
    """Guess the charset of undeclared 8-bit text: windows-1251 or KOI8-R for Cyrillic, else windows-1252."""
    high = [b for b in data if b >= 0x80]
    if not high:
        return "ascii"
    ascii_letters = sum(1 for b in data if 0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A)
    letters = [b for b in high if b >= 0xC0]
    if len(letters) >= 0.6 * len(high) and len(high) > ascii_letters:
        lower_cp1251 = sum(1 for b in letters if b >= 0xE0)
        return "cp1251" if lower_cp1251 * 2 >= len(letters) else "koi8_r"
    return "cp1252"


def decode_text(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """Decode text bytes by the charset chain; return the text and a note when a fallback was needed."""
    codec = resolve_charset(declared)
    label = _short(declared or "")
    unknown = f"unknown charset {label!r}, " if declared and codec is None else ""
    if codec and codec != "ascii":
        try:
            return data.decode(codec), None
        except (UnicodeError, LookupError, ValueError):
            pass
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if data.isascii():
            return text, (f"{unknown}text is plain ASCII" if unknown else None)
        return text, (f"not valid {label}, read as utf-8" if codec else f"{unknown}read as utf-8")
    if codec == "utf-8" and not _UTF8_SEQUENCE.search(data):
        guess = guess_charset(data)
        return data.decode(guess, errors="replace"), f"not valid {label}, read as {guess}"
    if codec and codec != "ascii":
        return data.decode(codec, errors="replace"), f"invalid {label} bytes replaced"
    guess = guess_charset(data)
    return data.decode(guess, errors="replace"), f"{unknown or 'undeclared 8-bit text, '}read as {guess}"


def decode_bytes(data: bytes, declared: str | None, problems: list[str], what: str) -> str:
    """Decode text bytes by the charset chain, adding a line to ``problems`` for every fallback."""
    text, note = decode_text(data, declared)
    line = _CONTROLS.sub("?", clean(f"{what}: {note}"))
    if note and line not in problems:
        problems.append(line)
    return text


def decode_8bit_header(data: bytes, hint: str | None) -> tuple[str, str]:
    """Decode raw 8-bit header bytes (UTF-8 first, then the message's charset, then a guess); say which."""
    candidates = ["utf-8"]
    codec = resolve_charset(hint)
    if codec and codec not in ("ascii", "utf-8"):
        candidates.append(codec)
    for candidate in candidates:
        try:
            return data.decode(candidate), candidate
        except (UnicodeError, LookupError, ValueError):
            continue
    guess = guess_charset(data)
    return data.decode(guess, errors="replace"), guess


def _short(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[:limit] + "..."


def clean(text: str) -> str:
    """Drop NUL characters and replace lone surrogates so the string is safe to store."""
    return _SURROGATES.sub("\ufffd", text.replace("\x00", ""))


# --------------------------------------------------------------------------- headers

@dataclass
class _Ctx:
    problems: list[str] = field(default_factory=list)
    charset_hint: str | None = None

    def note(self, problem: str) -> None:
        problem = _CONTROLS.sub("?", clean(problem))
        if problem not in self.problems:
            self.problems.append(problem)


_ENCODED_WORD = re.compile(r"=\?([^?\s]+?)\?([bBqQ])\?([^?\s]*)\?=")


def _relabel_encoded_words(value: str, ctx: _Ctx, name: str) -> str:
    """Give encoded words with unknown or aliased charset labels a label Python can decode."""

    def fix(m: re.Match[str]) -> str:
        label = m.group(1).split("*", 1)[0]
        codec = resolve_charset(label)
        if codec is not None:
            if codec == _python_codec(label):
                return m.group(0)
            return f"=?{codec}?{m.group(2)}?{m.group(3)}?="
        data = _decode_word_payload(m.group(2), m.group(3))
        fallback = "utf-8" if _is_utf8(data) else guess_charset(data)
        ctx.note(f"{name}: unknown charset {_short(label)!r} in encoded word, read as {fallback}")
        return f"=?{fallback}?{m.group(2)}?{m.group(3)}?="

    return _ENCODED_WORD.sub(fix, value) if "=?" in value else value


def _python_codec(label: str) -> str | None:
    """The codec Python itself finds for a label (no aliases), or None."""
    try:
        return codecs.lookup(label.strip().lower()).name
    except (LookupError, ValueError, TypeError):
        return None


def _decode_word_payload(kind: str, payload: str) -> bytes:
    try:
        if kind in "bB":
            return base64.b64decode(payload + "=" * (-len(payload) % 4), validate=False)
        return quopri.decodestring(payload.replace("_", " ").encode("ascii", "replace"), header=True)
    except Exception:  # a guess only
        return b""


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _raw_values(msg: Message, name: str) -> list[str]:
    lname = name.lower()
    out = []
    for key, value in msg.raw_items():
        if isinstance(key, str) and key.lower() == lname:
            out.append(value if isinstance(value, str) else str(value))
    return out


def _prepare(value: str, name: str, limit: int, ctx: _Ctx, *, split_at: str = "") -> str:
    """Unfold, cap, decode 8-bit bytes and relabel charsets of one raw header value."""
    value = "".join(re.split(r"[\r\n]", value))
    if len(value) > limit:
        cut = value.rfind(split_at, 0, limit) if split_at else -1
        value = value[: cut if cut > 0 else limit]
        ctx.note(f"{name}: header longer than {limit} characters, truncated")
    if _SURROGATES.search(value):
        value, used = decode_8bit_header(value.encode("utf-8", "surrogateescape"), ctx.charset_hint)
        ctx.note(f"{name}: raw 8-bit text in header, read as {used}")
    return _relabel_encoded_words(value, ctx, name)


def _note_defects(header: object, name: str, ctx: _Ctx) -> None:
    for defect in getattr(header, "defects", ()):
        text = _defect_text(defect)
        if not isinstance(defect, ObsoleteHeaderDefect) and "null addr-spec" not in text:  # "<>" bounces
            ctx.note(f"{name}: {text}")


def _defect_text(defect: Exception) -> str:
    text = str(defect) or (type(defect).__doc__ or type(defect).__name__).strip().splitlines()[0]
    return _short(clean(text), 120)


def _fold(text: str) -> str:
    return " ".join(_CONTROLS.sub(" ", clean(text)).split())


def _compat_text(value: str, ctx: _Ctx, name: str) -> str:
    try:
        chunks = decode_header(value)
    except Exception:  # compat32 is the last resort
        return value
    out = []
    for chunk, charset in chunks:
        out.append(chunk if isinstance(chunk, str) else decode_bytes(chunk, charset, ctx.problems, name))
    return "".join(out)


def _text_header(msg: Message, name: str, ctx: _Ctx, limit: int = SUBJECT_MAX) -> str:
    values = _raw_values(msg, name)
    if not values:
        return ""
    value = _prepare(values[0], name, TEXT_HEADER_MAX, ctx)
    try:
        header = _REGISTRY(name, value)
        text = str(header)
        _note_defects(header, name, ctx)
    except Exception as exc:
        ctx.note(f"{name}: parser failed ({type(exc).__name__}), read with compat32")
        text = _compat_text(value, ctx, name)
    text = _fold(text)
    if len(text) > limit:
        ctx.note(f"{name}: longer than {limit} characters, truncated")
        text = text[:limit].rstrip()
    return text


_BAD = r"\s\x00-\x1f\x7f<>()\[\],;:\\\"@"
_LOCAL_OK = re.compile(rf"^[^{_BAD}]{{1,64}}$")
_DOMAIN_OK = re.compile(rf"^(?=.{{1,253}}$)[^{_BAD}.]{{1,63}}(\.[^{_BAD}.]{{1,63}})*$")


def valid_email(local: str, domain: str) -> bool:
    """True when ``local@domain`` looks like a deliverable address (practical, not RFC-complete)."""
    if _SURROGATES.search(local + domain):
        return False
    return bool(_LOCAL_OK.match(local) and _DOMAIN_OK.match(domain))


def _address_header(msg: Message, name: str, ctx: _Ctx) -> list[MailAddress]:
    values = _raw_values(msg, name)
    if not values:
        return []
    value = _prepare(", ".join(values), name, ADDRESS_HEADER_MAX, ctx, split_at=",")
    pairs: list[tuple[str, str, str]] = []
    try:
        header = _REGISTRY(name, value)
        for addr in header.addresses:  # type: ignore[attr-defined]
            pairs.append((addr.display_name or "", addr.username or "", addr.domain or ""))
        _note_defects(header, name, ctx)
    except Exception as exc:
        ctx.note(f"{name}: parser failed ({type(exc).__name__}), read with compat32")
        pairs = []
        for display, spec in getaddresses([value]):
            local, _, domain = spec.rpartition("@")
            pairs.append((_compat_text(display, ctx, name), local, domain))
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
        out.append(MailAddress(email=email, name=_fold(display)[:NAME_MAX]))
    if dropped:
        ctx.note(f"{name}: {dropped} invalid address(es) dropped")
    return out


_MSGID = re.compile(r"<([^<>]*)>")


def _ids(msg: Message, name: str, ctx: _Ctx) -> list[str]:
    values = _raw_values(msg, name)
    if not values:
        return []
    value = _prepare(" ".join(values), name, ID_HEADER_MAX, ctx, split_at=" ")
    found = [m for m in _MSGID.findall(value) if m.strip()]
    if not found and name == "Message-ID":  # no brackets: the first token is the id
        found = value.split()[:1]
    elif not found:  # in References and In-Reply-To only tokens that look like ids
        found = [tok for tok in value.split() if "@" in tok]
    out: list[str] = []
    for item in found:
        ident = _CONTROLS.sub("", clean("".join(item.split()))).strip("<>")[:SUBJECT_MAX]
        if ident and ident not in out:
            out.append(ident)
    return out


def _to_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _parse_date(value: str) -> datetime | None:
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


def _date(msg: Message, internal_date: datetime | None, ctx: _Ctx) -> tuple[datetime | None, str]:
    """The sent time in UTC and the normalised Date text used for the hash key."""
    values = _raw_values(msg, "Date")
    raw = _prepare(values[0], "Date", 512, ctx).strip() if values else ""
    sent = None
    if raw:
        parsed = _parse_date(raw)
        if parsed is not None:
            try:
                sent = _to_utc(parsed)
            except (OverflowError, ValueError):
                sent = None
    key = sent.isoformat() if sent else " ".join(raw.split())
    if sent is None:
        reason = "missing" if not raw else f"unparseable ({_short(clean(raw))!r})"
        if internal_date is not None:
            ctx.note(f"Date: header {reason}, used the server's INTERNALDATE")
            try:
                sent = _to_utc(internal_date)
            except (OverflowError, ValueError):
                sent = None
        else:
            ctx.note(f"Date: header {reason} and no INTERNALDATE")
    return sent, key


def _hash_key(
    from_: list[MailAddress], to: list[MailAddress], date_key: str, subject: str, raw: bytes
) -> str:
    parts = [",".join(a.email for a in from_), ",".join(a.email for a in to), date_key, subject.lower()]
    if not any(parts):
        parts = [raw.replace(b"\r\n", b"\n").decode("latin-1")]
    return "hash:" + hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


# --------------------------------------------------------------------------- bodies and attachments

@dataclass
class _Bodies:
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[MailAttachment] = field(default_factory=list)
    visited: list[Message] = field(default_factory=list)


_MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")


def _content_type(part: Message) -> str:
    try:
        ctype = part.get_content_type()
    except Exception:
        return "application/octet-stream"
    return ctype if _MIME_TYPE.match(ctype) else "application/octet-stream"


def _leaves(part: Message, ctx: _Ctx, out: _Bodies, depth: int = 0) -> Iterator[Message]:
    """The leaf parts in order; a nested message is one leaf (its insides are not ours)."""
    out.visited.append(part)
    if len(out.visited) > MAX_PARTS:
        ctx.note(f"MIME: more than {MAX_PARTS} parts, the rest ignored")
        return
    if _content_type(part).startswith("message/") or not part.is_multipart():
        yield part
        return
    if depth >= MAX_DEPTH:
        ctx.note(f"MIME: nested deeper than {MAX_DEPTH} levels, inner parts ignored")
        return
    for sub in part.get_payload():  # a list: get_payload() on a str payload can raise (bad charset)
        if isinstance(sub, Message):
            yield from _leaves(sub, ctx, out, depth + 1)


def _filename(part: Message, ctx: _Ctx) -> str | None:
    source = part
    raw = [(k, v) for k, v in part.raw_items() if k.lower() in ("content-disposition", "content-type")]
    if any(isinstance(v, str) and _SURROGATES.search(v) for _, v in raw):
        # compat32 turns 8-bit header bytes into U+FFFD; decode them first, then let it parse.
        source = Message()
        for key, value in raw:
            text, used = decode_8bit_header(str(value).encode("utf-8", "surrogateescape"), ctx.charset_hint)
            source[key] = text
        ctx.note(f"attachment name: raw 8-bit text in header, read as {used}")
    try:
        name = source.get_filename()
    except Exception as exc:
        ctx.note(f"attachment name unreadable ({type(exc).__name__})")
        return None
    if not name:
        return None
    name = str(name)
    if "=?" in name:
        name = _compat_text(_relabel_encoded_words(name, ctx, "attachment name"), ctx, "attachment name")
    return safe_filename(name) or None


def safe_filename(name: str) -> str:
    """Strip path components, control characters and dots at the ends; cap the length (keeping the suffix)."""
    name = _CONTROLS.sub("", clean(name)).replace("\r", "").replace("\n", "").replace("\t", " ")
    name = re.split(r"[\\/]", name)[-1].strip().strip(".").strip()
    if len(name) > FILENAME_MAX:
        stem, dot, ext = name.rpartition(".")
        keep_ext = dot and len(ext) <= 16
        name = stem[: FILENAME_MAX - len(ext) - 1] + dot + ext if keep_ext else name[:FILENAME_MAX]
    return name


def _payload_bytes(part: Message) -> bytes:
    if part.is_multipart():
        return b""
    data = part.get_payload(decode=True)  # decodes base64/QP/uuencode, tolerating errors as defects
    return data if isinstance(data, bytes) else b""


def _charset(part: Message, ctx: _Ctx) -> str | None:
    try:
        return part.get_content_charset()
    except Exception as exc:  # RFC 2231 charset parameters can trip the stdlib
        ctx.note(f"MIME: charset parameter unreadable ({type(exc).__name__})")
        return None


def _message_bytes(nested: Message) -> bytes:
    for pol in (policy.compat32.clone(linesep="\r\n"), policy.default.clone(linesep="\r\n")):
        try:
            return nested.as_bytes(policy=pol)
        except Exception:  # noqa: S112 - try the next generator
            continue
    return b""


_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_\-:.]{1,40})", re.I)


def _take(part: Message, ctx: _Ctx, out: _Bodies, cap: int) -> None:
    ctype = _content_type(part)
    maintype = ctype.split("/", 1)[0]
    try:
        disposition = part.get_content_disposition()
    except Exception:
        disposition = None
    filename = _filename(part, ctx)

    if ctype in ("message/rfc822", "message/global"):
        payload = part.get_payload() if part.is_multipart() else None
        nested = payload[0] if payload else None
        if filename is None and isinstance(nested, Message):
            subject = _text_header(nested, "Subject", _Ctx(charset_hint=ctx.charset_hint), 120)
            subject = safe_filename(re.sub(r"[\\/:*?\"<>|]", "_", subject))  # a subject is not a path
            filename = f"{subject}.eml" if subject else None
        content = _message_bytes(nested) if isinstance(nested, Message) else _payload_bytes(part)
        _attach(out, filename, ctype, content, cap, suffix=".eml")
        return
    if maintype == "message":
        payload = part.get_payload() if part.is_multipart() else []
        content = b"".join(_message_bytes(m) for m in payload if isinstance(m, Message)) or _payload_bytes(part)
        _attach(out, filename, ctype, content, cap)
        return
    if ctype in ("text/plain", "text/html") and filename is None and disposition != "attachment":
        data = _payload_bytes(part)
        charset = _charset(part, ctx)
        if charset is None and ctype == "text/html":
            meta = _META_CHARSET.search(data[:4096])
            charset = meta.group(1).decode("ascii") if meta else None
        text = decode_bytes(data, charset, ctx.problems, ctype + " body")
        (out.texts if ctype == "text/plain" else out.htmls).append(text)
        return
    if maintype == "multipart":
        ctx.note(f"MIME: {ctype} without usable boundaries, read as text")
        out.texts.append(decode_bytes(_payload_bytes(part), _charset(part, ctx), ctx.problems, "body"))
        return
    if maintype == "image" and filename is None and disposition != "attachment":
        return  # an inline picture (logo, signature) without a name is not an attachment
    _attach(out, filename, ctype, _payload_bytes(part), cap)


def _attach(out: _Bodies, filename: str | None, ctype: str, data: bytes, cap: int, suffix: str = "") -> None:
    name = filename or f"attachment-{len(out.attachments) + 1}{suffix}"
    content = data if len(data) <= cap else None
    out.attachments.append(MailAttachment(filename=name, content_type=ctype, size=len(data), content=content))


def html_to_text(html: str) -> str:
    """Convert HTML to readable plain text; images dropped, nothing fetched or executed."""
    converter = html2text.HTML2Text()
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_tables = False
    converter.body_width = 0
    converter.unicode_snob = True
    return converter.handle(html)


# --------------------------------------------------------------------------- quoted history

_REPLY_LINE = [
    re.compile(r"^\s*On\b.{0,300}\bwrote:\s*$", re.I),
    re.compile(r"^\s*-{3,}\s*(Original Message|Исходное сообщение)\s*-{3,}\s*$", re.I),
    re.compile(r"^.{0,300}\b(пишет|писал|писала|написал|написала|писал\(а\)|написал\(а\))\s*:\s*$", re.I),
    re.compile(r"^(?=.*\d).{0,300}<[^<>\s@]+@[^<>\s]+>\s*:\s*$"),
]
_OUTLOOK_FROM = re.compile(r"^\s*\*?(From|От|Von|De)\s*:\*?\s*\S", re.I)
_OUTLOOK_SENT = re.compile(r"^\s*\*?(Sent|Date|Отправлено|Дата|Gesendet|Envoyé)\s*:", re.I)
_SEPARATOR = re.compile(r"^\s*(_{10,}|-{3,}\s*(Original Message|Исходное сообщение)\s*-{3,})\s*$", re.I)


def _reply_header_at(lines: list[str], i: int) -> bool:
    line = lines[i]
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    if any(p.match(line) for p in _REPLY_LINE):
        return True
    if line.strip() and any(p.match(line + " " + nxt.strip()) for p in _REPLY_LINE[:1] + _REPLY_LINE[2:]):
        return True  # Gmail wraps "On ... <x@y.z> wrote:" over two lines
    if _OUTLOOK_FROM.match(line):
        return any(_OUTLOOK_SENT.match(later) for later in lines[i + 1 : i + 5])
    return False


def trim_quoted(text: str) -> str:
    """Cut quoted history: from the first reply header on, then trailing '>' lines; never to nothing."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    cut = len(lines)
    for i in range(len(lines)):
        if _reply_header_at(lines, i):
            cut = i
            while cut > 0 and (not lines[cut - 1].strip() or _SEPARATOR.match(lines[cut - 1])):
                cut -= 1
            break
    kept = lines[:cut]
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    while kept and not kept[0].strip():
        kept.pop(0)
    result = "\n".join(kept)
    return result if result.strip() else "\n".join(lines).strip()


# --------------------------------------------------------------------------- the record

def _parse(raw: bytes, ctx: _Ctx) -> Message:
    """The MIME tree, built with compat32 (see the module notes); policy.default if that ever fails."""
    try:
        return BytesParser(policy=policy.compat32).parsebytes(raw)
    except Exception as exc:
        ctx.note(f"MIME: parser failed with compat32 ({type(exc).__name__}), used policy.default")
        return BytesParser(policy=policy.default).parsebytes(raw)


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
        if part.is_multipart() and not _content_type(part).startswith("message/"):
            stack.extend(p for p in part.get_payload() if isinstance(p, Message))
        else:
            yield part


def _guard(ctx: _Ctx, what: str, fn: Callable[[], T], default: T) -> T:
    try:
        return fn()
    except Exception as exc:  # every failure becomes a problem, never an exception
        ctx.note(f"{what}: could not be read ({type(exc).__name__})")
        return default


def parse_message(
    raw: bytes,
    *,
    folder: str,
    uid: int,
    internal_date: datetime | None,
    flags: Iterable[str | bytes] = (),
    attachment_cap: int = 10 * 1024 * 1024,
) -> MailMessage:
    """Parse one raw e-mail into a MailMessage; problems are recorded, never raised."""
    if not isinstance(raw, bytes):
        raw = bytes(raw) if isinstance(raw, bytearray | memoryview) else str(raw).encode("utf-8", "replace")
    ctx = _Ctx()
    try:
        flag_names = tuple(f.decode("utf-8", "replace") if isinstance(f, bytes) else str(f) for f in flags)
    except Exception:
        flag_names = ()
    record = MailMessage(
        message_id="", folder=folder, uid=uid, subject="", sent_at=None, raw=raw, flags=flag_names
    )
    try:
        _fill(record, raw, internal_date, attachment_cap, ctx)
    except Exception as exc:  # last guard
        ctx.note(f"message could not be parsed ({type(exc).__name__})")
    if not record.message_id:
        record.message_id = _hash_key([], [], "", "", raw)
    if record.sent_at is None and internal_date is not None:
        record.sent_at = _guard(ctx, "INTERNALDATE", lambda: _to_utc(internal_date), None)
    record.problems = ctx.problems
    return record


def _fill(record: MailMessage, raw: bytes, internal_date: datetime | None, cap: int, ctx: _Ctx) -> None:
    msg = _parse(raw, ctx)
    ctx.charset_hint = _guard(ctx, "charset", lambda: _charset_hint(msg), None)
    record.subject = _guard(ctx, "Subject", lambda: _text_header(msg, "Subject", ctx), "")
    record.from_ = _guard(ctx, "From", lambda: _address_header(msg, "From", ctx), [])
    record.to = _guard(ctx, "To", lambda: _address_header(msg, "To", ctx), [])
    record.cc = _guard(ctx, "Cc", lambda: _address_header(msg, "Cc", ctx), [])
    record.bcc = _guard(ctx, "Bcc", lambda: _address_header(msg, "Bcc", ctx), [])
    record.reply_to = _guard(ctx, "Reply-To", lambda: _address_header(msg, "Reply-To", ctx), [])
    record.sent_at, date_key = _guard(ctx, "Date", lambda: _date(msg, internal_date, ctx), (None, ""))
    in_reply_to = _guard(ctx, "In-Reply-To", lambda: _ids(msg, "In-Reply-To", ctx), [])
    record.in_reply_to = in_reply_to[0] if in_reply_to else None
    record.references = _guard(ctx, "References", lambda: _ids(msg, "References", ctx), [])
    ids = _guard(ctx, "Message-ID", lambda: _ids(msg, "Message-ID", ctx), [])
    if ids:
        record.message_id = ids[0]
    else:
        ctx.note("Message-ID: missing or empty, used a hash of From, To, Date and Subject")
        record.message_id = _hash_key(record.from_, record.to, date_key, record.subject, raw)

    bodies = _Bodies()
    try:
        for part in _leaves(msg, ctx, bodies):
            _guard(ctx, f"MIME part {_content_type(part)}", lambda p=part: _take(p, ctx, bodies, cap), None)
    except Exception as exc:
        ctx.note(f"MIME: structure could not be walked ({type(exc).__name__})")
    for part in bodies.visited:  # after the walk: decoding a payload adds defects (bad base64...)
        for defect in getattr(part, "defects", ()):
            if isinstance(defect, MessageDefect) and not isinstance(defect, HeaderDefect):
                ctx.note(f"MIME: {_defect_text(defect)}")
    record.attachments = bodies.attachments
    record.html = clean(bodies.htmls[0]) if bodies.htmls else None
    text = "\n\n".join(t.strip("\r\n") for t in bodies.texts if t.strip())
    if not text.strip() and record.html is not None:
        html = record.html
        if len(html) > HTML_TO_TEXT_MAX:
            ctx.note(f"HTML body larger than {HTML_TO_TEXT_MAX} characters, only the start converted to text")
            html = html[:HTML_TO_TEXT_MAX]
        text = _guard(ctx, "HTML body", lambda: html_to_text(html), "")
    record.text = clean(_guard(ctx, "quoted history", lambda: trim_quoted(text), text))


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
