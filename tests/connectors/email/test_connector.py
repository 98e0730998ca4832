"""ImapConnector against a real Dovecot: check, streams, the first import and its cursor, privacy, IDLE."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime

import pytest

from connectors.email import connector as connector_module
from connectors.email.config import ImapConfig
from connectors.email.connector import ImapConnector
from connectors.email.mapping import parse_message
from core.integration import ConnectorContext, CursorInvalidError, PermanentError
from core.mail import MailMessage
from core.mail.store import MailMarkedPrivate, MailMovedPrivate
from tests.contract.harness import pull_all, read_batch
from tests.peers.dovecot import free_port
from tests.peers.dovecot_fixtures import Mailbox, dovecot, mailbox  # noqa: F401

PEER_FIXTURES = (dovecot, mailbox)


def msg(n: int, *, sender: str = "client@acme.test", extra: str = "", body: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: me@ourcompany.test\r\nSubject: Message {n}\r\nMessage-ID: <m{n}@acme.test>\r\n"
        f"Date: Mon, 2 Mar 2026 10:00:00 +0300\r\n{extra}\r\n{body or f'Body {n}'}\r\n"
    ).encode()


def connect(box: Mailbox, **settings) -> ImapConnector:
    fields = {"host": box.host, "port": box.port, "security": "plain", "username": box.user, "password": box.password}
    config = ImapConfig(**{**fields, **settings})
    return ImapConnector(config, ConnectorContext(account_id=1, owner_email=box.user))


def uids_of(changes) -> list[int]:
    return [c.uid for c in changes if isinstance(c, MailMessage)]


@pytest.fixture
def conn(request):
    made: list[ImapConnector] = []

    def make(box: Mailbox, **settings) -> ImapConnector:
        made.append(connect(box, **settings))
        return made[-1]

    yield make
    for c in made:
        c.close()


# ---------------------------------------------------------------- check and streams


@pytest.mark.peers
def test_check_and_default_streams(mailbox: Mailbox, conn) -> None:
    mailbox.create_folder("Отправленные", special_use="\\Sent")
    mailbox.create_folder("Private")
    c = conn(mailbox)
    result = c.check()
    assert result.ok and result.message == "folders: INBOX, Отправленные"
    assert [s.name for s in c.streams()] == ["mail:INBOX", "mail:Отправленные", "private:Private"]
    named = conn(mailbox, folders=["INBOX", "Private", "Archive"], private_folder="Private")
    assert [s.name for s in named.streams()] == ["mail:INBOX", "mail:Archive", "private:Private"]
    assert named.pull("mail:Private", None).changes == []
    assert [s.name for s in conn(mailbox, private_folder="Secret").streams()][-1] == "mail:Отправленные"  # none


@pytest.mark.peers
def test_check_names_the_failing_step(mailbox: Mailbox, conn) -> None:
    wrong = conn(mailbox)
    wrong.cfg = wrong.cfg.model_copy(update={"password": "not-the-password"})
    result = wrong.check()
    assert (result.ok, result.step) == (False, "login") and "login refused" in result.message
    missing = conn(mailbox, folders=["INBOX", "Nowhere"]).check()
    assert (missing.ok, missing.step) == (False, "folder") and "Nowhere" in missing.message
    port = free_port()
    closed = ImapConnector(
        ImapConfig(host="127.0.0.1", port=port, security="plain", username="u", password="p"),
        ConnectorContext(account_id=1),
    ).check()
    assert (closed.ok, closed.step) == (False, "connect") and "connection refused" in closed.message
    tls = conn(mailbox, security="tls").check()
    assert (tls.ok, tls.step) == (False, "TLS")
    dns = ImapConnector(
        ImapConfig(host="imap.nonexistent.invalid", username="u", password="p"), ConnectorContext(account_id=1)
    ).check()
    assert (dns.ok, dns.step) == (False, "DNS")


# ---------------------------------------------------------------- the first import


@pytest.mark.peers
def test_first_import_goes_newest_first_in_batches_with_progress(mailbox: Mailbox, conn) -> None:
    uids = mailbox.append("INBOX", [msg(n) for n in range(7)])
    c = conn(mailbox, batch_size=3)
    seen, progress, cursor = [], [], None
    while True:
        batch = c.pull("mail:INBOX", cursor)
        seen.append(uids_of(batch.changes))
        progress.append((batch.progress_done, batch.progress_total))
        cursor = batch.cursor
        if not batch.more:
            break
    assert seen == [uids[6:3:-1], uids[3:0:-1], uids[0:1], []]
    assert progress == [(3, 7), (6, 7), (7, 7), (7, 7)]
    assert cursor["phase"] == "incremental" and cursor["last_uid"] == uids[-1]
    assert c.pull("mail:INBOX", cursor).changes == []


@pytest.mark.peers
def test_mail_that_comes_during_a_long_import_is_read_by_the_next_pass(mailbox: Mailbox, conn) -> None:
    """A pull that goes on with the previous batch keeps the folder selected; nothing is missed by it."""
    uids = mailbox.append("INBOX", [msg(n) for n in range(7)])
    c = conn(mailbox, batch_size=3)
    first = c.pull("mail:INBOX", None)
    late = mailbox.append("INBOX", [msg(100)])
    rest, cursor = pull_all(c, "mail:INBOX", first.cursor)
    got = uids_of(first.changes) + uids_of(rest)
    assert sorted(got) == uids  # the pass went on with the folder as it was first selected
    assert uids_of(read_batch(c, "mail:INBOX", cursor).changes) == late  # the next pass selects it again


@pytest.mark.peers
def test_a_crash_mid_import_resumes_without_refetching_or_skipping(mailbox: Mailbox, conn) -> None:
    uids = mailbox.append("INBOX", [msg(n) for n in range(10)])
    first = conn(mailbox, batch_size=4)
    batch = first.pull("mail:INBOX", None)
    stored = batch.cursor  # the engine committed this batch, then the worker died
    first.pull("mail:INBOX", stored)  # pulled, never committed
    first.close()
    mailbox.append("INBOX", [msg(100)])  # new mail meanwhile
    resumed = conn(mailbox, batch_size=4)
    rest, _ = pull_all(resumed, "mail:INBOX", stored)
    got = uids_of(batch.changes) + uids_of(rest)
    assert sorted(got) == sorted([*uids, uids[-1] + 1]) and len(got) == len(set(got))
    assert uids_of(rest)[0] == uids[-1] + 1, "new mail comes before the rest of the first import"


@pytest.mark.peers
def test_sparse_folder_is_walked_without_listing_it(mailbox: Mailbox, conn) -> None:
    uids = mailbox.append("INBOX", [msg(n) for n in range(300)])
    keep = {uids[0], uids[1], uids[150], uids[299]}
    with mailbox.server.imap(mailbox.user) as client:
        client.select_folder("INBOX")
        client.delete_messages([u for u in uids if u not in keep])
        client.expunge()
    changes, cursor = pull_all(conn(mailbox, batch_size=2), "mail:INBOX")
    assert uids_of(changes) == sorted(keep, reverse=True)
    assert cursor["done"] == 4


@pytest.mark.peers
def test_since_date_limits_the_first_import(mailbox: Mailbox, conn) -> None:
    with mailbox.server.imap(mailbox.user) as client:
        client.multiappend(
            "INBOX",
            [
                {"msg": msg(1), "date": datetime(2020, 1, 5, tzinfo=UTC)},
                {"msg": msg(2), "date": datetime(2026, 3, 2, tzinfo=UTC)},
            ],
        )
    changes, cursor = pull_all(conn(mailbox, since_date=date(2025, 1, 1)), "mail:INBOX")
    assert [c.message_id for c in changes] == ["m2@acme.test"]
    assert cursor["total"] == 1


@pytest.mark.peers
def test_uidvalidity_change_invalidates_the_cursor(mailbox: Mailbox, conn) -> None:
    mailbox.append("INBOX", [msg(1)])
    _, cursor = pull_all(conn(mailbox), "mail:INBOX")
    mailbox.server.set_uidvalidity(mailbox.user, "INBOX", cursor["uidvalidity"] + 5)
    with pytest.raises(CursorInvalidError) as err:
        conn(mailbox).pull("mail:INBOX", cursor)
    assert "UIDVALIDITY changed" in err.value.message
    with pytest.raises(CursorInvalidError):
        conn(mailbox).pull("mail:INBOX", {"nonsense": True})
    with pytest.raises(PermanentError):
        conn(mailbox).pull("contacts", None)


@pytest.mark.peers
def test_reading_never_changes_the_mailbox(mailbox: Mailbox, conn) -> None:
    mailbox.append("INBOX", [msg(n) for n in range(3)])
    mailbox.append("INBOX", [msg(9)], flags=("\\Flagged",))
    before = mailbox.server.flags(mailbox.user, "INBOX")
    pull_all(conn(mailbox, batch_size=2), "mail:INBOX")
    assert mailbox.server.flags(mailbox.user, "INBOX") == before
    assert all("\\Seen" not in flags for flags in before.values())


# ---------------------------------------------------------------- what is read, and what is not


@pytest.mark.peers
def test_private_keyword_and_malformed_mail(mailbox: Mailbox, conn) -> None:
    uids = mailbox.append("INBOX", [msg(1), msg(2)])
    mailbox.append("INBOX", [msg(3)], flags=("$Private",))
    garbage = mailbox.append("INBOX", [b"\x00\x01 nothing here\r\n\xff\r\n"])
    broken = mailbox.append("INBOX", [msg(4, extra="Content-Type: multipart/mixed; boundary=gone\r\n")])
    batch = read_batch(conn(mailbox, batch_size=10), "mail:INBOX")
    assert sorted(uids_of(batch.changes)) == [*uids, broken[0]]
    assert [f.item_ref for f in batch.failures] == [f"INBOX UID {garbage[0]}"]
    assert "no sender or recipient could be read" in batch.failures[0].reason
    readable = next(c for c in batch.changes if c.uid == broken[0])
    assert readable.text == "Body 4" and any("MIME" in p for p in readable.problems)
    assert all(c.uidvalidity == batch.cursor["uidvalidity"] for c in batch.changes)


@pytest.mark.peers
def test_a_pull_reads_headers_and_complete_reads_only_the_bodies_core_wants(mailbox: Mailbox, conn) -> None:
    first, second = msg(1, body="The first body"), msg(2, body="The second body")
    undated = b"From: client@acme.test\r\nTo: me@ourcompany.test\r\nSubject: No date\r\n\r\nUndated body\r\n"
    uids = mailbox.append("INBOX", [first, second, undated])
    c = conn(mailbox)
    batch = c.pull("mail:INBOX", None)
    assert batch.summaries and all(m.summary for m in batch.changes)
    assert {m.subject for m in batch.changes} == {"Message 1", "Message 2", "No date"}
    assert all(m.raw.endswith(b"\r\n\r\n") and b"body" not in m.raw for m in batch.changes)  # headers only
    index = {m.uid: i for i, m in enumerate(batch.changes)}
    c.complete("mail:INBOX", batch, {index[uids[0]], index[uids[2]]})
    by_uid = {m.uid: m for m in batch.changes}
    assert by_uid[uids[0]].raw == first and by_uid[uids[0]].text == "The first body" and not by_uid[uids[0]].summary
    assert by_uid[uids[1]].summary and b"second body" not in by_uid[uids[1]].raw  # never read from the server
    dated = by_uid[uids[2]]
    assert dated.sent_at is not None and abs((datetime.now(UTC) - dated.sent_at).total_seconds()) < 300
    assert any("used the server's INTERNALDATE" in p for p in dated.problems)  # the summary could not know it


@pytest.mark.peers
def test_parse_ahead_parses_the_bodies_of_its_share_of_the_full_messages_only(mailbox: Mailbox, conn) -> None:
    uids = mailbox.append("INBOX", [msg(n, body=f"Body number {n}") for n in range(1, 6)])
    c = conn(mailbox)
    batch = c.pull("mail:INBOX", None)
    index = {m.uid: i for i, m in enumerate(batch.changes)}
    c.complete("mail:INBOX", batch, {index[uid] for uid in uids[:4]})  # four read in full, one a summary
    c.parse_ahead(batch, 0.5)
    full = [m for m in batch.changes if not m.summary]
    assert [m.unparsed() for m in full] == [set(), set(), {"body"}, {"body"}]
    (summary,) = [m for m in batch.changes if m.summary]
    assert summary.unparsed() == {"details", "body"}, "a summary is never parsed ahead"
    c.parse_ahead(batch, 1.0)
    assert all(m.unparsed() == set() for m in full)
    assert sorted(m.text for m in full) == [f"Body number {n}" for n in range(1, 5)]


@pytest.mark.peers
def test_a_message_gone_or_unreadable_before_its_body_is_read(mailbox: Mailbox, conn) -> None:
    uids = mailbox.append("INBOX", [msg(n) for n in range(4)])
    c = conn(mailbox)
    batch = c.pull("mail:INBOX", None)
    assert sorted(uids_of(batch.changes)) == uids and not batch.failures
    folder = mailbox.server.dir / "mail" / mailbox.user
    files = sorted(p for p in folder.glob("*/*") if p.parent.name in ("new", "cur"))
    files[1].chmod(0)  # Dovecot can no longer read its body
    try:
        c.complete("mail:INBOX", batch, set(range(len(batch.changes))))
    finally:
        files[1].chmod(0o600)
    assert sorted(uids_of(batch.changes)) == [uids[0], uids[2], uids[3]]
    assert not any(m.summary for m in batch.changes)
    assert [f.item_ref for f in batch.failures] == [f"INBOX UID {uids[1]}"]
    assert "the server could not return it" in batch.failures[0].reason


@pytest.mark.peers
def test_the_private_folder_stream_reads_only_what_mail_is_stored_under(mailbox: Mailbox, conn) -> None:
    mailbox.create_folder("Private")
    no_id = b"From: client@acme.test\r\nTo: me@ourcompany.test\r\nSubject: No id\r\n\r\nBody\r\n"
    nothing = b"X-Spam: yes\r\n\r\nNo From, To, Date, Subject or Message-ID\r\n"
    uids = mailbox.append("Private", [msg(1), msg(2), no_id, nothing, msg(3)])
    c = conn(mailbox, batch_size=2)
    first = c.pull("private:Private", None)
    assert first.changes == [MailMovedPrivate("Private", "m1@acme.test"), MailMovedPrivate("Private", "m2@acme.test")]
    assert first.more and first.cursor["last_uid"] == uids[1]
    second = c.pull("private:Private", first.cursor)
    stored_as = parse_message(no_id, folder="INBOX", uid=9, internal_date=None).message_id  # as the import keys it
    assert stored_as.startswith("hash:")
    assert second.changes == [MailMovedPrivate("Private", stored_as)] and second.more  # nothing to know it by: passed
    third = c.pull("private:Private", second.cursor)
    assert third.changes == [MailMovedPrivate("Private", "m3@acme.test")] and not third.more
    assert c.pull("private:Private", third.cursor).changes == []
    mailbox.append("Private", [msg(4)])
    assert c.pull("private:Private", third.cursor).changes == [MailMovedPrivate("Private", "m4@acme.test")]
    stale = {**third.cursor, "uidvalidity": 1}  # the folder was renumbered: gone through again
    assert len(c.pull("private:Private", stale).changes) == 2


@pytest.mark.peers
def test_marking_a_read_message_private_later_is_reported(mailbox: Mailbox, conn) -> None:
    uids = mailbox.append("INBOX", [msg(1), msg(2)])
    c = conn(mailbox)
    _, cursor = pull_all(c, "mail:INBOX")
    before = cursor["highestmodseq"]
    assert isinstance(before, int) and before > 0  # CONDSTORE: the cursor keeps HIGHESTMODSEQ
    with mailbox.server.imap(mailbox.user) as client:
        client.select_folder("INBOX")
        client.add_flags([uids[1]], ["$Private"])
    changes, cursor = pull_all(c, "mail:INBOX", cursor)
    assert changes == [MailMarkedPrivate("INBOX", uids[1], cursor["uidvalidity"])]
    assert cursor["highestmodseq"] > before
    assert pull_all(c, "mail:INBOX", cursor)[0] == []


@pytest.mark.peers
def test_big_messages_and_byte_budget(mailbox: Mailbox, conn, monkeypatch) -> None:
    big = msg(1, body="x" * 1_300_000)
    uids = mailbox.append("INBOX", [msg(0, body="y" * 4000), big, msg(2, body="z" * 4000)])
    batch = read_batch(conn(mailbox, max_message_mb=1), "mail:INBOX")
    by_uid = {c.uid: c for c in batch.changes}
    assert by_uid[uids[1]].subject == "Message 1" and by_uid[uids[1]].text == ""
    assert any("over the limit of 1 MB: only its headers were read" in p for p in by_uid[uids[1]].problems)
    monkeypatch.setattr(connector_module, "BATCH_BYTES", 5000)
    small = conn(mailbox)
    first = small.pull("mail:INBOX", None)
    assert uids_of(first.changes) == [uids[2]] and first.more  # the next body would pass the budget
    assert uids_of(small.pull("mail:INBOX", first.cursor).changes) == [uids[1]]


# ---------------------------------------------------------------- live mode


@pytest.mark.peers
def test_live_mode_waits_in_idle_for_new_mail(mailbox: Mailbox, conn) -> None:
    mailbox.append("INBOX", [msg(1)])
    c = conn(mailbox, live=True)
    assert c.live() and not conn(mailbox).live() and not conn(mailbox, live=True, folders=["Sent"]).live()
    stop = threading.Event()
    assert c.wait_for_changes(0.3, stop) is True  # a watch that starts asks for one run: mail may have just come
    assert c.wait_for_changes(0.3, stop) is False  # nothing came
    timer = threading.Timer(0.5, lambda: mailbox.append("INBOX", [msg(2)]))
    timer.start()
    try:
        assert c.wait_for_changes(20, stop) is True
    finally:
        timer.cancel()
    mailbox.append("INBOX", [msg(3)])  # between two waits: seen by UIDNEXT at the next one
    assert c.wait_for_changes(20, stop) is True
    stop.set()
    started = time.monotonic()
    assert c.wait_for_changes(20, stop) is False  # a stop ends the wait at once
    assert time.monotonic() - started < 5
    # the pull reads what came; the watching connection never moved the import's cursor
    changes, _ = pull_all(c, "mail:INBOX")
    assert sorted(m.message_id for m in changes) == ["m1@acme.test", "m2@acme.test", "m3@acme.test"]


@pytest.mark.peers
def test_a_message_the_server_cannot_return_is_skipped_with_its_uid(mailbox: Mailbox, conn) -> None:
    uids = mailbox.append("INBOX", [msg(n) for n in range(4)])
    folder = mailbox.server.dir / "mail" / mailbox.user
    broken = sorted(p for p in folder.glob("*/*") if p.parent.name in ("new", "cur"))[1]
    broken.chmod(0)  # Dovecot (running as nobody) cannot read it: "Internal error", connection dropped
    try:
        batch = read_batch(conn(mailbox, batch_size=10), "mail:INBOX")
    finally:
        broken.chmod(0o600)
    assert sorted(uids_of(batch.changes)) == [uids[0], uids[2], uids[3]]
    assert [f.item_ref for f in batch.failures] == [f"INBOX UID {uids[1]}"]
    assert "the server could not return it" in batch.failures[0].reason
    assert batch.cursor["done"] == 4
