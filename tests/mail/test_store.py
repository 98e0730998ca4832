"""The mail applier on its own: MailMessage records in, interactions, stored mail and sightings out."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.clients.persons import create_person
from core.db import utcnow
from core.errors import NotFound
from core.integration.apply import Selection, apply_change, prepare_changes, select_changes
from core.mail import MailAddress, MailAttachment, MailMessage
from core.mail.rawcopy import unpack
from core.mail.store import MailMarkedPrivate, MailMovedPrivate
from core.mail.stored import StoredMail
from core.mail.suggestions import accept_suggestion, dismiss_suggestion, list_suggestions
from core.models import (
    AuditEntry,
    ConnectorAccount,
    ContactSuggestion,
    Interaction,
    MailMessageRow,
    MailSighting,
    Person,
    Role,
    StoredFile,
)
from core.records.blobs import blob_path
from tests.mail.corpus import ANNA, seed_clients

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def A(email: str, name: str = "") -> MailAddress:  # noqa: N802
    return MailAddress(email, name)


def message(mid: str, *, sender: str, to: list[str], uid: int = 1, folder: str = "INBOX", **kw) -> MailMessage:
    fields = {"subject": f"About {mid}", "sent_at": WHEN, "text": f"Body of {mid}", "raw": f"raw {mid}".encode()}
    fields.update(kw)
    return MailMessage(
        message_id=mid, folder=folder, uid=uid, from_=[A(sender)], to=[A(t) for t in to], uidvalidity=7, **fields
    )


@pytest.fixture
def setup(db, users):
    anna = users.make(ANNA, role=Role.staff, teams=("Sales",))
    admin = users.make("admin@ourcompany.test", role=Role.admin, teams=("Sales",))
    with db.session() as s:
        clients = seed_clients(s, users.actor(admin), users.team("Sales"))
        accounts = []
        for name, owner in (("Anna", anna.id), ("Shared", None)):
            account = ConnectorAccount(
                kind="imap",
                name=name,
                owner_id=owner,
                team_id=users.team("Sales"),
                settings={"username": ANNA if owner else "sales@ourcompany.test", "suggest_contacts": True},
            )
            s.add(account)
            s.flush()
            accounts.append(account.id)
    return {"anna": anna, "clients": clients, "account": accounts[0], "shared": accounts[1], "users": users}


def apply(db, account_id: int, change):
    with db.session() as s:
        account = s.get(ConnectorAccount, account_id)
        with s.begin_nested():
            return apply_change(s, account=account, change=change)


def interactions(db) -> list[tuple]:
    with db.session() as s:
        rows = s.scalars(select(Interaction).order_by(Interaction.id)).all()
        return [(i.kind.code, i.organization_id, i.person_id, i.subject, i.mail_id is not None) for i in rows]


def test_incoming_mail_is_logged_on_the_person_and_company(db, setup):
    c = setup["clients"]
    out = apply(db, setup["account"], message("m1", sender="ivan@acme.test", to=[ANNA]))
    assert out.applied and out.entity_type == "mail"
    assert interactions(db) == [("email_in", c.acme, c.ivan, "About m1", True)]
    with db.session() as s:
        i = s.scalars(select(Interaction)).one()
        assert (i.occurred_at, i.body, i.author_id, i.source, i.external_id) == (
            WHEN,
            "Body of m1",
            setup["anna"].id,
            "imap",
            "m1",
        )
        row = s.scalars(select(MailMessageRow)).one()
        assert "raw_compressed" not in row.__dict__, "the raw copy is not loaded with the mail, only when read"
        assert unpack(row.raw_compressed) == b"raw m1" and row.participants["from"][0]["email"] == "ivan@acme.test"
        sighting = s.scalars(select(MailSighting)).one()
        assert (sighting.account_id, sighting.folder, sighting.uid, sighting.uidvalidity) == (
            setup["account"],
            "INBOX",
            1,
            7,
        )
        assert s.get(Person, c.ivan).last_contact_at == WHEN


def test_outgoing_mail_to_two_clients_is_logged_on_each(db, setup):
    c = setup["clients"]
    apply(db, setup["account"], message("m2", sender=ANNA, to=["ivan@acme.test", "olga@beta.test"], folder="Sent"))
    assert sorted(interactions(db)) == sorted(
        [("email_out", c.acme, c.ivan, "About m2", True), ("email_out", c.beta, c.olga, "About m2", True)]
    )


def test_domain_match_and_the_switch_that_turns_it_off(db, setup):
    c = setup["clients"]
    apply(db, setup["account"], message("d1", sender="someone@acme.test", to=[ANNA]))
    assert interactions(db) == [("email_in", c.acme, None, "About d1", True)]
    with db.session() as s:
        s.get(ConnectorAccount, setup["account"]).settings = {"username": ANNA, "match_by_domain": False}
    out = apply(db, setup["account"], message("d2", sender="other@acme.test", to=[ANNA]))
    assert (out.applied, out.reason) == (False, "no client matched")


@pytest.mark.parametrize(
    ("sender", "to", "reason"),
    [
        ("boris@ourcompany.test", [ANNA], "internal mail: no external address"),
        ("stranger@gmail.com", [ANNA], "no client matched"),
        ("offers@spam.test", [ANNA], "no client matched"),
    ],
)
def test_mail_that_is_not_with_a_client_is_not_stored(db, setup, sender, to, reason):
    out = apply(db, setup["account"], message("x1", sender=sender, to=to))
    assert (out.applied, out.reason) == (False, reason)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(MailMessageRow)) == 0
        assert s.scalar(select(func.count()).select_from(MailSighting)) == 0


def test_the_same_mail_again_anywhere_is_logged_once(db, setup):
    first = message("m3", sender="ivan@acme.test", to=[ANNA])
    assert apply(db, setup["account"], first).applied
    assert apply(db, setup["account"], first).reason == "already logged"  # a repeated batch
    again = message("m3", sender="ivan@acme.test", to=[ANNA, "sales@ourcompany.test"], uid=40)
    assert apply(db, setup["shared"], again).reason == "already logged"  # the shared mailbox
    renumbered = message("m3", sender="ivan@acme.test", to=[ANNA], uid=2)
    renumbered.uidvalidity = 8
    assert apply(db, setup["account"], renumbered).reason == "already logged"  # after a UIDVALIDITY change
    assert len(interactions(db)) == 1
    with db.session() as s:
        seen = s.execute(select(MailSighting.account_id, MailSighting.uid, MailSighting.uidvalidity)).all()
        assert sorted(seen) == sorted([(setup["account"], 1, 7), (setup["shared"], 40, 7), (setup["account"], 2, 8)])


def test_a_thread_read_newest_first_ends_as_one_thread(db, setup):
    root = message("t1", sender=ANNA, to=["ivan@acme.test"], folder="Sent")
    reply = message("t2", sender="ivan@acme.test", to=[ANNA], in_reply_to="t1")  # no References
    last = message("t3", sender=ANNA, to=["ivan@acme.test"], in_reply_to="t2", folder="Sent")
    for change in (last, reply, root):  # newest first, as the first import reads
        apply(db, setup["account"], change)
    with db.session() as s:
        keys = dict(s.execute(select(MailMessageRow.message_id, MailMessageRow.thread_key)).all())
    assert keys == {"t1": "t1", "t2": "t1", "t3": "t1"}


def test_a_thread_read_newest_first_over_several_batches_ends_as_one_thread(db, setup):
    """The batch path: a parent stored in a later batch takes the replies stored before into its thread."""
    batches = [
        [message("x4", sender=ANNA, to=["ivan@acme.test"], in_reply_to="x3", folder="Sent", uid=4)],
        [
            message("x3", sender="ivan@acme.test", to=[ANNA], in_reply_to="x2", uid=3),
            message("x2", sender=ANNA, to=["ivan@acme.test"], in_reply_to="x1", folder="Sent", uid=2),
        ],
        [message("x1", sender="ivan@acme.test", to=[ANNA], uid=1)],
    ]
    for batch in batches:
        with db.session() as s:
            account = s.get(ConnectorAccount, setup["account"])
            decided = prepare_changes(s, account=account, changes=batch)
            assert all(outcome.applied for outcome in decided.values()) and len(decided) == len(batch)
    with db.session() as s:
        keys = dict(s.execute(select(MailMessageRow.message_id, MailMessageRow.thread_key)).all())
    assert keys == {"x1": "x1", "x2": "x1", "x3": "x1", "x4": "x1"}


@pytest.mark.parametrize("order", ["newest first", "oldest first"])
def test_a_thread_within_one_batch_ends_as_one_thread_in_either_order(db, setup, order):
    """The batch looks stored mail up once; what it stores itself must count as stored for the rest of it."""
    thread = [
        message("y1", sender="ivan@acme.test", to=[ANNA], uid=1),
        message("y2", sender=ANNA, to=["ivan@acme.test"], in_reply_to="y1", folder="Sent", uid=2),
        message("y3", sender="ivan@acme.test", to=[ANNA], in_reply_to="y2", uid=3),
        message("y4", sender=ANNA, to=["ivan@acme.test"], in_reply_to="y3", folder="Sent", uid=4),
    ]
    batch = thread[::-1] if order == "newest first" else thread
    with db.session() as s:
        account = s.get(ConnectorAccount, setup["account"])
        decided = prepare_changes(s, account=account, changes=batch + [batch[1]])  # and one read twice
        assert [decided[i].applied for i in range(5)] == [True, True, True, True, False]
    with db.session() as s:
        keys = dict(s.execute(select(MailMessageRow.message_id, MailMessageRow.thread_key)).all())
        sightings = s.scalar(select(func.count()).select_from(MailSighting))
    assert keys == {"y1": "y1", "y2": "y1", "y3": "y1", "y4": "y1"}
    assert sightings == 4


def test_mail_another_mailbox_stores_first_is_read_back_not_stored_twice(db, setup):
    """Between a batch's look-up and its write, another mailbox stored the same message."""
    change = message("r1", sender="ivan@acme.test", to=[ANNA])
    with db.session() as s:
        mine = StoredMail(s, s.get(ConnectorAccount, setup["account"]), [change])  # looked up: not stored
        theirs = StoredMail(s, s.get(ConnectorAccount, setup["shared"]), [change])
        theirs.add(change)
        theirs.write()
        mine.add(change)
        mine.write()
        assert (theirs.created("r1"), mine.created("r1")) == (True, False)
        assert mine.id_of("r1") == theirs.id_of("r1")
        assert s.scalar(select(func.count()).select_from(MailMessageRow)) == 1
        assert s.scalar(select(func.count()).select_from(MailSighting)) == 2  # seen in both mailboxes


