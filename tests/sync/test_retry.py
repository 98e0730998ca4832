"""The retry policy, as pure functions of counts and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync.retry import RetryPolicy

P = RetryPolicy(base=30, cap=3600)
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_backoff_doubles_with_equal_jitter_up_to_the_cap():
    assert [P.delay(n, rand=lambda: 0.0) for n in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert [P.delay(n, rand=lambda: 1.0) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert P.delay(20, rand=lambda: 1.0) == 3600 and P.delay(20, rand=lambda: 0.0) == 1800


def test_server_hint_wins_with_a_little_jitter_and_a_ceiling():
    assert P.delay(1, retry_after=600, rand=lambda: 0.0) == 600
    assert P.delay(9, retry_after=2, rand=lambda: 1.0) == 2.2
    assert P.delay(1, retry_after=10 * 24 * 3600, rand=lambda: 0.0) == 24 * 3600
    assert P.delay(1, retry_after=0, rand=lambda: 0.0) == 15, "a zero hint is no hint"


def test_failing_after_three_in_a_row():
    assert [P.is_failing(n) for n in (0, 1, 2, 3, 10)] == [False, False, False, True, True]


def test_cursor_resets_are_capped_per_window():
    assert P.cursor_reset(0, None, NOW) == (True, 1, NOW)
    assert P.cursor_reset(1, NOW, NOW + timedelta(hours=1)) == (True, 2, NOW)
    assert P.cursor_reset(2, NOW, NOW + timedelta(hours=2)) == (True, 3, NOW)
    assert P.cursor_reset(3, NOW, NOW + timedelta(hours=3)) == (False, 3, NOW)
    later = NOW + timedelta(hours=24)
    assert P.cursor_reset(3, NOW, later) == (True, 1, later), "a new window starts after 24 h"
