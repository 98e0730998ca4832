"""A lead is never left hanging: a new lead gets a first planned contact for its responsible."""

from __future__ import annotations

from datetime import UTC, datetime

from core.work.clock import WORK_START, WORK_TZ, is_working_day
from tests.work.conftest import API


def test_a_new_lead_gets_a_first_call_on_the_next_working_morning(world):
    api = world.api(world.anna)
    r = api.post(f"{API}/organizations", json={"name": "ООО «Новый лид»", "status": "lead"})
    assert r.status_code == 201, r.text
    org_id = r.json()["id"]
    tasks = api.get(f"{API}/tasks", params={"organization_id": org_id}).json()["items"]
    assert len(tasks) == 1
    first = tasks[0]
    assert first["responsible_id"] == world.anna.id and first["status"] == "open"
    assert first["title"].endswith("ООО «Новый лид»")
    due = datetime.fromisoformat(first["due_at"]).astimezone(WORK_TZ)
    assert due > datetime.now(UTC) and is_working_day(due.date()) and due.time() == WORK_START
    assert first["remind_at"] is not None


def test_the_first_task_goes_to_the_responsible_the_creator_named(world):
    api = world.api(world.anna)
    r = api.post(
        f"{API}/organizations", json={"name": "Лид для Алекса", "status": "lead", "responsible_id": world.alex.id}
    )
    assert r.status_code == 201, r.text
    tasks = world.api(world.alex).get(f"{API}/tasks", params={"mine": True}).json()["items"]
    assert [t["organization_id"] for t in tasks] == [r.json()["id"]]


def test_a_client_that_is_no_lead_gets_no_task(world):
    api = world.api(world.anna)
    r = api.post(f"{API}/organizations", json={"name": "Давний клиент", "status": "active"})
    assert r.status_code == 201
    assert api.get(f"{API}/tasks", params={"organization_id": r.json()["id"]}).json()["total"] == 0