def test_attachments_are_stored_once_and_over_the_cap_as_metadata(db, setup):
    parts = [
        MailAttachment("offer.pdf", "application/pdf", 9, b"%PDF-1.4\n", content_id="o1"),
        MailAttachment("huge.zip", "application/zip", 50_000_000, None),
    ]
    change = message("a1", sender="ivan@acme.test", to=[ANNA, "olga@beta.test"], attachments=parts)
    apply(db, setup["account"], change)
    apply(db, setup["shared"], change)
    with db.session() as s:
        files = {f.filename: f for f in s.scalars(select(StoredFile))}
        assert set(files) == {"offer.pdf", "huge.zip"}
        assert files["offer.pdf"].sha256 is not None and files["offer.pdf"].organization_id is None
        assert (files["huge.zip"].sha256, files["huge.zip"].size) == (None, 50_000_000)


def test_a_date_in_the_future_is_logged_as_now(db, setup):
    later = utcnow() + timedelta(days=30)
    apply(db, setup["account"], message("f1", sender="ivan@acme.test", to=[ANNA], sent_at=later))
    with db.session() as s:
        assert s.scalars(select(Interaction)).one().occurred_at <= utcnow()


def test_marked_private_later_leaves_the_cards(db, setup):
    note = MailAttachment("a.txt", "text/plain", 1, b"a")
    change = message("p1", sender="ivan@acme.test", to=[ANNA], attachments=[note])
    apply(db, setup["account"], change)
    out = apply(db, setup["account"], MailMarkedPrivate("INBOX", 1, 7))
    assert out.applied
    with db.session() as s:
        for model in (Interaction, MailMessageRow, MailSighting, StoredFile):
            assert s.scalar(select(func.count()).select_from(model)) == 0
        actions = s.scalars(select(AuditEntry.entity_type).where(AuditEntry.action == "delete")).all()
        assert sorted(actions) == ["file", "interaction"]
        trail = [json.dumps([e.summary, e.changes], ensure_ascii=False) for e in s.scalars(select(AuditEntry))]
        assert trail and not [t for t in trail if "About p1" in t or "Body of p1" in t or "a.txt" in t], (
            "marked private, the mail leaves no words in the audit log: not its subject, body or file names"
        )
    assert apply(db, setup["account"], MailMarkedPrivate("INBOX", 1, 7)).reason == "never logged"


