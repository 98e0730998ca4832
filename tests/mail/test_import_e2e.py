"""The mail import end to end: Anna's mailbox on a real Dovecot, synced by the real engine into the CRM.

The mailbox (``tests/mail/corpus.py``) holds what a salesperson's mailbox holds; each test runs
the account as a worker would and asserts which interactions exist on which client, and that
nothing is logged twice however often, and from however many mailboxes, the mail is read.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.db import Database
from core.integration import Batch
from core.mail.rawcopy import unpack
from core.models import (
    AccountStatus,
    ConnectorAccount,
    Interaction,
    MailMessageRow,
    MailSighting,
    Role,
    StoredFile,
    SyncCursor,
    SyncItemError,
    SyncRun,
)
from sync import control
from sync.reader import read_batch
from sync.reader_process import ReaderProcess, ReadingJob, Share
from sync.redact import Redactor
from sync.registry import build_connector
from sync.retry import RetryPolicy
from sync.worker import Worker, WorkerOptions
from tests.mail.corpus import ANNA, BIG, INBOX, SENT, Clients, seed_clients
from tests.peers.dovecot import Dovecot
from tests.peers.dovecot_fixtures import dovecot  # noqa: F401

PEER_FIXTURES = (dovecot,)
SYSTEM = Actor.system(source="cli")


def run(db: Database, account_id: int) -> str:
    """Queue a manual run of the account and run it here, as a worker would; returns how it ended."""
    with db.session() as s:
        job_id = control.run_now(s, actor=SYSTEM, account_id=account_id).id
    worker = Worker(db, WorkerOptions(lease_seconds=30, policy=RetryPolicy(base=10, cap=100)), name="test-worker")
    lease = worker.claim_job(job_id)
    assert lease is not None
    return worker.run_job(lease)


def last_run(db: Database, account_id: int) -> SyncRun:
    with db.session() as s:
        return s.scalars(select(SyncRun).where(SyncRun.account_id == account_id).order_by(SyncRun.id.desc())).first()


def add_imap_account(db: Database, server: Dovecot, user: str, *, owner_id: int | None, team_id: int, **extra) -> int:
    settings = {
        "host": server.host,
        "port": server.port,
        "security": "plain",
        "username": user,
        "password": server.passwords[user],
        "batch_size": 3,
        "attachment_cap_mb": 1,
        **extra,
    }
    with db.session() as s:
        account = control.add_account(
            s, actor=SYSTEM, kind="imap", name=f"Mailbox {user}", settings=settings, owner_id=owner_id, team_id=team_id
        )
        return account.id


def logged(db: Database) -> dict[tuple[int | None, int | None], list[tuple[str, str]]]:
    """(organization, person) -> [(kind code, subject)] of every logged interaction, by time."""
    with db.session() as s:
        rows = s.scalars(select(Interaction).order_by(Interaction.occurred_at, Interaction.id)).all()
        out: dict = {}
        for i in rows:
            out.setdefault((i.organization_id, i.person_id), []).append((i.kind.code, i.subject))
        return out


def counts(db: Database) -> tuple[int, int, int, int]:
    with db.session() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(model))
            for model in (Interaction, MailMessageRow, MailSighting, StoredFile)
        )


@pytest.fixture
def anna_box(dovecot: Dovecot) -> dict[str, list[int]]:
    """Anna's mailbox filled with the corpus; returns the UIDs by folder (private one flagged)."""
    user = f"anna-{dovecot.port}-{len(dovecot.passwords)}@ourcompany.test"
    dovecot.add_user(user, "anna-Secret-1")
    dovecot.create_folder(user, "Sent", special_use="\\Sent")
    uids = {"INBOX": [], "Sent": []}
    for name, raw in INBOX:
        flags = ("$Private",) if name == "private" else ()
        uids["INBOX"] += dovecot.append(user, "INBOX", [raw], flags)
    uids["Sent"] = dovecot.append(user, "Sent", [raw for _, raw in SENT])
    uids["user"] = user
    return uids


