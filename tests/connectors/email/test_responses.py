"""The fast FETCH reader gives exactly what imapclient's parser gives, on generated responses and on Dovecot's."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, ProtocolError
from imapclient.response_parser import parse_fetch_response

from connectors.email import responses
from connectors.email.responses import parse_fetch
from tests.peers.dovecot_fixtures import Mailbox, dovecot, mailbox  # noqa: F401

PEER_FIXTURES = (dovecot, mailbox)


def imapclients(data: list[object]) -> dict[int, dict[bytes, object]]:
    """imapclient's own reading of the same data, as a plain dict."""
    return dict(parse_fetch_response(data, normalise_times=False, uid_is_key=True))


def fast_path(data: list[object]) -> dict[int, dict[bytes, object]]:
    """The fast reading alone (no fallback): raises when the data is outside its subset."""
    return responses._by_uid(responses._values(data))


# ---------------------------------------------------------------- what imaplib hands over


def test_a_header_fetch_as_imaplib_returns_it() -> None:
    header = b"From: a@example.com\r\nSubject: hi\r\n\r\n"
    data = [
        (b"1 (UID 17 RFC822.SIZE 2328 FLAGS (\\Seen $Private) BODY[HEADER] {%d}" % len(header), header),
        b")",
        b"2 (UID 18 RFC822.SIZE 0 FLAGS () BODY[HEADER] NIL)",
    ]
    parsed = fast_path(data)
    assert parsed == {
        17: {b"SEQ": 1, b"RFC822.SIZE": 2328, b"FLAGS": (b"\\Seen", b"$Private"), b"BODY[HEADER]": header},
        18: {b"SEQ": 2, b"RFC822.SIZE": 0, b"FLAGS": (), b"BODY[HEADER]": None},
    }
    assert parsed == imapclients(data)


def test_items_after_the_literal_dates_sections_and_modseq() -> None:
    lines = b"Message-ID: <x@y>\r\n\r\n"
    data = [
        (
            b'5 (INTERNALDATE "02-Mar-2026 10:00:00 +0300" BODY[HEADER.FIELDS (MESSAGE-ID FROM)] {%d}' % len(lines),
            lines,
        ),
        b" MODSEQ (123456789012) UID 40 X-GM-LABELS (Inbox 007 0))",
    ]
    parsed = fast_path(data)
    assert parsed == imapclients(data)
    assert parsed[40][b"INTERNALDATE"].astimezone(UTC) == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    assert parsed[40][b"MODSEQ"] == (123456789012,)
    assert parsed[40][b"X-GM-LABELS"] == (b"Inbox", b"007", 0), "no number read from 007, as imapclient"


def test_two_literals_in_one_response_and_unsolicited_flag_updates() -> None:
    data = [
        (b"3 (UID 9 BODY[HEADER] {4}", b"a\r\n\r"),
        (b" BODY[TEXT] {2}", b"hi"),
        b")",
        b"3 (UID 9 FLAGS (\\Seen))",  # a second response for the same message: merged into the first
        b"4 (FLAGS (\\Deleted))",  # no UID: keyed by its sequence number, as imapclient does
    ]
    parsed = fast_path(data)
    assert parsed == imapclients(data)
    assert parsed[9] == {b"SEQ": 3, b"BODY[HEADER]": b"a\r\n\r", b"BODY[TEXT]": b"hi", b"FLAGS": (b"\\Seen",)}
    assert parsed[4] == {b"SEQ": 4, b"FLAGS": (b"\\Deleted",)}


