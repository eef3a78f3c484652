"""Telegram's outbound limits as token buckets: ~1 message/s per chat (short bursts allowed), 20 per minute per
group, ~30/s overall. The sender asks how long until a chat may get its next message and spends a token when it
sends; a chat that has to wait does not hold up the others. A 429 from Telegram holds the chat's bucket, and the
overall one when the chat cannot have been the reason (:meth:`Limits.flooded`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float
    burst: float


PER_CHAT = Rate(1.0, 3)
PER_GROUP = Rate(20 / 60, 20)
OVERALL = Rate(29.0, 10)  # a little under Telegram's ~30/s, so its count never runs ahead of ours


class Bucket:
    def __init__(self, rate: Rate, now: float) -> None:
        self.rate = rate
        self.tokens = rate.burst
        self.updated = now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.rate.burst, self.tokens + (now - self.updated) * self.rate.per_second)
        self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0 if now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate.per_second

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1

    def spent(self, now: float) -> float:
        """Tokens of the burst in use."""
        self._refill(now)
        return self.rate.burst - self.tokens

    def hold(self, now: float, seconds: float) -> None:
        """No token for ``seconds`` from now."""
        self._refill(now)
        self.tokens = min(self.tokens, 1 - seconds * self.rate.per_second)

    def full(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.rate.burst


class Limits:
    def __init__(
        self,
        per_chat: Rate = PER_CHAT,
        per_group: Rate = PER_GROUP,
        overall: Rate = OVERALL,
        clock: Callable[[], float] = time.monotonic,
        max_chats: int = 100_000,
    ) -> None:
        self.per_chat, self.per_group, self.clock, self.max_chats = per_chat, per_group, clock, max_chats
        self.overall = Bucket(overall, clock())
        self.hold_on_flood = True
        self._chats: dict[int, Bucket] = {}

    @classmethod
    def unlimited(cls) -> Limits:
        """No waiting at all: for tests that are not about pacing."""
        huge = Rate(1e9, 1e9)
        limits = cls(per_chat=huge, per_group=huge, overall=huge)
        limits.hold_on_flood = False
        return limits

    def _chat(self, chat_id: int, now: float) -> Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if len(self._chats) >= self.max_chats:  # forget full buckets: they behave like new ones
                self._chats = {c: b for c, b in self._chats.items() if not b.full(now)}
            bucket = self._chats[chat_id] = Bucket(self.per_group if chat_id < 0 else self.per_chat, now)
        return bucket

    def chat_wait(self, chat_id: int) -> float:
        now = self.clock()
        return self._chat(chat_id, now).wait(now)

    def overall_wait(self) -> float:
        return self.overall.wait(self.clock())

    def take(self, chat_id: int) -> None:
        now = self.clock()
        self._chat(chat_id, now).take(now)
        self.overall.take(now)

    def flooded(self, chat_id: int, retry_after: float) -> bool:
        """Telegram answered 429 to a message for ``chat_id`` (the sender defers that chat). If the chat had used no
        more of its burst than this message, its own limit cannot have been the reason: Telegram's overall count ran
        ahead of ours, and the overall bucket gives no token for ``retry_after`` seconds. Returns whether it did."""
        now = self.clock()
        overall = self._chat(chat_id, now).spent(now) <= 1 + 1e-9
        if overall and self.hold_on_flood:
            self.overall.hold(now, retry_after)
        return overall


# The methods Telegram counts toward its limits: the ones that make a message in a chat (edits, callback answers
# and chat actions are not counted).
_COUNTED_PREFIXES = ("send", "copyMessage", "forwardMessage")
_NOT_COUNTED = frozenset({"sendChatAction"})


def counted(method: TelegramMethod[Any]) -> bool:
    name = method.__api_method__
    return name.startswith(_COUNTED_PREFIXES) and name not in _NOT_COUNTED


class SpendHandlerSends(BaseRequestMiddleware):
    """The handlers' own messages (a reply to a person's tap) spend the sender's buckets, without waiting: they are
    paced by that person and the per-user throttle, but Telegram counts them with the sender's toward ~30/s and a
    chat's ~1/s. Not counted, they left the sender running at its full rate beside them: Telegram answered 429 and
    every chat waited out the flood (a hot on-sale: the admitted tourists' booking screens beside the room's
    messages). Only the leader's own handlers are counted: the other replicas' replies do not reach its buckets."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        response = await make_request(bot, method)
        chat_id = getattr(method, "chat_id", None)
        if isinstance(chat_id, int) and counted(method):
            self.limits.take(chat_id)
        return response
