"""This process among the bot's replicas: who it is (the inbox's claims carry its id) and whether it leads.

Several ``tripdesk run`` processes may serve one bot on one PostgreSQL. Every replica handles updates (bot/inbox.py);
one at a time, the *leader*, also does what must happen once for the whole bot: long polling (Telegram allows one
``getUpdates`` per token), the outbox sender (so Telegram's 30 messages a second, one a second per chat and 20 a
minute per group are counted in one place for the bot as a whole) and the scheduler's jobs.

Both rest on PostgreSQL, not on a home-made protocol: each replica keeps one connection of its own open for its
whole life. Its id is that connection's backend pid (``pg-<pid>``), so a replica is alive exactly while its
connection is (``pg_stat_activity`` lists it); a process killed with -9 drops the connection, the server sees it at
once, and the others give its claims back (:meth:`bot.inbox.Inbox.release_dead`). Leadership is a session-level
advisory lock on that connection (``pg_try_advisory_lock``): the server releases it with the connection, and another
replica takes it at its next try (every ``RETRY_S`` seconds). A leader checks its connection as often; once it is
gone (PostgreSQL restarted, the network cut), it stops its duties at once and competes again after reconnecting.

On SQLite (one process by design: the file is not shared between machines) the process is the only replica and
always leads; its id is random per start, and at start it takes back whatever a killed predecessor left claimed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

LEADER_LOCK = 0x7464_6C64  # "tdld": the advisory lock key of leadership (one per database)
RETRY_S = 2.0  # how often a follower tries to lead, and a leader checks that it still does


class Replica:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.shared = engine.dialect.name == "postgresql"
        self.id = f"local-{uuid.uuid4().hex[:12]}"
        self._connection: AsyncConnection | None = None
        self.leading = False

    async def connect(self) -> str:
        """Open this replica's own connection (PostgreSQL); returns its id."""
        if not self.shared:
            return self.id
        await self._drop()
        connection = await self.engine.connect()
        try:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await connection.commit()  # the session stays; its advisory locks outlive transactions
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self.id = f"pg-{pid}"
        return self.id

    async def try_lead(self) -> bool:
        """Become the leader if no one is; True when this replica leads."""
        if not self.shared:
            self.leading = True
            return True
        try:
            if self._connection is None or self._connection.closed:
                await self.connect()
            assert self._connection is not None
            got = (
                await self._connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK})
            ).scalar()
            await self._connection.commit()
        except (SQLAlchemyError, OSError) as error:
            log.warning("cannot reach the database to compete for leadership: %s", _one_line(error))
            await self._drop()
            return False
        self.leading = bool(got)
        return self.leading

    async def still_leading(self) -> bool:
        """The leader's connection still answers (so its lock still holds)."""
        if not self.shared:
            return True
        try:
            assert self._connection is not None
            await self._connection.execute(text("SELECT 1"))
            await self._connection.commit()
        except (SQLAlchemyError, OSError, AssertionError) as error:
            log.warning("leadership lost: the database connection failed (%s)", _one_line(error))
            self.leading = False
            await self._drop()
            return False
        return True

    async def step_down(self) -> None:
        """Give leadership up (the process stops)."""
        if self.shared and self.leading and self._connection is not None:
            with contextlib.suppress(SQLAlchemyError, OSError):
                await self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_LOCK})
                await self._connection.commit()
        self.leading = False

    async def close(self) -> None:
        await self.step_down()
        await self._drop()

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:  # closed for good, never back to the pool: a pooled session would keep the lock
            with contextlib.suppress(SQLAlchemyError, OSError):
                await connection.invalidate()
            with contextlib.suppress(SQLAlchemyError, OSError):
                await connection.close()

    async def lead_while(self, stop: asyncio.Event) -> bool:
        """Wait until this replica leads (True) or ``stop`` is set (False)."""
        while not stop.is_set():
            if await self.try_lead():
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY_S)
        return False

    async def wait_lost(self, stop: asyncio.Event) -> None:
        """Return when leadership is lost or ``stop`` is set."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY_S)
            if not stop.is_set() and not await self.still_leading():
                return


def _one_line(error: BaseException) -> str:
    if isinstance(error, DBAPIError) and error.orig is not None:
        error = error.orig
    return " ".join(str(error).split())[:200] or type(error).__name__
