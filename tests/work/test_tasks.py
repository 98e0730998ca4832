"""Tasks: validation, assignment within the team, complete/postpone/reassign/cancel, rights, day plan, calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.models import AuditEntry, Role
from core.work.clock import WORK_TZ, day_bounds, local_date
from tests.work.conftest import API, make_user


def _iso(dt: datetime) -> str:
    return dt.isoformat()


def _task(api, **fields):  # noqa: ANN001, ANN202
    body = {"title": "Позвонить клиенту", "due_at": _iso(datetime.now(UTC) + timedelta(days=1)), **fields}
    r = api.post(f"{API}/tasks", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_create_defaults_to_the_actor_and_takes_the_client_team(world):
    api = world.api(world.anna)
    task = _task(api, organization_id=world.org_a, priority="high", percent_done=20)
    assert task["responsible_id"] == world.anna.id
    assert task["author_id"] == world.anna.id
    assert task["team_id"] == world.users.teams["A"]
    assert (task["status"], task["priority"], task["percent_done"], task["overdue"]) == ("open", "high", 20, False)
    personal = _task(api, title="Подготовить отчёт")
    assert personal["team_id"] == world.users.teams["A"] and personal["organization_id"] is None


def test_validation_names_the_field(world):
    api = world.api(world.anna)
    due = datetime.now(UTC) + timedelta(days=1)
    cases = [
        ({"title": "x"}, "due_at"),
        ({"title": "x", "due_at": "2025-01-01T10:00:00"}, "due_at"),
        ({"title": "", "due_at": _iso(due)}, "title"),
        ({"title": "x", "due_at": _iso(due), "remind_at": _iso(due + timedelta(minutes=1))}, "remind_at"),
        ({"title": "x", "due_at": _iso(due), "percent_done": 101}, "percent_done"),
        ({"title": "x", "due_at": _iso(due), "percent_done": -1}, "percent_done"),
        ({"title": "x", "due_at": _iso(due), "priority": "urgent"}, "priority"),
        ({"title": "x", "due_at": _iso(due), "kind": "teleport"}, "kind"),
        ({"title": "x", "due_at": _iso(due), "responsible_id": 99999}, "responsible_id"),
    ]
    for body, field in cases:
        r = api.post(f"{API}/tasks", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field, (body, r.json())


def test_staff_assign_only_to_colleagues_of_the_same_team(world):
    api = world.api(world.anna)
    task = _task(api, organization_id=world.org_a, responsible_id=world.alex.id, controller_id=world.max.id)
    assert (task["responsible_id"], task["controller_id"], task["author_id"]) == (
        world.alex.id,
        world.max.id,
        world.anna.id,
    )
    r = api.post(
        f"{API}/tasks",
        json={"title": "x", "due_at": _iso(datetime.now(UTC)), "responsible_id": world.boris.id},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "responsible_id"
    assert "not in the team" in r.json()["errors"][0]["message"]
    r = api.post(f"{API}/tasks/{task['id']}/reassign", json={"responsible_id": world.boris.id})
    assert r.status_code == 422


def test_complete_postpone_reassign_cancel_delete(world, db):
    api = world.api(world.anna)
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    task = _task(api, due_at=_iso(due), remind_at=_iso(due - timedelta(minutes=30)), organization_id=world.org_a)
    tid = task["id"]

    later = due + timedelta(days=2)
    r = api.post(f"{API}/tasks/{tid}/postpone", json={"to": _iso(later)})
    assert r.status_code == 200, r.text
    assert datetime.fromisoformat(r.json()["due_at"]) == later
    assert datetime.fromisoformat(r.json()["remind_at"]) == later - timedelta(minutes=30)
    r = api.post(f"{API}/tasks/{tid}/postpone", json={"by": "1h"})
    assert datetime.fromisoformat(r.json()["due_at"]) == later + timedelta(hours=1)
    r = api.post(f"{API}/tasks/{tid}/postpone", json={"by": "next_week"})
    local = datetime.fromisoformat(r.json()["due_at"]).astimezone(WORK_TZ)
    assert (local.weekday(), local.hour) == (0, 10)
    assert api.post(f"{API}/tasks/{tid}/postpone", json={}).status_code == 422
    assert api.post(f"{API}/tasks/{tid}/postpone", json={"by": "someday"}).status_code == 422

    r = api.post(f"{API}/tasks/{tid}/reassign", json={"responsible_id": world.alex.id})
    assert r.status_code == 200 and r.json()["responsible_id"] == world.alex.id

    r = api.patch(f"{API}/tasks/{tid}", json={"percent_done": 50, "title": "Позвонить и отправить КП"})
    assert r.status_code == 200 and r.json()["percent_done"] == 50

    r = api.post(f"{API}/tasks/{tid}/complete")
    assert r.status_code == 200
    assert r.json()["status"] == "done" and r.json()["percent_done"] == 100 and r.json()["completed_at"]
    assert api.post(f"{API}/tasks/{tid}/complete").status_code == 409
    assert api.post(f"{API}/tasks/{tid}/postpone", json={"by": "1h"}).status_code == 409
    reopened = api.patch(f"{API}/tasks/{tid}", json={"status": "open"}).json()
    assert reopened["status"] == "open" and reopened["completed_at"] is None

    assert api.post(f"{API}/tasks/{tid}/cancel").json()["status"] == "cancelled"
    assert api.delete(f"{API}/tasks/{tid}").status_code == 204
    assert api.get(f"{API}/tasks/{tid}").status_code == 404
    with db.session() as s:
        actions = [
            e.action
            for e in s.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity_type == "task", AuditEntry.entity_id == tid)
                .order_by(AuditEntry.id)
            )
        ]
    assert actions == [
        "create",
        "postpone",
        "postpone",
        "postpone",
        "reassign",
        "update",
        "complete",
        "update",
        "cancel",
        "delete",
    ]


def test_rights_on_tasks(world, users):
    anna, alex, boris = world.api(world.anna), world.api(world.alex), world.api(world.boris)
    task_b = _task(boris, organization_id=world.org_b)
    for call in (
        lambda: anna.get(f"{API}/tasks/{task_b['id']}"),
        lambda: anna.patch(f"{API}/tasks/{task_b['id']}", json={"title": "x"}),
        lambda: anna.post(f"{API}/tasks/{task_b['id']}/complete"),
        lambda: anna.delete(f"{API}/tasks/{task_b['id']}"),
    ):
        assert call().status_code == 404
    assert (
        anna.post(
            f"{API}/tasks", json={"title": "x", "due_at": _iso(datetime.now(UTC)), "organization_id": world.org_b}
        ).status_code
        == 404
    )
    # a colleague of the same team may change a team task
    task_a = _task(anna, organization_id=world.org_a)
    assert alex.patch(f"{API}/tasks/{task_a['id']}", json={"percent_done": 10}).status_code == 200
    # a marketer of the team sees it but may not change it
    marketer = make_user(users, "mk@ourcompany.test", Role.marketer)
    mk = users.client(marketer)
    assert mk.get(f"{API}/tasks/{task_a['id']}").status_code == 200
    assert mk.patch(f"{API}/tasks/{task_a['id']}", json={"percent_done": 10}).status_code == 403
    assert mk.post(f"{API}/tasks", json={"title": "x", "due_at": _iso(datetime.now(UTC))}).status_code == 403
    # the list shows each team its own
    assert [t["id"] for t in anna.get(f"{API}/tasks").json()["items"]] == [task_a["id"]]
    assert [t["id"] for t in boris.get(f"{API}/tasks").json()["items"]] == [task_b["id"]]


def test_list_filters(world):
    anna, alex = world.api(world.anna), world.api(world.alex)
    now = datetime.now(UTC)
    late = _task(anna, title="Просрочено", due_at=_iso(now - timedelta(days=2)), organization_id=world.org_a)
    person = _task(anna, title="Иван", person_id=world.person_a, due_at=_iso(now + timedelta(days=3)))
    alexs = _task(alex, title="Алекс", due_at=_iso(now + timedelta(days=1)))
    ids = lambda r: [t["id"] for t in r.json()["items"]]  # noqa: E731
    assert ids(anna.get(f"{API}/tasks", params={"mine": True})) == [late["id"], person["id"]]
    assert ids(anna.get(f"{API}/tasks", params={"responsible_id": world.alex.id})) == [alexs["id"]]
    overdue = anna.get(f"{API}/tasks", params={"overdue": True})
    assert ids(overdue) == [late["id"]] and overdue.json()["items"][0]["overdue"] is True
    # the organization's journal includes its persons' tasks
    assert ids(anna.get(f"{API}/tasks", params={"organization_id": world.org_a})) == [late["id"], person["id"]]
    assert ids(anna.get(f"{API}/tasks", params={"person_id": world.person_a})) == [person["id"]]
    window = {"due_from": _iso(now), "due_to": _iso(now + timedelta(days=2))}
    assert ids(anna.get(f"{API}/tasks", params=window)) == [alexs["id"]]
    anna.post(f"{API}/tasks/{late['id']}/complete")
    assert ids(anna.get(f"{API}/tasks", params={"status": "done"})) == [late["id"]]
    assert anna.get(f"{API}/tasks", params={"status": "sleeping"}).status_code == 422
    assert anna.get(f"{API}/tasks", params={"organization_id": world.org_b}).status_code == 404


def test_my_day_shows_today_and_overdue_of_the_actor_only(world):
    anna, alex, boris, max_ = (world.api(u) for u in (world.anna, world.alex, world.boris, world.max))
    today = local_date(datetime.now(UTC))
    start, end = day_bounds(today)
    noonish = start + (end - start) / 2
    yesterday = start - timedelta(hours=5)
    tomorrow = end + timedelta(hours=5)
    t_today = _task(anna, title="Сегодня", due_at=_iso(noonish))
    t_late = _task(anna, title="Вчера", due_at=_iso(yesterday))
    _task(anna, title="Завтра", due_at=_iso(tomorrow))
    done = _task(anna, title="Сделано", due_at=_iso(noonish))
    anna.post(f"{API}/tasks/{done['id']}/complete")
    t_alex = _task(alex, title="Алекс сегодня", due_at=_iso(noonish))
    t_boris = _task(boris, title="Борис сегодня", due_at=_iso(noonish))

    day = anna.get(f"{API}/me/day").json()
    assert day["day"] == today.isoformat()
    assert [t["id"] for t in day["today"]] == [t_today["id"]]
    assert [t["id"] for t in day["overdue"]] == [t_late["id"]]
    assert [t["id"] for t in boris.get(f"{API}/me/day").json()["today"]] == [t_boris["id"]]

    team_a = world.users.teams["A"]
    team_day = max_.get(f"{API}/me/day", params={"team_id": team_a}).json()
    assert sorted(t["id"] for t in team_day["today"]) == sorted([t_today["id"], t_alex["id"]])
    assert anna.get(f"{API}/me/day", params={"team_id": team_a}).status_code == 403
    assert max_.get(f"{API}/me/day", params={"team_id": world.users.teams["B"]}).status_code == 403
    other_day = anna.get(f"{API}/me/day", params={"day": (today + timedelta(days=1)).isoformat()}).json()
    assert [t["title"] for t in other_day["today"]] == ["Завтра"]


def test_calendar_shows_only_allowed_rows(world):
    anna, boris, max_ = world.api(world.anna), world.api(world.boris), world.api(world.max)
    base = datetime(2031, 5, 12, 9, 0, tzinfo=UTC)  # a Monday
    mine = _task(anna, title="Пн", due_at=_iso(base))
    mine_late = _task(anna, title="Пт", due_at=_iso(base + timedelta(days=4)))
    _task(anna, title="След. неделя", due_at=_iso(base + timedelta(days=8)))
    b = _task(boris, title="Борис", due_at=_iso(base + timedelta(days=1)))
    week = {"start": "2031-05-12", "end": "2031-05-18"}
    assert [t["id"] for t in anna.get(f"{API}/calendar", params=week).json()] == [mine["id"], mine_late["id"]]
    # another team's user or team: nothing of it
    assert anna.get(f"{API}/calendar", params={**week, "user_id": world.boris.id}).json() == []
    assert anna.get(f"{API}/calendar", params={**week, "team_id": world.users.teams["B"]}).json() == []
    assert [t["id"] for t in boris.get(f"{API}/calendar", params=week).json()] == [b["id"]]
    team = max_.get(f"{API}/calendar", params={**week, "team_id": world.users.teams["A"]}).json()
    assert [t["id"] for t in team] == [mine["id"], mine_late["id"]]
    month = anna.get(f"{API}/calendar", params={"start": "2031-05-01", "end": "2031-05-31"}).json()
    assert len(month) == 3
    assert anna.get(f"{API}/calendar", params={"start": "2031-05-12", "end": "2031-05-01"}).status_code == 422
    assert anna.get(f"{API}/calendar", params={"start": "2031-01-01", "end": "2031-12-31"}).status_code == 422
    bad = anna.get(f"{API}/calendar", params={"start": "soon", "end": "2031-05-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "start"
