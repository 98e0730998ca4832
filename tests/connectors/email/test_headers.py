"""The fast paths of header reading give exactly what the stdlib's slow paths give, and lazy parsing what eager does.

Each fast path (plain address lists, subjects of well-formed encoded words, splitting a plain
header block, parsing the body only when asked) is compared with the slow path on generated
input, including input built to sit on the edge of what the fast path accepts.
"""

from __future__ import annotations

import base64
import dataclasses
import pickle
import random
from datetime import UTC, datetime
from email import policy
from email.header import Header
from email.parser import BytesParser

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.email import headers
from connectors.email.charsets import Notes
from connectors.email.headers import raw_headers, split_header_block
from connectors.email.mapping import LazyMailMessage, _ascii_header_block, completed, parse_message
from tests.connectors.email import test_mapping
from tests.mail import corpus

REGISTRY = policy.default.header_factory


def registry_text(value: str) -> str:
    return headers.fold(str(REGISTRY("Subject", value)))


WORDS = st.sampled_from(
    [
        "Re:",
        "Счёт",
        "offer",
        "=?utf-8?q?=D0=97=D0=B0=D0=BA=D0=B0=D0=B7?=",
        "=?UTF-8?B?0JfQsNC60LDQtw==?=",
        "=?windows-1251?B?z/Do4uXy?=",
        "=?iso-8859-1?q?caf=E9?=",
        "=?utf-8?q?a_b?=",
        "=?utf-8?b?!!bad?=",
        "=?win-1251?B?z/Do4uXy?=",
        "=?utf-8?q?=ZZ?=",
        "=?utf-8?B?0J?=",
        "x=?utf-8?q?y?=",
        "=?utf-8?q?tab=09?=",
        "(c)",
        '"q"',
        "=?",
        "?=",
    ]
)
SPACES = st.sampled_from([" ", "  ", "\t", " \t "])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(WORDS, SPACES), min_size=1, max_size=6))
def test_encoded_word_fast_path_matches_the_registry(parts) -> None:
    value = "".join(w + s for w, s in parts).strip()
    fast = headers._plain_encoded_words(value)
    if fast is not None:
        assert headers.fold(fast) == registry_text(value)


def test_encoded_word_fast_path_is_taken_for_ordinary_subjects() -> None:
    value = Header("Счёт № 42 на оплату поставки за март", "utf-8").encode().replace("\n", "")  # as unfolded
    assert headers._plain_encoded_words(value) == "Счёт № 42 на оплату поставки за март"
    assert headers._plain_encoded_words("=?utf-8?b?!!bad?=") is None
    assert headers._plain_encoded_words("=?x-unknown?q?a?=") is None


NAMES = st.sampled_from(["Ivan", '"Ivanov, Ivan"', "O'Brien", '"  x "', "A.B", "Team:", '"q\\"x"', "(c)", ""])
ADDRS = st.sampled_from(["a@b.com", "A.B@Example.COM", "x+y@d-d.org", "bad@@x", "no-at", '"q l"@x.com', "a.@b.c", ""])
FORMS = st.sampled_from(["{a}", "<{a}>", "{n} <{a}>", "{n}<{a}>"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(NAMES, ADDRS, FORMS), min_size=1, max_size=4), st.sampled_from([", ", ",", " , ", ";"]))
def test_address_fast_path_matches_the_registry(items, sep) -> None:
    value = sep.join(form.format(n=n, a=a) for n, a, form in items)
    fast = headers._simple_pairs(value)
    if fast is None:
        return
    slow = [(a.display_name or "", a.username or "", a.domain or "") for a in REGISTRY("To", value).addresses]
    assert [(headers.fold(n), lo, d) for n, lo, d in fast] == [(headers.fold(n), lo, d) for n, lo, d in slow]