@pytest.fixture
def world(db: Database, users, anna_box, dovecot: Dovecot):
    """Anna (staff, team Sales) owning an IMAP account on her mailbox; the clients seeded."""
    anna = users.make(ANNA, role=Role.staff, teams=("Sales",))
    admin = users.make("admin@ourcompany.test", role=Role.admin, teams=("Sales",))
    with db.session() as s:
        clients = seed_clients(s, users.actor(admin), users.team("Sales"))
    account_id = add_imap_account(db, dovecot, anna_box["user"], owner_id=anna.id, team_id=users.team("Sales"))
    return {"anna": anna, "clients": clients, "account_id": account_id, "box": anna_box}


def expected(c: Clients) -> dict:
    return {
        (c.acme, c.ivan): [
            ("email_out", "Offer"),
            ("email_in", "Re: Offer"),
            ("email_out", "Re: Re: Offer"),
            ("email_out", "Joint meeting"),
            ("email_in", "Documents"),
        ],
        (c.beta, c.olga): [
            ("email_out", "Joint meeting"),
            ("email_in", "Price list"),
            ("email_in", "Présentation"),
            ("email_out", "Call tomorrow?"),
        ],
    }


def test_first_import_logs_exactly_the_client_mail(db, world, dovecot):
    box, c = world["box"], world["clients"]
    before = {f: dovecot.flags(box["user"], f) for f in ("INBOX", "Sent")}
    assert run(db, world["account_id"]) == "done"

    got = logged(db)
    want = expected(c)
    assert {k: sorted(v) for k, v in got.items()} == {k: sorted(v) for k, v in want.items()}
    assert got[(c.acme, c.ivan)][:3] == want[(c.acme, c.ivan)][:3]  # the thread, in the order it was written

    with db.session() as s:
        rows = {r.message_id: r for r in s.scalars(select(MailMessageRow))}
        thread = {rows[m].thread_key for m in ("thread-1@ourcompany.test", "thread-2@acme.test")}
        thread.add(rows["thread-3@ourcompany.test"].thread_key)
        assert thread == {"thread-1@ourcompany.test"}
        html = rows["html-1@beta.test"]
        assert "new price list" in html.text and "<script>" in (html.html or "")
        for absent in ("script", "alert", "evil", "tracker", "pixel"):
            assert absent not in html.text
        assert rows["thread-2@acme.test"].text == "Thanks, we accept."  # quoted history trimmed
        assert unpack(rows["thread-2@acme.test"].raw_compressed) == dict(INBOX)["thread-2"]
        broken = rows["broken-1@beta.test"]
        assert broken.text.startswith("Презентация") and broken.problems
        no_id = [r for m, r in rows.items() if m.startswith("hash:")]
        assert len(no_id) == 1
        sightings = s.scalars(select(MailSighting.folder).where(MailSighting.mail_id == no_id[0].id)).all()
        assert sorted(sightings) == ["INBOX", "Sent"]

        files = {f.filename: f for f in s.scalars(select(StoredFile))}
        assert set(files) == {"contract.pdf", "scan.pdf"}
        assert files["contract.pdf"].sha256 is not None and files["contract.pdf"].size == 17
        assert files["scan.pdf"].sha256 is None and files["scan.pdf"].size == BIG + 9
        assert files["contract.pdf"].mail_id == rows["files-1@acme.test"].id

        errors = s.scalars(select(SyncItemError).where(SyncItemError.account_id == world["account_id"])).all()
        unreadable_uid = box["INBOX"][[n for n, _ in INBOX].index("unreadable")]
        assert [e.item_ref for e in errors] == [f"INBOX UID {unreadable_uid}"]
        assert "no sender or recipient could be read" in errors[0].reason

        anna = s.get(type(world["anna"]), world["anna"].id)
        interactions = s.scalars(select(Interaction)).all()
        assert {i.author_id for i in interactions} == {anna.id}
        assert all(i.mail_id is not None and i.source == "imap" for i in interactions)
        acme = s.get(ConnectorAccount, world["account_id"])
        assert acme.status == AccountStatus.ok

    run_ = last_run(db, world["account_id"])
    assert run_.status == "partial" and run_.failed == 1
    assert run_.skipped > 0 and run_.pulled == run_.applied + run_.skipped + run_.failed  # settled mail counted
    after = {f: dovecot.flags(box["user"], f) for f in ("INBOX", "Sent")}
    assert after == before, "importing must not change the mailbox (no \\Seen, no moves)"


