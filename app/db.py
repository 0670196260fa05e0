"""Engine and session handling. One engine per app; the schema comes from Alembic only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, create_engine

from app.config import Settings

# Full-text search objects that migrations create by hand, per database, and autogenerate
# must leave alone: SQLite FTS5 tables (and their shadow tables), PostgreSQL GIN indexes.
SEARCH_TABLE_PREFIXES = ("activity_fts", "status_update_fts")
SEARCH_INDEXES = ("ix_activity_title_fts", "ix_status_update_explanation_fts")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic filter: compare everything but the hand-made search objects."""
    if type_ == "table" and name and name.startswith(SEARCH_TABLE_PREFIXES):
        return False
    return not (type_ == "index" and name in SEARCH_INDEXES)


def _set_sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets several app processes read while one writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_savepoint(connection: Connection, _name: str) -> None:
    """A savepoint inside the transaction, not instead of it. The sqlite3 module begins a
    transaction only before an INSERT, UPDATE or DELETE, so a SAVEPOINT that comes first (a
    service's first write, an import's all-rows block) would begin one of its own, and its
    RELEASE would commit: the work would be committed before the request or job that did it
    (a job killed after it left its changes applied and itself running). Begin the real
    transaction first, with the write lock: the savepoint is there to write."""
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is not None and not getattr(dbapi_connection, "in_transaction", True):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(database_url: str, *, echo: bool = False) -> Engine:
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(database_url, echo=echo, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _set_sqlite_pragmas)
        event.listen(engine, "savepoint", _sqlite_savepoint)
        return engine
    return create_engine(database_url, echo=echo, pool_pre_ping=True, pool_size=10)


def engine_for(settings: Settings) -> Engine:
    return make_engine(settings.database_url, echo=settings.sql_echo)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
