"""Long polling that loses no update: each update is committed to the ``inbox`` table before Telegram is told it
arrived, and handled from there.

Telegram forgets an update once a later ``getUpdates`` carries a higher offset. aiogram's own polling sends that
offset while handlers may still be running, so a process killed mid-handler (a payment, a confirmation) would lose
the update. Here the order is: receive -> store (commit) -> confirm (the next ``getUpdates``) -> handle -> mark done.
A process killed at any point either has not confirmed the update (Telegram sends it again) or has it stored as
pending (handled again at the next start). Handlers that change state are idempotent (payments by charge id,
bookings by their screen's key, answers to a request by its state), so handling twice is harmless.

Updates of one chat are handled in order, one at a time; different chats run concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any, Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Chat, Update, User
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.tables import InboxRow
from domain.ports import Clock

log = logging.getLogger(__name__)

POLL_TIMEOUT = 25  # seconds Telegram holds a getUpdates open
KEEP_HANDLED = timedelta(days=2)  # handled updates are remembered this long, to drop repeated deliveries
BACKOFF = (1, 2, 4, 8, 15, 30)


class Inbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def store(self, updates: list[Update]) -> list[Update]:
        """Keep the updates not seen before; returns those (a repeat delivery is dropped)."""
        if not updates:
            return []
        ids = [u.update_id for u in updates]
        async with self.sessions() as db, db.begin():
            seen = set(await db.scalars(select(InboxRow.update_id).where(InboxRow.update_id.in_(ids))))
            fresh = [u for u in updates if u.update_id not in seen]
            db.add_all(
                InboxRow(
                    update_id=u.update_id,
                    payload=u.model_dump(mode="json", exclude_none=True, by_alias=True),
                    received_at=self.clock.now(),
                    status="pending",
                    attempts=0,
                )
                for u in fresh
            )
        return fresh

    async def pending(self, bot: Bot) -> list[Update]:
        async with self.sessions() as db:
            rows = await db.scalars(
                select(InboxRow.payload).where(InboxRow.status == "pending").order_by(InboxRow.update_id)
            )
            return [Update.model_validate(payload, context={"bot": bot}) for payload in rows]

    async def finish(self, update_id: int, error: str | None) -> None:
        async with self.sessions() as db, db.begin():
            await db.execute(
                update(InboxRow)
                .where(InboxRow.update_id == update_id)
                .values(
                    status="failed" if error else "done",
                    attempts=InboxRow.attempts + 1,
                    done_at=self.clock.now(),
                    last_error=error,
                )
            )

    async def forget_before(self, moment: datetime) -> None:
        """Handled updates are kept for a while (to drop repeats), then removed."""
        async with self.sessions() as db, db.begin():
            await db.execute(delete(InboxRow).where(InboxRow.status != "pending", InboxRow.done_at < moment))


def _chat_key(update: Update) -> int:
    event = update.event
    chat = getattr(event, "chat", None) or getattr(getattr(event, "message", None), "chat", None)
    if isinstance(chat, Chat):
        return chat.id
    user = getattr(event, "from_user", None)
    return user.id if isinstance(user, User) else 0


class UpdateFeeder(Protocol):
    """What the polling needs of aiogram's ``Dispatcher``: to feed it an update."""

    async def feed_update(self, bot: Bot, update: Update) -> object: ...


class InboxPolling:
    """Runs the dispatcher on updates from ``getUpdates`` through the inbox (see the module's docstring)."""

    def __init__(self, dp: UpdateFeeder, bot: Bot, inbox: Inbox, allowed_updates: list[str] | None = None) -> None:
        self.dp, self.bot, self.inbox = dp, bot, inbox
        self.allowed_updates = allowed_updates
        self._locks: dict[int, list[Any]] = {}  # chat -> [lock, users]
        self._tasks: set[asyncio.Task[Any]] = set()

    @contextlib.asynccontextmanager
    async def _in_turn(self, key: int) -> AsyncIterator[None]:
        """One update of a chat at a time, in arrival order; idle chats keep no lock."""
        entry = self._locks.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[key]

    async def handle(self, update: Update) -> None:
        async with self._in_turn(_chat_key(update)):
            error = None
            try:
                await self.dp.feed_update(self.bot, update)
            except Exception as exc:  # the errors router already apologised; keep the update for the record
                log.exception("update %s failed", update.update_id)
                error = repr(exc)[:500]
            await self.inbox.finish(update.update_id, error)

    def _spawn(self, update: Update) -> None:
        task = asyncio.create_task(self.handle(update), name=f"update-{update.update_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self, stop: asyncio.Event) -> None:
        for leftover in await self.inbox.pending(self.bot):  # left over by a process that died
            log.info("handling update %s again after a restart", leftover.update_id)
            self._spawn(leftover)
        offset: int | None = None
        failures = 0
        tidied = None
        while not stop.is_set():
            now = self.inbox.clock.now()
            if tidied is None or now - tidied > timedelta(hours=1):
                await self.inbox.forget_before(now - KEEP_HANDLED)
                tidied = now
            try:
                poll = asyncio.ensure_future(
                    self.bot.get_updates(offset=offset, timeout=POLL_TIMEOUT, allowed_updates=self.allowed_updates)
                )
                stopping = asyncio.ensure_future(stop.wait())
                done, _ = await asyncio.wait({poll, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if poll not in done:
                    poll.cancel()
                    with contextlib.suppress(asyncio.CancelledError, TelegramAPIError):
                        await poll
                    break
                stopping.cancel()
                updates = poll.result()
            except (TimeoutError, TelegramAPIError, OSError) as error:
                delay = BACKOFF[min(failures, len(BACKOFF) - 1)]
                failures += 1
                log.warning("getUpdates failed (%s); retrying in %ss", error, delay)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                continue
            failures = 0
            if not updates:
                continue
            for fresh in await self.inbox.store(updates):  # committed before the next call confirms them
                self._spawn(fresh)
            offset = updates[-1].update_id + 1
        if self._tasks:  # let updates in hand finish, briefly; the rest stay pending for the next start
            await asyncio.wait(self._tasks, timeout=10)