def test_marked_private_in_one_mailbox_stays_when_seen_in_another(db, setup):
    change = message("p2", sender="ivan@acme.test", to=[ANNA])
    apply(db, setup["account"], change)
    apply(db, setup["shared"], change)
    assert apply(db, setup["account"], MailMarkedPrivate("INBOX", 1, 7)).applied
    assert len(interactions(db)) == 1
    with db.session() as s:
        private = s.scalars(select(MailSighting.private).order_by(MailSighting.account_id)).all()
        assert private == [True, False]


def test_moved_into_the_private_folder_leaves_the_cards_unless_another_mailbox_has_it(db, setup):
    apply(db, setup["account"], message("v1", sender="ivan@acme.test", to=[ANNA]))
    apply(db, setup["account"], message("v2", sender="ivan@acme.test", to=[ANNA], uid=2))
    apply(db, setup["shared"], message("v2", sender="ivan@acme.test", to=[ANNA], uid=2))
    assert apply(db, setup["account"], MailMovedPrivate("Private", "v1")).applied
    assert apply(db, setup["account"], MailMovedPrivate("Private", "v2")).applied
    assert [subject for *_, subject, _ in interactions(db)] == ["About v2"]  # the shared mailbox still has v2
    again = [apply(db, setup["account"], MailMovedPrivate("Private", mid)).reason for mid in ("v1", "v2", "v3")]
    assert again == ["never logged", "already private", "never logged"]
    assert apply(db, setup["shared"], MailMovedPrivate("Private", "v1")).reason == "never logged"