LINES = st.sampled_from(
    [
        "From: a@b.example\r\n",
        "To: c@d.example,\r\n",
        " e@f.example\r\n",
        "\tfolded\r\n",
        "Subject: hi\r\n",
        "Subject:\r\n",
        "X-Empty:   \r\n",
        "Message-ID: <x@y>\n",
        "Weird line\r\n",
        ": no name\r\n",
        "From nobody Mon Jan 1\r\n",
        "Date: Mon, 2 Mar 2026 10:00:00 +0300\r",
        "\r\n",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(LINES, max_size=8))
def test_header_block_split_matches_compat32(lines) -> None:
    block = "".join(lines) + "\r\n"
    fast = split_header_block(block)
    if fast is None:
        return
    msg = BytesParser(policy=policy.compat32).parsebytes(block.encode(), headersonly=True)
    assert fast == raw_headers(msg)


def test_plain_header_blocks_take_the_fast_split() -> None:
    block = "From: a@b.example\r\nTo: c@d.example,\r\n e@f.example\r\nSubject: hi\r\n\r\n"
    assert split_header_block(block) == {
        "from": ["a@b.example"],
        "to": ["c@d.example,\r\n e@f.example"],
        "subject": ["hi"],
    }
    assert split_header_block("From nobody\r\nSubject: x\r\n\r\n") is None
    assert split_header_block(" continued\r\nSubject: x\r\n\r\n") is None


def _fields(msg) -> dict:
    return {f.name: getattr(msg, f.name) for f in dataclasses.fields(msg)}


def _corpus() -> list[bytes]:
    samples = [v for v in vars(test_mapping).values() if isinstance(v, bytes)]
    samples += [raw for _, raw in corpus.INBOX + corpus.SENT]
    rng = random.Random(7)
    small = [raw for raw in samples if len(raw) < 100_000]
    for _ in range(300):  # damaged copies: bytes flipped, lines and boundaries inserted, pieces cut
        data = bytearray(rng.choice(small))
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(data) + 1)
            roll = rng.random()
            if roll < 0.4 and data:
                data[min(at, len(data) - 1)] = rng.randrange(256)
            elif roll < 0.7:
                data[at:at] = rng.choice([b"\r\n", b"\n\n", b":", b"=?", b"\x80", b"\r\n\r\n", b"\r\n boundary=x"])
            else:
                del data[at : at + rng.randint(1, 20)]
        samples.append(bytes(data))
    return samples


def test_lazy_body_gives_exactly_the_eager_record() -> None:
    lazy_count = 0
    for raw in _corpus():
        args = {"folder": "INBOX", "uid": 3, "internal_date": datetime(2026, 3, 2, tzinfo=UTC)}
        eager = parse_message(raw, **args)
        lazy = parse_message(raw, **args, lazy_body=True)
        lazy_count += isinstance(lazy, LazyMailMessage)
        assert _fields(lazy) == _fields(eager), raw[:200]
    assert lazy_count > 200


ONE_PART_HEADERS = st.sampled_from(
    [
        "From: a@b.example\r\n",
        "Subject: hi\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n",
        'Content-Type: text/plain; charset="koi8-r"; format=flowed\r\n',
        "content-type: TEXT/PLAIN;\r\n\tcharset=windows-1251\r\n",
        "Content-Type: text/html\r\n",
        "Content-Type: text\r\n",
        'Content-Type: application/pdf; name="a.pdf"\r\n',
        "Content-Type: image/png\r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n",
        "Content-Type: message/rfc822\r\n",
        "Content-Transfer-Encoding: base64\r\n",
        "Content-Transfer-Encoding: quoted-printable \r\n",
        "Content-Transfer-Encoding: 8bit\r\n",
        "Content-Disposition: attachment; filename*=utf-8''%D0%90.txt\r\n",
        "Content-Disposition: inline\r\n",
        "Content-ID: <logo@x>\r\n",
        " folded on\r\n",
        "Date: Mon, 2 Mar 2026 10:00:00 +0300\r",
        "\r",
        "Subject: form\x0cfeed\r\n",
        "From nobody Mon Jan 1\r\n",
        "Weird line\r\n",
    ]
)
ONE_PART_BODIES = st.lists(
    st.sampled_from([b"text", b"\xd0\x90\xff", b"=D0=90=\r\n", b"0JA=\r\n", b"\r\n", b"\n", b"\r", b"--b\r\n", b" "]),
    max_size=12,
).map(b"".join)


