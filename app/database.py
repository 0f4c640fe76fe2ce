"""Database plumbing shared by models and services: time columns and write transactions."""

import sqlite3
from collections import namedtuple
from datetime import UTC

from sqlalchemy import DateTime, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend.

    PostgreSQL keeps `timestamptz`; SQLite has no time zones, so the value is stored as naive
    UTC and given back its zone on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use app.clock.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


IMMEDIATE = "linli_immediate"


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, connection_record):
    """Turn on what SQLite leaves off, and take transaction control away from pysqlite."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # pysqlite would otherwise issue its own BEGIN lazily; we issue it in `_sqlite_begin`.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """Begin SQLite transactions ourselves: IMMEDIATE when a writer asked for it."""
    if conn.dialect.name != "sqlite":
        return
    immediate = conn.get_execution_options().get(IMMEDIATE, False)
    # Straight on the driver: through exec_driver_sql this cost ~25 µs of every transaction.
    conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


def begin_write(session: Session) -> None:
    """Start a fresh transaction that holds the write lock from its first statement.

    On SQLite this is BEGIN IMMEDIATE: a deferred transaction that read first and writes later
    can fail when another writer committed in between, so a read-check-write operation (a
    redemption) must take the lock up front. PostgreSQL needs nothing here; those operations
    lock their rows with SELECT ... FOR UPDATE instead. Any transaction in progress is committed
    first, so call this before reading what the operation decides on.
    """
    session.commit()
    session.connection(execution_options={IMMEDIATE: True})


def locked(session: Session, model, *conditions):
    """Return the row of `model` that `conditions` select, read afresh (not the session's copy)
    and locked FOR UPDATE on PostgreSQL; None when there is none. Call after `begin_write`."""
    return session.scalar(
        select(model).where(*conditions).with_for_update().execution_options(populate_existing=True)
    )


class DriverStatement:
    """A SELECT compiled once per dialect and run straight on the driver's cursor.

    For the few statements of the hottest page (the resident's card page runs three a view):
    SQLAlchemy's execution of a compiled and cached statement costs 50-150 µs on SQLite, the
    query itself about 10. Values go in and come out through the column types' own
    processors, so parameters and rows are what SQLAlchemy would send and give (dates, enums,
    UTC datetimes). Rows are named tuples (indexable, hashable, columns by name).

    The statement runs on the caller's connection, in its transaction. When something listens
    to statements (a `before_cursor_execute` or `after_cursor_execute` listener, echo) or a
    parameter is a list (an expanding IN), it runs through SQLAlchemy as usual instead, so the
    listeners see every statement and the rows are the same either way.
    """

    def __init__(self, statement):
        self.statement = statement
        keys = [column.key for column in statement.selected_columns]
        self.row = namedtuple("Row", keys, rename=True)  # duplicate keys become _1, _2, ...
        self._compiled = {}

    def all(self, connection, params: dict) -> list:
        """Return every row the statement selects with `params`."""
        if self._watched(connection) or any(isinstance(v, list) for v in params.values()):
            return [self.row._make(row) for row in connection.execute(self.statement, params)]
        compiled, order, binders, readers = self._for(connection.dialect)
        values = compiled.construct_params(params)
        for name, binder in binders:
            values[name] = binder(values[name])
        cursor = connection.connection.cursor()
        try:
            cursor.execute(compiled.string, values if order is None else [values[n] for n in order])
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if not readers:
            return [self.row._make(row) for row in rows]
        return [self._read(row, readers) for row in rows]

    def first(self, connection, params: dict):
        """Return the first row the statement selects with `params`, or None."""
        rows = self.all(connection, params)
        return rows[0] if rows else None

    def _read(self, row, readers):
        values = list(row)
        for index, reader in readers:
            values[index] = reader(values[index])
        return self.row._make(values)

    @staticmethod
    def _watched(connection) -> bool:
        listening = connection.dispatch
        return bool(
            listening.before_cursor_execute
            or listening.after_cursor_execute
            or connection.engine.echo
        )

    def _for(self, dialect):
        try:
            return self._compiled[dialect.name]
        except KeyError:
            pass
        compiled = self.statement.compile(dialect=dialect)
        binders = []
        for bind, name in compiled.bind_names.items():
            binder = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if binder is not None:
                binders.append((name, binder))
        readers = []
        for index, column in enumerate(self.statement.selected_columns):
            reader = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if reader is not None:
                readers.append((index, reader))
        order = compiled.positiontup if dialect.positional else None
        self._compiled[dialect.name] = (compiled, order, binders, readers)
        return self._compiled[dialect.name]
