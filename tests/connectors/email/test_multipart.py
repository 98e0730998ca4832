"""Multipart mail read without the feed parser (``multipart``) gives exactly the parser's tree and record.

The lazy body reads well-formed multipart mail on a fast path and leaves everything else to
compat32's feed parser. Each test compares the two readings: the record (text, HTML,
attachments, problems), and the tree itself (Content-* headers, payloads, preambles,
epilogues, and no defects where the fast path answered), on the corpora of the other tests and
on generated mail built to sit on the edges: line ends of every kind, padding after delimiters,
lines that look like delimiters, nested boundaries that start like the outer one, a missing
close delimiter, parts without headers.
"""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.email.mapping import _fast_tree, parse_message
from tests.connectors.email import test_mapping
from tests.connectors.email.test_headers import _corpus, _fields
from tests.mail import corpus

ARGS = {"folder": "INBOX", "uid": 3, "internal_date": datetime(2026, 3, 2, tzinfo=UTC)}


def parser_tree(raw: bytes) -> Message:
    return BytesParser(policy=policy.compat32).parsebytes(raw)


def shape(msg: Message) -> tuple:
    """What ``bodies`` can read of a tree, and more: Content-* headers, payloads, preamble, epilogue, defects.

    The headers in their order by name: the fast path keeps that order, not how names interleave
    (which nothing reads: a lookup by name gives the first or all values of that name).
    """
    heads = sorted(((k.lower(), v) for k, v in msg.items() if k.lower().startswith("content-")), key=lambda h: h[0])
    payload = msg.get_payload()
    body = [shape(p) for p in payload] if isinstance(payload, list) else payload
    return heads, body, msg.preamble, msg.epilogue, [type(d).__name__ for d in msg.defects]


def check(raw: bytes) -> bool:
    """The lazy record equals the eager one, and a fast tree the parser's; True when the fast path read it."""
    assert _fields(parse_message(raw, **ARGS, lazy_body=True)) == _fields(parse_message(raw, **ARGS)), raw[:300]
    tree = _fast_tree(raw)
    if tree is None or not tree.is_multipart():
        return False
    assert shape(tree) == shape(parser_tree(raw)), raw[:300]
    return True


def alternative(text: str, html: str, boundary: str = "b-1") -> bytes:
    """multipart/alternative as mailers write it (the benchmark's shape): 8-bit UTF-8 text and HTML."""
    head = "From: a@b.example\r\nSubject: hi\r\nMessage-ID: <1@b.example>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0300\r\n"
    head += f'Content-Type: multipart/alternative; boundary="{boundary}"'
    parts = [
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text,
        "Content-Type: text/html; charset=utf-8\r\n\r\n" + html,
    ]
    return (head + "\r\n\r\n" + "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n").encode()


def mixed(text: str, name: str, data: bytes, boundary: str = "b-2") -> bytes:
    """multipart/mixed with a text and a base64 attachment (the benchmark's shape)."""
    encoded = base64.encodebytes(data).decode().replace("\n", "\r\n")
    head = "From: a@b.example\r\nSubject: hi\r\nMessage-ID: <2@b.example>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0300\r\n"
    head += f'Content-Type: multipart/mixed; boundary="{boundary}"'
    parts = [
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text,
        f'Content-Type: application/pdf; name="{name}"\r\nContent-Disposition: attachment; filename="{name}"'
        "\r\nContent-Transfer-Encoding: base64\r\n\r\n" + encoded,
    ]
    return (head + "\r\n\r\n" + "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n").encode()