def test_unmatched_addresses_become_suggestions_counted_once_per_message(db, setup):
    users = setup["users"]
    mail = message("s1", sender="New Lead <lead@newco.test>", to=[ANNA, "offers@spam.test"])
    mail.from_ = [A("lead@newco.test", "New Lead")]
    apply(db, setup["account"], mail)
    apply(db, setup["account"], mail)  # the same message again: not counted twice
    apply(db, setup["account"], message("s2", sender="lead@newco.test", to=[ANNA]))
    apply(db, setup["shared"], message("s3", sender="lead@newco.test", to=[ANNA]))  # no owner: no queue
    anna = users.actor(setup["anna"])
    with db.session() as s:
        found, total = list_suggestions(s, actor=anna)
        assert total == 1 and (found[0].email, found[0].name, found[0].messages) == ("lead@newco.test", "New Lead", 2)
        assert s.scalar(select(func.count()).select_from(MailMessageRow)) == 0
        person = accept_suggestion(s, actor=anna, suggestion_id=found[0].id)
        assert (person.first_name, person.last_name) == ("New", "Lead")
    out = apply(db, setup["account"], message("s4", sender="lead@newco.test", to=[ANNA]))
    assert out.applied, "once accepted, the next mail from that address is logged"
    other = users.make("sam@ourcompany.test", role=Role.staff, teams=("Sales",))
    with db.session() as s:
        assert list_suggestions(s, actor=anna) == ([], 0)
        row = s.scalars(select(ContactSuggestion)).one()
        with pytest.raises(NotFound):
            dismiss_suggestion(s, actor=users.actor(other), suggestion_id=row.id)


def test_system_actor_is_never_attributed(db, setup):
    apply(db, setup["account"], message("m9", sender="ivan@acme.test", to=[ANNA]))
    with db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.entity_type == "interaction")).one()
        assert (entry.user_id, entry.source) == (None, Actor.system(source="sync").source)


def test_mail_of_a_shared_mailbox_is_attributed_to_nobody(db, setup):
    with db.session() as s:
        account = s.get(ConnectorAccount, setup["shared"])
        account.owner_id = setup["anna"].id
        account.settings = {**account.settings, "mailbox_type": "shared"}
    apply(db, setup["shared"], message("sh1", sender="ivan@acme.test", to=["sales@ourcompany.test"]))
    apply(db, setup["account"], message("own1", sender="ivan@acme.test", to=[ANNA]))
    with db.session() as s:
        authors = dict(s.execute(select(Interaction.external_id, Interaction.author_id)).all())
    assert authors == {"sh1": None, "own1": setup["anna"].id}


def test_mail_logged_on_a_company_alone_is_logged_once_too(db, setup):
    """No person: the interaction's person_id is NULL, and its import key still makes it unique."""
    c = setup["clients"]
    first = message("d9", sender="someone@acme.test", to=[ANNA])
    assert apply(db, setup["account"], first).applied
    renumbered = message("d9", sender="someone@acme.test", to=[ANNA], uid=5)
    renumbered.uidvalidity = 9
    assert apply(db, setup["account"], renumbered).reason == "already logged"
    assert apply(db, setup["shared"], message("d9", sender="someone@acme.test", to=[ANNA], uid=6)).reason == (
        "already logged"
    )
    assert interactions(db) == [("email_in", c.acme, None, "About d9", True)]


