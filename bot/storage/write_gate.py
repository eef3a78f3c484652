"""SQLite's one write lock, handed over in this process in order of arrival, with a lane for what must not wait.

Every write transaction here begins with ``BEGIN IMMEDIATE`` (bot/storage/db.py), which takes SQLite's only write
lock. A connection that finds it taken does not queue: SQLite's busy handler sleeps and tries again, 1, 2, 5, 10 …
up to 100 ms between tries, for up to the busy timeout. With a dozen chats in hand, the scheduler's jobs and the
inbox's store all writing at once (a hot on-sale, bench/surge.py) that is a lottery: the lock often sits free while
every waiter sleeps, and a waiter can lose round after round. The store of a ``getUpdates`` batch lost it for up to
a second or more, and Telegram's next batch (the next presses) is asked for only after that store is committed.

:class:`WriteGate` is the queue SQLite does not have, for the connections of one engine: a write transaction waits
here, in order, before its ``BEGIN IMMEDIATE``, and the gate is handed to the next one as the transaction's COMMIT or
ROLLBACK returns, so the lock is neither idle nor fought over. :func:`urgent_writes` puts a transaction in the front
lane: the inbox's store, which every other update waits behind. Another process on the same file still meets the
busy handler as before (the gate only orders this process's own writers). Read-only connections (bot/storage/
reads.py) take no lock and never wait here.

Written here because neither SQLAlchemy nor aiosqlite queues writers: both leave it to SQLite's busy handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import deque
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util.concurrency import await_, in_greenlet

_GATES: WeakKeyDictionary[object, WriteGate] = WeakKeyDictionary()
_URGENT: ContextVar[bool] = ContextVar("tripdesk_urgent_write", default=False)


@contextlib.contextmanager
def urgent_writes() -> Iterator[None]:
    """Write transactions begun within go ahead of every other waiting one (not of the one holding the lock)."""
    token = _URGENT.set(True)
    try:
        yield
    finally:
        _URGENT.reset(token)


class WriteGate:
    """One holder at a time, then the urgent lane, then the rest, each in order of arrival."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._holder: object | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lanes: tuple[deque[tuple[asyncio.Future[None], object]], ...] = (deque(), deque())  # urgent, rest

    @property
    def holder(self) -> object | None:
        return self._holder

    def waiting(self) -> int:
        return sum(1 for lane in self._lanes for future, _ in lane if not future.done())

    async def acquire(self, owner: object, urgent: bool = False) -> None:
        """Wait for the gate (at most ``timeout_s``: then SQLite's own "database is locked", as its busy handler
        would have said)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # an engine outlives the loop it was used on (tests): nothing there waits now
            self._holder, self._loop = None, loop
            for lane in self._lanes:
                lane.clear()
        if self._holder is None and not self.waiting():
            self._holder = owner
            return
        future: asyncio.Future[None] = loop.create_future()
        self._lanes[0 if urgent else 1].append((future, owner))
        try:
            await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
        except BaseException:
            if future.done() and not future.cancelled() and self._holder is owner:
                self.release(owner)  # handed over just as the wait ended: pass it on
            else:
                future.cancel()
            raise

    def release(self, owner: object) -> None:
        """The ``owner``'s transaction ended: the next waiter gets the gate (a no-op for anyone else)."""
        if self._holder is not owner:
            return
        self._holder = None
        for lane in self._lanes:
            while lane:
                future, waiter = lane.popleft()
                if future.done():  # gave up waiting
                    continue
                self._holder = waiter
                future.set_result(None)
                return


def _dbapi(connection: Any) -> object:
    """The driver's connection under SQLAlchemy's pool wrapper (the same object through a transaction)."""
    return getattr(connection, "dbapi_connection", None) or connection


def gate_writes(engine: AsyncEngine, timeout_s: float) -> WriteGate:
    """Put a :class:`WriteGate` in front of ``engine``'s ``BEGIN IMMEDIATE`` (its caller emits it after
    :func:`enter`), released when the transaction's COMMIT or ROLLBACK returns or its connection goes away."""
    gate = WriteGate(timeout_s)
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            gate.release(_dbapi(dbapi_connection))

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            gate.release(_dbapi(dbapi_connection))

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]

    def _gone(dbapi_connection: Any, *_args: Any) -> None:  # invalidated, closed or checked in mid-transaction
        gate.release(_dbapi(dbapi_connection))

    for name in ("checkin", "invalidate", "soft_invalidate", "close", "close_detached"):
        event.listen(sync_engine.pool, name, _gone)
    _GATES[sync_engine] = gate
    return gate


def write_gate(engine: AsyncEngine) -> WriteGate | None:
    """The engine's gate (SQLite engines made by bot/storage/db.py have one)."""
    return _GATES.get(engine.sync_engine)


def enter(gate: WriteGate, connection: Any) -> object | None:
    """Called by the ``begin`` event, inside SQLAlchemy's greenlet: wait for the gate; returns the owner to release
    if the ``BEGIN`` itself fails (None outside a greenlet, where nothing can wait)."""
    if not in_greenlet():
        return None
    owner = _dbapi(connection.connection)
    try:
        await_(gate.acquire(owner, _URGENT.get()))
    except TimeoutError:
        locked = sqlite3.OperationalError("database is locked (waited for this process's other writers)")
        raise OperationalError("BEGIN IMMEDIATE", None, locked) from None
    return owner
