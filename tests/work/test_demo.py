"""The demo data: deterministic, loads through the CLI, skipped with --if-empty, and rights hold in it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from core.actor import Actor
from core.clients.organizations import list_organizations
from core.demo import build_plan, load_demo
from core.errors import Conflict
from core.models import Deal, DealStageChange, Interaction, Organization, Person, Role, Task, TaskStatus, User
from core.rights import can_see_team
from core.sales.deals import list_deals
from core.work.agenda import list_tasks, my_day
from core.work.interactions import list_interactions
from hub.cli.main import app as cli

NOW = datetime(2025, 3, 5, 9, 30, tzinfo=UTC)


def test_plan_is_deterministic_and_scales():
    a, b = build_plan(seed=7, orgs=300, now=NOW), build_plan(seed=7, orgs=300, now=NOW)
    assert a == b
    assert (len(a.orgs), len(a.persons), len(a.deals), len(a.interactions)) == (300, 500, 120, 2000)
    assert build_plan(seed=8, orgs=300, now=NOW).orgs != a.orgs
    small = build_plan(seed=7, orgs=30, now=NOW)
    assert (len(small.orgs), len(small.persons), len(small.deals), len(small.interactions)) == (30, 50, 12, 200)
    assert len({o.name for o in a.orgs}) == 300
    assert any(o.english for o in a.orgs) and any(not o.english for o in a.orgs)
    assert all(i.occurred_at <= NOW for i in a.interactions)
    assert (NOW - min(i.occurred_at for i in a.interactions)).days <= 366


def test_demo_loads_once_and_rights_hold(settings, db):
    runner = CliRunner()
    first = runner.invoke(cli, ["demo", "--orgs", "24"])
    assert first.exit_code == 0, first.output
    assert "Loaded 24 organizations, 40 persons" in first.output
    assert "anna@example.com" in first.output and "anna-demo-2025" in first.output
    again = runner.invoke(cli, ["demo", "--if-empty"])
    assert again.exit_code == 0 and "not loaded" in again.output
    refused = runner.invoke(cli, ["demo", "--orgs", "24"])
    assert refused.exit_code == 1 and "already has 24 organization" in refused.output

    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Organization)) == 24
        assert s.scalar(select(func.count()).select_from(Person)) == 40
        assert s.scalar(select(func.count()).select_from(Interaction)) == 160
        assert s.scalar(select(func.count()).select_from(Deal)) == 10
        assert s.scalar(select(func.count()).select_from(DealStageChange)) >= 10
        with pytest.raises(Conflict):
            load_demo(s, orgs=5)
        assert load_demo(s, orgs=5, if_empty=True).skipped

        users = {u.email: u for u in s.scalars(select(User))}
        assert {u.role for u in users.values()} >= {Role.admin, Role.manager, Role.staff, Role.marketer, Role.auditor}
        orgs = list(s.scalars(select(Organization)))
        interactions = list(s.scalars(select(Interaction)))
        for user in users.values():
            actor = Actor.of(user)
            seen, total = list_organizations(s, actor=actor, limit=500)
            expected = {o.id for o in orgs if can_see_team(actor, o.team_id)}
            assert {o.id for o in seen} == expected and total == len(expected), user.email
            if user.role in (Role.staff, Role.manager):
                assert 0 < total < len(orgs), user.email
            rows, total = list_interactions(s, actor=actor, limit=500)
            assert total == sum(can_see_team(actor, i.team_id) for i in interactions), user.email
            assert all(can_see_team(actor, i.team_id) for i in rows)
            tasks, _ = list_tasks(s, actor=actor, limit=500)
            assert all(can_see_team(actor, t.team_id) or t.responsible_id == user.id for t in tasks)
            deals, _ = list_deals(s, actor=actor, limit=500)
            assert all(can_see_team(actor, d.team_id) for d in deals)
            day = my_day(s, actor=actor)
            assert len(day.today) >= 2 and len(day.overdue) >= 1, user.email
        open_tasks = s.scalar(select(func.count()).select_from(Task).where(Task.status == TaskStatus.open))
        assert open_tasks >= 2 * len(users)