def _no_ids(changes: dict) -> dict:
    """Audited changes without the ids a sequence picks (PostgreSQL does not give back rolled back ones)."""
    return {k: v for k, v in changes.items() if k != "mail_id"}


def _written(s) -> dict[str, list]:
    """What logging wrote, without the ids and times the database picks."""
    return {
        "interactions": sorted(
            s.execute(
                select(
                    Interaction.external_id,
                    Interaction.organization_id,
                    Interaction.person_id,
                    Interaction.team_id,
                    Interaction.author_id,
                    Interaction.direction,
                    Interaction.subject,
                    Interaction.body,
                    Interaction.occurred_at,
                    MailMessageRow.message_id,
                ).join(MailMessageRow, Interaction.mail_id == MailMessageRow.id)
            ).all()
        ),
        "audit": sorted(
            (e.action, e.entity_type, e.source, e.user_id, e.summary, json.dumps(_no_ids(e.changes), sort_keys=True))
            for e in s.scalars(select(AuditEntry)).all()
        ),
        "mail": sorted(s.execute(select(MailMessageRow.message_id, MailMessageRow.thread_key)).all()),
        "sightings": sorted(s.execute(select(MailSighting.folder, MailSighting.uid)).all()),
        "files": sorted(s.execute(select(StoredFile.filename, StoredFile.size, StoredFile.sha256)).all(), key=str),
        "contacts": sorted(s.execute(select(Person.id, Person.last_contact_at)).all()),
    }


def test_a_batch_logged_at_once_writes_what_logging_one_by_one_writes(db, setup):
    later = WHEN + timedelta(days=1)
    pdf = [MailAttachment("offer.pdf", "application/pdf", 9, b"%PDF-1.4\n")]
    two = [
        MailAttachment("a.txt", "text/plain", 3, b"abc"),
        MailAttachment("huge.zip", "application/zip", 50_000_000, None),  # over the cap: its name and size
    ]
    batch = [
        message("b3", sender=ANNA, to=["ivan@acme.test"], in_reply_to="b2", folder="Sent", uid=3, sent_at=later),
        message("b2", sender="ivan@acme.test", to=[ANNA, "olga@beta.test"], in_reply_to="b1", uid=2, attachments=two),
        message("b1", sender=ANNA, to=["ivan@acme.test"], folder="Sent", uid=1, attachments=pdf),
        message("b1", sender=ANNA, to=["ivan@acme.test"], folder="Sent", uid=9),  # the same mail again
        message("b4", sender="stranger@gmail.com", to=[ANNA], uid=4),
        message("b5", sender="someone@acme.test", to=[ANNA], uid=5, attachments=[pdf[0], two[0]]),
        message("b6", sender="petr@gmail.com", to=[ANNA], uid=6),  # a client of no company
    ]
    admin = setup["users"].actor(setup["users"].make("boss@ourcompany.test", role=Role.admin, teams=("Sales",)))
    with db.session() as s:
        account = s.get(ConnectorAccount, setup["account"])
        account.settings = {"username": ANNA}
        create_person(s, actor=admin, first_name="Petr", emails=["petr@gmail.com"], team_id=account.team_id)
        one_by_one = s.begin_nested()
        outcomes = []
        for change in batch:
            with s.begin_nested():
                outcomes.append(apply_change(s, account=account, change=change))
        expected = _written(s)
        one_by_one.rollback()
        assert _written(s)["interactions"] == []
        decided = prepare_changes(s, account=account, changes=batch)
        assert [(decided[i].applied, decided[i].reason) for i in range(len(batch))] == [
            (o.applied, o.reason) for o in outcomes
        ]
        assert _written(s) == expected
    assert len(expected["interactions"]) == 6
    assert [a[1] for a in expected["audit"]].count("interaction") == 6
    assert len(expected["files"]) == 5  # b2's two, b1's one, b5's two
    for _name, _size, sha in expected["files"]:
        assert sha is None or blob_path(sha).read_bytes() in (b"abc", b"%PDF-1.4\n")
    assert {t for _, t in expected["mail"]} == {"b1", "b5", "b6"}
    petr = [i for i in expected["interactions"] if i[0] == "b6"]
    assert len(petr) == 1 and petr[0][1] is None and petr[0][2] is not None  # on the person: no company to show it on


