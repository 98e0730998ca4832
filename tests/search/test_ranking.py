"""Best matches first: exact, whole word, prefix, company people, substring, typo."""

from __future__ import annotations

from core.actor import Actor
from core.clients.organizations import create_organization
from core.clients.persons import create_person


def _people(world, *names: tuple[str, str]) -> None:  # noqa: ANN001
    with world.db.session() as s:
        for first, last in names:
            create_person(s, actor=Actor.system(), first_name=first, last_name=last, team_id=world.team_a)


def test_exact_then_word_then_prefix_then_substring_then_typo(world):
    _people(
        world,
        ("Олег", "Подкузнецов"),  # substring
        ("Олег", "Кузнецев"),  # one edit away
        ("Олег", "Кузнецова"),  # prefix of a word
        ("", "Кузнецов"),  # the whole name
        ("Олег", "Кузнецов"),  # a whole word
    )
    assert world.names("Кузнецов") == [
        "Кузнецов",
        "Олег Кузнецов",
        "Олег Кузнецова",
        "Олег Подкузнецов",
        "Олег Кузнецев",
    ]


def test_a_full_page_of_better_matches_leaves_no_room_for_typos(world):
    _people(world, *[("Олег", "Кузнецова" if i % 2 else "Кузнецов") for i in range(6)], ("Олег", "Кузнецев"))
    names = world.names("Кузнецов", limit=4)
    assert names == ["Олег Кузнецов"] * 3 + ["Олег Кузнецова"]
    assert world.names("Кузнецов")[-1] == "Олег Кузнецев"


def test_names_starting_with_the_text_come_first(world):
    names = world.names("Ив")
    assert names.index("Иван Сергеевич Петров") < names.index("Пётр Иванов")
    assert world.names("ив пет")[0] == "Иван Сергеевич Петров"


def test_the_company_comes_before_its_people(world):
    hits = world.search("Ромашка")
    assert hits[0] == ("organization", "ООО «Ромашка»")
    assert [kind for kind, _ in hits[:3]] == ["organization"] * 3  # then the two with the word in their name
    assert {name for _, name in hits[3:5]} == {"Иван Сергеевич Петров", "Анна Петрова"}


def test_exact_phone_beats_a_phone_that_only_contains_the_digits(world):
    with world.db.session() as s:
        create_organization(s, actor=Actor.system(), name="Tail Inc", team_id=world.team_a, phones=["+7 999 512-34-56"])
    assert world.names("8 495 123 45 67") == ["ООО «Ромашка»"]
    assert set(world.names("123456")) == {"ООО «Ромашка»", "Tail Inc"}


def test_limit_is_respected(world):
    assert len(world.search("Ромашка", limit=2)) == 2
    assert len(world.search("Петров", limit=1)) == 1
