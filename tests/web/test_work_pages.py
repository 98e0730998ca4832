"""The daily-work pages: log a contact with the next one, My day, the calendar, the pipeline, the merge screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from core.actor import Actor
from core.clients.persons import create_person
from core.db import utcnow
from core.models import Deal, DealStageChange, Interaction, Person, Pipeline, Role, Stage, Task, TaskStatus, Team, User
from core.work.clock import local_date
from core.work.tasks import create_task
from hub.web.i18n import zone
from tests.conftest import password_hash

HTMX = {"HX-Request": "true"}


def _log(client, path: str, **fields: str):  # noqa: ANN001, ANN202
    data = {"kind": "call_out", "summary": "Обсудили поставку", "next_when": "tomorrow", "next_time": "11:30"}
    data.update(fields)
    return client.post(path, data)


def _beta_work(db, demo) -> dict[str, int]:  # noqa: ANN001
    """A planned contact and a deal of team B, due today (what staff of team A must never see)."""
    with db.session() as s:
        olga = s.get(User, demo.users["b"])
        actor = Actor.of(olga, source="ui")
        due = utcnow() - timedelta(minutes=1)
        task = create_task(
            s,
            actor=actor,
            title="Секретный звонок Бете",
            due_at=due,
            organization_id=demo.orgs["beta"],
            kind="call_out",
        )
        stage = s.scalars(sa.select(Stage).where(Stage.name == "Negotiation")).one()
        pipeline = s.scalars(sa.select(Pipeline)).first()
        deal = Deal(
            title="Секретный госконтракт",
            organization_id=demo.orgs["beta"],
            pipeline_id=pipeline.id,
            stage_id=stage.id,
            amount=Decimal("5000000"),
            team_id=demo.teams["B"],
            responsible_id=olga.id,
        )
        s.add(deal)
        s.flush()
        return {"task": task.id, "deal": deal.id}


def _colleague(s, demo, email: str, name: str, role: Role) -> None:  # noqa: ANN001
    """Another user of team A."""
    team_a = s.get(Team, demo.teams["A"])
    s.add(User(email=email, full_name=name, role=role, password_hash=password_hash(), teams=[team_a]))


def test_log_a_call_and_plan_the_next_contact_shows_both_on_the_card(web, db, demo):
    ivan = web("ivan@ourcompany.test")
    org = demo.orgs["romashka"]
    form = ivan.get(f"/organizations/{org}/log")
    assert form.status_code == 200
    assert 'name="next_when" value="tomorrow"' in form.text and 'id="f-next_date"' in form.text
    assert "Анна Кузнецова" in form.text  # the contact person choice
    r = _log(
        ivan,
        f"/organizations/{org}/log",
        result="meeting_set",
        subject="Звонок про встречу",
        person_id=str(demo.persons["anna"]),
        next_kind="meeting",
        next_title="Встреча у клиента",
    )
    assert r.status_code == 303 and r.headers["location"] == f"/organizations/{org}"
    card = ivan.get(f"/organizations/{org}").text
    assert "Interaction logged. Next contact:" in card
    summary = card[card.index('class="summary') : card.index('id="card-tabs"')]
    assert "Звонок про встречу" in summary and "Встреча у клиента" in summary
    tasks_tab = ivan.get(f"/organizations/{org}?tab=tasks").text
    assert "Встреча у клиента" in tasks_tab
    with db.session() as s:
        task = s.scalars(sa.select(Task).where(Task.title == "Встреча у клиента")).one()
        logged = s.scalars(sa.select(Interaction).where(Interaction.subject == "Звонок про встречу")).one()
        assert task.from_interaction_id == logged.id and logged.person_id == demo.persons["anna"]
        assert task.responsible_id == demo.users["a"] and task.kind.code == "meeting"
        due = task.due_at.replace(tzinfo=UTC) if task.due_at.tzinfo is None else task.due_at
        assert due.date() == datetime.now(UTC).date() + timedelta(days=1) and (due.hour, due.minute) == (11, 30)


def test_log_form_errors_stand_next_to_the_fields_and_keep_what_was_typed(web, db, demo):
    ivan = web("ivan@ourcompany.test")
    path = f"/persons/{demo.persons['anna']}/log"
    r = _log(ivan, path, result="refused", summary="Клиент ушёл к конкуренту", next_when="none")
    assert r.status_code == 422
    assert 'id="e-refusal_reason"' in r.text and "Say why the client refused" in r.text
    assert "Клиент ушёл к конкуренту" in r.text  # nothing typed is lost
    r = _log(ivan, path, result="meeting_set", next_when="none")
    assert r.status_code == 422 and 'id="e-next_when"' in r.text
    yesterday = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    r = _log(ivan, path, next_when="date", next_date=yesterday)
    assert r.status_code == 422 and 'id="e-next_date"' in r.text and f'value="{yesterday}"' in r.text
    r = _log(ivan, path, next_when="date", next_date="", summary="")
    assert r.status_code == 422 and 'id="e-next_date"' in r.text and 'id="e-summary"' in r.text
    r = _log(ivan, path, next_when="date", next_date="2099-01-01", next_time="25:99")
    assert r.status_code == 422 and 'id="e-next_time"' in r.text
    with db.session() as s:
        assert (
            s.scalar(
                sa.select(sa.func.count()).select_from(Interaction).where(Interaction.person_id == demo.persons["anna"])
            )
            == 1
        )
    r = _log(ivan, path, result="refused", refusal_reason="Дорого", next_when="none")
    assert r.status_code == 303
    with db.session() as s:
        refused = s.scalars(sa.select(Interaction).where(Interaction.refusal_reason == "Дорого")).one()
        assert refused.person_id == demo.persons["anna"] and refused.organization_id == demo.orgs["romashka"]


def test_log_form_needs_the_csrf_token_and_rights(web, db, demo):
    ivan = web("ivan@ourcompany.test")
    r = ivan.post(f"/organizations/{demo.orgs['romashka']}/log", {"kind": "call_out", "summary": "x"}, csrf=False)
    assert r.status_code == 403
    assert ivan.get(f"/organizations/{demo.orgs['beta']}/log").status_code == 404
    r = _log(ivan, f"/organizations/{demo.orgs['beta']}/log")
    assert r.status_code == 404 and "Бета" not in r.text
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Interaction).where(Interaction.body == "x")) == 0


def test_my_day_shows_own_overdue_and_today_and_never_another_team(web, db, demo):
    _beta_work(db, demo)
    with db.session() as s:
        s.add(
            Task(
                title="Сегодняшний звонок",
                due_at=utcnow() - timedelta(minutes=1),
                responsible_id=demo.users["a"],
                organization_id=demo.orgs["lutik"],
                team_id=demo.teams["A"],
            )
        )
    ivan = web("ivan@ourcompany.test")
    page = ivan.get("/my-day").text
    assert "Отправить договор" in page  # overdue since yesterday
    assert "Overdue" in page and "АО «Лютик»" in page
    assert "Секретный звонок" not in page and "Бета" not in page
    assert 'name="who"' not in page  # staff have no switch
    for who in (f"team:{demo.teams['B']}", f"user:{demo.users['b']}"):
        r = ivan.get(f"/my-day?who={who}")
        assert "Секретный звонок" not in r.text
    olga = web("olga@ourcompany.test")
    assert "Секретный звонок Бете" in olga.get("/my-day").text


def test_my_day_empty_state_says_what_to_do(web, demo):
    olga = web("olga@ourcompany.test")
    page = olga.get("/my-day").text
    assert "Nothing planned for today" in page and 'href="/organizations"' in page


def test_managers_switch_to_their_team_but_not_another(web, db, demo):
    with db.session() as s:
        _colleague(s, demo, "boss@ourcompany.test", "Борис Начальник", Role.manager)
    boss = web("boss@ourcompany.test")
    page = boss.get("/my-day").text
    assert 'name="who"' in page and "Иван Петров" in page and "Ольга" not in page
    team = boss.get(f"/my-day?who=team:{demo.teams['A']}").text
    assert "Отправить договор" in team
    assert boss.get(f"/my-day?who=team:{demo.teams['B']}").status_code == 404
    assert boss.get(f"/my-day?who=user:{demo.users['b']}").status_code == 404
    assert boss.get(f"/calendar?who=user:{demo.users['b']}").status_code == 404
    assert "Отправить договор" in boss.get(f"/my-day?who=user:{demo.users['a']}").text


def test_done_postpone_reassign_with_htmx_and_without(web, db, demo):
    ivan = web("ivan@ourcompany.test")
    with db.session() as s:
        overdue = s.scalars(sa.select(Task).where(Task.title == "Отправить договор")).one().id
        other = s.scalars(sa.select(Task).where(Task.title == "Позвонить по КП")).one().id
        _colleague(s, demo, "petr@ourcompany.test", "Пётр Коллегин", Role.staff)
    ivan.get("/my-day")
    row = ivan.http.post(
        f"/tasks/{overdue}/postpone",
        data={"by": "tomorrow"},
        headers={**HTMX, "HX-Target": f"task-{overdue}", "X-CSRF-Token": ivan.token},
    )
    assert row.status_code == 200 and f'id="task-{overdue}"' in row.text and "Postponed to" in row.text
    assert "<html" not in row.text
    with db.session() as s:
        task = s.get(Task, overdue)
        due = task.due_at.replace(tzinfo=UTC) if task.due_at.tzinfo is None else task.due_at
        assert local_date(due) == local_date(utcnow()) + timedelta(days=1)
    r = ivan.post(f"/tasks/{overdue}/done", {"back": "/my-day"})
    assert r.status_code == 303 and r.headers["location"] == "/my-day"
    with db.session() as s:
        assert s.get(Task, overdue).status == TaskStatus.done
    assert "Done: Отправить договор." in ivan.get("/my-day").text
    r = ivan.post(f"/tasks/{overdue}/done", {"back": "https://evil.example/"})
    assert r.status_code == 400  # already done: a clear error, not a crash
    with db.session() as s:
        petr = s.scalars(sa.select(User).where(User.email == "petr@ourcompany.test")).one().id
    r = ivan.post(f"/tasks/{other}/reassign", {"responsible_id": str(demo.users["b"])})
    assert r.status_code == 400
    r = ivan.post(f"/tasks/{other}/reassign", {"responsible_id": str(petr), "back": "//evil.example"})
    assert r.status_code == 303 and r.headers["location"] == "/my-day"
    with db.session() as s:
        assert s.get(Task, other).responsible_id == petr
    beta = _beta_work(db, demo)
    assert ivan.post(f"/tasks/{beta['task']}/done").status_code == 404
    assert ivan.post(f"/tasks/{other}/done", csrf=False).status_code == 403


def test_calendar_views_show_own_contacts_and_link_the_client(web, db, demo):
    _beta_work(db, demo)
    ivan = web("ivan@ourcompany.test")
    for view in ("day", "week", "month"):
        r = ivan.get(f"/calendar?view={view}")
        assert r.status_code == 200, view
        assert "Секретный звонок" not in r.text and "Бета" not in r.text
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    day = ivan.get(f"/calendar?view=day&day={tomorrow}").text
    assert "Позвонить по КП" in day and f'href="/organizations/{demo.orgs["romashka"]}"' in day
    assert "kind-call_out" in day
    month = ivan.get(f"/calendar?view=month&day={tomorrow}&who=team:{demo.teams['B']}").text
    assert "Секретный звонок" not in month and "Позвонить по КП" in month
    assert ivan.get("/calendar?view=week&day=not-a-date").status_code == 400
    olga = web("olga@ourcompany.test")
    assert "Секретный звонок Бете" in olga.get("/calendar?view=day").text


def test_pipeline_board_moves_a_deal_and_updates_the_forecast(web, db, demo):
    beta = _beta_work(db, demo)
    ivan = web("ivan@ourcompany.test")
    board = ivan.get("/pipeline").text
    assert "Поставка оборудования" in board and "ООО «Ромашка»" in board
    assert "Секретный госконтракт" not in board
    assert "RUB\u00a0588,000" in board  # 980 000 at 60 %
    with db.session() as s:
        deal = s.scalars(sa.select(Deal).where(Deal.title == "Поставка оборудования")).one()
        negotiation = (
            s.scalars(sa.select(Stage).where(Stage.name == "Negotiation", Stage.pipeline_id == deal.pipeline_id))
            .one()
            .id
        )
    part = ivan.http.post(
        f"/pipeline/deals/{deal.id}/move",
        data={"stage_id": str(negotiation)},
        headers={**HTMX, "HX-Target": "board", "X-CSRF-Token": ivan.token},
    )
    assert part.status_code == 200 and "<html" not in part.text
    assert "RUB\u00a0784,000" in part.text and "moved to Negotiation" in part.text  # 980 000 at 80 %
    with db.session() as s:
        steps = s.scalars(sa.select(DealStageChange).where(DealStageChange.deal_id == deal.id)).all()
        assert steps[-1].to_stage_id == negotiation and steps[-1].user_id == demo.users["a"]
    r = ivan.post(f"/pipeline/deals/{beta['deal']}/move", {"stage_id": str(negotiation)})
    assert r.status_code == 404
    r = ivan.post(f"/pipeline/deals/{deal.id}/move", {"stage_id": "999999"})
    assert r.status_code == 404
    r = ivan.post(f"/pipeline/deals/{deal.id}/move", {"stage_id": str(negotiation)}, csrf=False)
    assert r.status_code == 403
    ru = web("ivan@ourcompany.test", headers={"Accept-Language": "ru"})
    assert "784\u00a0000\u00a0₽" in ru.get("/pipeline").text


def test_merge_two_persons_keeps_every_interaction_and_the_old_address_leads_on(web, db, demo):
    with db.session() as s:
        ivan_user = s.get(User, demo.users["a"])
        twin = create_person(
            s, actor=Actor.of(ivan_user), first_name="Анна", last_name="Кузнецова-Дубль", position="Закупки"
        )
        twin_id = twin.id
        s.add(
            Interaction(
                kind_id=1,
                occurred_at=utcnow(),
                subject="Звонок дублю",
                person_id=twin_id,
                team_id=demo.teams["A"],
                author_id=ivan_user.id,
            )
        )
    ivan = web("ivan@ourcompany.test")
    anna = demo.persons["anna"]
    pick = ivan.get(f"/persons/{anna}/merge?q=Дубль").text
    assert f'href="/persons/{anna}/merge?other={twin_id}"' in pick
    compare = ivan.get(f"/persons/{anna}/merge?other={twin_id}").text
    assert 'name="field.last_name" value="other"' in compare and "Кузнецова-Дубль" in compare
    r = ivan.post(
        f"/persons/{anna}/merge", {"other": str(twin_id), "field.last_name": "survivor", "field.position": "other"}
    )
    assert r.status_code == 303 and r.headers["location"] == f"/persons/{anna}?tab=interactions"
    timeline = ivan.get(f"/persons/{anna}?tab=interactions").text
    assert "Звонок дублю" in timeline and "Первый звонок" in timeline
    with db.session() as s:
        kept = s.get(Person, anna)
        assert kept.last_name == "Кузнецова" and kept.position == "Закупки"
    gone = ivan.get(f"/persons/{twin_id}")
    assert gone.status_code == 303 and gone.headers["location"] == f"/persons/{anna}"
    assert ivan.get(f"/persons/{anna}/merge?other={demo.persons['boris']}").status_code == 404
    r = ivan.post(f"/persons/{anna}/merge", {"other": str(demo.persons["boris"])})
    assert r.status_code == 404


def test_the_browsers_time_zone_cookie_is_read_as_our_script_writes_it(web, db, demo):
    assert zone("Europe%2FMoscow") == ZoneInfo("Europe/Moscow") and zone("Nowhere%2FLand") == UTC
    ivan = web("ivan@ourcompany.test")
    ivan.http.cookies.set("crmhub_tz", "Europe%2FMoscow")
    r = _log(
        ivan, f"/organizations/{demo.orgs['lutik']}/log", next_when="date", next_date="2099-03-01", next_time="10:00"
    )
    assert r.status_code == 303
    with db.session() as s:
        # the newest task: the lead also has the first call planned when it was created
        newest = sa.select(Task).where(Task.organization_id == demo.orgs["lutik"]).order_by(Task.id.desc())
        task = s.scalars(newest).first()
        due = task.due_at.replace(tzinfo=UTC) if task.due_at.tzinfo is None else task.due_at
        assert due == datetime(2099, 3, 1, 7, 0, tzinfo=UTC)  # 10:00 in Moscow
