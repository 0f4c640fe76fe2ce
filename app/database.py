"""Database plumbing shared by models and services: time columns and write transactions."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC

from sqlalchemy import DateTime, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session
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
    # SQLAlchemy's documented pysqlite recipe: the BEGIN is emitted through the connection.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_WRITING = "linli_write_transaction"


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """Run the block as one write transaction: committed at its end, rolled back on any error.

    Opened once, at the edge (a page's action, an API call, a CLI command); the services called
    inside read what they decide on with `locked` and flush, and never commit or roll back.
    A read-only transaction already under way (the request read the signed-in user) is ended
    first, so that on SQLite the write lock is held from the first statement (BEGIN IMMEDIATE):
    a deferred transaction that read and then writes fails when another writer committed in
    between. PostgreSQL needs nothing more; writers lock their rows FOR UPDATE.

    Changes made before the block, or a block inside another, are mistakes and raise.
    """
    if isinstance(session, scoped_session):  # Flask-SQLAlchemy's db.session
        session = session()
    if session.info.get(_WRITING):
        raise RuntimeError("write_transaction opened inside another; open it once, at the edge")
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("changes made before the write transaction would be lost")
    if session.in_transaction():
        session.rollback()  # nothing was written in it: ending it only lets go of the snapshot
    session.info[_WRITING] = True
    try:
        session.connection(execution_options={IMMEDIATE: True})
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        del session.info[_WRITING]


def locked(session: Session, model, *conditions):
    """Return the row of `model` that `conditions` select, read afresh (not the session's copy)
    and locked FOR UPDATE on PostgreSQL; None when there is none. Call inside a
    `write_transaction`."""
    return session.scalar(
        select(model).where(*conditions).with_for_update().execution_options(populate_existing=True)
    )
