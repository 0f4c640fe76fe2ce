"""Database plumbing shared by models and services: time columns and write transactions."""

import sqlite3
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
