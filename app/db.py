"""Engine and session handling. One engine per app; the schema comes from Alembic only."""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.expression import Executable
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


# Extra connections beyond the pool, for work outside requests: jobs and mail run after a
# response (a job's progress reports take a second connection while it runs).
BACKGROUND_CONNECTIONS = 10

# An execution option: this connection's transactions write (SQLite: BEGIN IMMEDIATE).
WRITES = "voortgang_writes"


class DatabaseBusy(Exception):
    """The database could not be had in time: every connection in use, or (SQLite) another
    writer kept the write lock. Answered with 503 and Retry-After, never a 500."""


def is_database_busy(error: BaseException) -> bool:
    """Is this error the database being saturated or out of reach (worth a retry), rather than
    a fault in what was asked of it?"""
    if isinstance(error, DatabaseBusy | PoolTimeout):
        return True
    if not isinstance(error, OperationalError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    if isinstance(original, sqlite3.Error):
        code = getattr(original, "sqlite_errorcode", None)
        if code is None:
            return any(word in str(original) for word in ("locked", "busy"))
        # SQLITE_BUSY, SQLITE_LOCKED and their extended codes (the low byte is the primary).
        return code & 0xFF in (5, 6)
    sqlstate = getattr(original, "sqlstate", None)
    # None: psycopg could not connect. 08: connection exception, 40: serialization failure or
    # deadlock, 53: insufficient resources (too many connections), 55P03: lock not available,
    # 57P: the server is shutting down or starting.
    return sqlstate is None or sqlstate.startswith(("08", "40", "53", "55P03", "57P"))


def _sqlite_connect(busy_timeout: float) -> Callable[[DBAPIConnection, ConnectionPoolEntry], None]:
    def connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets readers read while one writes.
        cursor.execute("PRAGMA journal_mode=WAL")
        # A writer waits this long for another's write lock before giving up (then 503).
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return connect


def _sqlite_begin(connection: Connection) -> None:
    """A transaction that will write takes the write lock at its start (BEGIN IMMEDIATE), so
    that its reads and writes are one serialised whole, and waiting for the lock is where the
    busy timeout applies. Left to itself the sqlite3 module begins a transaction only before
    the first INSERT, UPDATE or DELETE; a transaction begun earlier by a read (a plain BEGIN)
    could then not write at all once another writer had committed ("database is locked", at
    once, whatever the busy timeout). Other connections keep the module's own behaviour: each
    read sees the latest commit (as PostgreSQL's read committed does), and a write begins its
    transaction with the write lock."""
    if connection.get_execution_options().get(WRITES, False):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


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


def make_engine(
    database_url: str, *, echo: bool = False, pool_size: int = 10, timeout: float = 10
) -> Engine:
    """An engine with `pool_size` connections (and BACKGROUND_CONNECTIONS more for work outside
    requests); a checkout waits `timeout` seconds for one, as a SQLite writer does for the
    write lock and a PostgreSQL statement for a lock."""
    pooling: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": BACKGROUND_CONNECTIONS,
        "pool_timeout": timeout,
    }
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        else:
            pooling = {}  # one in-memory database per connection: SQLAlchemy's own pool
        engine = create_engine(
            database_url, echo=echo, connect_args={"check_same_thread": False}, **pooling
        )
        event.listen(engine, "connect", _sqlite_connect(timeout))
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "savepoint", _sqlite_savepoint)
        return engine
    # A statement waits as long for a row or table lock (another transaction's), then fails
    # with lock_not_available: 503, instead of holding its connection without end.
    locks = {"options": f"-c lock_timeout={int(timeout * 1000)}"}
    return create_engine(database_url, echo=echo, pool_pre_ping=True, connect_args=locks, **pooling)


def engine_for(settings: Settings) -> Engine:
    return make_engine(
        settings.database_url,
        echo=settings.sql_echo,
        pool_size=settings.database_pool_size,
        timeout=settings.database_timeout,
    )


def for_writing(engine: Engine) -> Engine:
    """The same engine (and pool), for transactions that write: on SQLite they take the write
    lock when they begin."""
    return engine.execution_options(**{WRITES: True})


def write_at_once(engine: Engine, statement: Executable) -> bool:
    """Run one best-effort write in a short transaction of its own, on a connection of its
    own, without waiting for a lock: on SQLite for the write lock (busy timeout 0 while it
    runs), on PostgreSQL for a row lock (lock_timeout 1 ms). Returns whether it was written;
    when the database is busy it is skipped. (Taking the connection waits as any checkout
    does, but the pool has BACKGROUND_CONNECTIONS beyond the requests' turns.) An in-memory
    SQLite database has no other connection to write on: skipped too."""
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return False
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                return _sqlite_write_at_once(connection, statement)
            with connection.begin():
                connection.exec_driver_sql("SET LOCAL lock_timeout = 1")
                connection.execute(statement)
            return True
    except OperationalError as error:
        if is_database_busy(error):
            return False
        raise
    except PoolTimeout:
        return False


def _sqlite_write_at_once(connection: Connection, statement: Executable) -> bool:
    busy_timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
    connection.exec_driver_sql("PRAGMA busy_timeout=0")
    connection.commit()  # (a PRAGMA begins no transaction of SQLite's, but one of SQLAlchemy's)
    try:
        connection.execution_options(**{WRITES: True})
        with connection.begin():
            connection.execute(statement)
        return True
    finally:
        connection.execution_options(**{WRITES: False})
        connection.exec_driver_sql(f"PRAGMA busy_timeout={int(busy_timeout)}")
        connection.commit()


class RequestTurns:
    """At most `size` requests use the database at once (as many as the pool has
    connections); the others wait for their turn in the event loop, holding no thread and no
    connection, for up to `timeout` seconds (then DatabaseBusy). Without this a request could
    hold a connection while it waits for a thread, and a thread wait for a connection."""

    def __init__(self, size: int, timeout: float) -> None:
        self.size = size
        self.timeout = timeout
        # One semaphore per event loop (an anyio primitive belongs to the loop it is first
        # used in; an app may serve from more than one, e.g. two test clients).
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.Semaphore]
        self._semaphores = weakref.WeakKeyDictionary()

    def _semaphore(self) -> anyio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = anyio.Semaphore(self.size)
        return semaphore

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        semaphore = self._semaphore()
        try:
            with anyio.fail_after(self.timeout):
                await semaphore.acquire()
        except TimeoutError:
            raise DatabaseBusy from None
        try:
            yield
        finally:
            semaphore.release()


@contextmanager
def transaction(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error. `write`: it will write
    (SQLite: take the write lock at its start)."""
    with Session(for_writing(engine) if write else engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
