"""Text out of mail bytes: charset labels, guesses for undeclared 8-bit text, and safe strings.

Mail declares its charsets badly: ``win-1251``, ``x-cp1251``, ``koi8``, ``unicode-1-1-utf-7``,
"UTF-8" on windows-1251 text, nothing at all on 8-bit text. The chain, for bodies: the declared
charset (aliases resolved), then UTF-8, then the declared charset with replacement characters -
except that "UTF-8" without a single UTF-8 sequence is a mislabel and goes to the guess: Cyrillic
by its letter density (windows-1251 or KOI8-R by which byte range holds the lower-case letters),
anything else windows-1252. Raw 8-bit headers: UTF-8 first (cp1251 would "decode" anything),
then the message's charset, then the guess. Every fallback is noted as a problem (``Notes``),
which the engine shows to admins.

Every string leaves through ``clean``: no NUL characters and no lone surrogates, which
PostgreSQL and UTF-8 encoders reject.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

_CHARSET_ALIASES = {
    "win-1251": "cp1251",
    "win1251": "cp1251",
    "windows1251": "cp1251",
    "cp-1251": "cp1251",
    "x-cp1251": "cp1251",
    "windows-1251r": "cp1251",
    "koi8r": "koi8_r",
    "koi8": "koi8_r",
    "x-koi8-r": "koi8_r",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso-8859-8-i": "iso8859_8",
    "unicode-1-1-utf-7": "utf_7",
    "utf8": "utf_8",
    "latin1": "cp1252",
    "iso-8859-1": "cp1252",
    "us-ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
}
_UNSAFE_CODECS = {"idna", "punycode", "unicode_escape", "raw_unicode_escape", "undefined", "mbcs", "oem"}
SURROGATES = re.compile(r"[\ud800-\udfff]")
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Notes:
    """What was wrong with one message but could be worked around, in words, each once."""

    problems: list[str] = field(default_factory=list)
    charset_hint: str | None = None
    """The message's own charset (from its first parts), the best guess for raw 8-bit headers."""

    def note(self, problem: str) -> None:
        """Record a problem (control characters masked), unless it is already recorded."""
        problem = CONTROLS.sub("?", clean(problem))
        if problem not in self.problems:
            self.problems.append(problem)


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


def python_codec(label: str) -> str | None:
    """The codec Python itself finds for a label (no aliases), or None."""
    try:
        return codecs.lookup(label.strip().lower()).name
    except (LookupError, ValueError, TypeError):
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


def is_utf8(data: bytes) -> bool:
    """True when the bytes are valid UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_text(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """Decode text bytes by the charset chain; return the text and a note when a fallback was needed."""
    codec = resolve_charset(declared)
    label = short(declared or "")
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
    line = CONTROLS.sub("?", clean(f"{what}: {note}"))
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


def short(value: str, limit: int = 40) -> str:
    """The value, cut to ``limit`` characters with an ellipsis."""
    return value if len(value) <= limit else value[:limit] + "..."


def clean(text: str) -> str:
    """Drop NUL characters and replace lone surrogates so the string is safe to store."""
    if text.isascii():
        return text.replace("\x00", "") if "\x00" in text else text
    return SURROGATES.sub("\ufffd", text.replace("\x00", ""))
