"""Logging a batch of imported interactions at once (``core.work.imports``): the same rules as one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.errors import NotFound, ValidationFailed
from core.models import AuditEntry, Interaction, Organization, Person
from core.work.imports import ImportedInteraction, record_imported
from core.work.interactions import record_external_interaction

SYSTEM = Actor.system(source="sync")


def item(external_id: str, **kw) -> ImportedInteraction:  # noqa: ANN003
    return ImportedInteraction(source="imap", external_id=external_id, kind="email_in", **kw)


def count(s, model) -> int:  # noqa: ANN001
    return s.scalar(select(func.count()).select_from(model)) or 0


def test_a_batch_is_logged_once_with_its_audit_entries_and_the_latest_contact(world, db):
    early, late = (datetime.now(UTC) - timedelta(hours=h) for h in (5, 1))
    with db.session() as s:
        record_external_interaction(
            s, actor=SYSTEM, source="imap", external_id="m0", kind="email_in", organization_id=world.org_a
        )
        audit_before = count(s, AuditEntry)
        batch = [
            item("m0", organization_id=world.org_a),  # logged before
            item("m1", organization_id=world.org_a, person_id=world.person_a, occurred_at=late, subject=" Hi "),
            item("m2", person_id=world.person_a, occurred_at=early, author_id=world.anna.id),
            item("m2", person_id=world.person_a, occurred_at=early),  # twice in the batch
            item("m1", organization_id=world.org_b, occurred_at=early),  # the same mail on another client
        ]
        assert record_imported(s, actor=SYSTEM, items=batch) == [False, True, True, False, True]
        assert record_imported(s, actor=SYSTEM, items=batch) == [False] * 5
        rows = s.scalars(select(Interaction).where(Interaction.external_id != "m0").order_by(Interaction.id)).all()
        assert [(r.external_id, r.organization_id, r.person_id, r.team_id, r.subject) for r in rows] == [
            ("m1", world.org_a, world.person_a, s.get(Organization, world.org_a).team_id, "Hi"),
            ("m2", world.org_a, world.person_a, s.get(Organization, world.org_a).team_id, ""),  # the employer's
            ("m1", world.org_b, None, s.get(Organization, world.org_b).team_id, ""),
        ]
        assert rows[1].author_id == world.anna.id and rows[0].author_id is None
        entries = s.scalars(select(AuditEntry).where(AuditEntry.id > audit_before).order_by(AuditEntry.id)).all()
        assert [(e.action, e.entity_type, e.entity_id) for e in entries] == [
            ("create", "interaction", r.id) for r in rows
        ]
        assert entries[0].changes["external_id"] == [None, "m1"] and entries[0].summary.endswith("ООО «Ромашка»")
        assert not {"subject", "body"} & set(entries[0].changes), "a mail's words stay out of the audit log"
        assert s.get(Person, world.person_a).last_contact_at == late
        assert s.get(Organization, world.org_b).last_contact_at == early


def test_a_bad_item_fails_the_whole_batch_and_writes_nothing(world, db):
    with db.session() as s, pytest.raises(ValidationFailed) as err:
        record_imported(s, actor=SYSTEM, items=[item("ok", organization_id=world.org_a), item("x", subject="s" * 999)])
    assert err.value.problems[0].field == "subject"
    with db.session() as s, pytest.raises(ValidationFailed) as err:
        record_imported(s, actor=SYSTEM, items=[ImportedInteraction("manual", "1", "note", world.org_a)])
    assert err.value.problems[0].field == "source"
    with db.session() as s:
        assert count(s, Interaction) == 0


def test_the_clients_rights_hold_as_one_by_one(world, db):
    with db.session() as s:
        record_imported(s, actor=SYSTEM, items=[item("b1", organization_id=world.org_b)])
    anna = world.actor(world.anna)
    with db.session() as s, pytest.raises(NotFound):
        record_imported(s, actor=anna, items=[item("b1", organization_id=world.org_b)])  # logged in team B
    with db.session() as s, pytest.raises(NotFound):
        record_imported(s, actor=anna, items=[item("b2", organization_id=world.org_b)])  # a client of team B
    with db.session() as s:
        assert record_imported(s, actor=anna, items=[item("a1", organization_id=world.org_a)]) == [True]
        assert count(s, Interaction) == 2


def test_a_batchs_contact_stamps_equal_stamping_each_in_turn(world, db):
    from core.work.clock import local_date
    from core.work.contact_stamps import ContactStamps
    from core.work.interactions import stamp_contact
    from core.work.links import resolve_links

    base = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    with db.session() as s:  # a client with a later contact already, one with an earlier first day
        s.get(Organization, world.org_b).last_contact_at = base + timedelta(days=30)
        s.get(Organization, world.org_b).first_contact_on = (base - timedelta(days=40)).date()
    contacts = [  # (organization, person, when), in no order; the person works for org_a
        (world.org_a, None, base + timedelta(days=2)),
        (None, world.person_a, base + timedelta(days=5)),
        (world.org_a, None, base - timedelta(days=3, hours=21)),  # the earliest: the first day, local time
        (world.org_b, None, base),
        (world.org_b, None, base + timedelta(days=1)),
    ]

    def state(s):  # noqa: ANN001, ANN202
        org_a, org_b, person = (
            s.get(Organization, world.org_a),
            s.get(Organization, world.org_b),
            s.get(Person, world.person_a),
        )
        return [
            (org_a.last_contact_at, org_a.first_contact_on),
            (org_b.last_contact_at, org_b.first_contact_on, org_b.updated_at),
            person.last_contact_at,
        ]

    results = []
    for stamp_all in (False, True):
        with db.session() as s:
            for org in (world.org_a,):
                s.get(Organization, org).last_contact_at = s.get(Organization, org).first_contact_on = None
            s.get(Person, world.person_a).last_contact_at = None
        with db.session() as s:
            stamps = ContactStamps()
            for org_id, person_id, when in contacts:
                links = resolve_links(s, actor=SYSTEM, organization_id=org_id, person_id=person_id)
                stamps.add(links, when) if stamp_all else stamp_contact(links, when)
            if stamp_all:
                stamps.write(s)
                assert not s.dirty, "nothing is left for the ORM to flush"
        with db.session() as s:
            results.append(state(s))
    assert results[0] == results[1]
    (last_a, first_a), (last_b, first_b, _), last_person = results[1]
    assert (last_a, last_person) == (base + timedelta(days=5), base + timedelta(days=5))
    assert first_a == local_date(base - timedelta(days=3, hours=21))
    assert (last_b, first_b) == (base + timedelta(days=30), (base - timedelta(days=40)).date()), "never moved back"


def test_stamps_rolled_back_with_their_savepoint_are_read_again(world, db):
    from core.work.contact_stamps import ContactStamps
    from core.work.links import resolve_links

    when = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    with db.session() as s:
        org = s.get(Organization, world.org_a)
        before = org.last_contact_at
        savepoint = s.begin_nested()
        stamps = ContactStamps()
        stamps.add(resolve_links(s, actor=SYSTEM, organization_id=world.org_a), when)
        stamps.write(s)
        assert org.last_contact_at == when, "the loaded client reads what was written"
        savepoint.rollback()
        assert org.last_contact_at == before, "and after the rollback, what the database holds again"


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"a": None, "b": 0, "c": "", "d": False},
        {"when": datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "tags": ["x", 2], "nested": {"k": [1]}},
        {"api_token": "abc", "password_hash": None, "name": "n"},
    ],
)
def test_audit_created_is_diff_from_nothing(values):
    from core import audit

    assert audit.created(values) == audit.diff({}, values)
