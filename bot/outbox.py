"""The sender: drains the outbox to Telegram after commit, so nothing is sent for a rolled-back change and nothing
is lost while Telegram is down.

Telegram's limits are kept with token buckets (:mod:`bot.ratelimit`): a chat that had its share waits in the
queue while other chats' rows go on; the overall rate paces the batch. Per row: a user who blocked the bot is not
messaged again (the row is closed, no request made); 403 marks them; other 4xx close the row with Telegram's
reason; 5xx and network errors are retried with backoff until ``max_attempts``, then the row is dead-lettered; 429
pauses the batch for ``retry_after`` without counting as a failure. (The bot's retry middleware has already
retried each request a few times before we see an error.) Delivery is at least once: a sender killed between
Telegram's answer and the database update sends that row again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
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

from bot.desk_topics import forget_topic, topic_gone
from bot.i18n import I18n
from bot.ratelimit import Limits
from bot.rendering import Renderer
from bot.storage.outbox import Claimed, OutboxQueue
from bot.storage.uow import SqlUnitOfWork
from domain.ports import Clock
from handlers.notifications import Rendered

log = logging.getLogger(__name__)

BACKOFF_MAX = timedelta(minutes=5)
# Telegram's words for a message that can no longer be edited: it is sent anew instead.
_GONE = ("message to edit not found", "message can't be edited", "MESSAGE_ID_INVALID")


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
    ) -> None:
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
        self._stopping = False
        self._idle = asyncio.Event()
        self._idle.set()

    async def drain(self, budget: float = 30.0) -> int:
        """Deliver until nothing is due (or ``budget`` seconds pass, or a stop is asked): the scheduler's job.
        One batch per tick would cap delivery at batch/interval messages a second."""
        deadline = time.monotonic() + budget
        total = 0
        self._idle.clear()
        try:
            while not self._stopping:
                sent, claimed = await self._pass()
                total += sent
                if claimed < self.batch or time.monotonic() >= deadline:
                    break
        finally:
            self._idle.set()
        return total

    async def deliver_due(self) -> int:
        """One pass: claim due rows and deliver them; returns how many were sent."""
        sent, _claimed = await self._pass()
        return sent

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the row in hand (so nothing Telegram accepted is sent again after a restart), then stop."""
        self._stopping = True
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)

    async def _pass(self) -> tuple[int, int]:
        rows = await self.queue.claim(self.clock.now(), self.kinds, self.batch)
        if not rows:
            return 0, 0
        blocked = await self.queue.blocked_users([row.chat_id for row in rows])
        sent = 0
        for index, row in enumerate(rows):
            if self._stopping:  # the rest of the batch goes back to the queue, untouched
                for rest in rows[index:]:
                    await self.queue.retry(rest.id, self.clock.now(), "the sender stopped", count_attempt=False)
                break
            if row.chat_id in blocked:
                await self._undeliverable(row, self.clock.now(), "the recipient has blocked the bot")
                continue
            if (wait := self.limits.chat_wait(row.chat_id)) > 0:  # this chat had its share: the others go on
                later = self.clock.now() + timedelta(seconds=wait)
                await self.queue.retry(row.id, later, "waiting for the chat's rate limit", count_attempt=False)
                continue
            outcome = await self._deliver(row)
            if isinstance(outcome, TelegramRetryAfter):
                later = self.clock.now() + timedelta(seconds=outcome.retry_after)
                for rest in rows[index:]:
                    await self.queue.retry(rest.id, later, "flood control", count_attempt=False)
                break
            sent += outcome
        return sent, len(rows)

    async def _pace(self, chat_id: int) -> None:
        """Spend the tokens right before the request, so Telegram sees the pace the buckets keep."""
        if (wait := self.limits.overall_wait()) > 0:
            await self.sleep(wait)
        self.limits.take(chat_id)

    async def _deliver(self, row: Claimed) -> int | TelegramRetryAfter:
        now = self.clock.now()
        try:
            rendered = await self.renderer.render(
                SqlUnitOfWork(self.sessions), row.kind, row.chat_id, row.payload, self.bot, now
            )
        except Exception as error:  # a rendering bug must not block the queue behind it
            log.exception("outbox %s (%s): cannot render", row.id, row.kind)
            await self.queue.dead(row.id, now, f"render failed: {error!r}")
            return 0
        if rendered is None:
            await self.queue.dead(row.id, now, "nothing to send: the subject is gone")
            return 0
        await self._pace(row.chat_id)
        try:
            message_id = await self._send(row.chat_id, rendered)
        except TelegramRetryAfter as error:
            return error
        except TelegramForbiddenError as error:
            if row.chat_id > 0:
                await self.queue.mark_blocked(row.chat_id, now, self.default_language)
            await self._undeliverable(row, now, error.message)
            log.warning("outbox %s: chat %s refuses messages: %s", row.id, row.chat_id, error.message)
            return 0
        except TelegramBadRequest as error:
            if rendered.topic_key is not None and topic_gone(error):  # deleted or closed meanwhile: make it anew
                await forget_topic(SqlUnitOfWork(self.sessions), rendered.topic_key)
                await self.queue.retry(row.id, now, error.message)  # counted: a topic that never takes ends dead
                log.info("outbox %s: topic %r is gone; it is created anew", row.id, rendered.topic_key)
                return 0
            await self._undeliverable(row, now, error.message)
            log.error("outbox %s (%s) refused by Telegram: %s", row.id, row.kind, error.message)
            return 0
        except TelegramMigrateToChat as error:  # the group became a supergroup: this chat id is gone
            await self._undeliverable(row, now, f"the group moved to chat {error.migrate_to_chat_id}")
            log.error("outbox %s: chat %s moved to %s", row.id, row.chat_id, error.migrate_to_chat_id)
            return 0
        except Exception as error:  # 5xx, network, and anything unexpected: back off, then dead-letter
            reason = getattr(error, "message", None) or repr(error)
            if row.attempts >= self.max_attempts:
                await self._undeliverable(row, now, reason)
                log.error("outbox %s dead after %s attempts: %s", row.id, row.attempts, reason)
            else:
                delay = min(timedelta(seconds=2**row.attempts), BACKOFF_MAX)
                await self.queue.retry(row.id, now + delay, reason)
                if not isinstance(error, (TelegramServerError, TelegramNetworkError)):
                    log.exception("outbox %s (%s): unexpected error", row.id, row.kind)
            return 0
        await self.queue.sent(row.id, self.clock.now(), message_id)
        if rendered.after_send is not None:
            try:
                await rendered.after_send(message_id)
            except Exception:  # the message is out; what we remember of it must not make it go out again
                log.exception("outbox %s (%s): after-send hook failed", row.id, row.kind)
        return 1

    async def _undeliverable(self, row: Claimed, now: datetime, reason: str) -> None:
        """Dead-letter a row Telegram would not take; a message to a tourist or an organiser about an order makes
        that order a problem for the operators (they reach the person another way)."""
        await self.queue.dead(row.id, now, reason)
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
                    "message %s in %s is gone (%s): sending it anew", rendered.edit_message_id, chat_id, error.message
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
        if rendered.photo is not None:
            photo = BufferedInputFile(rendered.photo, filename=rendered.photo_name)
            return await self.bot.send_photo(
                chat_id, photo, caption=rendered.text, reply_markup=rendered.markup, **extra
            )
        return await self.bot.send_message(chat_id, rendered.text, reply_markup=rendered.markup, **extra)
