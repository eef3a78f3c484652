"""Long polling that loses no update: each update is committed to the ``inbox`` table before Telegram is told it
arrived, and handled from there.

Telegram forgets an update once a later ``getUpdates`` carries a higher offset. aiogram's own polling sends that
offset while handlers may still be running, so a process killed mid-handler (a payment, a confirmation) would lose
the update. Here the order is: receive -> store (commit) -> confirm (the next ``getUpdates``) -> handle -> mark done.
A process killed at any point either has not confirmed the update (Telegram sends it again) or has it stored as
pending (handled again at the next start). Handlers that change state are idempotent (payments by charge id,
bookings by their screen's key, answers to a request by its state), so handling twice is harmless.

Updates of one chat are handled in order, one at a time; different chats run concurrently.

``getUpdates`` is read as plain JSON (:class:`GetRawUpdates`) and each update decoded on its own: one that aiogram
cannot decode (a field newer than the library, a malformed one) is a *poison* update. It is stored as ``failed`` with
its raw JSON (for a developer) and the reason, confirmed with the others and reported in one log line; the rest of
its batch is handled and the bot carries on. A stored pending update that no longer decodes (after an upgrade) is
treated the same way at start. :meth:`Inbox.accept` takes raw updates from any source (polling now, a webhook later).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from aiogram import Bot
from aiogram.exceptions import ClientDecodeError, TelegramAPIError, TelegramUnauthorizedError
from aiogram.methods import TelegramMethod
from aiogram.types import Chat, Update, User
from pydantic import ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.db import dialect_insert
from bot.storage.reads import engine_of
from bot.storage.tables import InboxRow
from bot.storage.update_scope import CURRENT, UpdateScope, Write
from domain.ports import Clock

log = logging.getLogger(__name__)

POLL_TIMEOUT = 25  # seconds Telegram holds a getUpdates open
KEEP_HANDLED = timedelta(days=2)  # handled updates are remembered this long, to drop repeated deliveries
BACKOFF = (1, 2, 4, 8, 15, 30)


class Inbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self._engine = engine_of(sessions)
        self.clock = clock

    async def store(self, updates: list[Update]) -> list[Update]:
        """Keep the updates not seen before; returns those (a repeat delivery is dropped)."""
        return await self._keep([(u.update_id, _payload(u), u) for u in updates])

    async def accept(self, raw: list[dict[str, Any]], bot: Bot) -> list[Update]:
        """Decode and keep raw updates (as Telegram sent them); returns the fresh ones that decoded. A poison update
        is kept as ``failed`` with its raw JSON and reported; one without an ``update_id`` cannot be kept at all."""
        kept: list[tuple[int, dict[str, Any], Update | str]] = []
        for item in raw:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if not isinstance(update_id, int):
                log.error("an update without an update_id was dropped: %.300r", item)
                continue
            kept.append((update_id, item, _decode(item, bot)))
        return await self._keep(kept)

    async def _keep(self, items: list[tuple[int, dict[str, Any], Update | str]]) -> list[Update]:
        if not items:
            return []
        now = self.clock.now()
        rows: dict[int, dict[str, Any]] = {}
        for update_id, payload, decoded in items:  # a batch that repeats an id keeps its first copy
            poison = isinstance(decoded, str)
            rows.setdefault(
                update_id,
                {
                    "update_id": update_id,
                    "payload": payload,
                    "received_at": now,
                    "status": "failed" if poison else "pending",
                    "attempts": 0,
                    "done_at": now if poison else None,
                    "last_error": f"cannot be decoded: {decoded}" if poison else None,
                },
            )
        async with self._engine.begin() as db:  # one statement: a repeat delivery inserts nothing
            statement = dialect_insert(db.dialect.name, InboxRow).values(list(rows.values()))
            fresh = set(
                await db.scalars(
                    statement.on_conflict_do_nothing(index_elements=[InboxRow.update_id]).returning(InboxRow.update_id)
                )
            )
        kept: list[Update] = []
        for update_id, _, decoded in items:
            if update_id not in fresh:
                continue
            fresh.discard(update_id)
            if isinstance(decoded, str):
                log.error("update %s cannot be decoded; stored as failed and skipped: %s", update_id, decoded)
            else:
                kept.append(decoded)
        return kept

    async def pending(self, bot: Bot) -> list[Update]:
        """The updates stored but not handled (by a process that died); one that no longer decodes is failed."""
        async with self.sessions() as db:
            rows = (
                await db.execute(
                    select(InboxRow.update_id, InboxRow.payload)
                    .where(InboxRow.status == "pending")
                    .order_by(InboxRow.update_id)
                )
            ).all()
        updates = []
        for update_id, payload in rows:
            decoded = _decode(payload, bot)
            if isinstance(decoded, Update):
                updates.append(decoded)
                continue
            log.error("pending update %s cannot be decoded; marked failed and skipped: %s", update_id, decoded)
            await self.finish(update_id, f"cannot be decoded: {decoded}")
        return updates

    async def finish(self, update_id: int, error: str | None, writes: Iterable[Write] = ()) -> None:
        """Mark the update handled (or failed), with the writes its handling left for the end (the conversation
        state: bot/storage/update_scope.py), in one transaction."""
        async with self._engine.begin() as db:  # Core on a connection: the ORM's session has nothing to add here
            for write in writes:
                await write(db)
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


def _payload(update: Update) -> dict[str, Any]:
    return update.model_dump(mode="json", exclude_none=True, by_alias=True)


def _decode(payload: dict[str, Any], bot: Bot) -> Update | str:
    """The update, or why aiogram cannot read it (one line)."""
    try:
        return Update.model_validate(payload, context={"bot": bot})
    except ValidationError as error:
        problems = [f"{'.'.join(map(str, e['loc'])) or 'update'}: {e['msg']}" for e in error.errors()]
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return ("; ".join(problems[:3]) + more)[:400]
    except Exception as error:  # a validator of the library may raise anything on odd input
        return f"{type(error).__name__}: {error}"[:400]


class GetRawUpdates(TelegramMethod[list[dict[str, Any]]]):
    """``getUpdates`` answered as plain JSON objects, so that each update is decoded on its own (see the module's
    docstring) instead of the whole batch failing on one."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


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
            scope = UpdateScope()
            token = CURRENT.set(scope)
            try:
                await self.dp.feed_update(self.bot, update)
            except Exception as exc:  # the errors router already apologised; keep the update for the record
                log.exception("update %s failed", update.update_id)
                error = repr(exc)[:500]
            finally:
                CURRENT.reset(token)
            await self.inbox.finish(update.update_id, error, scope.writes.values())

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
        try:
            while not stop.is_set():
                now = self.inbox.clock.now()
                if tidied is None or now - tidied > timedelta(hours=1):
                    await self.inbox.forget_before(now - KEEP_HANDLED)
                    tidied = now
                try:
                    poll = asyncio.ensure_future(
                        self.bot(
                            GetRawUpdates(offset=offset, timeout=POLL_TIMEOUT, allowed_updates=self.allowed_updates)
                        )
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
                except TelegramUnauthorizedError:
                    raise  # the token was revoked: nothing to wait for (the runner says so in one line)
                except (TimeoutError, TelegramAPIError, ClientDecodeError, OSError) as error:
                    delay = BACKOFF[min(failures, len(BACKOFF) - 1)]
                    failures += 1
                    reason = " ".join(str(getattr(error, "message", error)).split()) or type(error).__name__
                    log.warning("getUpdates failed (%s); retrying in %ss", reason, delay)  # one line per attempt
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(stop.wait(), delay)
                    continue
                failures = 0
                for fresh in await self.inbox.accept(raw, self.bot):  # committed before the next call confirms them
                    self._spawn(fresh)
                ids = [item["update_id"] for item in raw if isinstance(item.get("update_id"), int)]
                if ids:
                    offset = max(ids) + 1  # past every update of the batch, the poison ones too
        finally:
            if self._tasks:  # let updates in hand finish, briefly; the rest stay pending for the next start
                await asyncio.wait(self._tasks, timeout=10)
