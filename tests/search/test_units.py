"""The pure parts: reading the query, edit distance, index clauses."""

from __future__ import annotations

import pytest

from core.search import patterns
from core.search.query import parse_query
from core.search.typos import max_edits, osa_distance


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("ivanov", "ivanov", 0),
        ("ivanow", "ivanov", 1),
        ("петрв", "петров", 1),
        ("romaska", "romashka", 1),
        ("ivnaov", "ivanov", 1),  # neighbours swapped
        ("ivanov", "ivanova", 1),
        ("ivanov", "petrov", 3),  # four edits: reported as the limit plus one
        ("ab", "abcdef", 3),
    ],
)
def test_osa_distance_with_a_limit_of_two(a, b, distance):
    assert osa_distance(a, b, 2) == distance


def test_osa_distance_counts_a_swap_as_one_edit():
    assert osa_distance("abcd", "acbd", 2) == 1
    assert osa_distance("ivanov", "petrov", 5) == 4


def test_longer_words_tolerate_more_edits():
    assert [max_edits(w) for w in ("ива", "иван", "петров", "ромашкаа")] == [0, 1, 1, 2]


def test_phone_in_national_format_is_also_read_with_the_country_code():
    q = parse_query("8 (495) 123-45-67", region="RU")
    assert q.e164 == "+74951234567"
    assert q.whole_phone
    assert q.digit_runs == ("84951234567", "74951234567")
    assert q.is_phone


def test_partial_phone_and_international_prefix():
    assert parse_query("+7 495", region="RU").digit_runs == ("7495",)
    tail = parse_query("123-45-67", region="RU")
    assert tail.digit_runs == ("1234567",)
    assert not tail.whole_phone  # "possible" for the library, but not a whole number
    assert parse_query("123", region="RU").digit_runs == ()  # too short to be a phone
    assert parse_query("ООО Ромашка 2", region="RU").digit_runs == ()


def test_email_and_name_readings():
    q = parse_query("  Ivan.Pet ", region="RU")
    assert (q.text, q.key, q.tokens, q.email) == ("Ivan.Pet", "ivan pet", ("ivan", "pet"), "ivan.pet")
    assert parse_query("info@rom", region="RU").is_email
    assert parse_query("Иван Петров", region="RU").email == ""
    assert parse_query("Партнёр", region="RU").tag == "партнер"


def test_clause_groups_short_and_long():
    clause = patterns.word_prefixes(("иван", "п"))
    assert clause.indexed_groups == ((" иван",),)
    assert clause.filter_groups == ((" п",),)
    assert clause.usable
    assert not patterns.word_prefixes(("и",)).usable
    assert patterns.substrings(("иванов", "ив")).groups == (("иванов",), (" ив",))


def test_clause_needs_each_word_typed_to_match_a_different_word():
    clause = patterns.word_prefixes(("ivan", "ivanov"))
    assert clause.accepts("ivan ivanov")
    assert clause.accepts("ivanov ivan")
    assert not clause.accepts("sergey ivanov")
    typo = patterns.choices("names", [(" ivan",), (" petrv", " petrov ")])
    assert typo.accepts("ivan sergeevich petrov")
    assert not typo.accepts("ivan petrovich")
    assert patterns.words(("ivan",)).accepts("petr ivan")