PLAIN_ALTERNATIVE = alternative("Добрый день!\r\nЦена: 100.", "<p>Добрый день!</p><p>Цена: 100.</p>")
PLAIN_MIXED = mixed("See the file.", "doc.pdf", random.Random(3).randbytes(5000))
NESTED_ALTERNATIVE = (
    b'Subject: x\r\nContent-Type: multipart/mixed; boundary="outer"\r\n\r\nThis is a multi-part message.\r\n'
    b'--outer\r\nContent-Type: multipart/alternative; boundary="outer-alt"\r\n\r\n'
    b"--outer-alt\r\nContent-Type: text/plain\r\n\r\nplain\r\n"
    b"--outer-alt\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--outer-alt--\r\n\r\n"
    b"--outer\r\nContent-Type: image/png; name=a.png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n"
    b"--outer--\r\nepilogue\r\n"
)
NO_HEADERS_PART = b"Content-Type: multipart/mixed; boundary=x\n\n--x\n\nno headers: text/plain\n--x--\n"
PADDED = (  # transport padding after delimiters, lines that only look like delimiters
    b"Content-Type: multipart/alternative; boundary=p\r\n\r\n--p \t\r\nContent-Type: text/plain\r\n\r\n"
    b"one\r\n--px\r\n --p\r\n--p-- x\r\n--p\t\r\nContent-Type: text/html\r\n\r\n<p>two</p>\r\n--p-- \r\n"
)
LONE_CR = (  # a lone CR ends a line too, a delimiter's line included, and LF and CRLF mixed
    b"Content-Type: multipart/mixed; boundary=c\r\n\r\n--c\rContent-Type: text/plain\r\rone\r--c\n"
    b"Content-Type: text/plain; name=a.txt\n\ntwo\n\r\n--c--"
)


def test_the_fast_path_reads_ordinary_multipart_mail() -> None:
    """Not vacuous: plain alternative, mixed with a file, nested, odd line ends and padding take the fast path."""
    ordinary = [PLAIN_ALTERNATIVE, PLAIN_MIXED, NESTED_ALTERNATIVE, NO_HEADERS_PART, PADDED, LONE_CR]
    for raw in [*ordinary, test_mapping.ATTACHMENTS]:
        tree = _fast_tree(raw)
        assert isinstance(tree, Message) and tree.is_multipart(), raw[:120]
        assert check(raw)
    record = parse_message(PLAIN_MIXED, **ARGS, lazy_body=True)
    assert record.text == "See the file." and record.problems == []
    (pdf,) = record.attachments
    assert (pdf.filename, pdf.content_type, pdf.size) == ("doc.pdf", "application/pdf", 5000)
    assert parse_message(PLAIN_ALTERNATIVE, **ARGS, lazy_body=True).html == "<p>Добрый день!</p><p>Цена: 100.</p>"
    nested = _fast_tree(NESTED_ALTERNATIVE)
    assert nested is not None and nested.preamble == "This is a multi-part message."
    assert nested.epilogue == "epilogue\r\n" and nested.get_payload(0).epilogue == ""
    assert parse_message(PADDED, **ARGS, lazy_body=True).text == "one\r\n--px\r\n --p\r\n--p-- x".replace("\r\n", "\n")
    assert [p.get_payload() for p in _fast_tree(LONE_CR).get_payload()] == ["one", "two\n"]


UNUSUAL = {
    "no close delimiter": b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\ntext\r\n",
    "no delimiter": b"Content-Type: multipart/mixed; boundary=b\r\n\r\ntext\r\n",
    "close delimiter first": b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b--\r\n--b\r\n\r\nx\r\n--b--\r\n",
    "no boundary": b"Content-Type: multipart/mixed\r\n\r\n--b\r\n\r\ntext\r\n--b--\r\n",
    "empty boundary": b'Content-Type: multipart/mixed; boundary=""\r\n\r\n--\r\n\r\ntext\r\n----\r\n',
    "delimiters in a row": b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b\r\n\r\ntext\r\n--b--\r\n",
    "separator then close": b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b--\r\n",
    "encoded multipart": (
        b"Content-Type: multipart/mixed; boundary=b\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"--b\r\n\r\ntext\r\n--b--\r\n"
    ),
    "digest": b"Content-Type: multipart/digest; boundary=b\r\n\r\n--b\r\n\r\nSubject: x\r\n\r\nbody\r\n--b--\r\n",
    "nested message": test_mapping.NESTED,
    "part without blank line": b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\njust text\r\n--b--\r\n",
    "8-bit part header": (
        b'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pdf; name="\xd0\x90"'
        b"\r\n\r\nx\r\n--b--\r\n"
    ),
    "inner close missing": (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/alternative; boundary=c"
        b"\r\n\r\n--c\r\n\r\ninner\r\n--b--\r\n"
    ),
    "part header block past HEAD_MAX": (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pdf\r\n"
        + b"Content-Disposition: attachment; filename*0="
        + b"x" * 9000
        + b".pdf\r\n\r\nPDF\r\n--b--\r\n"
    ),
    "unix from in a part": b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nFrom x\r\n\r\ny\r\n--b--\r\n",
    "deep": (
        "".join(f"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n" for i in range(40))
        + "Content-Type: text/plain\r\n\r\ndeep"
        + "".join(f"\r\n--b{i}--\r\n" for i in reversed(range(40)))
    ).encode(),
}


