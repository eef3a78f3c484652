"""Per-user throttle: one person flooding the bot is answered at a pace Telegram accepts, everyone else as usual.

Each user has a token bucket: ``BURST`` updates at once, refilled at ``PER_SECOND`` while the user is calm. A person
never empties it: each tap waits for the screen it asked for, and nobody reads a screen and taps its next button more
than ``PER_SECOND`` times a second for long (a whole booking is a dozen taps and some typing; the e2e tourists pause
like a person, see ``tests/e2e/tourist.py``), so the refill keeps up however long they go on. A script or a stuck key
sends far faster than that: it empties the bucket within a handful of updates, gets at most ``BURST`` answers, then
one notice in its language that it is going too fast, and what it sends meanwhile is dropped unanswered. While it
floods, the bucket refills at ``FLOOD_PER_SECOND`` only, Telegram's "about one message a second in a chat"; the flood
ends (and a later one is told again) when the bucket is full again. A dropped button press still gets an empty
``answerCallbackQuery`` (not a chat message), so the client's spinner stops. The first few answers of a flood may meet
Telegram's flood control once; the retry middleware (bot/telegram_retry.py) then waits as Telegram asks.

Why two rates rather than one: one rate has to be both above the fastest person (or they are throttled after the
burst) and at most Telegram's one message a second (or a sustained flood is answered faster than Telegram accepts).

Never throttled: updates in the operator group and from ``ADMIN_IDS`` (the desk), payments (``pre_checkout_query``
must be answered within seconds; ``successful_payment`` is money received) and every update kind a user cannot send
in a burst (membership changes and the like): only messages, edits and button presses are counted.

The buckets live in this process's memory: with several replicas each counts on its own (issue 12 moves shared
state to Redis). Idle users' buckets are forgotten, so memory follows the number of active users.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Chat, TelegramObject, Update
from aiogram.types import User as TgUser

from domain.ports import UnitOfWork
from handlers.settings import HandlerSettings
from handlers.ui import N_, Languages

log = logging.getLogger(__name__)

BURST = 6  # updates a user may send at once (a flood gets this many answers)
PER_SECOND = 3.0  # the refill while calm: a person reading each screen taps less often than this, however long
FLOOD_PER_SECOND = 1.0  # the refill while flooding: Telegram's pace for messages in one chat
SWEEP_EVERY_S = 60.0  # how often idle users' buckets are forgotten

TOO_FAST = N_(
    "You are sending too fast. I will skip what you send in the next few seconds: wait a moment, then send what "
    "you need once more."
)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class Verdict(Enum):
    PASS = "pass"  # handle it
    NOTIFY = "notify"  # drop it and tell the user (the first dropped update of a flood)
    DROP = "drop"  # drop it quietly


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float
    flooding: bool = False


class Throttle:
    """Token buckets per user id; ``monotonic`` is injectable so tests move time by hand."""

    def __init__(
        self,
        burst: int = BURST,
        per_second: float = PER_SECOND,
        monotonic: Callable[[], float] = time.monotonic,
        flood_per_second: float = FLOOD_PER_SECOND,
    ) -> None:
        self.burst = float(burst)
        self.per_second = per_second
        self.flood_per_second = min(flood_per_second, per_second)
        self.monotonic = monotonic
        self._buckets: dict[int, _Bucket] = {}
        self._swept = monotonic()

    def admit(self, user_id: int) -> Verdict:
        now = self.monotonic()
        if now - self._swept > SWEEP_EVERY_S:
            self._sweep(now)
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = _Bucket(self.burst, now)
        rate = self.flood_per_second if bucket.flooding else self.per_second
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= self.burst:
            bucket.flooding = False  # calm long enough: a later flood is a new one
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Verdict.PASS
        if bucket.flooding:
            return Verdict.DROP
        bucket.flooding = True
        return Verdict.NOTIFY

    def _sweep(self, now: float) -> None:
        """Forget the users whose bucket has filled up again: they start afresh, as a new user would."""
        self._swept = now
        refill = self.burst / self.flood_per_second
        for user_id in [u for u, b in self._buckets.items() if now - b.updated >= refill]:
            del self._buckets[user_id]


def _counted(update: Update) -> bool:
    """Messages, edits and button presses count; payments and everything else pass untouched."""
    if update.message is not None:
        return update.message.successful_payment is None and update.message.refunded_payment is None
    return update.edited_message is not None or update.callback_query is not None


class ThrottleMiddleware(BaseMiddleware):
    """An outer middleware on ``dp.update``, before the user middleware: a dropped update costs no database work.
    Only the notice (once per flood) reads the user's chosen language."""

    def __init__(self, throttle: Throttle, settings: HandlerSettings, i18n: Languages) -> None:
        self.throttle = throttle
        self.exempt_chat = settings.operator_chat_id
        self.exempt_users = frozenset(settings.admin_ids)
        self.i18n = i18n

    async def _language(self, uow: UnitOfWork, from_user: TgUser) -> str:
        async with uow:
            user = await uow.users.get(from_user.id)
        return user.language if user is not None else self.i18n.best(from_user.language_code)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        from_user: TgUser | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if (
            not isinstance(event, Update)
            or from_user is None
            or from_user.id in self.exempt_users
            or (chat is not None and chat.id == self.exempt_chat)
            or not _counted(event)
        ):
            return await handler(event, data)
        verdict = self.throttle.admit(from_user.id)
        if verdict is Verdict.PASS:
            return await handler(event, data)
        notice = None
        if verdict is Verdict.NOTIFY:
            log.info("user %s is flooding; their updates are skipped for a while", from_user.id)
            language = await self._language(data["uow"], from_user)
            notice = self.i18n.translator(language).gettext(TOO_FAST)
        await _tell(data["bot"], event, chat, notice)
        return None


async def _tell(bot: Bot, update: Update, chat: Chat | None, notice: str | None) -> None:
    """A dropped press gets its (empty) answer; the first dropped update of a flood carries the notice."""
    try:
        if update.callback_query is not None:
            await bot.answer_callback_query(update.callback_query.id, text=notice)
        elif notice is not None and chat is not None:
            await bot.send_message(chat.id, notice)
    except TelegramAPIError as error:  # the user blocked the bot, the press is too old: nothing to tell
        log.info("throttle notice for update %s not delivered: %s", update.update_id, error)
