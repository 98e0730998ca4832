"""MailboxClient against a real Dovecot, plus the error mapping and the config model on their own."""

from __future__ import annotations

import imaplib
import logging
import socket
import ssl
from datetime import UTC, date, datetime, timedelta

import pytest
from imapclient.exceptions import CapabilityError, LoginError
from pydantic import ValidationError

from connectors.email.client import Folder, MailboxClient
from connectors.email.config import ImapConfig
from connectors.email.errors import classify
from core.integration import AuthError, PermanentError, TransientError
from tests.peers.dovecot import free_port
from tests.peers.dovecot_fixtures import Mailbox, dovecot, mailbox  # noqa: F401

# pytest finds the fixtures by name in this module; naming them here also keeps ruff's F811 quiet
# about test parameters that share their names.
PEER_FIXTURES = (dovecot, mailbox)

MSG = (
    b"From: Client <client@example.com>\r\nTo: me@example.test\r\nSubject: offer {n}\r\n"
    b"Message-ID: <offer-{n}@example.com>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0300\r\n\r\nBody {n}\r\n"
)


def raw(n: int) -> bytes:
    return MSG.replace(b"{n}", str(n).encode())


def client_for(box: Mailbox, password: str | None = None, **kw: object) -> MailboxClient:
    return MailboxClient(box.host, box.port, "plain", box.user, password or box.password, timeout=5, **kw)


# ---------------------------------------------------------------- against Dovecot


@pytest.mark.peers
def test_login_ok_enables_condstore(mailbox: Mailbox) -> None:
    with client_for(mailbox) as client:
        assert "IMAP4REV1" in client.capabilities
        state = client.select("INBOX")
        assert state.exists == 0 and state.uidvalidity > 0
        assert state.highestmodseq is not None  # CONDSTORE was enabled at login
        client.noop()
    with pytest.raises(RuntimeError):
        client.noop()


