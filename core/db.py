"""The one store: SQLAlchemy engine, sessions, the declarative base and column types.

SQLite is the embedded default (WAL mode, foreign keys on, a busy timeout so the API and the
worker in one process do not trip over each other); PostgreSQL is used through psycopg 3 when
``CRMHUB_DATABASE_URL`` says so. Everything else in core is written to run on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, bindparam, create_engine, event, func, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Among(FunctionElement[bool]):
    """``column IN (:values)`` for a list given when the statement runs (build it with ``among``).

    SQLite gets an expanding IN. PostgreSQL gets ``column IN (SELECT unnest(:values))`` with the
    list as one array: the statement's text is the same for any number of values, so psycopg
    and the server prepare it once, where each IN list of another length was a new statement
    to convert, parse and plan (the import looks up hundreds of addresses per batch). Not
    ``= ANY(:values)``: once prepared, the server's generic plan of that compares every row
    with the whole array, one value after another (4 ms for 900 contact points and 500
    addresses, against 0.35 ms for the semi-join this form is planned as).
    """

    name = "among"
    inherit_cache = True


def among(column: ColumnElement[Any], name: str) -> Among:
    """``column IN`` the list passed as parameter ``name`` when the statement runs (an array on PostgreSQL)."""
    return Among(column, bindparam(name, expanding=True))


@compiles(Among)
def _among_in(element: Among, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = element.clauses.clauses
    return f"({compiler.process(column.in_(values), **kw)})"


@compiles(Among, "postgresql")
def _among_unnested(element: Among, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = element.clauses.clauses
    given = func.unnest(bindparam(values.key, type_=ARRAY(column.type)))
    return f"({compiler.process(column.in_(select(given)), **kw)})"


class Base(DeclarativeBase):
    """Declarative base of every table in crmhub."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType, list[Any]: JSONType}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def database_url(url: str) -> str:
    """The SQLAlchemy URL of a configured database URL: PostgreSQL through psycopg 3."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def make_engine(url: str, *, sqlite_immediate: bool = False, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with the settings crmhub needs (``sqlite_immediate``: BEGIN IMMEDIATE)."""
    url = database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)

        # pysqlite defers BEGIN on its own; we emit it ourselves so that a writer can take the
        # write lock up front (see ``Database.session(write=True)``).
        @event.listens_for(engine, "connect")
        def _no_pysqlite_tx(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if sqlite_immediate else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """An engine and its session factories; one per process (tests make their own).

    On SQLite a transaction that reads first and writes later fails at once with "database
    is locked" when another connection committed in between (WAL mode), whatever the busy
    timeout. Sessions that will write therefore ask for ``write=True``: on SQLite they begin
    with ``BEGIN IMMEDIATE`` and so wait their turn for the write lock instead. Read-only
    sessions begin deferred and never block anyone. On PostgreSQL both are the same.
    """

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        if self.engine.dialect.name == "sqlite":
            self.write_engine = make_engine(url, sqlite_immediate=True, **engine_kwargs)
            self.write_sessionmaker = sessionmaker(self.write_engine, expire_on_commit=False)
        else:
            self.write_engine = self.engine
            self.write_sessionmaker = self.sessionmaker

    @property
    def is_postgres(self) -> bool:
        """True when the store is PostgreSQL."""
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session that commits on success and rolls back on error (``write``: lock up front)."""
        factory = self.write_sessionmaker if write else self.sessionmaker
        with factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()