@pytest.mark.parametrize(
    "data",
    [
        [b'1 (UID 2 X-NOTE "say \\"hi\\"")'],  # escapes in a quoted string
        [b"1 (UID 2 ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))"],  # imapclient's Envelope object
        [b'1 (UID 2 BODYSTRUCTURE ("TEXT" "PLAIN" NIL NIL NIL "7BIT" 3 1))'],
        [b"1 (UID 2 FLAGS (%x))"],  # a byte imapclient reads as a token of its own
        [b"1 (UID 2 FLAGS (\\Seen)"],  # a list never closed
        [(b"1 (UID 2 BODY[] {5}", b"abc"), b")"],  # a literal shorter than it says
        [b"1 (UID 2 BODY[] {3})"],  # a literal that imaplib never read
        [b"1 (UID 0123 FLAGS ())"],  # a UID imapclient reads with int()
        [b'1 (UID 2 X "a"b)'],  # two tokens with nothing between them
        [b"1 (UID 2 FLAGS (\x01))"],  # a control character
    ],
)
def test_anything_else_goes_to_imapclient_with_the_same_result_or_error(data: list[object]) -> None:
    with pytest.raises(responses._NotOurs):
        fast_path(data)
    try:
        expected: object = imapclients(data)
    except (ProtocolError, ValueError, AttributeError) as exc:
        with pytest.raises(type(exc)):
            parse_fetch(data)
    else:
        assert parse_fetch(data) == expected


def test_no_responses_at_all() -> None:
    assert parse_fetch([None]) == {} == imapclients([None])


# ---------------------------------------------------------------- generated responses

_atoms = st.sampled_from([b"\\Seen", b"\\Answered", b"$Private", b"$Label1", b"Junk", b"NIL", b"0", b"42", b"007"])
_words = st.from_regex(rb"\A[A-Za-z0-9.$\\_+:*!#&'-]{1,12}\Z")  # what an atom may be made of, NIL and numbers too
_quoted = st.from_regex(rb"\A[ a-zA-Z0-9:+,.-]{0,30}\Z").map(lambda s: b'"' + s + b'"')
_dates = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)).map(
    lambda d: d.strftime('"%d-%b-%Y %H:%M:%S +0000"').encode()
)


