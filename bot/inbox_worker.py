"""Handling the inbox's updates (bot/inbox.py says what is promised): the :class:`InboxWorker` runs each chat's
updates one after the other as this replica claims them, and sweeps up what no one took; :class:`InboxPolling` (the
leader's duty) fills the inbox from ``getUpdates``. The webhook fills it in bot/webhook.py."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from aiogram import Bot
from aiogram.exceptions import ClientDecodeError, TelegramAPIError, TelegramUnauthorizedError
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.inbox import KEEP_HANDLED, Inbox, chat_key
from bot.logs import update_context
from bot.metrics import observe_update
from bot.slots import Slots
from bot.storage.db import is_transient
from bot.storage.update_scope import CURRENT, UpdateScope

log = logging.getLogger(__name__)

POLL_TIMEOUT = 25  # seconds Telegram holds a getUpdates open
BACKOFF = (1, 2, 4, 8, 15, 30)
SWEEP_S = 1.0  # how often a replica looks for updates no one took
# chats handled at once: about the database pool (5 + 10 overflow); 10,000 at once only queued for connections
# until the pool's timeout failed them (bench/surge.py)
IN_HAND = 12
FINISH_RETRY_S = (0.5, 1, 1, 2, 2, 4, 4, 8, 8, 15)  # a handled update's mark, tried again while the database is away


class GetRawUpdates(TelegramMethod[list[dict[str, Any]]]):
    """``getUpdates`` answered as plain JSON objects, so that each update is decoded on its own (see the module's
    docstring) instead of the whole batch failing on one."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


class UpdateFeeder(Protocol):
    """What the polling needs of aiogram's ``Dispatcher``: to feed it an update."""

    async def feed_update(self, bot: Bot, update: Update) -> object: ...


