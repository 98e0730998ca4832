"""Idempotent import of interactions by connectors, and the admin of interaction kinds and results."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from core.actor import Actor
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import Interaction, Organization
from core.work.interactions import log_interaction, record_external_interaction
from core.work.reference import resolve_kind, resolve_kinds
from tests.conftest import BACKEND
from tests.work.conftest import API


def test_external_interaction_is_recorded_once_per_client(world, db):
    system = Actor.system(source="sync")
    when = datetime.now(UTC) - timedelta(hours=3)
    fields = {"kind": "call_in", "occurred_at": when, "subject": "Входящий звонок", "author_id": world.anna.id}
    with db.session() as s:
        first, created = record_external_interaction(
            s, actor=system, source="telegram", external_id="upd-1", organization_id=world.org_a, **fields
        )
        assert created is True
        assert (first.source, first.external_id, first.author_id) == ("telegram", "upd-1", world.anna.id)
        again, created = record_external_interaction(
            s, actor=system, source="telegram", external_id="upd-1", organization_id=world.org_a, **fields
        )
        assert created is False and again.id == first.id
        other, created = record_external_interaction(
            s, actor=system, source="telegram", external_id="upd-1", person_id=world.person_a, **fields
        )
        assert created is True and other.id != first.id
        assert s.get(Organization, world.org_a).last_contact_at == when
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Interaction)) == 2
        # a second worker importing the same item: found, not doubled
        _, created = record_external_interaction(
            s, actor=system, source="telegram", external_id="upd-1", organization_id=world.org_a, **fields
        )
        assert created is False
        with pytest.raises(Conflict):
            log_interaction(
                s, actor=system, source="telegram", external_id="upd-1", organization_id=world.org_a, **fields
            )


def test_import_key_is_unique_in_the_database(world, db):
    system = Actor.system(source="sync")
    with db.session() as s:
        row, _ = record_external_interaction(
            s, actor=system, source="imap", external_id="<m1@x>", kind="email_in", organization_id=world.org_a
        )
        key, team = row.import_key, row.team_id
        kind_id = row.kind_id
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(
            Interaction(
                kind_id=kind_id,
                occurred_at=datetime.now(UTC),
                organization_id=world.org_a,
                team_id=team,
                source="imap",
                external_id="<m1@x>",
                import_key=key,
            )
        )
        s.flush()


def test_import_checks_source_id_and_rights(world, db):
    with db.session() as s:
        with pytest.raises(ValidationFailed) as err:
            record_external_interaction(
                s, actor=Actor.system(), source="fax", external_id="1", kind="note", organization_id=world.org_a
            )
        assert err.value.problems[0].field == "source"
        with pytest.raises(ValidationFailed) as err:
            record_external_interaction(
                s, actor=Actor.system(), source="imap", external_id=" ", kind="note", organization_id=world.org_a
            )
        assert err.value.problems[0].field == "external_id"
        record_external_interaction(
            s, actor=Actor.system(), source="exchange", external_id="AAMk=", kind="meeting", organization_id=world.org_b
        )
    with db.session() as s, pytest.raises(NotFound):
        record_external_interaction(
            s,
            actor=world.actor(world.anna),
            source="exchange",
            external_id="AAMk=",
            kind="meeting",
            organization_id=world.org_b,
        )


def test_kinds_and_results_admin(world):
    admin, anna = world.api(world.admin), world.api(world.anna)
    assert [k["code"] for k in anna.get(f"{API}/interaction-kinds").json()][:3] == ["call_out", "call_in", "meeting"]
    assert anna.post(f"{API}/interaction-kinds", json={"code": "visit", "name": "Visit"}).status_code == 403
    r = admin.post(f"{API}/interaction-kinds", json={"code": "visit", "name": "Site visit", "name_ru": "Выезд"})
    assert r.status_code == 201, r.text
    kind = r.json()
    assert admin.post(f"{API}/interaction-kinds", json={"code": "visit", "name": "Again"}).status_code == 409
    bad = admin.post(f"{API}/interaction-kinds", json={"code": "Bad Code", "name": "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "code"
    assert admin.patch(f"{API}/interaction-kinds/{kind['id']}", json={"color": "#ff0000"}).json()["color"] == "#ff0000"
    logged = anna.post(f"{API}/interactions", json={"kind": kind["id"], "organization_id": world.org_a})
    assert logged.status_code == 201, logged.text
    assert logged.json()["interaction"]["kind"] == "visit"
    assert admin.delete(f"{API}/interaction-kinds/{kind['id']}").json()["is_active"] is False
    assert "visit" not in [k["code"] for k in anna.get(f"{API}/interaction-kinds").json()]
    assert "visit" in [k["code"] for k in anna.get(f"{API}/interaction-kinds?include_inactive=true").json()]
    r = anna.post(f"{API}/interactions", json={"kind": "visit", "organization_id": world.org_a})
    assert r.status_code == 422 and "deactivated" in r.json()["errors"][0]["message"]
    # the old interaction keeps its kind
    iid = logged.json()["interaction"]["id"]
    assert anna.get(f"{API}/interactions/{iid}").json()["kind"] == "visit"

    pipe = anna.get(f"{API}/pipelines").json()[0]
    negotiation = next(s["id"] for s in pipe["stages"] if s["name"] == "Negotiation")
    r = admin.post(
        f"{API}/interaction-results",
        json={
            "code": "terms_agreed",
            "name": "Terms agreed",
            "name_ru": "Условия согласованы",
            "stage_id": negotiation,
        },
    )
    assert r.status_code == 201, r.text
    result = r.json()
    bad = admin.post(f"{API}/interaction-results", json={"code": "x1", "name": "X", "stage_id": 99999})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "stage_id"
    deal = anna.post(f"{API}/deals", json={"title": "Сделка", "organization_id": world.org_a}).json()
    anna.post(f"{API}/interactions", json={"kind": "meeting", "deal_id": deal["id"], "result": "terms_agreed"})
    assert anna.get(f"{API}/deals/{deal['id']}").json()["stage_id"] == negotiation
    assert anna.patch(f"{API}/interaction-results/{result['id']}", json={"ends_work": True}).status_code == 403
    assert admin.patch(f"{API}/interaction-results/{result['id']}", json={"ends_work": True}).json()["ends_work"]
    assert admin.delete(f"{API}/interaction-results/{result['id']}").json()["is_active"] is False
    assert "terms_agreed" not in [r["code"] for r in anna.get(f"{API}/interaction-results").json()]


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite serialises writers, so two imports cannot race there")
def test_two_workers_racing_store_one_copy(world, db):
    """Both workers look, find nothing and insert at once: the unique key keeps one, the loser returns it."""
    barrier = threading.Barrier(2, timeout=20)

    def hold_inserts(conn, cursor, statement, *args):  # noqa: ANN001, ANN002
        if statement.startswith("INSERT INTO interactions"):
            barrier.wait()

    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with db.session() as s:
                row, created = record_external_interaction(
                    s,
                    actor=Actor.system(),
                    source="imap",
                    external_id="<race@x>",
                    kind="email_in",
                    organization_id=world.org_a,
                )
                results.append((row.id, created))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    event.listen(db.engine, "before_cursor_execute", hold_inserts)
    try:
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        event.remove(db.engine, "before_cursor_execute", hold_inserts)
    assert errors == []
    assert sorted(created for _, created in results) == [False, True]
    assert len({row_id for row_id, _ in results}) == 1
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Interaction)) == 1


def test_kinds_resolved_at_once_are_those_resolved_one_by_one(world, db):
    with db.session() as s:
        email_in = resolve_kind(s, "email_in")
        call = resolve_kind(s, "call_in")
        values = ["email_in", str(call.id), call.id, " email_in "]
        assert resolve_kinds(s, values) == {v: resolve_kind(s, v) for v in values}
        assert resolve_kinds(s, values)["email_in"] is email_in
        assert resolve_kinds(s, []) == {}
        for missing in ("no_such_kind", 999_999):
            with pytest.raises(ValidationFailed, match="there is no interaction kind"):
                resolve_kinds(s, ["email_in", missing])
        call.is_active = False
        with pytest.raises(ValidationFailed, match="deactivated"):
            resolve_kinds(s, ["email_in", "call_in"])
        s.rollback()
