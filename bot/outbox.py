"""The sender: drains the outbox to Telegram after commit, so nothing is sent for a rolled-back change and nothing
is lost while Telegram is down.

Telegram's round trip is 50-150 ms, and one request at a time cannot reach its ~30 messages/s, so several requests
are in flight at once (``concurrency``), but never two for one chat: each chat's messages go out strictly in order,
the next one rendered only after the previous one was accepted, marked sent and its ``after_send`` hook ran.

Telegram's limits are kept with token buckets (:mod:`bot.ratelimit`), spent right before each request: a chat that
had its share is deferred (its rows go back to the queue, due when its bucket has a token again) while other chats
go on; only the overall rate ever makes a request wait. The sender's bot has no retry middleware (see
:mod:`bot.sender_session`): a 429 defers that chat by ``retry_after`` (and holds the overall bucket when the chat
cannot have been the reason); 5xx and network errors give the row back with backoff, deferring its chat as well (so
the chat's later messages do not overtake it), until ``max_attempts``, then the row is dead-lettered. Per row: a
user who blocked the bot is not messaged again (the row is closed, no request made); 403 marks them; other 4xx close
the row with Telegram's reason.

Rows are claimed in batches and marked sent in batches (:class:`SentMarks`, a group commit: a mark waits only for
the write already under way). Delivery is at least once: a message is marked sent only after Telegram accepted it,
and a sender killed between Telegram's answer and that mark's commit sends the row again when its lease ends. That
window is one database write long, as it was with one request at a time; a request that timed out after Telegram
took it is the other, rarer way to a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, Message, ReplyParameters
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.desk_topics import forget_topic, topic_gone
from bot.i18n import I18n
from bot.ratelimit import Limits
from bot.rendering import Renderer
from bot.response_models import keep_response_models
from bot.storage.catalog_cache import CatalogCache
from bot.storage.db import is_transient
from bot.storage.outbox import Claimed, OutboxQueue
from bot.storage.uow import SqlUnitOfWork
from domain.ports import Clock
from handlers.media import send_document, send_venue
from handlers.notifications import Rendered, Superseded

log = logging.getLogger(__name__)

BACKOFF_MAX = timedelta(minutes=5)
CONCURRENCY = 12  # requests in flight: 30/s x (round trip + render + mark) with room for a slow network
PACE_MAX_S = 5.0  # a row waits this long at most for the overall rate, well inside its lease (storage.outbox.LEASE)
# Telegram's words for a message that can no longer be edited: it is sent anew instead.
_GONE = ("message to edit not found", "message can't be edited", "MESSAGE_ID_INVALID")
_TICK = timedelta(microseconds=1)  # between two rows of one chat deferred together: they come back in order


def _about(row: Claimed) -> dict[str, Any]:
    """A log line's ``extra``: the chat, and the order when the row is about one (bot/logs.py)."""
    order_id = row.payload.get("order_id")
    return {"chat_id": row.chat_id, "order_id": order_id if isinstance(order_id, int) else None}


