"""The engine's processes settle the garbage collector: start-up objects frozen, young ones collected less often."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from sync.collector import YOUNG_THRESHOLD, settle


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """Put the collector back as the test run had it."""
    threshold = gc.get_threshold()
    yield
    gc.set_threshold(*threshold)
    gc.unfreeze()


class Node:
    """Something that can be part of a reference cycle."""

    other: object = None


def test_settle_freezes_what_exists_and_raises_the_young_threshold(collector_restored: None) -> None:
    gc.set_threshold(700, 10, 10)
    held = [Node() for _ in range(100)]
    frozen = gc.get_freeze_count()
    settle()
    assert gc.get_freeze_count() >= frozen + len(held), "what the process holds now is no longer walked"
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)


def test_cycles_made_after_settling_are_still_collected(collector_restored: None) -> None:
    settle()
    node = Node()
    node.other = node
    gone = weakref.ref(node)
    del node
    gc.collect()
    assert gone() is None


def test_a_collector_turned_off_stays_off(collector_restored: None) -> None:
    gc.set_threshold(0)
    settle()
    assert gc.get_threshold()[0] == 0
