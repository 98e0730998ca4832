"""Many rows at once (``core.bulk``): COPY on PostgreSQL writes what an INSERT of each row writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, StatementError

from core.bulk import insert_many, reserve_ids
from core.db import Database
from core.models import AuditEntry, Team

AUDIT = AuditEntry.__table__
MOSCOW = timezone(timedelta(hours=3))


def _entries(entity_type: str) -> list[dict[str, object]]:
    """Audit rows with the text COPY must escape: tabs, newlines, backslashes, quotes, \\N, Cyrillic."""
    return [
        {
            "at": datetime(2026, 12, 1, 12, 30, tzinfo=MOSCOW) + timedelta(minutes=i),
            "user_id": None,
            "source": "sync",
            "action": "create",
            "entity_type": entity_type,
            "entity_id": i,
            "summary": summary,
            "changes": changes,
        }
        for i, (summary, changes) in enumerate(
            [
                ("tab\there, new\nline, back\\slash, \\N, 'quote' \"double\"", {"a": [None, "x\ty"]}),
                ("Письмо: ООО «Ромашка»", {"nested": {"list": [1, 2.5, True, None]}, "empty": {}}),
                ("", {}),
                ("\\.", None),  # COPY's end-of-data marker, as text
            ]
        )
    ]


def _read(db: Database, entity_type: str) -> list[tuple[object, ...]]:
    with db.session() as s:
        rows = s.execute(select(AUDIT).where(AUDIT.c.entity_type == entity_type).order_by(AUDIT.c.entity_id))
        skipped = ("id", "entity_type")
        return [tuple(value for name, value in row._mapping.items() if name not in skipped) for row in rows]


def test_rows_written_at_once_equal_rows_inserted_one_statement_each(db: Database):
    with db.session() as s:
        s.execute(insert(AUDIT), _entries("by insert"))
        insert_many(s, AUDIT, _entries("at once"))
    inserted, at_once = _read(db, "by insert"), _read(db, "at once")
    assert at_once == inserted
    assert at_once[0][0] == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # stored in UTC, read back aware
    assert at_once[0][5] == "tab\there, new\nline, back\\slash, \\N, 'quote' \"double\""
    assert at_once[3][5] == "\\." and at_once[3][6] is None


def test_columns_left_out_take_their_python_defaults(db: Database):
    before = datetime.now(UTC)
    with db.session() as s:
        insert_many(s, AUDIT, [{"action": "create", "entity_type": "defaults", "entity_id": 1}])
    ((at, user_id, source, action, entity_id, summary, changes),) = _read(db, "defaults")
    assert before - timedelta(seconds=1) <= at <= datetime.now(UTC)
    assert (user_id, source, action, entity_id, summary, changes) == (None, "api", "create", 1, "", {})


def test_rows_naming_different_columns_are_refused(db: Database):
    with db.session() as s, pytest.raises(ValueError, match="same columns"):
        insert_many(s, AUDIT, [{"action": "a", "entity_type": "t"}, {"action": "a", "entity_id": 1}])


def test_a_value_the_column_refuses_is_a_statement_error_and_nothing_is_written(db: Database):
    rows = _entries("naive")
    rows[2]["at"] = datetime(2026, 12, 1, 12, 0)  # naive: a UTC column refuses it
    with pytest.raises(StatementError, match="naive datetime"), db.session() as s:
        insert_many(s, AUDIT, rows)
    assert _read(db, "naive") == []


def test_a_unique_violation_is_an_integrity_error_as_for_an_insert(db: Database):
    with db.session() as s:
        s.add(Team(name="Sales"))
    with pytest.raises(IntegrityError), db.session() as s:
        insert_many(s, Team.__table__, [{"name": "Support"}, {"name": "Sales"}])
    with db.session() as s:
        assert sorted(s.scalars(select(Team.name))) == ["Sales"]


def test_reserved_ids_are_new_and_later_inserts_never_take_them(db: Database):
    with db.session() as s:
        reserved = reserve_ids(s, Team.__table__, 3)
        if db.is_postgres:
            assert reserved is not None and len(set(reserved)) == 3
            insert_many(s, Team.__table__, [{"id": i, "name": f"Team {i}"} for i in reserved])
        else:
            assert reserved is None  # SQLite: the ids come from inserting
            insert_many(s, Team.__table__, [{"name": f"Team {i}"} for i in range(3)])
        later = Team(name="Later")
        s.add(later)
        s.flush()
        ids = list(s.scalars(select(Team.id)))
    assert len(ids) == len(set(ids)) == 4
    assert reserve_ids(s, Team.__table__, 0) == []
