"""Working days, local day bounds, quick postponements and the default next contact: pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.errors import ValidationFailed
from core.models import InteractionKind, InteractionResult
from core.work.clock import add_working_days, day_bounds, parse_instant, quick_postpone
from core.work.proposals import propose_next_contact

FRIDAY_EVENING = datetime(2025, 3, 7, 15, 30, tzinfo=UTC)  # 18:30 in Moscow, a Friday


def test_working_days_skip_the_weekend():
    assert add_working_days(date(2025, 3, 7), 1) == date(2025, 3, 10)
    assert add_working_days(date(2025, 3, 8), 1) == date(2025, 3, 10)
    assert add_working_days(date(2025, 3, 10), 2) == date(2025, 3, 12)


def test_local_day_bounds_are_utc_plus_3():
    start, end = day_bounds(date(2025, 3, 10))
    assert start == datetime(2025, 3, 9, 21, 0, tzinfo=UTC)
    assert end == datetime(2025, 3, 10, 21, 0, tzinfo=UTC)


def test_parse_instant_dates_datetimes_and_errors():
    assert parse_instant("2025-03-10", "start") == datetime(2025, 3, 9, 21, 0, tzinfo=UTC)
    assert parse_instant("2025-03-10", "end", end_of_day=True) == datetime(2025, 3, 10, 21, 0, tzinfo=UTC)
    assert parse_instant("2025-03-10T12:00:00Z", "start") == datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    assert parse_instant("2025-03-10T12:00:00", "start") == datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    with pytest.raises(ValidationFailed) as err:
        parse_instant("next tuesday", "start")
    assert err.value.problems[0].field == "start"


def test_quick_postpone_choices():
    due = datetime(2025, 3, 7, 7, 0, tzinfo=UTC)
    assert quick_postpone("1h", due_at=due, now=FRIDAY_EVENING) == datetime(2025, 3, 7, 16, 30, tzinfo=UTC)
    future = datetime(2025, 3, 20, 7, 0, tzinfo=UTC)
    assert quick_postpone("3h", due_at=future, now=FRIDAY_EVENING) == datetime(2025, 3, 20, 10, 0, tzinfo=UTC)
    assert quick_postpone("tomorrow", due_at=due, now=FRIDAY_EVENING) == datetime(2025, 3, 8, 7, 0, tzinfo=UTC)
    assert quick_postpone("next_working_day", due_at=due, now=FRIDAY_EVENING) == datetime(2025, 3, 10, 7, tzinfo=UTC)
    assert quick_postpone("next_week", due_at=due, now=FRIDAY_EVENING) == datetime(2025, 3, 10, 7, 0, tzinfo=UTC)
    with pytest.raises(ValidationFailed) as err:
        quick_postpone("someday", due_at=due, now=FRIDAY_EVENING)
    assert err.value.problems[0].field == "by"


def _kind(code: str) -> InteractionKind:
    return InteractionKind(code=code, name=code)


def test_proposal_after_a_call_is_the_next_working_morning():
    p = propose_next_contact(
        kind=_kind("call_out"), result=None, now=FRIDAY_EVENING, client_name="Ромашка", responsible_id=7
    )
    assert p.due_at == datetime(2025, 3, 10, 7, 0, tzinfo=UTC)  # Monday 10:00 in Moscow
    assert p.remind_at == datetime(2025, 3, 10, 6, 45, tzinfo=UTC)
    assert (p.kind, p.responsible_id) == ("call_out", 7)
    assert p.title.endswith(": Ромашка")


def test_proposal_after_mail_waits_two_days_and_meeting_set_plans_a_meeting():
    p = propose_next_contact(
        kind=_kind("email_out"), result=None, now=FRIDAY_EVENING, client_name="X", responsible_id=1
    )
    assert p.due_at == datetime(2025, 3, 11, 7, 0, tzinfo=UTC)
    meeting_set = InteractionResult(code="meeting_set", name="Meeting set")
    p = propose_next_contact(
        kind=_kind("call_out"),
        result=meeting_set,
        now=FRIDAY_EVENING,
        client_name="X",
        responsible_id=1,
        kind_names={"meeting": "Встреча"},
    )
    assert p.kind == "meeting"
    assert p.title == "Встреча: X"
