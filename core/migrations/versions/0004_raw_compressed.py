"""mail raw copies: mail_messages.raw_gz renamed raw_compressed, as new copies are zstd

Revision ID: 0004_raw_compressed
Revises: 0003_word_lookup

Hand-written. New raw copies are zstd frames (``core/mail/rawcopy.py``), so the column no longer
holds only gzip; rows written before keep their gzip bytes, which ``rawcopy.unpack`` tells apart
by their magic bytes, so the upgrade is a rename and nothing else: no row is read or rewritten.

PostgreSQL: ``ALTER TABLE ... RENAME COLUMN``. SQLite (3.25 and later): the same statement,
issued directly rather than through batch mode, which would copy the whole table (every stored
message) to rename one column.

Downgrade renames the column back and rewrites the zstd copies as gzip (level 1, as the code of
0003 wrote them), so the column holds what its name says again.
"""

from __future__ import annotations

import gzip

import sqlalchemy as sa
import zstandard
from alembic import op

revision = "0004_raw_compressed"
down_revision = "0003_word_lookup"
branch_labels = None
depends_on = None

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
CHUNK = 500


def upgrade() -> None:
    op.alter_column("mail_messages", "raw_gz", new_column_name="raw_compressed")


def downgrade() -> None:
    mail = sa.table("mail_messages", sa.column("id", sa.Integer), sa.column("raw_compressed", sa.LargeBinary))
    conn, decompressor, last = op.get_bind(), zstandard.ZstdDecompressor(), 0
    while True:  # by id, a chunk at a time: the table holds every stored message
        rows = conn.execute(
            sa.select(mail.c.id, mail.c.raw_compressed)
            .where(mail.c.id > last, mail.c.raw_compressed.is_not(None))
            .order_by(mail.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        repacked = [
            {"row_id": row.id, "raw": gzip.compress(decompressor.decompress(row.raw_compressed), compresslevel=1)}
            for row in rows
            if bytes(row.raw_compressed[:4]) == ZSTD_MAGIC
        ]
        if repacked:
            conn.execute(
                mail.update().where(mail.c.id == sa.bindparam("row_id")).values(raw_compressed=sa.bindparam("raw")),
                repacked,
            )
    op.alter_column("mail_messages", "raw_compressed", new_column_name="raw_gz")