@settings(max_examples=400, deadline=None, database=None)
@given(st.lists(ONE_PART_HEADERS, max_size=8), st.sampled_from(["\r\n", "\n"]), ONE_PART_BODIES)
def test_one_part_mail_parsed_without_the_feed_parser_gives_the_eager_record(heads, blank, body) -> None:
    """The lazy body reads a message in one part without the feed parser: it must read it as the parser does."""
    raw = ("".join(heads) + blank).encode() + body
    args = {"folder": "INBOX", "uid": 3, "internal_date": datetime(2026, 3, 2, tzinfo=UTC)}
    assert _fields(parse_message(raw, **args, lazy_body=True)) == _fields(parse_message(raw, **args))


def test_lazy_details_give_exactly_the_eager_record() -> None:
    """A summary reads its addresses at once and the rest on first use: the same record in the end."""
    for raw in _corpus():
        args = {"folder": "INBOX", "uid": 3, "internal_date": datetime(2026, 3, 2, tzinfo=UTC)}
        eager = parse_message(raw, **args)
        lazy = parse_message(raw, **args, lazy_body=True, lazy_details=True)
        assert (lazy.from_, lazy.to, lazy.cc, lazy.bcc) == (eager.from_, eager.to, eager.cc, eager.bcc)
        assert _fields(lazy) == _fields(eager), raw[:200]


def test_lazy_details_are_parsed_only_when_read() -> None:
    raw = b"From: a@b.example\r\nTo: c@d.example\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n\r\nbody\r\n"
    msg = parse_message(raw, folder="INBOX", uid=1, internal_date=None, lazy_body=True, lazy_details=True)
    assert isinstance(msg, LazyMailMessage) and msg.unparsed() == {"details", "body"}
    assert [a.email for a in msg.all_addresses()] == ["a@b.example", "c@d.example"]
    assert msg.unparsed() == {"details", "body"}, "reading addresses must not parse the rest"
    assert msg.problems[0] == "Date: header missing and no INTERNALDATE"  # the details' problems come first
    assert msg.unparsed() == set() and msg.subject == "café" and msg.message_id.startswith("hash:")


def test_lazy_body_is_parsed_only_when_read() -> None:
    raw = test_mapping.ATTACHMENTS.replace(b"Subject: files", b"From: a@b.example\r\nSubject: files")
    msg = parse_message(raw, folder="INBOX", uid=1, internal_date=None, lazy_body=True)
    assert isinstance(msg, LazyMailMessage) and msg.unparsed() == {"body"}
    assert msg.from_[0].email == "a@b.example" and msg.subject == "files"
    assert msg.unparsed() == {"body"}, "reading headers must not parse the body"
    assert [a.filename for a in msg.attachments][:2] == ["photo.jpg", "Отчёт Q1.pdf"]
    assert msg.unparsed() == set() and msg.text == "See"
    photo = msg.attachments[0]
    assert (photo.content_id, photo.inline) == ("photo", True)


def test_eight_bit_headers_are_parsed_eagerly() -> None:
    raw = "From: Пётр <petr@example.ru>\r\nSubject: x\r\n\r\nbody".encode()
    msg = parse_message(raw, folder="INBOX", uid=1, internal_date=None, lazy_body=True)
    assert not isinstance(msg, LazyMailMessage) and msg.from_[0].name == "Пётр"


def test_base64_helper_accepts_what_python_accepts() -> None:
    for payload in ("0JfQsNC60LDQtw==", "YQ==", "YWI=", "YWJj"):
        assert headers._B64.fullmatch(payload) and base64.b64decode(payload, validate=True)
    assert headers._B64.fullmatch("YQ=") is None and headers._B64.fullmatch("Y") is None
    assert Notes().problems == []


def test_a_full_record_crosses_a_process_as_far_parsed_as_it_was_and_equal() -> None:
    raw = test_mapping.ATTACHMENTS.replace(b"Subject: files", b"From: a@b.example\r\nSubject: files")
    args = {"folder": "INBOX", "uid": 1, "internal_date": datetime(2026, 3, 2, tzinfo=UTC)}
    eager = parse_message(raw, **args)
    lazy = parse_message(raw, **args, lazy_body=True)
    assert lazy.unparsed() == {"body"}
    arrived = pickle.loads(pickle.dumps(lazy))
    assert arrived.unparsed() == {"body"}, "the receiver parses the body on first use"
    assert _fields(arrived) == _fields(eager)
    parsed = parse_message(raw, **args, lazy_body=True)
    parsed.parse_body()
    assert parsed.unparsed() == set()
    arrived = pickle.loads(pickle.dumps(parsed))
    assert arrived.unparsed() == set(), "what the sender parsed travels parsed"
    assert _fields(arrived) == _fields(eager)


