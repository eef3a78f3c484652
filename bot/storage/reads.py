"""Reads that take no transaction: the hot screens of an update (the user, the conversation state, seats left) read
committed data statement by statement instead of opening a write transaction for a SELECT.

On SQLite every transaction of this project starts with ``BEGIN IMMEDIATE`` (bot/storage/db.py), which takes the
database's only write lock; a screen that only reads must not queue for it. A connection from :func:`read_engine`
carries the execution option ``tripdesk_read``: db.py then emits no ``BEGIN`` (each SELECT runs on its own, in
autocommit) and refuses any statement that writes. On PostgreSQL the same engine runs in ``AUTOCOMMIT``, which saves
the ``BEGIN``/``COMMIT`` round trips; writes there are refused the same way.

The price, on both: two SELECTs of one read block may see different commits (READ COMMITTED per statement). Blocks
read this way only where that cannot mislead: a screen's data, re-read under the transaction by any use case that
acts on it (seats are taken by the conditional UPDATE, never on a value read here).
"""

from __future__ import annotations

import asyncio
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

READ_OPTION = "tripdesk_read"

_ENGINES: WeakKeyDictionary[object, AsyncEngine] = WeakKeyDictionary()
_SESSIONS: WeakKeyDictionary[object, async_sessionmaker[AsyncSession]] = WeakKeyDictionary()


def read_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same engine and pool, for statements that only read (see the module's docstring)."""
    reader = _ENGINES.get(engine.sync_engine)
    if reader is None:
        options: dict[str, object] = {READ_OPTION: True}
        if engine.dialect.name != "sqlite":
            options["isolation_level"] = "AUTOCOMMIT"
        reader = engine.execution_options(**options)
        event.listen(engine.sync_engine, "before_cursor_execute", _refuse_writes)
        _ENGINES[engine.sync_engine] = reader
    return reader


_READS = ("select", "with", "pragma")


def _refuse_writes(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if connection.get_execution_options().get(READ_OPTION) and not statement.lstrip()[:6].lower().startswith(_READS):
        raise RuntimeError(f"a write on a read-only connection: {statement[:80]!r}")


def read_sessions(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """``sessions`` bound to :func:`read_engine` of its engine: ORM reads without a transaction."""
    readers = _SESSIONS.get(sessions)
    if readers is None:
        engine = sessions.kw["bind"]
        readers = async_sessionmaker(read_engine(engine), expire_on_commit=False, autoflush=False)
        _SESSIONS[sessions] = readers
    return readers


def engine_of(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    engine = sessions.kw["bind"]
    if not isinstance(engine, AsyncEngine):
        raise TypeError(f"the session factory is bound to {engine!r}, not an AsyncEngine")
    return engine


_TURNS: WeakKeyDictionary[object, asyncio.Lock] = WeakKeyDictionary()


def writers_turn(sessions: async_sessionmaker[AsyncSession]) -> asyncio.Lock | None:
    """On SQLite, the lock this process's write transactions queue on (None on PostgreSQL, whose row locks let
    writers run side by side).

    SQLite has one write lock per database. Without this, sixteen transactions that want it wait in SQLite's busy
    handler, which sleeps (1, 2, 5, 10 … 100 ms) and retries, so the lock sits idle between one holder's COMMIT and
    the next sleeper's wake-up: 16 concurrent bookings ran at a fifth of the rate of one (bench/booking.py). Queued
    here they take the lock in arrival order the moment it is free. Other processes, and this process's short writes
    outside a unit of work (the inbox, the outbox's marks), still meet at SQLite's own lock.
    """
    engine = engine_of(sessions)
    if engine.dialect.name != "sqlite":
        return None
    turn = _TURNS.get(engine.sync_engine)
    if turn is None:
        turn = _TURNS[engine.sync_engine] = asyncio.Lock()
    return turn
