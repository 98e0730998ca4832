"""search index: the (id) indexes of the word tables cover the word too (PostgreSQL)

Revision ID: 0003_word_lookup
Revises: 0002_search

A question of several words walks the rarest word's (word, id) range and checks each other
word among that client's own word rows, through the (id) index. A prefix is tested there on
the word (``core/search/postgres_index.py``), and the plain (id) index had to fetch every row
from the heap to read it: at a million clients, a staff member's "Юрий Егоров" fetched 3,300
heap rows. With the word INCLUDEd the check is an index-only scan. SQLite is unchanged.
"""

from __future__ import annotations

from alembic import op

revision = "0003_word_lookup"
down_revision = "0002_search"
branch_labels = None
depends_on = None

TABLES = ("person_words", "org_words")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"CREATE INDEX {table}_id_word ON search_index.{table} (id) INCLUDE (word)")
        op.execute(f"DROP INDEX search_index.{table}_id")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"CREATE INDEX {table}_id ON search_index.{table} (id)")
        op.execute(f"DROP INDEX search_index.{table}_id_word")