def test_a_summary_crosses_a_process_lazy_and_reads_its_details_from_raw() -> None:
    for raw in _corpus():
        args = {"folder": "INBOX", "uid": 3, "internal_date": datetime(2026, 3, 2, tzinfo=UTC)}
        summary = parse_message(raw, **args, lazy_body=True, lazy_details=True)
        if not isinstance(summary, LazyMailMessage):
            continue  # 8-bit headers are parsed eagerly
        summary.summary = True
        arrived = pickle.loads(pickle.dumps(summary))
        assert arrived.unparsed() == {"details", "body"}
        assert arrived.all_addresses() == summary.all_addresses()
        eager = parse_message(raw, **args)
        eager.summary = True
        assert _fields(arrived) == _fields(eager), raw[:200]


def test_a_summary_completed_with_the_rest_equals_the_message_parsed_whole() -> None:
    completed_ones = 0
    for raw in _corpus():
        block = _ascii_header_block(raw)
        if block is None:
            continue  # no header block, or 8-bit headers: such a summary is parsed again whole
        date = datetime(2026, 3, 2, tzinfo=UTC)
        summary = parse_message(block, folder="INBOX", uid=3, internal_date=None, lazy_body=True, lazy_details=True)
        summary.summary, summary.uidvalidity = True, 77
        full = completed(summary, raw[len(block) :], date)
        assert full is not None and full.unparsed() == {"body"}
        whole = parse_message(raw, folder="INBOX", uid=3, internal_date=date, lazy_body=True)
        whole.uidvalidity = 77
        assert _fields(full) == _fields(whole), raw[:200]
        completed_ones += 1
    assert completed_ones > 20


def test_a_summary_whose_details_were_read_is_parsed_again_whole() -> None:
    raw = b"From: a@b.example\r\nSubject: hi\r\n\r\nbody\r\n"
    summary = parse_message(raw[:-6], folder="INBOX", uid=1, internal_date=None, lazy_body=True, lazy_details=True)
    assert summary.subject == "hi"
    assert completed(summary, b"body\r\n", None) is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(NAMES, ADDRS, FORMS), min_size=1, max_size=4), st.sampled_from([", ", ",", " , ", ";"]))
def test_plain_address_values_kept_read_give_what_the_full_path_gives(items, sep) -> None:
    value = sep.join(form.format(n=n, a=a) for n, a, form in items)
    expected_notes = Notes()
    expected = headers.read_addresses(value, "To", expected_notes)
    for _ in range(2):  # read, then kept
        notes = Notes()
        got = headers.address_header([value], "To", notes)
        assert got == expected and notes.problems == expected_notes.problems


def test_kept_addresses_are_handed_out_as_new_lists_and_invalid_ones_are_noted_every_time() -> None:
    first = headers.address_header(["Ivan <ivan@acme.example>, b@c.example"], "To", Notes())
    first.append("changed by its caller")
    again = headers.address_header(["Ivan <ivan@acme.example>, b@c.example"], "To", Notes())
    assert [a.email for a in again] == ["ivan@acme.example", "b@c.example"]
    assert headers._plain_addresses("Ivan <ivan@acme.example>, b@c.example") is not None
    long_list = ", ".join(f"r{n}@acme.example" for n in range(100))  # long lists are read, not kept
    kept_before = headers._plain_addresses.cache_info().currsize
    assert len(headers.address_header([long_list], "To", Notes())) == 100
    assert headers._plain_addresses.cache_info().currsize == kept_before
    too_long = "x" * 65 + "@b.example"  # plain in form, but no deliverable address
    for _ in range(2):
        notes = Notes()
        assert [a.email for a in headers.address_header([f"x <{too_long}>, d@e.example"], "To", notes)] == [
            "d@e.example"
        ]
        assert notes.problems == ["To: 1 invalid address(es) dropped"]