def test_unusual_multipart_is_left_to_the_parser() -> None:
    for what, raw in UNUSUAL.items():
        assert _fast_tree(raw) is None, what
        check(raw)


def _multipart_samples() -> list[bytes]:
    samples = [v for v in vars(test_mapping).values() if isinstance(v, bytes)]
    samples += [raw for _, raw in corpus.INBOX + corpus.SENT] + _corpus() + list(UNUSUAL.values())
    return [raw for raw in samples if b"multipart/" in raw.lower()]


def test_every_multipart_message_of_the_corpora_reads_as_with_the_parser() -> None:
    samples = _multipart_samples()
    fast = sum(check(raw) for raw in samples)
    assert len(samples) > 80 and fast > 15, (len(samples), fast)
    files = dict(corpus.INBOX)["files"]
    assert _fast_tree(files) is not None and _fast_tree(corpus.BROKEN_MIME) is None


# ---------------------------------------------------------------- generated mail


def mostly(usual: object, *unusual: object) -> st.SearchStrategy:
    """``usual`` nine times in ten, else one of ``unusual``: much generated mail qualifies, the rest is near it."""
    return st.integers(0, 9).flatmap(lambda roll: st.just(usual) if roll < 9 else st.sampled_from(unusual))


BOUNDARIES = st.sampled_from(["b1", "=_Part_0_1.2", "b1-x", "b1--", "b 1", "a'(b)+_,-./:=?", "B1"])
PARAMS = mostly('; boundary="{b}"', "; boundary={b}", ';\r\n\tboundary="{b}"', '; BOUNDARY="{b}"', "", "; boundary=")
LINE_ENDS = st.sampled_from(["\r\n", "\n", "mixed"])
PADDING = mostly("", " ", "\t ", " x")
USUAL_HEADERS = st.sampled_from(
    [
        "Content-Type: text/plain; charset=utf-8",
        'Content-Type: text/plain; charset="koi8-r"',
        "Content-Type: text/html; charset=utf-8",
        "Content-Type: text/html",
        'Content-Type: application/pdf; name="a.pdf"',
        "Content-Type: image/png",
        "Content-Type: text",
        "Content-Transfer-Encoding: base64",
        "Content-Transfer-Encoding: quoted-printable",
        "Content-Transfer-Encoding: 8bit",
        "Content-Disposition: attachment; filename*=utf-8''%D0%90.txt",
        'Content-Disposition: attachment;\r\n filename="notes.txt"',
        "Content-Disposition: inline",
        "Content-ID: <logo@x>",
        "X-Other: 1",
    ]
)
ODD_HEADERS = [
    "Content-Type: message/rfc822",
    'Content-Disposition: attachment; filename="r\u00e9sum\u00e9.txt"',
    " folded",
    "Odd",
]


