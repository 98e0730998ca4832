"""Each kind of query finds the right clients: names, typos, phones in any format, e-mails, companies, tags."""

from __future__ import annotations

import pytest

PETROV = "Иван Сергеевич Петров"


@pytest.fixture
def world(shared_world):
    """Every test here only reads: one client base for the module."""
    return shared_world


def test_name_prefix_matches_the_start_of_any_word(world):
    assert PETROV in world.names("Пет")
    assert set(world.names("петр")) >= {PETROV, "Анна Петрова", "Пётр Иванов"}  # ё is е
    assert world.names("Серг") == [PETROV]  # the patronymic is a word too
    assert "Sergey Ivanov" in world.names("ser")


def test_two_letters_are_enough_and_a_single_one_only_finds_that_word(world):
    assert set(world.names("ив")) >= {PETROV, "Пётр Иванов"}
    assert world.names("п") == []
    assert world.names("и") == ["АО Лепесток и Ромашка"]


def test_full_name_in_any_order_and_with_unfinished_words(world):
    assert world.names("Иван Петров")[0] == PETROV
    assert world.names("петров иван")[0] == PETROV
    assert world.names("ив пет")[0] == PETROV
    assert world.names("Иван Сергеевич Петров")[0] == PETROV


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Ivanow", "Sergey Ivanov"),
        ("Петрв", PETROV),
        ("Romaska", "ООО «Ромашка»"),
        ("Васильеа", "Олег Васильев"),
        ("Иван Петрв", PETROV),
    ],
)
def test_typos_find_the_name_meant(world, typed, meant):
    assert meant in world.names(typed)


def test_typo_prefers_the_longer_correction_of_a_dropped_letter(world):
    # "Петрв" is one edit from both Петров and Петр (Пётр); the surname comes first.
    assert world.names("Петрв")[0] == PETROV


@pytest.mark.parametrize(
    "typed", ["8 (495) 123-45-67", "+74951234567", "4951234567", "+7 495 123 45 67", "123-45-67", "84951234567"]
)
def test_phone_in_any_format_finds_its_organization(world, typed):
    assert world.search(typed)[0] == ("organization", "ООО «Ромашка»")


@pytest.mark.parametrize("typed", ["+79037654321", "8 (903) 765-43-21", "9037654321", "8 903 765", "765-43"])
def test_phone_in_any_format_or_partly_typed_finds_its_person(world, typed):
    assert world.names(typed)[:1] == ["Олег Васильев"]


def test_email_exact_and_prefix(world):
    assert world.names("IVAN.PETROV@romashka.test") == [PETROV]
    assert world.names("ivan.pet")[:1] == [PETROV]
    assert world.names("s.ivan")[:1] == ["Sergey Ivanov"]
    assert world.names("info@rom") == ["ООО «Ромашка»"]
    assert world.names("romashka.test")[0] == "ООО «Ромашка»"


def test_company_name_finds_the_company_then_its_people(world):
    hits = world.search("Ромашка")
    assert hits[0] == ("organization", "ООО «Ромашка»")
    people = [name for kind, name in hits if kind == "person"]
    assert set(people) >= {PETROV, "Анна Петрова"}
    assert hits.index(("person", PETROV)) > hits.index(("organization", "Ромашка-Сервис"))


def test_company_found_by_brand(world):
    assert world.search("romashka")[0] == ("organization", "ООО «Ромашка»")


@pytest.mark.parametrize("typed", ["vip", "VIP", "Vip"])
def test_tag_in_any_case(world, typed):
    assert set(world.names(typed)) >= {PETROV, "Beta Corp"}


def test_tag_with_yo_written_either_way(world):
    expected = {"ООО «Ромашка»", "Betty Romanova"}
    assert set(world.names("Партнёр")) >= expected
    assert set(world.names("партнер")) >= expected


def test_nothing_for_text_that_matches_nothing(world):
    assert world.names("Зюзюкин") == []
    assert world.names("   ") == []
    assert world.names("+7 000 000-00-00") == []