def test_nothing_is_logged_twice(db, world, dovecot, users):
    account_id, box = world["account_id"], world["box"]
    assert run(db, account_id) == "done"
    first = counts(db)
    first_logged = logged(db)

    assert run(db, account_id) == "done"  # a second run reads nothing
    assert counts(db) == first and last_run(db, account_id).pulled == 0

    dovecot.set_uidvalidity(box["user"], "INBOX", dovecot.uidvalidity(box["user"], "INBOX") + 7)
    assert run(db, account_id) == "done"  # INBOX is read again from scratch
    again = last_run(db, account_id)
    assert "UIDVALIDITY changed" in again.error and again.pulled == len(INBOX) - 1  # the private one is never read
    interactions, rows, sightings, files = counts(db)
    assert (interactions, rows, files) == (first[0], first[1], first[3])
    assert sightings > first[2]  # the renumbered copies are new sightings of the same stored mail
    assert logged(db) == first_logged

    # The same mail in a second (shared) mailbox: seen again, logged no more.
    shared = f"sales-{len(dovecot.passwords)}@ourcompany.test"
    dovecot.add_user(shared, "sales-Secret-2")
    dovecot.append(shared, "INBOX", [dict(INBOX)["thread-2"], dict(INBOX)["files"], dict(SENT)["two-clients"]])
    second = add_imap_account(db, dovecot, shared, owner_id=None, team_id=users.team("Sales"), mailbox_type="shared")
    assert run(db, second) == "done"
    assert last_run(db, second).applied == 0 and last_run(db, second).skipped == 3
    assert counts(db)[0:2] == first[0:2] and counts(db)[3] == first[3]
    with db.session() as s:
        seen_in = Counter(s.scalars(select(MailSighting.account_id)).all())
    assert seen_in[second] == 3


def test_wrong_password_needs_reauthentication(db, world, dovecot):
    account_id = world["account_id"]
    with db.session() as s:
        control.edit_account(s, actor=SYSTEM, account_id=account_id, changes={"settings": {"password": "wrong-One-9"}})
    assert run(db, account_id) == "failed"
    with db.session() as s:
        account = s.get(ConnectorAccount, account_id)
        assert account.status == AccountStatus.needs_reauth and account.next_run_at is None
        assert "login refused" in account.last_error and "AUTHENTICATIONFAILED" in account.last_error
        assert "wrong-One-9" not in account.last_error
    assert counts(db)[0] == 0


def test_logged_mail_follows_client_rights(db, world, users):
    assert run(db, world["account_id"]) == "done"
    c = world["clients"]
    anna_api = users.client(world["anna"])
    other = users.make("sam@ourcompany.test", role=Role.staff, teams=("Support",))
    other_api = users.client(other)

    mine = anna_api.get(f"/api/v1/organizations/{c.acme}/timeline").json()
    assert mine["total"] == 5 and {i["subject"] for i in mine["items"]} >= {"Offer", "Documents"}
    assert other_api.get(f"/api/v1/organizations/{c.acme}/timeline").status_code == 404
    assert other_api.get("/api/v1/interactions").json()["total"] == 0
    one = mine["items"][0]["id"]
    assert other_api.get(f"/api/v1/interactions/{one}").status_code == 404
    assert anna_api.get(f"/api/v1/interactions/{one}").status_code == 200


def test_a_stopped_import_resumes_where_it_stopped(db, world):
    account_id = world["account_id"]
    with db.session() as s:
        job_id = control.run_now(s, actor=SYSTEM, account_id=account_id).id
    worker = Worker(db, WorkerOptions(lease_seconds=30), name="stopping-worker")
    lease = worker.claim_job(job_id)
    assert lease is not None
    assert worker.run_job(lease, on_progress=lambda p: worker.stop.set()) == "requeued"  # stops after one batch
    assert 0 < counts(db)[2] < 12
    with db.session() as s:
        cursor = s.scalars(select(SyncCursor.cursor).where(SyncCursor.account_id == account_id)).one()
    assert cursor["phase"] == "initial" and cursor["done"] == 3
    assert run(db, account_id) == "done"  # another worker takes the job over
    assert {k: sorted(v) for k, v in logged(db).items()} == {
        k: sorted(v) for k, v in expected(world["clients"]).items()
    }
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SyncItemError)) == 1