def body_lines(boundary: str) -> st.SearchStrategy[list[str]]:
    return st.lists(
        st.sampled_from(
            [
                "text",
                "\u0410\u0411\u0412 \u00ff",  # 8-bit once encoded
                "0JDQkdCS",
                "=D0=90=",
                "",
                "-- ",
                "--" + boundary + "x",
                " --" + boundary,
                "--" + boundary + "-",
                "--" + boundary + "-- x",
                "--" + boundary[:-1],
                "\r",
            ]
        ),
        max_size=5,
    )


@st.composite
def multipart(draw: st.DrawFn, depth: int = 0) -> tuple[list[str], str]:
    """(the Content-* header lines, the body lines) of a multipart, rather well formed, with tricky details."""
    boundary = draw(BOUNDARIES) + ("" if depth == 0 else draw(mostly("-in", "1", "")))
    kind = draw(mostly(draw(st.sampled_from(["mixed", "alternative", "related"])), "digest"))
    heads = [f"Content-Type: multipart/{kind}" + draw(PARAMS).format(b=boundary)]
    heads += draw(mostly([], ["Content-Transfer-Encoding: 7bit"], ["Content-Transfer-Encoding: base64"]))
    lines: list[str] = []
    if draw(st.booleans()):
        lines += ["This is a multi-part message in MIME format.", *draw(body_lines(boundary))]
    for _ in range(draw(st.integers(1, 3))):
        lines.append("--" + boundary + draw(PADDING))
        form = draw(mostly(draw(st.sampled_from(["headers", "nested"])), "none", "no blank"))
        if form == "nested" and depth < 2:
            inner_heads, inner_lines = draw(multipart(depth + 1))
            lines += [*inner_heads, "", *inner_lines]
            continue
        if form == "headers":
            lines += draw(st.lists(USUAL_HEADERS, min_size=1, max_size=4))
            lines += draw(mostly([], *([h] for h in ODD_HEADERS)))
        if form != "no blank":
            lines.append("")
        lines += draw(body_lines(boundary))
    close = draw(mostly("--{b}--", "--{b}-- \t", "--{b}--x", None))
    if close is not None:
        lines.append(close.format(b=boundary))
    if draw(st.booleans()):
        lines += draw(st.sampled_from([["epilogue"], [""], ["--" + boundary, "after"]]))
    return heads, lines


@st.composite
def multipart_mail(draw: st.DrawFn) -> bytes:
    heads, lines = draw(multipart())
    ends = draw(LINE_ENDS)
    out = []
    for line in ["From: a@b.example", "Subject: hi", *heads, "", *lines]:
        end = draw(st.sampled_from(["\r\n", "\n", "\r\n", "\n", "\r"])) if ends == "mixed" else ends
        out.append(line + end)
    text = "".join(out)
    if draw(st.booleans()):
        text = text[: -len(out[-1]) or None] + out[-1].rstrip("\r\n")  # no line break at the very end
    return text.encode("utf-8")


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(multipart_mail())
def test_generated_multipart_mail_reads_as_with_the_parser(raw: bytes) -> None:
    check(raw)


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.sampled_from([PLAIN_ALTERNATIVE, PLAIN_MIXED, NESTED_ALTERNATIVE, test_mapping.ATTACHMENTS]),
    st.lists(
        st.tuples(st.integers(0, 10**6), st.sampled_from([b"\r", b"\n", b"\r\n", b"--", b" ", b"\t", b""])), max_size=4
    ),
    st.lists(st.integers(0, 10**6), max_size=3),
)
def test_damaged_multipart_mail_reads_as_with_the_parser(raw: bytes, inserts, deletes) -> None:
    """Ordinary mail with a few line breaks, dashes or blanks inserted and bytes cut, near delimiters above all."""
    data = bytearray(raw)
    spots = [i for i in range(len(data)) if data.startswith(b"--", i)] or [0]
    for at, piece in inserts:
        spot = max(0, spots[at % len(spots)] + at % 3 - 1)
        data[spot:spot] = piece
    for at in deletes:
        del data[min(len(data) - 1, spots[at % len(spots)] + at % 5)]
    check(bytes(data))