@st.composite
def _value(draw: st.DrawFn, depth: int = 0) -> tuple[bytes, bytes | None]:
    """One value as text, with its literal when it is one (then the text ends the element with {n})."""
    kinds = ["number", "word", "quoted", "nil", "literal"] + (["list"] if depth < 2 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "number":
        return str(draw(st.integers(0, 2**63))).encode(), None
    if kind == "word":
        return draw(st.one_of(_atoms, _words)), None
    if kind == "quoted":
        return draw(_quoted), None
    if kind == "nil":
        return b"NIL", None
    if kind == "literal":
        literal = draw(st.binary(max_size=60))
        return b"{%d}" % len(literal), literal
    items = draw(st.lists(st.one_of(_atoms, _words, st.integers(0, 999).map(lambda n: str(n).encode())), max_size=5))
    return b"(" + b" ".join(items) + b")", None


_names = st.sampled_from(
    [b"RFC822.SIZE", b"FLAGS", b"BODY[HEADER]", b"BODY[TEXT]", b"BODY[]<0>", b"BODY[HEADER.FIELDS (FROM TO)]", b"X-A"]
)


@st.composite
def fetch_data(draw: st.DrawFn) -> list[object]:
    """Untagged FETCH responses cut up as imaplib hands them: (text ending in {n}, literal) pairs, then the rest."""
    data: list[object] = []
    for _ in range(draw(st.integers(1, 4))):
        seq = draw(st.integers(1, 10**6))
        parts: list[tuple[bytes, bytes | None]] = []
        if draw(st.booleans()):
            parts.append((b"UID " + str(draw(st.integers(1, 2**32 - 1))).encode(), None))
        if draw(st.booleans()):
            parts.append((b"INTERNALDATE " + draw(st.one_of(_dates, st.just(b'"not a date"'), st.just(b"NIL"))), None))
        for _ in range(draw(st.integers(0, 4))):
            text, literal = draw(_value())
            parts.append((draw(_names) + b" " + text, literal))
        text = b"%d (" % seq
        for index, (part, literal) in enumerate(parts):
            text += (b" " if index else b"") + part
            if literal is not None:
                data.append((text, literal))
                text = b""
        data.append(text + b")")
    return data


@given(fetch_data())
@settings(max_examples=400, database=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_responses_read_as_imapclient_reads_them(data: list[object]) -> None:
    assert fast_path(data) == imapclients(data)


@given(st.lists(st.one_of(st.binary(max_size=40), st.tuples(st.binary(max_size=40), st.binary(max_size=20)))))
@settings(max_examples=300, database=None)
def test_any_bytes_give_imapclients_result_or_its_error(data: list[object]) -> None:
    try:
        expected: object = imapclients(data)
    except Exception as exc:  # noqa: BLE001 - whatever imapclient raises, parse_fetch must raise too
        with pytest.raises(type(exc)):
            parse_fetch(data)
    else:
        assert parse_fetch(data) == expected


# ---------------------------------------------------------------- against Dovecot

MESSAGE = (
    b"From: Client <client@example.com>\r\nTo: me@example.test\r\nSubject: offer\r\n"
    b"Message-ID: <offer-{n}@example.com>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0300\r\n\r\nBody {n}\r\n"
)


@pytest.mark.peers
def test_dovecots_responses_read_as_imapclient_reads_them(mailbox: Mailbox) -> None:
    messages = [MESSAGE.replace(b"{n}", str(n).encode()) for n in range(30)]
    uids = mailbox.append("INBOX", messages[:10], flags=("$Private", "\\Flagged"))
    uids += mailbox.append("INBOX", messages[10:])
    client = IMAPClient(mailbox.host, mailbox.port, ssl=False, timeout=5)
    client.normalise_times = False
    try:
        client.login(mailbox.user, mailbox.password)
        client.enable("CONDSTORE")
        client.select_folder("INBOX", readonly=True)
        for items in (
            ["RFC822.SIZE", "FLAGS", "BODY.PEEK[HEADER]"],
            ["INTERNALDATE", "BODY.PEEK[TEXT]"],
            ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID FROM TO DATE SUBJECT)]", "MODSEQ", "FLAGS"],
            ["BODY.PEEK[]", "ENVELOPE"],  # imapclient's own objects: read by imapclient
        ):
            ours = responses.fetch(client, uids, items)
            assert ours == dict(client.fetch(uids, items)), items
            assert sorted(ours) == uids
        flags = responses.fetch(client, uids[:1], ["FLAGS"])[uids[0]][b"FLAGS"]
        assert {b"\\Flagged", b"$Private"} <= set(flags)
        with pytest.raises(IMAPClientError):
            responses.fetch(client, uids[:1], ["NO-SUCH-ITEM"])  # the server says BAD
        assert responses.fetch(client, [], ["FLAGS"]) == {}
    finally:
        client.logout()


def test_a_long_atom_before_a_stray_byte_is_left_to_imapclient_at_once() -> None:
    # The token pattern once let a long atom backtrack exponentially before a byte it could not
    # read (30 characters: minutes, with the GIL held), and a long run of blanks took quadratic
    # time. Read in a process of its own, so that a return of either fails here instead of
    # hanging the run.
    code = (
        "from connectors.email.responses import parse_fetch; "
        "print(repr(dict(parse_fetch([b'1 (UID 5 FLAGS (' + b'k' * 5000 + b'%))'])))); "
        "print(repr(dict(parse_fetch([b'2 (UID 6 FLAGS ())' + b' ' * 50000]))))"  # a long run of blanks, too
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    expected = imapclients([b"1 (UID 5 FLAGS (" + b"k" * 5000 + b"%))"])
    blanks = imapclients([b"2 (UID 6 FLAGS ())" + b" " * 50000])
    assert done.stdout.splitlines() == [repr(expected), repr(blanks)]
    assert expected[5][b"FLAGS"] == (b"k" * 5000, b"%") and blanks == {6: {b"SEQ": 2, b"FLAGS": ()}}
