"""mail sightings: UID and UIDVALIDITY as 64-bit integers on PostgreSQL

Revision ID: 0005_imap_uid_bigint
Revises: 0004_raw_compressed

Hand-written. IMAP's UID and UIDVALIDITY are unsigned 32-bit numbers (RFC 3501: up to
4,294,967,295). PostgreSQL's ``integer`` stops at 2,147,483,647, so a server that numbers its
folders or messages above that (a UIDVALIDITY taken from the clock after 2038, or a random one)
made every sighting of its mail fail to insert. PostgreSQL: ``ALTER COLUMN ... TYPE bigint``
(the table is rewritten once). SQLite's integers are 64-bit already: nothing to do.

Downgrade turns them back into ``integer``, which fails while a value above the old limit is
stored (PostgreSQL refuses rather than truncates).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_imap_uid_bigint"
down_revision = "0004_raw_compressed"
branch_labels = None
depends_on = None

COLUMNS = (("uid", False), ("uidvalidity", True))


def upgrade() -> None:
    _retype(sa.BigInteger(), was=sa.Integer())


def downgrade() -> None:
    _retype(sa.Integer(), was=sa.BigInteger())


def _retype(type_: sa.types.TypeEngine, *, was: sa.types.TypeEngine) -> None:
    """Both columns to ``type_``, on PostgreSQL only."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, nullable in COLUMNS:
        op.alter_column("mail_sightings", name, type_=type_, existing_type=was, existing_nullable=nullable)
