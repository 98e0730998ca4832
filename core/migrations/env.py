"""Alembic environment: runs migrations on the connection crmhub hands it (see core/migrate.py)."""

from __future__ import annotations

from alembic import context

import core.models  # noqa: F401 - registers every table
from core.db import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through core.migrate, which passes the connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
