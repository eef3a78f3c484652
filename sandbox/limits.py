"""Telegram's flood limits as token buckets: per private chat, per group, overall.

Telegram does not publish exact numbers; its FAQ says "about 1 message per second in a chat (short bursts are
allowed), no more than 20 messages per minute in the same group, about 30 messages per second overall". The
defaults follow that; every number is configurable and the clock is injectable, so tests move time by hand.

Only methods that put a message into a chat count (``send*`` except ``sendChatAction``, ``copyMessage(s)``,
``forwardMessage(s)``); edits and answers are free, as in Telegram. A request that would exceed any bucket takes
no token from any of them and is answered 429 with ``retry_after`` = whole seconds until every bucket it needs has a
token again (at least 1).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]


def counts_as_message(method: str) -> bool:
    """True for the methods Telegram's message limits apply to."""
    if method == "sendChatAction":
        return False
    return method.startswith("send") or method in ("copyMessage", "copyMessages", "forwardMessage", "forwardMessages")


@dataclass
class TokenBucket:
    """``capacity`` tokens, refilled at ``rate`` tokens per second."""

    rate: float
    capacity: float
    tokens: float = -1.0
    updated: float | None = None

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def _refill(self, now: float) -> None:
        if self.updated is not None and now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now if self.updated is None else max(self.updated, now)

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self._refill(now)
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1


@dataclass
class Limits:
    """The buckets of one bot. ``check`` answers ``None`` (sent; tokens taken) or the ``retry_after`` seconds."""

    per_chat_rate: float = 1.0  # messages per second in one private chat
    per_chat_burst: int = 3
    per_group_rate: float = 20 / 60  # messages per second in one group (20 per minute)
    per_group_burst: int = 20
    global_rate: float = 30.0  # messages per second overall
    global_burst: int = 30
    enabled: bool = True
    clock: Clock = time.monotonic
    _chats: dict[int | str, TokenBucket] = field(default_factory=dict, repr=False)
    _global: TokenBucket | None = field(default=None, repr=False)

    @classmethod
    def off(cls) -> Limits:
        """No limits at all: for tests that do not care about flood control."""
        return cls(enabled=False)

    @classmethod
    def scaled(cls, factor: float, clock: Clock = time.monotonic) -> Limits:
        """Telegram's defaults with every rate multiplied by ``factor`` (e.g. 10 for a fast demo)."""
        return cls(per_chat_rate=1.0 * factor, per_group_rate=20 / 60 * factor, global_rate=30.0 * factor, clock=clock)

    def _bucket(self, chat_id: int | str, group: bool) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            bucket = (
                TokenBucket(self.per_group_rate, self.per_group_burst)
                if group
                else TokenBucket(self.per_chat_rate, self.per_chat_burst)
            )
            self._chats[chat_id] = bucket
        return bucket

    def check(self, chat_id: int | str, group: bool) -> int | None:
        """Take a token for one message into ``chat_id``; ``None`` when allowed, else seconds to wait (>= 1)."""
        if not self.enabled:
            return None
        if self._global is None:
            self._global = TokenBucket(self.global_rate, self.global_burst)
        now = self.clock()
        buckets = (self._bucket(chat_id, group), self._global)
        wait = max(b.wait(now) for b in buckets)
        if wait > 0:
            return max(1, math.ceil(wait - 1e-9))
        for bucket in buckets:
            bucket.take(now)
        return None

    def reset(self) -> None:
        self._chats.clear()
        self._global = None