class SentMarks:
    """Group commit of "sent" marks: a mark joins the write being prepared; while one write runs, the marks that
    arrive meanwhile wait for the next one. With nothing else writing, a mark costs one write, as before."""

    def __init__(self, queue: OutboxQueue, clock: Clock) -> None:
        self.queue, self.clock = queue, clock
        self._waiting: list[tuple[int, int | None, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def mark(self, row_id: int, message_id: int | None) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((row_id, message_id, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        await asyncio.shield(future)  # a cancelled caller does not take the mark of others with it

    async def _write(self) -> None:
        while self._waiting:
            marks, self._waiting = self._waiting, []
            try:
                await self.queue.sent_many([(row_id, message_id) for row_id, message_id, _ in marks], self.clock.now())
            except Exception as error:  # the rows stay leased: sent again when the lease ends (at least once)
                for *_, future in marks:
                    future.set_exception(error)
            else:
                for *_, future in marks:
                    future.set_result(None)


class _Hand:
    """The rows of one run in hand: per chat in order, the chats whose turn it is, the one request per chat."""

    def __init__(self) -> None:
        self.rows: dict[int, deque[Claimed]] = {}
        self.turn: deque[int] = deque()  # chats with rows in hand and nothing in flight
        self.busy: dict[asyncio.Task[int], int] = {}  # request in flight -> its chat

    def add(self, row: Claimed) -> None:
        queue = self.rows.get(row.chat_id)
        if queue is None:
            queue = self.rows[row.chat_id] = deque()
            if row.chat_id not in self.busy.values():
                self.turn.append(row.chat_id)
        queue.append(row)

    def held(self) -> int:
        return sum(len(q) for q in self.rows.values())

    def chats(self) -> set[int]:
        """The chats with rows in hand or in flight: their leased rows are this run's."""
        return {*self.rows, *self.busy.values()}

    def take_chat(self, chat_id: int) -> list[Claimed]:
        return list(self.rows.pop(chat_id, ()))


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        i18n: I18n,
        clock: Clock,
        batch: int = 20,
        max_attempts: int = 5,
        limits: Limits | None = None,
        payment_provider_token: str | None = None,
        desk_timezone: str | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        concurrency: int = CONCURRENCY,
        catalog_cache: CatalogCache | None = None,
    ) -> None:
        keep_response_models()  # no pydantic rebuild of aiogram's answer models after a garbage collection
        self.bot = bot
        self.sessions = sessions
        self.queue = OutboxQueue(sessions)
        self.renderer = Renderer(i18n, payment_provider_token=payment_provider_token, desk_timezone=desk_timezone)
        self.default_language = i18n.default
        self.kinds = Renderer.kinds()
        self.clock = clock
        self.batch = batch
        self.max_attempts = max_attempts
        self.limits = limits or Limits()
        self.sleep = sleep
        self.concurrency = max(1, concurrency)
        self.catalog_cache = catalog_cache  # the process's (bot.app's dp["catalog_cache"]): no catalog read per row
        self.marks = SentMarks(self.queue, clock)
        self._slots = asyncio.Semaphore(self.concurrency)
        # chat -> (when it may send again, the due time of its latest row given back)
        self._deferred: dict[int, tuple[datetime, datetime]] = {}
        self._stopping = False
        self._idle = asyncio.Event()
        self._idle.set()

    async def drain(self, budget: float = 30.0) -> int:
        """Deliver until nothing is due (or ``budget`` seconds pass, or a stop is asked): the scheduler's job.
        Rows are claimed again while the requests of the last claim are still in flight."""
        return await self._run(time.monotonic() + budget, once=False)

    async def deliver_due(self) -> int:
        """One claim of due rows, delivered; returns how many were sent."""
        return await self._run(None, once=True)

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the requests in flight (so nothing Telegram accepted is sent again after a restart), give the
        other rows in hand back to the queue, then stop."""
        self._stopping = True
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)

    async def _run(self, deadline: float | None, once: bool) -> int:
        """Claims run beside the requests (the next batch arrives while the last one's requests fly); every chat
        with rows in hand and nothing in flight gets its next row started at once, and the rows wait for one of
        ``concurrency`` slots to be rendered and sent (see :meth:`_deliver`)."""
        hand = _Hand()
        sent = 0
        more = not self._stopping
        claiming: asyncio.Task[int] | None = None
        self._idle.clear()
        try:
            while True:
                if self._stopping:
                    more = False
                    if hand.rows:  # the rows not started go back to the queue, untouched
                        now = self.clock.now()
                        rest = [(row.id, now) for chat in list(hand.rows) for row in hand.take_chat(chat)]
                        hand.turn.clear()
                        await self.queue.release(rest, "the sender stopped")
                elif more and claiming is None and len(hand.busy) + hand.held() < self.batch + self.concurrency:
                    claiming = asyncio.create_task(self._claim(hand))
                    more = not once
                await self._start(hand)
                waiting: set[asyncio.Task[int]] = set(hand.busy)
                if claiming is not None:
                    waiting.add(claiming)
                if not waiting:
                    if not hand.rows:
                        break
                    hand.turn.extend(hand.rows)  # cannot happen (a chat in hand is in turn or in flight); no spin
                    continue
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task is claiming:
                        claiming = None
                        if task.result() < self.batch or (deadline is not None and time.monotonic() >= deadline):
                            more = False  # nothing more is due now (or the time is up)
                        continue
                    chat = hand.busy.pop(task)
                    sent += task.result()
                    if chat in hand.rows:
                        hand.turn.append(chat)
        finally:
            for task in [*hand.busy, *([claiming] if claiming else [])]:  # only on an error of the run itself:
                task.cancel()  # the leases bring the rows back; until then their chats wait (OutboxQueue.claim)
            if hand.rows:  # ... and so would the rows in hand, not started: they go back now, untouched
                now = self.clock.now()
                rest = [(row.id, self._defer(chat, now)) for chat in list(hand.rows) for row in hand.take_chat(chat)]
                with contextlib.suppress(Exception):  # the database may be what failed: then their lease ends
                    await self.queue.release(rest, "the sender's run failed")
            self._idle.set()
        return sent

    async def _claim(self, hand: _Hand) -> int:
        """Claim a batch; rows for users who blocked the bot are closed; rows for deferred chats go back at once,
        after the rows of that chat already given back."""
        now = self.clock.now()
        rows = await self.queue.claim(now, self.kinds, self.batch, hand.chats())
        if not rows:
            return 0
        blocked = await self.queue.blocked_users([row.chat_id for row in rows])
        back: list[tuple[int, datetime]] = []
        for row in rows:
            if row.chat_id in blocked:
                await self._undeliverable(row, now, "the recipient has blocked the bot")
            elif self._waits(row.chat_id, now) and row.chat_id not in hand.rows:
                back.append((row.id, self._defer(row.chat_id, now)))
            else:
                hand.add(row)
        if back:
            await self.queue.release(back, "waiting for the chat's turn")
        return len(rows)

    def _waits(self, chat_id: int, now: datetime) -> bool:
        """The chat's rows were given back to the queue for later than ``now``."""
        deferred = self._deferred.get(chat_id)
        return deferred is not None and deferred[0] > now

    def _defer(self, chat_id: int, at: datetime) -> datetime:
        """The due time for the next row of ``chat_id`` given back to be due at ``at``: never before one given
        back earlier, so the chat's rows come back in the order they left."""
        deferred = self._deferred.get(chat_id)
        deferred = (at, at) if deferred is None or deferred[1] < at else (deferred[0], deferred[1] + _TICK)
        if len(self._deferred) > 10_000:  # forget chats whose rows are all due again
            now = self.clock.now()
            self._deferred = {c: d for c, d in self._deferred.items() if d[1] > now}
        self._deferred[chat_id] = deferred
        return deferred[1]

    async def _start(self, hand: _Hand) -> None:
        """The next row of every chat whose turn it is; a chat that has to wait is given back to the queue (due
        when it may send again), so it holds up no one."""
        back: list[tuple[int, datetime]] = []
        while hand.turn:
            chat = hand.turn.popleft()
            now = self.clock.now()
            if self._waits(chat, now):
                back += [(row.id, self._defer(chat, now)) for row in hand.take_chat(chat)]
            elif (wait := self.limits.chat_wait(chat)) > 0:
                at = now + timedelta(seconds=wait)
                back += [(row.id, self._defer(chat, at)) for row in hand.take_chat(chat)]
            else:
                queue = hand.rows[chat]
                row = queue.popleft()
                if not queue:
                    del hand.rows[chat]
                hand.busy[asyncio.create_task(self._deliver(row))] = chat
        if back:
            await self.queue.release(back, "waiting for the chat's rate limit")

    def _uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions, self.catalog_cache)

    async def _pace(self, row: Claimed) -> bool:
        """Spend the tokens right before the request, so Telegram sees the pace the buckets keep; only the overall
        rate waits here (a chat's own limit was checked when its turn came, and only one request per chat flies).
        A longer hold (a flood wait for everyone) gives the row back rather than keep it past its lease: False."""
        while (wait := self.limits.overall_wait()) > 0:
            if wait > PACE_MAX_S:
                at = self.clock.now() + timedelta(seconds=wait)
                await self.queue.release([(row.id, self._defer(row.chat_id, at))], "flood control")
                return False
            await self.sleep(wait)
        self.limits.take(row.chat_id)
        return True

    async def _back_off(self, row: Claimed, error: BaseException) -> None:
        """A 5xx, a network error or anything unexpected: the row goes back with backoff, and its chat waits as
        long (its later rows must not overtake it); after ``max_attempts`` it is dead-lettered. The pause counts
        from the failure, not from the request's start: a request that hung for longer than the pause would
        otherwise leave its chat free at once, and the chat's next row in hand would go out ahead of it."""
        now = self.clock.now()
        reason = getattr(error, "message", None) or repr(error)
        if row.attempts >= self.max_attempts:
            await self._undeliverable(row, now, reason)
            log.error("outbox %s dead after %s attempts: %s", row.id, row.attempts, reason, extra=_about(row))
            return
        delay = min(timedelta(seconds=2**row.attempts), BACKOFF_MAX)
        await self.queue.release([(row.id, self._defer(row.chat_id, now + delay))], reason, count_attempt=True)
        if not isinstance(error, (TelegramServerError, TelegramNetworkError)):
            log.error("outbox %s (%s): unexpected error", row.id, row.kind, exc_info=error, extra=_about(row))
        else:
            log.info(
                "outbox %s (%s): %s; tried again in %ss", row.id, row.kind, reason, delay.seconds, extra=_about(row)
            )

    async def _flooded(self, row: Claimed, now: datetime, error: TelegramRetryAfter) -> None:
        """429: this chat waits ``retry_after`` (the row goes back, not counted as a failure); when the chat cannot
        have been the reason, the overall bucket waits too."""
        metrics.TELEGRAM_429.inc()
        if self.limits.flooded(row.chat_id, error.retry_after):
            log.warning("flood control: every chat waits %ss", error.retry_after, extra=_about(row))
        at = now + timedelta(seconds=error.retry_after)
        await self.queue.release([(row.id, self._defer(row.chat_id, at))], "flood control")

    async def _deliver(self, row: Claimed) -> int:
        """Render and send in one of ``concurrency`` slots; then, the slot free for another chat, mark it sent and
        run its ``after_send`` hook before the chat's next row starts."""
        async with self._slots:
            if self._stopping:  # not started yet: back to the queue, untouched
                await self.queue.release([(row.id, self.clock.now())], "the sender stopped")
                return 0
            accepted = await self._render_and_send(row)
        if accepted is None:
            return 0
        rendered, sent_id = accepted
        await self.marks.mark(row.id, sent_id)
        metrics.OUTBOX_SENT.inc()
        if rendered.after_send is not None:
            try:
                await rendered.after_send(sent_id)
            except Exception:  # the message is out; what we remember of it must not make it go out again
                log.exception("outbox %s (%s): after-send hook failed", row.id, row.kind, extra=_about(row))
        return 1

    async def _render_and_send(self, row: Claimed) -> tuple[Rendered, int] | None:
        """The message Telegram accepted and its id; None when it was not sent (the row is given back or closed)."""
        now = self.clock.now()
        try:
            rendered = await self.renderer.render(self._uow(), row.kind, row.chat_id, row.payload, self.bot, now)
        except TelegramRetryAfter as error:  # a renderer asked Telegram first (a forum topic)
            await self._flooded(row, now, error)
            return None
        except (TelegramServerError, TelegramNetworkError) as error:
            await self._back_off(row, error)
            return None
        except Superseded:  # a newer row of the same message has its own turn: nothing failed
            await self.queue.superseded(row.id, now)
            return None
        except Exception as error:  # a rendering bug must not block the queue behind it
            if is_transient(error):  # the database was busy or away while rendering: tried again, like a 5xx
                await self._back_off(row, error)
                return None
            log.exception("outbox %s (%s): cannot render", row.id, row.kind, extra=_about(row))
            await self.queue.dead(row.id, now, f"render failed: {error!r}")
            metrics.OUTBOX_DEAD.inc()
            return None
        if rendered is None:
            await self.queue.dead(row.id, now, "nothing to send: the subject is gone")
            metrics.OUTBOX_DEAD.inc()
            return None
        if not await self._pace(row):
            return None
        try:
            message_id = await self._send(row.chat_id, rendered)
        except TelegramRetryAfter as error:
            await self._flooded(row, self.clock.now(), error)
            return None
        except TelegramForbiddenError as error:
            if row.chat_id > 0:
                await self.queue.mark_blocked(row.chat_id, now, self.default_language)
            await self._undeliverable(row, now, error.message)
            log.warning(
                "outbox %s: chat %s refuses messages: %s", row.id, row.chat_id, error.message, extra=_about(row)
            )
            return None
        except TelegramBadRequest as error:
            if rendered.topic_key is not None and topic_gone(error):  # deleted or closed meanwhile: make it anew
                await forget_topic(self._uow(), rendered.topic_key)
                await self.queue.retry(row.id, now, error.message)  # counted: a topic that never takes ends dead
                log.info(
                    "outbox %s: topic %r is gone; it is created anew", row.id, rendered.topic_key, extra=_about(row)
                )
                return None
            await self._undeliverable(row, now, error.message)
            log.error("outbox %s (%s) refused by Telegram: %s", row.id, row.kind, error.message, extra=_about(row))
            return None
        except TelegramMigrateToChat as error:  # the group became a supergroup: this chat id is gone
            await self._undeliverable(row, now, f"the group moved to chat {error.migrate_to_chat_id}")
            log.error(
                "outbox %s: chat %s moved to %s", row.id, row.chat_id, error.migrate_to_chat_id, extra=_about(row)
            )
            return None
        except Exception as error:  # 5xx, network, and anything unexpected: back off, then dead-letter
            await self._back_off(row, error)
            return None
        return rendered, message_id

    async def _undeliverable(self, row: Claimed, now: datetime, reason: str) -> None:
        """Dead-letter a row Telegram would not take; a message to a tourist or an organiser about an order makes
        that order a problem for the operators (they reach the person another way)."""
        await self.queue.dead(row.id, now, reason)
        metrics.OUTBOX_DEAD.inc()
        order_id = row.payload.get("order_id")
        if isinstance(order_id, int) and row.kind.startswith(("tourist.", "organiser.")):
            await self.queue.undelivered(order_id, row.kind, now)

    async def _send(self, chat_id: int, rendered: Rendered) -> int:
        """Send (or edit, or copy) and return the message id."""
        if rendered.edit_message_id is not None:
            try:
                await self.bot.edit_message_text(
                    text=rendered.text,
                    chat_id=chat_id,
                    message_id=rendered.edit_message_id,
                    reply_markup=rendered.markup,
                )
                return rendered.edit_message_id
            except TelegramBadRequest as error:
                if "message is not modified" in error.message:
                    return rendered.edit_message_id
                if not any(gone in error.message for gone in _GONE):
                    raise
                log.info(
                    "message %s in %s is gone (%s): sending it anew",
                    rendered.edit_message_id,
                    chat_id,
                    error.message,
                    extra={"chat_id": chat_id},
                )
        extra: dict[str, Any] = {}
        if rendered.thread_id is not None:
            extra["message_thread_id"] = rendered.thread_id
        if rendered.reply_to_message_id is not None:
            extra["reply_parameters"] = ReplyParameters(
                message_id=rendered.reply_to_message_id, allow_sending_without_reply=True
            )
        if rendered.copy_from is not None:
            copied = await self.bot.copy_message(
                chat_id,
                from_chat_id=rendered.copy_from[0],
                message_id=rendered.copy_from[1],
                reply_markup=rendered.markup,
                **extra,
            )
            return copied.message_id
        return (await self._post(chat_id, rendered, extra)).message_id

    async def _post(self, chat_id: int, rendered: Rendered, extra: dict[str, Any]) -> Message:
        if rendered.invoice is not None:
            invoice = rendered.invoice
            return await self.bot.send_invoice(
                chat_id,
                title=invoice.title,
                description=invoice.description,
                payload=invoice.payload,
                currency=invoice.currency,
                prices=invoice.prices,
                provider_token=self.renderer.options.get("payment_provider_token"),
                reply_markup=rendered.markup,
                **extra,
            )
        if rendered.venue is not None:
            return await send_venue(self.bot, chat_id, rendered.venue, rendered.markup, **extra)
        if rendered.document is not None:
            return await send_document(self.bot, chat_id, rendered.document, rendered.text, rendered.markup, **extra)
        if rendered.photo is not None:
            photo = BufferedInputFile(rendered.photo, filename=rendered.photo_name)
            return await self.bot.send_photo(
                chat_id, photo, caption=rendered.text, reply_markup=rendered.markup, **extra
            )
        return await self.bot.send_message(chat_id, rendered.text, reply_markup=rendered.markup, **extra)
