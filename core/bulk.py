"""Writing many new rows of one table at once: COPY on PostgreSQL, one executemany on SQLite.

A mailbox import writes thousands of interactions and audit entries per minute. Sent as an
executemany, each row costs SQLAlchemy its parameters, psycopg a Bind and an Execute message,
and the server an executor start: on PostgreSQL the import spent more CPU on that than on
the rows themselves. ``COPY ... FROM STDIN`` sends the rows as one stream that the server
reads straight into the table, a few microseconds a row on either side.

COPY skips what SQLAlchemy does for an INSERT, so ``insert_many`` does it first: each value
goes through its column's bind processor (UTC datetimes, JSON, enums), and a column the rows
leave out takes its Python-side default (``default=utcnow``) or, without one, the server's.
Triggers and constraints hold as for any INSERT: a unique or foreign-key violation fails the
statement, and with it the transaction, and is raised as SQLAlchemy raises it for an INSERT
(``IntegrityError``), so callers catch the same errors on either database.

COPY cannot say which ids it gave. A caller that needs them takes them first with
``reserve_ids`` (from the table's sequence, on PostgreSQL) and writes them in the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session


def insert_many(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` as one INSERT of each would."""
    if not rows:
        return
    given = list(rows[0])
    if any(len(row) != len(given) or any(name not in row for name in given) for row in rows):
        raise ValueError("insert_many: every row must name the same columns")
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        session.execute(insert(table), list(rows))
        return
    defaults = _python_defaults(table, given)
    names = given + [name for name, _ in defaults]
    quote = dialect.identifier_preparer
    statement = f"COPY {quote.format_table(table)} ({', '.join(quote.quote(n) for n in names)}) FROM STDIN"
    values = _bound(table, names, dialect, [[row[n] for n in given] + [make() for _, make in defaults] for row in rows])
    session.flush()  # what the session holds goes first, as it would before an INSERT it executes
    connection = session.connection().connection.dbapi_connection
    assert connection is not None
    try:
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row_values in values:
                copy.write_row(row_values)
    except dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy raises it for an INSERT: IntegrityError and so on
        raise DBAPIError.instance(statement, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc


def _bound(table: Table, names: list[str], dialect: Dialect, rows: list[list[Any]]) -> list[list[Any]]:
    """The rows' values as the columns' bind processors send them; a value they refuse is a StatementError."""
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    try:
        return [[v if p is None else p(v) for p, v in zip(processors, row, strict=True)] for row in rows]
    except Exception as exc:  # as SQLAlchemy wraps a bind processor's error
        raise StatementError(str(exc), f"COPY {table.name}", None, exc) from exc


def reserve_ids(session: Session, table: Table, count: int) -> list[int] | None:
    """``count`` new ids for ``table`` from its sequence (PostgreSQL); None where only an INSERT gives ids."""
    if session.get_bind().dialect.name != "postgresql" or count == 0:
        return None if count else []
    statement = text(  # the sequence found once, not once per id
        "SELECT nextval(seq) FROM CAST(pg_get_serial_sequence(:table, 'id') AS regclass) AS seq, "
        "generate_series(1, :count)"
    )
    return list(session.execute(statement, {"table": table.name, "count": count}).scalars())


def _python_defaults(table: Table, given: list[str]) -> list[tuple[str, Callable[[], Any]]]:
    """The columns left out of the rows that SQLAlchemy would fill itself, with how to fill them."""
    found: list[tuple[str, Callable[[], Any]]] = []
    for column in table.columns:
        default = column.default
        if column.name in given or default is None or getattr(default, "is_sequence", False):
            continue
        if default.is_scalar:
            found.append((column.name, lambda value=default.arg: value))
        elif default.is_callable:
            found.append((column.name, lambda make=default.arg: make(None)))
        else:
            raise ValueError(f"insert_many: the default of {table.name}.{column.name} is SQL; name the column")
    return found