class InboxWorker:
    """Handles the stored updates: one task per chat with work, taking that chat's updates one after the other
    while it gets them (see the module's docstring), and the sweep that finds what no one took."""

    def __init__(self, dp: UpdateFeeder, bot: Bot, inbox: Inbox, sweep_s: float = SWEEP_S) -> None:
        self.dp, self.bot, self.inbox = dp, bot, inbox
        self.sweep_s = sweep_s
        self._chains: dict[int, asyncio.Task[None]] = {}  # chat -> the task handling its updates
        self._poked: set[int] = set()  # chats that got an update while their task was finishing
        self._handed: dict[int, Update] = {}  # an update claimed on arrival for a chat whose task was finishing
        self._told: dict[int, int] = {}  # per chat in hand: the newest update this process stored for it
        self._slots = Slots(IN_HAND)
        self.urgent: Callable[[int], bool] = lambda chat: False  # chats that go ahead of the others waiting for a slot
        self._stopping = False
        self._sweeps = 0
        self._tidied: datetime | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    async def accept(self, raw: list[dict[str, Any]], lane: AsyncConnection | None = None) -> list[Update]:
        """Store raw updates (:meth:`Inbox.accept`) and get their chats going; returns the fresh ones. The first
        update of each chat not in hand here is claimed in the same transaction as the store (while this replica has
        room for more chats: ``IN_HAND``), which saves a transaction per update. ``lane``: see :meth:`Inbox.take`."""
        room = 0 if self._stopping else IN_HAND - len(self._chains)
        fresh, claimed = await self.inbox.take(raw, self.bot, room, set(self._chains), lane)
        self.received(fresh, claimed)
        return fresh

    def reply_for(self, updates: list[Update]) -> dict[str, Any] | None:
        """A Bot API call to make in the webhook's response to ``updates`` (before :meth:`received`); none here."""
        return None

    def received(self, updates: Iterable[Update], claimed: Iterable[Update] = ()) -> None:
        """Updates just stored: their chats get going (the claims decide who handles what); ``claimed``: those
        already claimed here, each its chat's first."""
        taken = {chat_key(u): u.update_id for u in claimed}
        for update in (*updates, *claimed):
            chat = chat_key(update)
            self._told[chat] = max(self._told.get(chat, 0), update.update_id)
        for update in claimed:
            chat = chat_key(update)
            if chat in self._chains or self._stopping:  # its task takes it before it ends (stopping: given back)
                self._handed[chat] = update
            else:
                self._start(chat, update)
        for update in updates:
            if taken.get(chat_key(update)) != update.update_id:  # not the one claimed: its chat looks for it
                self._kick(chat_key(update), backlog=False)

    async def handle(self, updates: Iterable[Update]) -> None:
        """Handle these stored updates now; returns when their chats have nothing more in hand (the benches and
        tests feed one update at a time this way)."""
        updates = list(updates)
        self.received(updates)
        await self.settled(updates)

    async def settled(self, updates: Iterable[Update]) -> None:
        """Returns when the chats of these updates have nothing more in hand."""
        chains = [self._chains[chat] for chat in dict.fromkeys(map(chat_key, updates)) if chat in self._chains]
        await asyncio.gather(*chains)

    def _kick(self, chat: int, backlog: bool = True) -> None:
        """The chat gets going; ``backlog``: it may have updates this process was not told of (see _run_chain)."""
        if self._stopping:
            return
        if chat in self._chains:
            self._poked.add(chat)
            return
        self._start(chat, None, backlog)

    def _start(self, chat: int, first: Update | None, backlog: bool = False) -> None:
        self._idle.clear()
        self._chains[chat] = asyncio.create_task(self._chain(chat, first, backlog), name=f"inbox-chat-{chat}")

    async def _chain(self, chat: int, first: Update | None, backlog: bool) -> None:
        try:
            async with self._slots.held(self.urgent(chat)):  # a surge waits here, not in the database pool's queue
                await self._run_chain(chat, first, backlog)
        except (SQLAlchemyError, OSError) as error:  # the database went away: the sweep gives the claim back
            log.warning("chat %s: the inbox cannot be reached (%s); its updates wait", chat, _one_line(error))
        finally:
            del self._chains[chat]
            self._poked.discard(chat)
            self._told.pop(chat, None)
            handed = self._handed.pop(chat, None)
            if handed is not None and not self._stopping:  # claimed for it while it ended
                self._start(chat, handed)
            elif not self._chains:
                self._idle.set()

    async def _run_chain(self, chat: int, first: Update | None, backlog: bool) -> None:
        """The chat's updates one after the other while it has them (claimed here, or handed on by the mark).
        ``backlog``: the sweep found the chat, which may have stored updates this process was not told of, so each
        mark looks for the next while the last one found one."""
        next_update = first if first is not None else await self.inbox.claim_next(chat, self.bot)
        while True:
            if next_update is None:
                next_update = self._handed.pop(chat, None)
                if next_update is not None:
                    continue
                if chat not in self._poked or self._stopping:
                    return
                self._poked.discard(chat)
                next_update = await self.inbox.claim_next(chat, self.bot)
                continue
            next_update = await self._handle(next_update, chat, backlog)
            backlog = backlog and next_update is not None

    async def _handle(self, update: Update, chat: int, backlog: bool = True) -> Update | None:
        """Handle one claimed update; returns the chat's next one, claimed in the same transaction as the mark
        (on SQLite only when there may be one: see below)."""
        error = None
        claimer = self.inbox.replica_id  # as it claimed: the id changes when the replica reconnects
        scope = UpdateScope()
        token = CURRENT.set(scope)
        started = time.perf_counter()
        with update_context(update.update_id, chat or None):
            try:
                await self.dp.feed_update(self.bot, update)
            except Exception as exc:  # the errors router already apologised; keep the update for the record
                log.exception("update %s failed", update.update_id)
                error = repr(exc)[:500]
            finally:
                CURRENT.reset(token)
        if scope.transient is None:
            observe_update(update.event_type, "failed" if error else "handled", time.perf_counter() - started)
        if scope.transient is not None:  # the database was unreachable mid-handler: handled again, later
            reason = _one_line(scope.transient)
            retried = await self.inbox.give_back(update.update_id, reason)
            log.warning("update %s %s: %s", update.update_id, "will be handled again" if retried else "failed", reason)
            return None  # the chat waits for it: the sweep takes it again after the pause
        # the chat's next in the mark's transaction; on SQLite (one process: bot/inbox.py) only when this process
        # stored a newer one for the chat or the sweep found it (``backlog``), which saves a statement per update
        newer = self._told.get(chat, 0) > update.update_id or chat in self._poked
        wanted = (self.inbox.shared or backlog or newer) and not self._stopping
        if wanted:  # the claim sees every update stored before it; only a later one pokes the chat again
            self._poked.discard(chat)
        next_of = (chat, self.bot) if wanted else None
        for pause in (*FINISH_RETRY_S, None):  # answered already: mark it, or it is handled (and answered) again
            try:
                return await self.inbox.finish(update.update_id, error, scope.writes.values(), next_of, claimer)
            except (SQLAlchemyError, OSError) as failure:
                if pause is None or self._stopping or not is_transient(failure):
                    raise
                log.warning(
                    "update %s handled; its mark waits for the database: %s", update.update_id, _one_line(failure)
                )
                await asyncio.sleep(pause)
        return None

    async def run(self, stop: asyncio.Event) -> None:
        """:meth:`sweep` every ``sweep_s`` until ``stop``."""
        while not stop.is_set():
            try:
                await self.sweep()
            except (SQLAlchemyError, OSError) as error:
                log.warning("the inbox cannot be reached (%s); retrying", _one_line(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.sweep_s)

    async def sweep(self) -> None:
        """One look for what no one took (the chats found get going); every fifth, claims of replicas that died
        (or of this one's tasks that could not finish) are given back first; once an hour, old marks go."""
        now = self.inbox.clock.now()
        if self._tidied is None or now - self._tidied > timedelta(hours=1):
            await self.inbox.forget_before(now - KEEP_HANDLED)
            self._tidied = now
        if self._sweeps % 5 == 0:
            if released := await self.inbox.release_dead():
                log.info("%d update(s) claimed by a replica that is gone are taken over", released)
            await self.inbox.release_stale(set(self._chains), self.inbox.clock.now())
        self._sweeps += 1
        for chat in await self.inbox.ready_chats():
            if chat not in self._chains:
                self._kick(chat)

    async def wait_idle(self, timeout: float) -> bool:
        """True once no update is in hand; False if one still is after ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def stop(self, timeout: float) -> None:
        """Take nothing more; the updates in hand finish within ``timeout`` seconds (the rest are cancelled: their
        transactions roll back); then every claim of this replica is given back for the others."""
        self._stopping = True
        if not await self.wait_idle(timeout):
            log.warning("stopping: %d update(s) still in hand after %.0f s are given back", len(self._chains), timeout)
            for task in list(self._chains.values()):
                task.cancel()
            await asyncio.gather(*self._chains.values(), return_exceptions=True)
        with contextlib.suppress(SQLAlchemyError, OSError):
            await self.inbox.release_mine()


class InboxPolling:
    """Long polling into the inbox (the leader's duty: one ``getUpdates`` per token): stores each batch on a
    connection of its own (:class:`StoreLane`), then asks for the next (which acknowledges it), and hands the raw
    batch to the :class:`InboxWorker` (which may answer some of it before it is stored: bot/room_answers.py)."""

    def __init__(
        self, bot: Bot, inbox: Inbox, worker: InboxWorker | None, allowed_updates: list[str] | None = None
    ) -> None:
        self.bot, self.inbox, self.worker = bot, inbox, worker
        self.allowed_updates = allowed_updates

    async def run(self, stop: asyncio.Event) -> None:
        await self.bot.delete_webhook(drop_pending_updates=False)  # getUpdates is refused while a webhook is set
        lane = StoreLane(self.inbox)
        try:
            await self._poll(stop, lane)
        finally:
            await lane.close()

    async def _poll(self, stop: asyncio.Event, lane: StoreLane) -> None:
        offset: int | None = None
        failures = 0
        while not stop.is_set():
            try:
                poll = asyncio.ensure_future(
                    self.bot(GetRawUpdates(offset=offset, timeout=POLL_TIMEOUT, allowed_updates=self.allowed_updates))
                )
                stopping = asyncio.ensure_future(stop.wait())
                done, _ = await asyncio.wait({poll, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if poll not in done:
                    poll.cancel()
                    with contextlib.suppress(asyncio.CancelledError, TelegramAPIError, ClientDecodeError):
                        await poll
                    break
                stopping.cancel()
                raw = poll.result()
                # committed before the next call acknowledges them; the worker's chats get going (and their first
                # updates are claimed) in the same transaction, on the connection kept for the stores
                connection = await lane.connection()
                if self.worker is not None:
                    await self.worker.accept(raw, connection)
                else:
                    await self.inbox.take(raw, self.bot, 0, (), connection)
            except TelegramUnauthorizedError:
                raise  # the token was revoked: nothing to wait for (the runner says so in one line)
            except (TimeoutError, TelegramAPIError, ClientDecodeError, OSError, SQLAlchemyError) as error:
                if isinstance(error, SQLAlchemyError | OSError):  # the connection may be what broke: a new one next
                    await lane.close()
                delay = BACKOFF[min(failures, len(BACKOFF) - 1)]
                failures += 1
                what = "storing updates" if isinstance(error, SQLAlchemyError) else "getUpdates"
                log.warning("%s failed (%s); retrying in %ss", what, _one_line(error), delay)  # one line per attempt
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                continue
            failures = 0
            ids = [
                item["update_id"] for item in raw if isinstance(item, dict) and isinstance(item.get("update_id"), int)
            ]
            if ids:
                offset = max(ids) + 1  # past every update of the batch, the poison ones too


class StoreLane:
    """The polling's own database connection for storing batches: checked out once and kept, so that a batch
    never waits for the pool behind the handlers' transactions (in a surge every connection of the pool is busy,
    and Telegram's next batch is asked for only once this one is committed). On SQLite the store goes ahead of the
    handlers' writes too (bot/storage/write_gate.py). A connection that failed is closed and a new one taken."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self._connection: AsyncConnection | None = None

    async def connection(self) -> AsyncConnection:
        if self._connection is None:
            self._connection = await self.inbox.engine.connect()
        return self._connection

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(SQLAlchemyError, OSError):
                await connection.close()


def _one_line(error: BaseException) -> str:
    orig = getattr(error, "orig", None)  # a driver's error wrapped by SQLAlchemy says more
    reason = str(getattr(error, "message", None) or orig or error)
    return " ".join(reason.split())[:300] or type(error).__name__
