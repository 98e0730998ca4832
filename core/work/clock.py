"""Working time: the default time zone, working days, day bounds and quick postponements.

crmhub does not yet store a time zone per user. Until it does, "the user's day" is a day in
``WORK_TZ``, a fixed UTC+3 (Moscow, which has had no daylight saving since 2014): the day
plan, the calendar given as dates, and the default time of a proposed next contact
(``WORK_START``, 10:00) are computed there. Working days are Monday to Friday; public
holidays are not known. Everything is stored and returned in UTC; only these helpers look
at local time, so moving to a per-user zone later means passing a ``tz`` through.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

from core.errors import ValidationFailed

WORK_TZ: tzinfo = timezone(timedelta(hours=3), "UTC+03:00")
WORK_START = time(10, 0)
QUICK_POSTPONE = ("15m", "1h", "3h", "tomorrow", "next_working_day", "next_week")
"""The quick choices of ``postpone``: relative ones shift the due time, the others land at 10:00."""


def is_working_day(day: date) -> bool:
    """True from Monday to Friday."""
    return day.weekday() < 5


def add_working_days(day: date, count: int) -> date:
    """The date ``count`` working days after ``day`` (``count`` >= 1)."""
    current = day
    left = count
    while left > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            left -= 1
    return current


def at_local(day: date, at: time = WORK_START, tz: tzinfo = WORK_TZ) -> datetime:
    """The UTC instant of a local wall-clock time on a day."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def local_date(instant: datetime, tz: tzinfo = WORK_TZ) -> date:
    """The local date of an instant."""
    return instant.astimezone(tz).date()


def day_bounds(day: date, tz: tzinfo = WORK_TZ) -> tuple[datetime, datetime]:
    """The UTC start (inclusive) and end (exclusive) of a local day."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def next_working_morning(after: datetime, *, working_days: int = 1, tz: tzinfo = WORK_TZ) -> datetime:
    """10:00 local on the ``working_days``-th working day after the local date of ``after``."""
    return at_local(add_working_days(local_date(after, tz), working_days), WORK_START, tz)


def require_aware(value: datetime | None, field: str) -> datetime | None:
    """The value in UTC, or ValidationFailed when it has no time zone."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed.one(field, "give the time with a time zone (e.g. 2025-03-01T10:00:00+03:00)")
    return value.astimezone(UTC)


def parse_instant(raw: str, field: str, *, end_of_day: bool = False, tz: tzinfo = WORK_TZ) -> datetime:
    """A date (local midnight; the next midnight when ``end_of_day``) or a date-time (local when naive)."""
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return day_bounds(day, tz)[1 if end_of_day else 0]
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed.one(field, f"'{text}' is not a date (YYYY-MM-DD) or a date-time (ISO 8601)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def quick_postpone(choice: str, *, due_at: datetime, now: datetime, tz: tzinfo = WORK_TZ) -> datetime:
    """The new due time for a quick choice; relative choices count from the later of now and the due time."""
    base = max(due_at, now)
    relative = {"15m": timedelta(minutes=15), "1h": timedelta(hours=1), "3h": timedelta(hours=3)}
    if choice in relative:
        return base + relative[choice]
    today = local_date(now, tz)
    if choice == "tomorrow":
        return at_local(today + timedelta(days=1), WORK_START, tz)
    if choice == "next_working_day":
        return at_local(add_working_days(today, 1), WORK_START, tz)
    if choice == "next_week":
        return at_local(today + timedelta(days=7 - today.weekday()), WORK_START, tz)
    raise ValidationFailed.one("by", f"must be one of: {', '.join(QUICK_POSTPONE)}")
