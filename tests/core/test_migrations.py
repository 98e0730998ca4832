"""The migrations and the models describe the same schema, on SQLite and PostgreSQL; data survives them."""

from __future__ import annotations

import gzip

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

import core.models  # noqa: F401
from core.db import Base, Database
from core.mail.rawcopy import pack, unpack
from core.migrate import alembic_config, current_revision, head_revision, upgrade
from core.models import MailMessageRow


def test_upgraded_database_matches_models(db: Database):
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    # Index tables the search migration adds by hand are not in the models; everything else must match.
    relevant = [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("search_"))]
    assert relevant == []


def test_database_is_at_head(db: Database):
    assert current_revision(db) == head_revision(db)


def _migrate(db: Database, direction: str, revision: str) -> None:
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, direction)(cfg, revision)


def _insert_mail(conn, message_id: str, column: str, raw: bytes) -> None:  # noqa: ANN001
    conn.execute(
        text(
            "INSERT INTO mail_messages (message_id, thread_key, subject, from_addr, participants, text, problems, "
            f"created_at, {column}) VALUES (:m, :m, '', '', '{{}}', '', '[]', CURRENT_TIMESTAMP, :raw)"
        ),
        {"m": message_id, "raw": raw},
    )


def _mail_columns(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return {c["name"] for c in sa.inspect(conn).get_columns("mail_messages")}


OLD_MAIL = b"From: ivan@acme.test\r\nSubject: old\r\n\r\n" + b"Stored by a crmhub of before.\r\n" * 40
NEW_MAIL = b"From: anna@ourcompany.test\r\nSubject: new\r\n\r\n" + "Записано zstd.\r\n".encode() * 40


def test_upgrade_renames_raw_gz_and_the_gzip_copies_in_it_still_unpack(db: Database):
    _migrate(db, "downgrade", "0003_word_lookup")
    assert "raw_gz" in _mail_columns(db) and "raw_compressed" not in _mail_columns(db)
    with db.engine.begin() as conn:  # a database of before: gzip at level 1, as 0003's code wrote it
        _insert_mail(conn, "old@acme.test", "raw_gz", gzip.compress(OLD_MAIL, compresslevel=1))
        _insert_mail(conn, "none@acme.test", "raw_gz", None)
    upgrade(db)
    assert "raw_compressed" in _mail_columns(db) and "raw_gz" not in _mail_columns(db)
    with db.session() as s:
        rows = dict(s.execute(sa.select(MailMessageRow.message_id, MailMessageRow.raw_compressed)).all())
        assert unpack(rows["old@acme.test"]) == OLD_MAIL and rows["none@acme.test"] is None
        s.add(MailMessageRow(message_id="new@acme.test", thread_key="new@acme.test", raw_compressed=pack(NEW_MAIL)))
    with db.session() as s:
        assert unpack(s.scalar(sa.select(MailMessageRow.raw_compressed).filter_by(message_id="new@acme.test"))) == (
            NEW_MAIL
        )


def test_downgrade_turns_zstd_copies_back_into_gzip_and_upgrade_reads_both(db: Database):
    with db.engine.begin() as conn:
        _insert_mail(conn, "new@acme.test", "raw_compressed", pack(NEW_MAIL))
        _insert_mail(conn, "old@acme.test", "raw_compressed", gzip.compress(OLD_MAIL, compresslevel=1))
        _insert_mail(conn, "none@acme.test", "raw_compressed", None)
    _migrate(db, "downgrade", "0003_word_lookup")
    with db.engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT message_id, raw_gz FROM mail_messages")).all())
    # What 0003's code expects of the column: gzip, whatever the row's age.
    assert gzip.decompress(rows["new@acme.test"]) == NEW_MAIL and gzip.decompress(rows["old@acme.test"]) == OLD_MAIL
    assert rows["none@acme.test"] is None
    upgrade(db)
    with db.session() as s:
        rows = dict(s.execute(sa.select(MailMessageRow.message_id, MailMessageRow.raw_compressed)).all())
    assert unpack(rows["new@acme.test"]) == NEW_MAIL and unpack(rows["old@acme.test"]) == OLD_MAIL
