"""Well-formed multipart mail read without the stdlib feed parser, into the tree the parser builds.

Most mail in a mailbox is multipart: a text with its HTML twin (multipart/alternative), files
(multipart/mixed), both nested. compat32's feed parser reads it line by line, testing each line
of each part against a pattern it compiles for each message's own boundary: 0.3 to 1 ms a
message, most of it spent on the lines of base64 attachments, which nobody needs as lines. Here
the delimiter lines are found with ``bytes.find`` and each part is cut out of the raw bytes
whole. The tree is the parser's - the same parts, Content-* headers (all that ``bodies``
reads), payloads, preambles and epilogues - so the record read from it is the same too.

What qualifies: a multipart (not multipart/digest, whose parts default to message/rfc822) with
a boundary of printable ASCII and no transfer encoding but 7bit, 8bit or binary; a separator
line first, a close delimiter at the end, never two delimiter lines in a row; each part with a
plain ASCII header block (``split_header_fields``) or none (a blank line first), not message/*;
a multipart part by the same rules, at most ``MAX_DEPTH`` deep. Anything else gives None and the
caller asks the parser: where the parser notes a defect (no boundary, no first or close
delimiter, an encoded multipart, a header block it stops reading) or does something of its own
(digests, nested messages, delimiter lines in a row, which it skips).

What the parser does, and this does the same: a line ends at CRLF, LF or a lone CR. A delimiter
line is ``--boundary``, then ``--`` for the close delimiter, then blanks (transport padding) and
the end of the line; every line is tested, the lines of inner parts too, and an outer boundary
wins: cutting the parts at the outer delimiters first gives an inner multipart exactly the lines
the parser lets it see. The line break before a delimiter line belongs to the delimiter (it is
not in the payload before it, nor in the preamble). After the close delimiter comes the
epilogue, which a nested multipart keeps without its last line break (None when empty).
"""

from __future__ import annotations

import re
from email.message import Message

from connectors.email.headers import split_header_fields

MAX_DEPTH = 10
HEAD_MAX = 8192
"""How much of a part its header block is looked for in; a longer block is left to the parser."""

_BOUNDARY = re.compile(r"[\x20-\x7e]{1,200}")
_PLAIN_ENCODINGS = ("7bit", "8bit", "binary")  # others on a multipart are a defect to the parser


def content_headers(fields: dict[str, list[str]]) -> Message:
    """A Message with the Content-* headers of ``fields`` (``split_header_fields``), in their order."""
    msg = Message()
    for name, values in fields.items():
        if name.startswith("content-"):
            for value in values:
                msg.set_raw(name, value)
    return msg


def with_parts(msg: Message, raw: bytes, start: int) -> Message | None:
    """``msg``, a multipart with its body at raw[start:], given the parts the feed parser reads; None unless plain."""
    try:
        return msg if _fill(msg, raw, start, len(raw), 0) else None
    except Exception:  # whatever the parser makes of it (it raises where this does), it decides
        return None


def _fill(msg: Message, raw: bytes, start: int, end: int, depth: int) -> bool:
    """Give ``msg``, a multipart whose body is raw[start:end], its parts, preamble and epilogue; False if not plain."""
    boundary = msg.get_boundary()  # the parser's own reading of the parameter, quotes and RFC 2231 included
    if (
        depth > MAX_DEPTH
        or boundary is None
        or not _BOUNDARY.fullmatch(boundary)
        or msg.get_content_type() == "multipart/digest"
        or str(msg.get("content-transfer-encoding", "8bit")).lower() not in _PLAIN_ENCODINGS
    ):
        return False
    lines = _delimiters(raw, b"--" + boundary.encode("ascii"), start, end)
    if lines is None:
        return False
    first = lines[0][0]
    if first > start:
        msg.preamble = _text(raw[start : first - _eol(raw, first, start)])
    parts = []
    for (_, after), (before, _) in zip(lines, lines[1:], strict=False):
        part = _part(raw, after, before, depth)
        if part is None:
            return False
        parts.append(part)
    msg.set_payload(parts)
    close_end = lines[-1][1]
    if depth == 0:
        msg.epilogue = _text(raw[close_end:end])
    else:  # the outer delimiter takes the last line break; nothing at all is None
        msg.epilogue = _text(raw[close_end : end - _eol(raw, end, close_end)]) if close_end < end else None
    return True


def _delimiters(raw: bytes, sep: bytes, start: int, end: int) -> list[tuple[int, int]] | None:
    """Where the delimiter lines of raw[start:end] start and end, the close delimiter last; None unless plain.

    None without a separator line first, without a close delimiter, or with two delimiter lines
    in a row. Lines after the close delimiter are the epilogue's, whatever they look like.
    """
    lines: list[tuple[int, int]] = []
    at = raw.find(sep, start, end)
    while at >= 0:
        stop = at + len(sep)
        if at == start or raw[at - 1] in b"\r\n":  # at the start of a line
            close = raw.startswith(b"--", stop, end)
            if close:
                stop += 2
            while stop < end and raw[stop] in b" \t":  # transport padding
                stop += 1
            if stop == end or raw[stop] in b"\r\n":  # nothing else on the line: a delimiter
                stop += 2 if raw.startswith(b"\r\n", stop, end) else 1 if stop < end else 0
                if (lines and lines[-1][1] == at) or (close and not lines):
                    return None  # the parser skips a delimiter line after another; a close first ends its preamble
                lines.append((at, stop))
                if close:
                    return lines
        at = raw.find(sep, stop, end)
    return None


def _part(raw: bytes, start: int, end: int, depth: int) -> Message | None:
    """The part at raw[start:end], between two delimiter lines; None unless plain."""
    block = raw[start : min(end, start + HEAD_MAX)]
    split = split_header_fields(block.decode("latin-1"))  # one character a byte, as fast as a copy
    if split is None:
        return None
    fields, body_at = split
    if (body_at >= len(block) and start + len(block) < end) or not block[:body_at].isascii():
        return None  # a header block cut at HEAD_MAX (it might go on), or 8-bit headers
    part = content_headers(fields)
    maintype = part.get_content_maintype()
    body_at += start
    if maintype == "message":
        return None
    if maintype == "multipart":
        return part if _fill(part, raw, body_at, end, depth + 1) else None
    part.set_payload(_text(raw[body_at : end - _eol(raw, end, body_at)]))
    return part


def _eol(raw: bytes, at: int, start: int) -> int:
    """The length of the line break that ends at ``at`` without starting before ``start``; 0 when none."""
    if at - 2 >= start and raw[at - 2] == 13 and raw[at - 1] == 10:  # CR LF
        return 2
    return 1 if at > start and raw[at - 1] in b"\r\n" else 0


def _text(data: bytes) -> str:
    """Bytes as the parser holds them: ASCII, and the other bytes as surrogates.

    Decoded a part at a time, the 8-bit text of one part neither slows the decoding of a base64
    attachment nor makes its string twice as wide, as it does the parser's whole-message string.
    """
    return data.decode("ascii", "surrogateescape")
