"""The migrations and the models describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import core.models  # noqa: F401
from core.db import Base, Database
from core.migrate import current_revision, head_revision


def test_upgraded_database_matches_models(db: Database):
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    # Index tables the search migration adds by hand are not in the models; everything else must match.
    relevant = [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("search_"))]
    assert relevant == []


def test_database_is_at_head(db: Database):
    assert current_revision(db) == head_revision(db)
