"""Logging interactions: next contact planned or proposed, results moving stages, rights, timeline, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.models import AuditEntry, DealStageChange, Organization, Person, Role, Task
from core.work.clock import WORK_TZ
from tests.work.conftest import API, make_user


def _stages(api) -> dict[str, int]:
    default = api.get(f"{API}/pipelines").json()[0]
    return {s["name"]: s["id"] for s in default["stages"]}


def _iso(dt: datetime) -> str:
    return dt.isoformat()


def test_call_with_next_contact_plans_a_task(world, db):
    api = world.api(world.anna)
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    r = api.post(
        f"{API}/interactions",
        json={
            "kind": "call_out",
            "organization_id": world.org_a,
            "person_id": world.person_a,
            "subject": "Обсудили поставку",
            "result": "continue",
            "next_contact": {
                "due_at": _iso(due),
                "title": "Перезвонить Ивану",
                "remind_at": _iso(due - timedelta(hours=1)),
            },
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["interaction"]["kind"] == "call_out"
    assert body["interaction"]["direction"] == "outgoing"
    assert body["interaction"]["author_id"] == world.anna.id
    assert body["next_contact_expected"] is False
    assert body["next_contact_proposal"] is None
    task = body["next_task"]
    assert task["title"] == "Перезвонить Ивану"
    assert task["responsible_id"] == world.anna.id
    assert task["organization_id"] == world.org_a and task["person_id"] == world.person_a
    assert task["from_interaction_id"] == body["interaction"]["id"]
    assert task["kind"] == "call_out"
    assert datetime.fromisoformat(task["due_at"]) == due
    with db.session() as s:
        org = s.get(Organization, world.org_a)
        person = s.get(Person, world.person_a)
        logged_at = datetime.fromisoformat(body["interaction"]["occurred_at"])
        assert org.last_contact_at == logged_at and person.last_contact_at == logged_at
        actions = [(e.entity_type, e.action) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert ("interaction", "create") in actions and ("task", "create") in actions


def test_result_that_does_not_end_work_gets_a_proposal(world):
    api = world.api(world.anna)
    r = api.post(f"{API}/interactions", json={"kind": "call_out", "organization_id": world.org_a, "result": "continue"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["next_task"] is None
    assert body["next_contact_expected"] is True
    proposal = body["next_contact_proposal"]
    due = datetime.fromisoformat(proposal["due_at"])
    local = due.astimezone(WORK_TZ)
    assert (local.hour, local.minute) == (10, 0) and local.weekday() < 5
    assert timedelta(0) < due - datetime.now(UTC) < timedelta(days=4)
    assert proposal["kind"] == "call_out"
    assert proposal["responsible_id"] == world.anna.id
    assert proposal["organization_id"] == world.org_a
    assert "Ромашка" in proposal["title"]
    accepted = api.post(
        f"{API}/tasks",
        json={k: proposal[k] for k in ("title", "due_at", "remind_at", "kind", "responsible_id", "organization_id")},
    )
    assert accepted.status_code == 201, accepted.text


def test_result_that_ends_work_expects_no_next_contact(world):
    api = world.api(world.anna)
    r = api.post(
        f"{API}/interactions", json={"kind": "meeting", "organization_id": world.org_a, "result": "contract_signed"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["next_contact_expected"] is False
    assert r.json()["next_contact_proposal"] is None


def test_refusal_requires_a_reason(world, db):
    api = world.api(world.anna)
    r = api.post(f"{API}/interactions", json={"kind": "call_out", "organization_id": world.org_a, "result": "refused"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "refusal_reason"
    r = api.post(
        f"{API}/interactions",
        json={"kind": "call_out", "organization_id": world.org_a, "result": "continue", "refusal_reason": "дорого"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "refusal_reason"
    r = api.post(
        f"{API}/interactions",
        json={
            "kind": "call_out",
            "organization_id": world.org_a,
            "result": "refused",
            "refusal_reason": "Нет бюджета",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["interaction"]["refusal_reason"] == "Нет бюджета"
    assert r.json()["next_contact_expected"] is False
    with db.session() as s:
        org = s.get(Organization, world.org_a)
        assert org.stage_id == _stages(api)["Lost"]


def test_result_moves_the_deal_and_records_history(world, db):
    api = world.api(world.anna)
    stages = _stages(api)
    deal = api.post(
        f"{API}/deals", json={"title": "Поставка серверов", "organization_id": world.org_a, "amount": "100000"}
    ).json()
    assert deal["stage_id"] == stages["Monitoring"]
    r = api.post(
        f"{API}/interactions",
        json={"kind": "call_out", "deal_id": deal["id"], "result": "meeting_set", "subject": "Договорились о встрече"},
    )
    assert r.status_code == 201, r.text
    logged = r.json()["interaction"]
    assert logged["organization_id"] == world.org_a
    assert logged["stage_id"] == stages["Meeting / show"]
    assert r.json()["next_contact_proposal"]["kind"] == "meeting"
    moved = api.get(f"{API}/deals/{deal['id']}").json()
    assert moved["stage_id"] == stages["Meeting / show"] and moved["probability"] == 40
    history = api.get(f"{API}/deals/{deal['id']}/history").json()
    assert [(h["from_stage_id"], h["to_stage_id"]) for h in history] == [
        (None, stages["Monitoring"]),
        (stages["Monitoring"], stages["Meeting / show"]),
    ]
    assert history[1]["user_id"] == world.anna.id
    # a result never moves a deal backwards
    api.post(f"{API}/deals/{deal['id']}/move", json={"stage_id": stages["Negotiation"]})
    api.post(f"{API}/interactions", json={"kind": "call_out", "deal_id": deal["id"], "result": "meeting_held"})
    assert api.get(f"{API}/deals/{deal['id']}").json()["stage_id"] == stages["Negotiation"]
    # a signed contract wins it
    r = api.post(f"{API}/interactions", json={"kind": "meeting", "deal_id": deal["id"], "result": "contract_signed"})
    won = api.get(f"{API}/deals/{deal['id']}").json()
    assert won["status"] == "won" and won["closed_on"] is not None
    with db.session() as s:
        changes = s.scalars(select(DealStageChange).where(DealStageChange.deal_id == deal["id"])).all()
        assert len(changes) == 4
        org = s.get(Organization, world.org_a)
        assert org.stage_id is None  # the deal moved, not the organization


def test_explicit_stage_moves_the_organization_and_is_audited(world, db):
    api = world.api(world.anna)
    stages = _stages(api)
    r = api.post(
        f"{API}/interactions",
        json={"kind": "meeting", "organization_id": world.org_a, "stage_id": stages["Needs identified"]},
    )
    assert r.status_code == 201, r.text
    with db.session() as s:
        assert s.get(Organization, world.org_a).stage_id == stages["Needs identified"]
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == "organization", AuditEntry.action == "stage")
        ).one()
        assert entry.changes == {"stage_id": [None, stages["Needs identified"]]}
        assert entry.user_id == world.anna.id


def test_logging_fulfils_the_planned_contact(world):
    api = world.api(world.anna)
    due = datetime.now(UTC) + timedelta(hours=2)
    task = api.post(
        f"{API}/tasks", json={"title": "Позвонить", "due_at": _iso(due), "organization_id": world.org_a}
    ).json()
    r = api.post(
        f"{API}/interactions",
        json={"kind": "call_out", "organization_id": world.org_a, "task_id": task["id"], "result": "continue"},
    )
    assert r.status_code == 201, r.text
    done = api.get(f"{API}/tasks/{task['id']}").json()
    assert done["status"] == "done" and done["percent_done"] == 100
    assert done["fulfilled_by_id"] == r.json()["interaction"]["id"]
    again = api.post(
        f"{API}/interactions", json={"kind": "call_out", "organization_id": world.org_a, "task_id": task["id"]}
    )
    assert again.status_code == 409


def test_person_only_interaction_shows_on_the_company_timeline(world):
    api = world.api(world.anna)
    r = api.post(f"{API}/interactions", json={"kind": "email_in", "person_id": world.person_a, "subject": "Re: КП"})
    assert r.status_code == 201, r.text
    assert r.json()["interaction"]["organization_id"] == world.org_a
    assert r.json()["interaction"]["direction"] == "incoming"
    page = api.get(f"{API}/organizations/{world.org_a}/timeline").json()
    assert [i["subject"] for i in page["items"]] == ["Re: КП"]
    assert api.get(f"{API}/persons/{world.person_a}/timeline").json()["total"] == 1


def test_timeline_is_newest_first_filtered_and_paginated(world):
    api = world.api(world.anna)
    now = datetime.now(UTC)
    for days, kind in ((30, "call_out"), (10, "meeting"), (1, "call_in")):
        r = api.post(
            f"{API}/interactions",
            json={
                "kind": kind,
                "organization_id": world.org_a,
                "occurred_at": _iso(now - timedelta(days=days)),
                "subject": f"{days} days ago",
            },
        )
        assert r.status_code == 201, r.text
    page = api.get(f"{API}/organizations/{world.org_a}/timeline", params={"limit": 2}).json()
    assert page["total"] == 3
    assert [i["subject"] for i in page["items"]] == ["1 days ago", "10 days ago"]
    second = api.get(f"{API}/organizations/{world.org_a}/timeline", params={"limit": 2, "offset": 2}).json()
    assert [i["subject"] for i in second["items"]] == ["30 days ago"]
    meetings = api.get(f"{API}/interactions", params={"organization_id": world.org_a, "kind": "meeting"}).json()
    assert [i["subject"] for i in meetings["items"]] == ["10 days ago"]
    since = (now - timedelta(days=15)).date().isoformat()
    recent = api.get(f"{API}/interactions", params={"organization_id": world.org_a, "since": since}).json()
    assert recent["total"] == 2
    mine = api.get(f"{API}/interactions", params={"author_id": world.alex.id}).json()
    assert mine["total"] == 0


def test_other_team_gets_404_everywhere(world):
    anna, boris = world.api(world.anna), world.api(world.boris)
    logged = boris.post(f"{API}/interactions", json={"kind": "call_out", "organization_id": world.org_b}).json()
    iid = logged["interaction"]["id"]
    assert anna.get(f"{API}/interactions/{iid}").status_code == 404
    assert anna.patch(f"{API}/interactions/{iid}", json={"subject": "x"}).status_code == 404
    assert anna.delete(f"{API}/interactions/{iid}").status_code == 404
    assert anna.get(f"{API}/organizations/{world.org_b}/timeline").status_code == 404
    assert anna.get(f"{API}/persons/{world.person_b}/timeline").status_code == 404
    assert anna.get(f"{API}/interactions").json()["total"] == 0
    r = anna.post(f"{API}/interactions", json={"kind": "call_out", "organization_id": world.org_b})
    assert r.status_code == 404
    assert boris.get(f"{API}/interactions").json()["total"] == 1


def test_only_author_or_manager_edits(world, db):
    anna, alex, max_ = world.api(world.anna), world.api(world.alex), world.api(world.max)
    iid = anna.post(f"{API}/interactions", json={"kind": "note", "organization_id": world.org_a}).json()["interaction"][
        "id"
    ]
    assert alex.get(f"{API}/interactions/{iid}").status_code == 200
    assert alex.patch(f"{API}/interactions/{iid}", json={"subject": "chg"}).status_code == 403
    r = anna.patch(f"{API}/interactions/{iid}", json={"subject": "Итоги", "body": "Подробно"})
    assert r.status_code == 200 and r.json()["subject"] == "Итоги"
    assert max_.patch(f"{API}/interactions/{iid}", json={"result": "continue"}).status_code == 200
    bad = anna.patch(f"{API}/interactions/{iid}", json={"result": "refused"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "refusal_reason"
    assert alex.delete(f"{API}/interactions/{iid}").status_code == 403
    assert max_.delete(f"{API}/interactions/{iid}").status_code == 204
    with db.session() as s:
        assert s.get(Organization, world.org_a).last_contact_at is None
        kinds = [
            e.action
            for e in s.scalars(
                select(AuditEntry).where(AuditEntry.entity_type == "interaction", AuditEntry.entity_id == iid)
            )
        ]
    assert kinds == ["create", "update", "update", "delete"]


def test_bad_input_names_the_field(world):
    api = world.api(world.anna)
    cases = [
        ({"kind": "teleport", "organization_id": world.org_a}, "kind"),
        ({"kind": "call_out"}, "organization_id"),
        ({"kind": "call_out", "organization_id": world.org_a, "result": "nope"}, "result"),
        ({"kind": "call_out", "organization_id": world.org_a, "stage_id": 99999}, "stage_id"),
        ({"kind": "call_out", "organization_id": world.org_a, "occurred_at": "2025-01-01T10:00:00"}, "occurred_at"),
        (
            {
                "kind": "call_out",
                "organization_id": world.org_a,
                "occurred_at": _iso(datetime.now(UTC) + timedelta(days=3)),
            },
            "occurred_at",
        ),
        ({"kind": "call_out", "organization_id": world.org_a, "next_contact": {"title": "x"}}, "next_contact.due_at"),
        (
            {
                "kind": "call_out",
                "organization_id": world.org_a,
                "next_contact": {
                    "due_at": _iso(datetime.now(UTC) + timedelta(days=1)),
                    "remind_at": _iso(datetime.now(UTC) + timedelta(days=2)),
                },
            },
            "next_contact.remind_at",
        ),
        (
            {
                "kind": "call_out",
                "organization_id": world.org_a,
                "next_contact": {"due_at": _iso(datetime.now(UTC)), "responsible_id": world.boris.id},
            },
            "next_contact.responsible_id",
        ),
    ]
    for body, field in cases:
        r = api.post(f"{API}/interactions", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field, (body, r.json())
    with world.users.db.session() as s:
        assert s.scalars(select(Task)).all() == []


def test_auditor_reads_but_cannot_log(world, users):
    auditor = make_user(users, "sec@ourcompany.test", Role.auditor, teams=())
    world.api(world.boris).post(f"{API}/interactions", json={"kind": "call_out", "organization_id": world.org_b})
    api = users.client(auditor)
    assert api.get(f"{API}/interactions").json()["total"] == 1
    assert api.post(f"{API}/interactions", json={"kind": "call_out", "organization_id": world.org_b}).status_code == 403
