"""Staff see their teams only, whatever they type; admins see all; merged-away records are not found."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from core.actor import Actor
from core.clients.persons import create_person
from core.models import Person, Role
from core.search import organization_ids_matching, person_ids_matching, search_clients

QUERIES = [
    "Ivanov",
    "Ivanow",
    "iv",
    "Beta",
    "Beta Corp",
    "Betty",
    "Ромашка",
    "Romashka",
    "Rom",
    "vip",
    "Партнёр",
    "8 495 777 88 99",
    "4957778899",
    "+7 926 000-11-22",
    "john@beta.test",
    "john",
    "beta.test",
    "Петров",
]


@pytest.mark.parametrize("q", QUERIES)
def test_staff_only_ever_get_hits_of_their_teams(shared_world, q):
    world = shared_world
    with world.db.session() as s:
        for actor, team in ((world.staff_a, world.team_a), (world.staff_b, world.team_b)):
            hits = search_clients(s, actor=actor, q=q)
            assert {h.team_id for h in hits} <= {team}, (q, actor.name, hits)


def test_team_a_does_not_find_team_b_by_name_phone_email_tag_company_or_typo(shared_world):
    world = shared_world
    a = world.staff_a
    assert world.names("Beta Corp", a) == []
    assert world.names("8 495 777 88 99", a) == []
    assert world.names("john@beta.test", a) == []
    assert world.names("Ivan Ivanov", a) == []
    assert "Ivan Ivanov" not in world.names("Ivanow", a)
    assert world.names("vip", a) == ["Иван Сергеевич Петров"]
    assert world.names("Партнёр", a) == ["ООО «Ромашка»"]


def test_team_b_sees_its_own_and_admin_sees_all(shared_world):
    world = shared_world
    assert world.names("Beta Corp", world.staff_b)[:2] == ["Beta Corp", "Ivan Ivanov"]
    assert set(world.names("Ivanov")) >= {"Ivan Ivanov", "Sergey Ivanov"}
    assert set(world.names("vip")) == {"Иван Сергеевич Петров", "Beta Corp"}


def test_a_page_for_staff_is_as_full_as_the_matches_allow(world):
    with world.db.session() as s:
        for i in range(30):
            create_person(s, actor=Actor.system(), first_name="Борис", last_name=f"Годунов{i}", team_id=world.team_b)
        for i in range(5):
            create_person(s, actor=Actor.system(), first_name="Борис", last_name=f"Годунов{i}", team_id=world.team_a)
    # 30 matches of team B come first in the index; team A's five must still all be found.
    assert len(world.names("Борис", world.staff_a, limit=10)) == 5
    assert len(world.names("Борис", world.staff_b, limit=10)) == 10


def test_without_teams_nothing_is_found(shared_world):
    world = shared_world
    nobody = Actor(user_id=None, role=Role.staff, team_ids=frozenset())
    assert world.names("Петров", nobody) == []
    auditor = Actor(user_id=None, role=Role.auditor)
    assert "Ivan Ivanov" in world.names("Ivanov", auditor)


def test_employer_of_another_team_is_not_named_in_the_subtitle(world):
    with world.db.session() as s:
        create_person(
            s,
            actor=Actor.system(),
            first_name="Глеб",
            last_name="Двойной",
            team_id=world.team_a,
            organizations=[{"organization_id": world.ids["beta"]}],
            position="Консультант",
        )
    with world.db.session() as s:
        (hit,) = search_clients(s, actor=world.staff_a, q="Двойной")
        assert hit.subtitle == "Консультант"
        (hit,) = search_clients(s, actor=world.admin, q="Двойной")
        assert hit.subtitle == "Beta Corp"


def test_merged_away_records_are_not_found_but_ids_matching_keeps_them(world):
    with world.db.session() as s:
        s.execute(update(Person).where(Person.id == world.ids["petrova"]).values(merged_into_id=world.ids["petrov"]))
    assert "Анна Петрова" not in world.names("Петрова")
    with world.db.session() as s:
        assert world.ids["petrova"] in person_ids_matching(s, "Петрова")
        assert world.ids["petrova"] not in person_ids_matching(s, "Петрова", actor=world.admin)


def test_ids_matching_applies_rights_when_given_an_actor(shared_world):
    world = shared_world
    with world.db.session() as s:
        assert organization_ids_matching(s, "Beta") == [world.ids["beta"]]
        assert organization_ids_matching(s, "Beta", actor=world.staff_a) == []
        assert world.ids["b_ivanov"] in person_ids_matching(s, "Beta Corp")
        assert person_ids_matching(s, "Beta Corp", actor=world.staff_a) == []
