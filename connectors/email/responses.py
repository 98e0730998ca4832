"""FETCH responses read a token at a time by one regular expression, with imapclient's parser behind it.

imapclient reads every response a byte at a time in Python (its lexer pushes and pops each
character): on the header FETCH of a mailbox of small mail that costs three times what imaplib
spends reading the same responses off the socket, and it is the largest single cost of
reading a mailbox. The responses an import asks for are plain: numbers, a list of flags,
quoted dates, bracketed section names and literals. ``parse_fetch`` reads that subset with one
regular-expression match per token and returns exactly what imapclient's
``parse_fetch_response`` returns for it (the same keys, upper-case; the same types; ``SEQ``
included; the responses of one message merged). Anything outside the subset (ENVELOPE,
BODYSTRUCTURE, a quoted string with escapes, a control character, a literal where none can
be) sends the whole response to imapclient's parser, which stays the one authority on the
grammar and on its errors. The tests hold the two equal on generated responses and on what
Dovecot sends.

``fetch`` sends the command through imaplib's own public ``uid()`` on imapclient's connection,
as imapclient's ``fetch()`` does, so the connection, its state and its errors stay imapclient's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from imapclient import IMAPClient
from imapclient.datetime_util import parse_to_datetime
from imapclient.exceptions import IMAPClientError
from imapclient.response_parser import parse_fetch_response

_WORD_CHAR = rb"[^ \t\r\n()%\"\[\]{}\x00-\x1f\x7f]"
_ENDS = rb"(?=[ \t\r\n()]|\Z)"
_ONE_TOKEN = (
    # An atom or a number, BODY[HEADER.FIELDS (A B)] too. Atomic: only the longest run can end
    # where a token may, and without it a long atom before a stray byte backtracks exponentially.
    rb"(?>(?:"
    + _WORD_CHAR
    + rb"+|\[[^\]]*\])+)"
    + _ENDS
    + rb"|[()]"  # a list opens or closes
    + rb"|\"[^\"\\\r\n]*\""
    + _ENDS  # a quoted string without escapes
    + rb"|\{\d+\}\Z"  # a literal's length, which ends the text before the literal
)
_ALL_OURS = re.compile(rb"(?:[ \t\r\n]*+(?:" + _ONE_TOKEN + rb"))*[ \t\r\n]*")
"""A text made of nothing but the tokens above: anything else in it is not ours to read."""
_TOKENS = re.compile(_ONE_TOKEN)
"""The tokens of a text ``_ALL_OURS`` accepted, in order (no token starts with a blank, so blanks are skipped)."""
_OPEN, _CLOSE, _QUOTE, _BRACE, _ZERO = b'()"{0'
_NOT_OURS = frozenset({b"ENVELOPE", b"BODY", b"BODYSTRUCTURE"})
"""Items imapclient turns into objects of its own: left to it."""


class _NotOurs(Exception):
    """The response holds something outside the subset ``parse_fetch`` reads."""


def fetch(client: IMAPClient, uids: Iterable[int], items: list[str]) -> dict[int, dict[bytes, Any]]:
    """UID FETCH these items of these messages: {uid: {item: value}}, as ``IMAPClient.fetch`` returns it.

    Errors are imapclient's (``IMAPClientError`` when the server says NO, imaplib's when it says
    BAD or drops the connection).
    """
    ids = ",".join(str(int(u)) for u in uids)
    if not ids:
        return {}
    imap = client._imap  # imapclient's imaplib connection, as imapclient's own fetch() uses it
    typ, data = imap.uid("FETCH", ids, "(" + " ".join(item.upper() for item in items) + ")")
    if typ != "OK":
        detail = data[0].decode("utf-8", "replace") if data and isinstance(data[0], bytes) else data
        raise IMAPClientError(f"fetch failed: {detail}")
    return parse_fetch(data)


def parse_fetch(data: list[Any]) -> dict[int, dict[bytes, Any]]:
    """imaplib's untagged FETCH data parsed as imapclient parses it (keyed by UID), the plain ones fast."""
    if data == [None]:
        return {}
    try:
        return _by_uid(_values(data))
    except _NotOurs:
        return parse_fetch_response(data, normalise_times=False, uid_is_key=True)


def _values(data: list[Any]) -> list[Any]:
    """The responses as one list of values (seq, (items...), seq, (items...), ...); _NotOurs outside the subset."""
    top: list[Any] = []
    current, stack = top, []
    for element in data:
        if isinstance(element, tuple) and len(element) == 2:
            text, literal = element
        elif isinstance(element, bytes):
            text, literal = element, None
        else:
            raise _NotOurs
        if _ALL_OURS.fullmatch(text) is None:
            raise _NotOurs
        for token in _TOKENS.findall(text):
            first = token[0]
            if first == _OPEN:
                stack.append(current)
                current = []
            elif first == _CLOSE:
                if not stack:
                    raise _NotOurs
                finished, current = tuple(current), stack.pop()
                current.append(finished)
            elif first == _QUOTE:
                current.append(token[1:-1])
            elif first == _BRACE:
                if literal is None or int(token[1:-1]) != len(literal):
                    raise _NotOurs
                current.append(literal)
                literal = None
            elif token.isdigit() and (first != _ZERO or len(token) == 1):
                current.append(int(token))
            else:
                current.append(None if token == b"NIL" else token)
        if literal is not None:
            raise _NotOurs  # a literal with no {n} to stand for
    if stack:
        raise _NotOurs
    return top


def _by_uid(values: list[Any]) -> dict[int, dict[bytes, Any]]:
    """(seq, (item, value, ...)) pairs keyed as ``parse_fetch_response(..., uid_is_key=True)`` keys them."""
    if len(values) % 2:
        raise _NotOurs
    parsed: dict[int, dict[bytes, Any]] = {}
    for index in range(0, len(values), 2):
        seq, pairs = values[index], values[index + 1]
        if not isinstance(seq, int) or not isinstance(pairs, tuple) or len(pairs) % 2:
            raise _NotOurs
        key = seq
        message: dict[bytes, Any] = {b"SEQ": seq}
        for at in range(0, len(pairs), 2):
            name, value = pairs[at], pairs[at + 1]
            if not isinstance(name, bytes):
                raise _NotOurs
            name = name.upper()
            if name == b"UID":
                if not isinstance(value, int):
                    raise _NotOurs
                key = value
            elif name == b"INTERNALDATE":
                message[name] = _internal_date(value)
            elif name in _NOT_OURS:
                raise _NotOurs
            else:
                message[name] = value
        parsed.setdefault(key, {}).update(message)
    return parsed


def _internal_date(value: Any) -> Any:
    """INTERNALDATE as imapclient gives it with ``normalise_times`` off: an aware datetime, None when unreadable."""
    if value is None:
        return None
    if not isinstance(value, bytes):
        raise _NotOurs
    try:
        return parse_to_datetime(value, normalise=False)
    except ValueError:
        return None
