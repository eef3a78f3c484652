"""Engine creation: SQLite (WAL, busy timeout, write lock taken up front) or PostgreSQL (asyncpg); and the two
statements whose form differs per backend or per result type (an INSERT that can take ON CONFLICT, a counted DML)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql.dml import Delete, Update

from bot.storage.write_gate import enter, gate_writes

SQLITE_BUSY_TIMEOUT_MS = 30_000

# No ``pool_pre_ping`` on PostgreSQL: it cost a round trip on every checkout (every transaction) to catch a
# connection that died while idle in the pool. Without it such a connection fails its first statement instead:
# SQLAlchemy sees the disconnect, invalidates that connection and every older one in the pool, and the transaction
# rolls back whole (one transaction per use case), so nothing is half-written: that update fails like any database
# error does, and the next checkout gets a fresh connection. ``pool_recycle`` replaces connections before a
# server-side or firewall idle timeout would cut them, so the case stays rare (a database restart, a network cut).
POSTGRES_POOL_RECYCLE_S = 1800


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if not is_sqlite(url):
        return create_async_engine(url, **{"pool_recycle": POSTGRES_POOL_RECYCLE_S, **kwargs})
    # No rollback when a connection goes back to the pool: every transaction here ends in COMMIT or ROLLBACK before
    # (the Session and Connection close them), and on SQLite the pool's extra ROLLBACK is one more trip to
    # aiosqlite's thread per checkout for nothing (a read connection has no transaction to end).
    kwargs = {"pool_reset_on_return": None, **kwargs}
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (below) instead of the driver's lazy, deferred one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    gate = gate_writes(engine, SQLITE_BUSY_TIMEOUT_MS / 1000)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock when the transaction starts: a deferred transaction that reads and then writes
        # fails with "database is locked" when another writer got in between, whatever the busy timeout. This
        # process's writers queue for it in order (bot/storage/write_gate.py) instead of in SQLite's busy handler.
        # A read-only connection (bot/storage/reads.py) takes no lock: its SELECTs run one by one, in autocommit.
        if connection.get_execution_options().get("tripdesk_read"):
            return
        owner = enter(gate, connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if owner is not None:
                gate.release(owner)
            raise

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def insert_on_conflict(session: AsyncSession, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into ``table`` in the session's dialect, so it can take ``ON CONFLICT DO NOTHING / UPDATE``: a
    concurrent insert of the same key then waits for that transaction instead of aborting ours."""
    return dialect_insert(session.get_bind().dialect.name, table)


def dialect_insert(dialect: str, table: Any) -> postgresql.Insert | sqlite.Insert:
    """:func:`insert_on_conflict` by dialect name, for statements built once per dialect and reused (a hot write
    then costs SQLAlchemy no rebuilding: its compiled form is found by the statement's memoised cache key)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def changed_rows(session: AsyncSession, statement: Update | Delete) -> int:
    """Run an UPDATE or DELETE; how many rows it changed (a conditional one tells whether it won)."""
    result = await session.execute(statement)
    if not isinstance(result, CursorResult):  # what SQLAlchemy returns for DML; the check narrows the type
        raise TypeError(f"expected a CursorResult for {statement!r}, got {type(result).__name__}")
    return result.rowcount


def is_transient(error: BaseException) -> bool:
    """The database could not be reached or lost the connection (a restart, a failover, a busy SQLite file): worth
    trying again later, unlike an error in the statement or the data."""
    from sqlalchemy import exc

    if isinstance(error, exc.DBAPIError):
        return (
            error.connection_invalidated
            or isinstance(error, exc.OperationalError | exc.InterfaceError)
            # asyncpg's "the database system is shutting down / starting up" and "terminating connection due to
            # administrator command" come as a bare DBAPIError; a connection the cut left mid-protocol ("cannot
            # switch to state ...") as an InternalError
            or getattr(error.orig, "sqlstate", None) in SERVER_UNAVAILABLE
            or type(getattr(error.orig, "__cause__", None)).__name__ == "InternalClientError"
        )
    return isinstance(error, exc.TimeoutError | ConnectionError | TimeoutError)


SERVER_UNAVAILABLE = {"57P01", "57P02", "57P03"}  # PostgreSQL: admin shutdown, crash shutdown, cannot connect now