def test_the_batch_preparer_decides_every_item_and_logs_the_client_mail_at_once(db, setup):
    batch = [
        message("p1", sender="ivan@acme.test", to=[ANNA]),  # a client: logged by the preparer
        message("p2", sender="boris@ourcompany.test", to=[ANNA]),  # internal
        message("p3", sender="stranger@gmail.com", to=[ANNA]),  # no client
        message("p4", sender="someone@acme.test", to=[ANNA]),  # a client by domain
    ]
    with db.session() as s:
        account = s.get(ConnectorAccount, setup["account"])
        account.settings = {"username": ANNA}  # no suggestions: unmatched mail writes nothing
        decided = prepare_changes(s, account=account, changes=batch)
        assert {i: (o.applied, o.reason, o.entity_type) for i, o in decided.items()} == {
            0: (True, "", "mail"),
            1: (False, "internal mail: no external address", None),
            2: (False, "no client matched", None),
            3: (True, "", "mail"),
        }
        for index, change in enumerate(batch):  # what the preparer decided is what the applier says now
            with s.begin_nested():
                outcome = apply_change(s, account=account, change=change)
            assert outcome.reason == (decided[index].reason or "already logged")
        assert prepare_changes(s, account=account, changes=batch)[0].reason == "already logged"
    with db.session() as s:
        account = s.get(ConnectorAccount, setup["account"])
        account.settings = {"username": ANNA, "suggest_contacts": True}  # unmatched mail feeds Anna's suggestions
        decided = prepare_changes(s, account=account, changes=batch)
        assert sorted(decided) == [0, 1, 3]  # p3 is left to the applier, which notes its addresses


def test_the_selector_wants_the_bodies_of_client_mail_only_and_settles_the_rest(db, setup):
    batch = [
        message("s1", sender="ivan@acme.test", to=[ANNA]),  # a client's address
        message("s2", sender="boris@ourcompany.test", to=[ANNA]),  # internal
        message("s3", sender="stranger@gmail.com", to=[ANNA]),  # no client
        message("s4", sender="someone@acme.test", to=[ANNA]),  # a client's domain
        MailMarkedPrivate("INBOX", 9),  # no selector for this type: always wanted whole
    ]
    with db.session() as s:
        account = s.get(ConnectorAccount, setup["account"])
        account.settings = {"username": ANNA}  # no suggestions: mail with no client needs nothing
        assert select_changes(s, account=account, changes=batch) == Selection(
            full=frozenset({0, 3, 4}), settled=frozenset({1, 2})
        )
        account.settings = {"username": ANNA, "match_by_domain": False}
        s.info.clear()
        assert select_changes(s, account=account, changes=batch) == Selection(
            full=frozenset({0, 4}), settled=frozenset({1, 2, 3})
        )
        account.settings = {"username": ANNA, "suggest_contacts": True}  # unmatched mail feeds suggestions
        s.info.clear()
        assert select_changes(s, account=account, changes=batch) == Selection(
            full=frozenset({0, 3, 4}), settled=frozenset({1})
        )


def test_a_summary_that_matches_after_all_is_logged_from_its_headers(db, setup):
    """Its client was added between the reading (no body fetched) and the logging: logged, and the gap said."""
    summary = message("s5", sender="ivan@acme.test", to=[ANNA], text="", summary=True)
    assert apply(db, setup["account"], summary).applied
    with db.session() as s:
        stored = s.scalars(select(MailMessageRow)).one()
        assert "only the headers were read" in " ".join(stored.problems)
        assert s.scalars(select(Interaction.subject)).all() == ["About s5"]


def test_uids_and_uidvalidity_up_to_imaps_32_bit_limit_are_kept(db, setup):
    """RFC 3501 numbers go to 4,294,967,295: past a signed 32-bit integer (PostgreSQL's integer)."""
    top = 2**32 - 1
    change = replace(message("big1", sender="ivan@acme.test", to=[ANNA], uid=top), uidvalidity=top)
    with db.session() as s:
        stored = StoredMail(s, s.get(ConnectorAccount, setup["account"]), [change])
        stored.add(change)
        stored.write()
    with db.session() as s:
        assert s.execute(select(MailSighting.uid, MailSighting.uidvalidity)).all() == [(top, top)]