@pytest.mark.peers
def test_imaplib_builds_no_debug_lines_unless_the_protocol_log_is_on(
    mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    mailbox.append("INBOX", [raw(1)])
    with client_for(mailbox) as client:
        client.select("INBOX")
        assert [h.size > 0 for h in client.fetch_heads(client.search_uids())] == [True]
        assert client._require()._imap.debug == 0, "imaplib formats nothing nobody reads"
    caplog.set_level(logging.DEBUG, logger="imapclient.imaplib")
    with client_for(mailbox) as client:
        client.select("INBOX")
        list(client.fetch_heads(client.search_uids()))
    trace = [r.getMessage() for r in caplog.records if r.name == "imapclient.imaplib"]
    assert any("FETCH" in line for line in trace), "with the protocol log on, imaplib's lines are there"
    assert not any(mailbox.password in line for line in trace)


@pytest.mark.peers
def test_wrong_password_is_auth_error_without_the_secret(mailbox: Mailbox) -> None:
    secret = "Wr0ng-Secret-Value"
    with pytest.raises(AuthError) as err:
        client_for(mailbox, password=secret).connect()
    text = f"{err.value} {err.value.detail} {err.value.__cause__}"
    assert err.value.message.startswith(f"login as {mailbox.user}: login refused")
    assert "AUTHENTICATIONFAILED" in err.value.message
    assert secret not in text and mailbox.password not in text


@pytest.mark.peers
def test_non_ascii_password_uses_authenticate_plain(dovecot) -> None:
    dovecot.add_user("unicode@example.test", "пароль-ü")
    with MailboxClient("127.0.0.1", dovecot.port, "plain", "unicode@example.test", "пароль-ü", 5) as client:
        assert client.select("INBOX").exists == 0


def test_closed_port_is_transient() -> None:
    port = free_port()
    with pytest.raises(TransientError) as err:
        MailboxClient("127.0.0.1", port, "plain", "u", "p", timeout=2).connect()
    assert err.value.message == f"connect 127.0.0.1:{port}: connection refused"


def test_silent_server_times_out_as_transient() -> None:
    with socket.socket() as listener:  # accepts TCP connections (backlog) but never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with pytest.raises(TransientError) as err:
            MailboxClient("127.0.0.1", port, "plain", "u", "p", timeout=0.3).connect()
    assert err.value.message == f"connect 127.0.0.1:{port}: timed out"


def test_unknown_host_is_transient_and_names_dns() -> None:
    with pytest.raises(TransientError) as err:
        MailboxClient("imap.nonexistent.invalid", 993, "tls", "u", "p", timeout=2).connect()
    assert err.value.message.startswith("connect imap.nonexistent.invalid:993: DNS lookup failed")


@pytest.mark.peers
def test_tls_against_a_plain_port_is_transient_tls_error(mailbox: Mailbox) -> None:
    client = MailboxClient(mailbox.host, mailbox.port, "tls", mailbox.user, mailbox.password, timeout=5)
    with pytest.raises(TransientError) as err:
        client.connect()
    assert "TLS handshake failed" in err.value.message
    assert err.value.message.startswith(f"connect 127.0.0.1:{mailbox.port}")


@pytest.mark.peers
def test_starttls_not_offered_is_permanent(mailbox: Mailbox) -> None:
    client = MailboxClient(mailbox.host, mailbox.port, "starttls", mailbox.user, mailbox.password, timeout=5)
    with pytest.raises(PermanentError) as err:
        client.connect()
    assert err.value.message.startswith("starttls") and "not supported" in err.value.message


@pytest.mark.peers
def test_unknown_folder_is_permanent(mailbox: Mailbox) -> None:
    with client_for(mailbox) as client, pytest.raises(PermanentError) as err:
        client.select("No Such Folder")
    assert err.value.message == (
        "select 'No Such Folder': folder not found or not selectable (Mailbox doesn't exist: No Such Folder)"
    )


@pytest.mark.peers
def test_sent_found_by_special_use_not_by_name(mailbox: Mailbox) -> None:
    mailbox.create_folder("Sent")  # a decoy with the usual name but no flag
    mailbox.create_folder("Исходящие 2026", special_use="\\Sent")
    with client_for(mailbox) as client:
        folders = {f.name: f for f in client.list_folders()}
        assert folders["Исходящие 2026"].special_use == "\\Sent"
        assert folders["Sent"].special_use is None
        assert client.sent_folder() == "Исходящие 2026"
        client.select("Исходящие 2026")


def test_sent_falls_back_to_usual_names() -> None:
    client = MailboxClient("127.0.0.1", 1, "plain", "u", "p")
    folders = [Folder("INBOX"), Folder("Sent Items", ("\\HasNoChildren",)), Folder("Sent", ("\\Noselect",))]
    assert client.sent_folder(folders) == "Sent Items"
    assert client.sent_folder([Folder("INBOX")]) is None


@pytest.mark.peers
def test_fetch_is_byte_exact_and_never_sets_seen(mailbox: Mailbox) -> None:
    messages = [raw(n) for n in range(1, 8)]
    uids = mailbox.append("INBOX", messages)
    before = mailbox.server.flags(mailbox.user, "INBOX")
    with client_for(mailbox) as client:
        client.select("INBOX")
        heads = list(client.fetch_heads(client.search_uids()))
        rests = list(client.fetch_rest(uids[:3]))
    assert [h.uid for h in heads] == uids and [r[0] for r in rests] == uids[:3]
    assert [h.size for h in heads] == [len(m) for m in messages]
    assert all(h.header.endswith(b"\r\n\r\n") and "\\Seen" not in h.flags for h in heads)
    assert [h.header + rest for h, (_, _, rest) in zip(heads, rests, strict=False)] == messages[:3]  # byte-exact
    for _, internal_date, _ in rests:
        assert internal_date is not None and internal_date.tzinfo is UTC
    after = mailbox.server.flags(mailbox.user, "INBOX")
    assert after == before and all("\\Seen" not in f for f in after.values())


@pytest.mark.peers
def test_search_since_uid_and_date(mailbox: Mailbox) -> None:
    uids = mailbox.append("INBOX", [raw(n) for n in range(3)])
    with client_for(mailbox) as client:
        client.select("INBOX")
        assert client.search_uids(since_uid=uids[1]) == uids[1:]
        assert client.search_uids(since_uid=uids[-1] + 1) == []  # "n:*" would match the last UID
        today = datetime.now(UTC).date()
        assert client.search_uids(since_date=today - timedelta(days=1)) == uids
        assert client.search_uids(since_date=date(2100, 1, 1)) == []
        assert list(client.fetch_heads([])) == [] and list(client.fetch_rest([])) == []
        assert [h.uid for h in client.fetch_heads([uids[0], 999_999])] == [uids[0]]
        assert [u for u, *_ in client.fetch_rest([uids[0], 999_999], text=False)] == [uids[0]]


@pytest.mark.peers
def test_uidvalidity_readable_and_changed_by_set_uidvalidity(mailbox: Mailbox) -> None:
    mailbox.append("INBOX", [raw(1)])
    with client_for(mailbox) as client:
        first = client.select("INBOX").uidvalidity
    assert first == mailbox.server.uidvalidity(mailbox.user, "INBOX")
    mailbox.server.set_uidvalidity(mailbox.user, "INBOX", first + 1000)
    with client_for(mailbox) as client:
        state = client.select("INBOX")
    assert state.uidvalidity == first + 1000
    assert state.exists == 1 and state.uidnext == 2


def test_repr_hides_the_password() -> None:
    client = MailboxClient("h", 1, "tls", "user", "hunter2-secret")
    assert "hunter2" not in repr(client) and "hunter2" not in str(vars(client))


# ---------------------------------------------------------------- errors.classify


@pytest.mark.parametrize(
    ("exc", "step", "kind", "text"),
    [
        (socket.gaierror(-2, "Name or service not known"), "connect", TransientError, "DNS lookup failed"),
        (ConnectionRefusedError(111, "refused"), "connect", TransientError, "connection refused"),
        (TimeoutError("timed out"), "fetch", TransientError, "timed out"),
        (ConnectionResetError(104, "reset"), "fetch", TransientError, "connection lost"),
        (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER]"), "connect", TransientError, "TLS handshake failed"),
        (imaplib.IMAP4.abort("socket error: EOF"), "fetch", TransientError, "connection dropped"),
        (
            LoginError("login failed: [AUTHENTICATIONFAILED] Authentication failed."),
            "login",
            AuthError,
            "login refused ([AUTHENTICATIONFAILED] Authentication failed.)",
        ),
        (LoginError("[UNAVAILABLE] Temporary authentication failure."), "login", TransientError, "temporarily"),
        (imaplib.IMAP4.error("LOGIN => LOGINDISABLED"), "login", AuthError, "use tls or starttls"),
        (
            imaplib.IMAP4.error("select failed: [NONEXISTENT] Mailbox doesn't exist: X (0.001 + 0.000 secs)."),
            "select",
            PermanentError,
            "not selectable ([NONEXISTENT] Mailbox doesn't exist: X)",
        ),
        (imaplib.IMAP4.error("fetch failed: [SERVERBUG] Internal error"), "fetch", TransientError, "busy"),
        (imaplib.IMAP4.error("search failed: BAD Error in IMAP command"), "search", PermanentError, "refused"),
        (CapabilityError("Server does not support STARTTLS capability"), "starttls", PermanentError, "not supported"),
        (ValueError("weird"), "fetch", PermanentError, "unexpected ValueError"),
    ],
)
def test_classify(exc: Exception, step: str, kind: type, text: str) -> None:
    err = classify(exc, step)
    assert type(err) is kind
    assert err.message.startswith(step + ":") and text in err.message


def test_classify_certificate_failure_and_masking() -> None:
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cert.verify_message = "self-signed certificate"
    err = classify(cert, "connect", target="mail.example.com:993")
    assert isinstance(err, TransientError)
    assert err.message == "connect mail.example.com:993: TLS certificate verification failed (self-signed certificate)"
    leaky = imaplib.IMAP4.error("LOGIN command error: BAD ['bad args hunter2']")
    masked = classify(leaky, "login", secrets=["hunter2"])
    assert "hunter2" not in masked.message and "hunter2" not in (masked.detail or "")
    same = AuthError("already classified")
    assert classify(same, "login") is same


# ---------------------------------------------------------------- config


def test_config_defaults_and_secret() -> None:
    cfg = ImapConfig(host=" IMAP.Example.COM ", username="me@example.com", password="  s3cret ")
    assert (cfg.host, cfg.port, cfg.security, cfg.folders) == ("imap.example.com", 993, "tls", [])
    assert (cfg.batch_size, cfg.private_folder, cfg.private_flag) == (1000, "Private", "$Private")
    assert (cfg.mailbox_type, cfg.live) == ("personal", False)
    assert cfg.match_by_domain is True and cfg.since_date is None
    assert cfg.attachment_cap == 10 * 1024 * 1024
    assert cfg.password.get_secret_value() == "  s3cret "
    assert "s3cret" not in repr(cfg) and "s3cret" not in str(cfg.model_dump())


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"host": "imaps://mail.example.com"}, "host", "without imap://"),
        ({"host": "mail example.com"}, "host", "letters, digits"),
        ({"port": 70000}, "port", "between 1 and 65535"),
        ({"security": "ssl"}, "security", "'tls', 'starttls' or 'plain'"),
        ({"username": "  "}, "username", "login name is empty"),
        ({"password": ""}, "password", "password is empty"),
        ({"folders": ["INBOX", "Arch*"]}, "folders", "wildcard"),
        ({"batch_size": 5000}, "batch_size", "between 1 and 1000"),
        ({"private_flag": "\\Seen"}, "private_flag", "not a system flag"),
        ({"private_flag": "my flag"}, "private_flag", "no spaces"),
        ({"attachment_cap_mb": -1}, "attachment_cap_mb", "between 0 and 1024"),
        ({"mailbox_type": "team"}, "mailbox_type", "'personal' or 'shared'"),
        ({"security": "tls", "port": 143}, "", "port 143 is for starttls"),
    ],
)
def test_config_validation_messages(changes: dict, field: str, words: str) -> None:
    data = {"host": "imap.example.com", "username": "me", "password": "pw-secret-1", **changes}
    with pytest.raises(ValidationError) as err:
        ImapConfig(**data)
    errors = err.value.errors()
    assert any((e["loc"][0] if e["loc"] else "") == field and words in e["msg"] for e in errors), errors
    assert "pw-secret-1" not in str(err.value)


def test_config_password_never_echoed_in_errors() -> None:
    with pytest.raises(ValidationError) as err:
        ImapConfig(host="h", username="u", password="top\nsecret")
    assert "secret" not in str(err.value) and "line breaks" in str(err.value)