def test_mail_moved_into_the_private_folder_leaves_the_client_cards(db, world, dovecot):
    """Only its Message-ID line is read there; the next run takes the logged copy off the card, once."""
    user = world["box"]["user"]
    dovecot.create_folder(user, "Private")
    assert run(db, world["account_id"]) == "done"
    subjects = [subject for entries in logged(db).values() for _, subject in entries]
    assert "Price list" in subjects
    before = counts(db)
    _move_to_private(dovecot, user, "Price list")
    assert run(db, world["account_id"]) == "done"
    subjects = [subject for entries in logged(db).values() for _, subject in entries]
    assert "Price list" not in subjects
    assert counts(db)[:2] == (before[0] - 1, before[1] - 1)  # one interaction, one stored mail gone
    with db.session() as s:
        cursor = s.scalars(select(SyncCursor.cursor).where(SyncCursor.stream == "private:Private")).one()
        assert cursor["last_uid"] >= 1
    assert run(db, world["account_id"]) == "done"  # nothing more to do
    assert counts(db)[:2] == (before[0] - 1, before[1] - 1)


def test_mail_without_a_message_id_moved_into_the_private_folder_leaves_the_cards_too(db, world, dovecot):
    """It is known by the hash of its From, To, Date and Subject, read from those lines alone."""
    user = world["box"]["user"]
    dovecot.create_folder(user, "Private")
    assert run(db, world["account_id"]) == "done"
    assert "Call tomorrow?" in [subject for entries in logged(db).values() for _, subject in entries]
    _move_to_private(dovecot, user, "Call tomorrow?")
    assert run(db, world["account_id"]) == "done"
    assert "Call tomorrow?" not in [subject for entries in logged(db).values() for _, subject in entries]


def _move_to_private(dovecot: Dovecot, user: str, subject: str) -> None:
    """Move the one INBOX message with this subject into the Private folder, as the user would."""
    with dovecot.imap(user) as client:
        client.select_folder("INBOX")
        moved = client.search(["SUBJECT", subject])
        assert len(moved) == 1
        client.move(moved, "Private")


def _batches(request, receive) -> list:
    """Every batch of a stream, asked for cursor after cursor."""
    out, cursor = [], None
    while True:
        request(cursor)
        batch = receive()
        out.append(batch)
        if not batch.more:
            return out
        cursor = batch.cursor


@pytest.mark.parametrize("suggest", [False, True], ids=["settled", "suggestions"])
def test_a_reading_process_hands_over_the_batches_the_engine_reads_itself(db, world, suggest):
    """Without suggestions, mail with no client is settled at reading; with them, it travels as a lazy summary."""
    account_id = world["account_id"]
    with db.session() as s:
        account = s.get(ConnectorAccount, account_id)
        account.settings = {**account.settings, "suggest_contacts": suggest}
    with db.session() as s:
        connector = build_connector(s, s.get(ConnectorAccount, account_id))
    summaries, settled = [], 0
    try:
        for stream in ("mail:INBOX", "mail:Sent"):
            asked: list = []

            def read_here(stream: str = stream) -> Batch:
                cursor = asked[-1]
                return read_batch(connector, db, account_id=account_id, stream=stream, cursor=cursor, redact=Redactor())

            here = _batches(asked.append, read_here)
            child = ReaderProcess(ReadingJob(db.url, account_id, stream))
            child.share = Share(value=1.0 if stream == "mail:INBOX" else 0.0, step=0.0)
            try:
                there = _batches(child.request, child.receive)
            finally:
                child.close()
            arrived = [c for b in there for c in b.changes]
            full = [c for c in arrived if not c.summary]
            if stream == "mail:INBOX":
                assert full and all(c.unparsed() == set() for c in full), "with all the share, mail arrives parsed"
            else:
                assert full and all(c.unparsed() == {"body"} for c in full), "with none, its body is parsed here"
            lazy = [c for c in arrived if c.summary]
            assert all(c.unparsed() for c in lazy), "summaries arrive lazy"
            summaries += lazy
            settled += sum(b.settled for b in there)
            assert [(b.cursor, b.settled) for b in there] == [(b.cursor, b.settled) for b in here]
            assert [b.failures for b in there] == [b.failures for b in here]
            assert [b.changes for b in there] == [b.changes for b in here]  # every field, parsed here or there
    finally:
        connector.close()
    if suggest:
        assert summaries, "the mailbox has mail with no client, kept for the suggestions"
    else:
        assert settled and not summaries, "mail with no client is settled where it is read"
