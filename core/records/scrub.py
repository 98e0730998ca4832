"""Finding and blanking out given strings (an erased person's e-mails, phones, name) anywhere in the store.

Erasure deletes the person's own rows; but their address or name also sits in free text
elsewhere: a note on the organization, a comment, a task title, an audit diff, a pending
outbound change, a mail's participants. ``scrub_text`` walks every text and JSON column of
every table (so tables added later are covered too), finds the rows that contain one of the
strings (case-insensitively, in the database), and replaces each occurrence in Python with
``[erased]``. It skips key columns (primary keys, columns in a unique constraint: replacing
there could collide) and the tables that must keep values by design: users and their
sessions, the blocklist (it exists to keep refusing that counterparty) and the suppression
list (erased addresses are stored only as hashes there).

SQLite keeps JSON as ASCII-escaped text, so a non-ASCII string is also searched in its
escaped form. This is a full scan per column, acceptable for a rare, admin-only operation.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import JSON, String, Table, Text, cast, func, or_, select, update
from sqlalchemy.orm import Session

from core.db import Base

ERASED = "[erased]"
KEEP_TABLES = frozenset(
    {"users", "user_sessions", "api_tokens", "login_attempts", "teams", "blocklist", "suppressions", "alembic_version"}
)


def _text_columns(table: Table) -> list[Any]:
    unique: set[str] = set(table.primary_key.columns.keys())
    for ix in table.indexes:
        if ix.unique:
            unique.update(c.name for c in ix.columns)
    for con in table.constraints:
        if con.__class__.__name__ == "UniqueConstraint":
            unique.update(c.name for c in con.columns)  # type: ignore[attr-defined]
    out = []
    for col in table.columns:
        if col.name in unique:
            continue
        if isinstance(col.type, String | Text | JSON) or isinstance(getattr(col.type, "impl", None), JSON):
            out.append(col)
    return out


def _is_json(col: Any) -> bool:
    return isinstance(col.type, JSON) or isinstance(getattr(col.type, "impl", None), JSON) or "JSON" in repr(col.type)


def _replace(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_replace(v, pattern) for v in value]
    if isinstance(value, dict):
        return {pattern.sub(ERASED, k) if isinstance(k, str) else k: _replace(v, pattern) for k, v in value.items()}
    return value


def scrub_text(session: Session, needles: list[str], *, skip_tables: frozenset[str] = frozenset()) -> int:
    """Replace every occurrence of the given strings in text and JSON columns; return rows changed."""
    wanted = sorted({n.strip() for n in needles if n and len(n.strip()) >= 4}, key=len, reverse=True)
    if not wanted:
        return 0
    pattern = re.compile("|".join(re.escape(n) for n in wanted), re.IGNORECASE)
    forms = {n.lower() for n in wanted} | {json.dumps(n)[1:-1].lower() for n in wanted}
    changed = 0
    for table in Base.metadata.sorted_tables:
        if table.name in KEEP_TABLES | skip_tables or len(table.primary_key.columns) != 1:
            continue
        pk = next(iter(table.primary_key.columns))
        for col in _text_columns(table):
            text = func.lower(cast(col, Text)) if _is_json(col) else func.lower(col)
            hits = session.execute(select(pk, col).where(or_(*[text.contains(f, autoescape=True) for f in forms])))
            for row_id, value in hits.all():
                new = _replace(value, pattern)
                if new != value:
                    session.execute(update(table).where(pk == row_id).values({col.name: new}))
                    changed += 1
    return changed
