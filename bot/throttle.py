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

Where the buckets live: with ``REDIS_URL`` set (:func:`build_throttle`), in Redis, shared by every replica, so
updates of one chat handled by different processes draw on one bucket; else in this process's memory. Both run the
same step (:func:`step_bucket`, a pure function; the Lua script ``_STEP_LUA`` mirrors it line by line and the tests
hold both to the same cases), with the same constants. A user's state is their tokens, when they were last
refilled, and whether they are flooding, which is also the "told once" flag: the notice is what starts a flood, so a
flood is told exactly once. In Redis one script reads and writes a user's hash atomically (two replicas cannot both
hand out the last token or both send the notice), on the Redis server's clock (one clock for every replica), and
the key expires once the bucket would be full again (``IDLE_AFTER_S``): an idle user costs nothing, and a forgotten
user starts afresh exactly as a full bucket would. In memory the same users are swept every ``SWEEP_EVERY_S``.

Redis unreachable or slow: the update is served (fail open, the throttle is a courtesy, not a guard of money), Redis
is left alone for ``REDIS_RETRY_AFTER_S`` so no update waits for it again meanwhile, and one warning is logged per
minute at most.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Chat, TelegramObject, Update
from aiogram.types import User as TgUser

from domain.ports import UnitOfWork
from handlers.settings import HandlerSettings
from handlers.ui import N_, Languages

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

BURST = 6  # updates a user may send at once (a flood gets this many answers)
PER_SECOND = 3.0  # the refill while calm: a person reading each screen taps less often than this, however long
FLOOD_PER_SECOND = 1.0  # the refill while flooding: Telegram's pace for messages in one chat
SWEEP_EVERY_S = 60.0  # how often idle users' buckets are forgotten (in memory; Redis expires them by itself)
REDIS_PREFIX = "tripdesk:throttle"  # a user's bucket is the hash <prefix>:<user id>
REDIS_TIMEOUT_S = 0.5  # the longest an update waits for Redis before it is served unthrottled
REDIS_RETRY_AFTER_S = 2.0  # after a failure, Redis is not asked again (every update served) for this long
REDIS_WARN_EVERY_S = 60.0  # at most one warning a minute while Redis fails

TOO_FAST = N_(
    "You are sending too fast. I will skip what you send in the next few seconds: wait a moment, then send what "
    "you need once more."
)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class Verdict(Enum):
    PASS = "pass"  # handle it
    NOTIFY = "notify"  # drop it and tell the user (the first dropped update of a flood)
    DROP = "drop"  # drop it quietly


@dataclass(frozen=True, slots=True)
class Limits:
    burst: float
    per_second: float
    flood_per_second: float

    @property
    def idle_after(self) -> float:
        """Seconds without an update after which any bucket is full again: the user may be forgotten."""
        return self.burst / self.flood_per_second


@dataclass(frozen=True, slots=True)
class Bucket:
    tokens: float
    updated: float  # when it was last refilled, in seconds of the throttle's clock
    flooding: bool = False  # told once: set with the notice, cleared when the bucket is full again


def step_bucket(bucket: Bucket | None, now: float, limits: Limits) -> tuple[Bucket, Verdict]:
    """One counted update of a user: refill, then take a token or say why not. ``None`` is a user not seen lately
    (their bucket full). The Lua script ``_STEP_LUA`` is this function for Redis: change both together."""
    if bucket is None:
        bucket = Bucket(limits.burst, now)
    rate = limits.flood_per_second if bucket.flooding else limits.per_second
    elapsed = max(0.0, now - bucket.updated)  # a clock read a moment earlier elsewhere never takes tokens away
    tokens = min(limits.burst, bucket.tokens + elapsed * rate)
    updated = max(bucket.updated, now)
    flooding = bucket.flooding and tokens < limits.burst  # calm long enough: a later flood is a new one
    if tokens >= 1:
        return Bucket(tokens - 1, updated, flooding), Verdict.PASS
    if flooding:
        return Bucket(tokens, updated, True), Verdict.DROP
    return Bucket(tokens, updated, True), Verdict.NOTIFY


# step_bucket in Lua, on one user's hash, atomic on the server. KEYS[1]: the user's key. ARGV: now (seconds; empty:
# the server's clock), burst, per_second, flood_per_second, the key's lifetime in ms. Numbers are stored with 17
# significant digits, so a float survives the round trip exactly. Returns 0 pass, 1 notify, 2 drop.
_STEP_LUA = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local burst, per_second, flood_per_second = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tokens, updated, flooding = burst, now, false
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'flooding')
if saved[1] and saved[2] then
  tokens, updated, flooding = tonumber(saved[1]), tonumber(saved[2]), saved[3] == '1'
end
local rate = per_second
if flooding then rate = flood_per_second end
local elapsed = math.max(0, now - updated)
tokens = math.min(burst, tokens + elapsed * rate)
updated = math.max(updated, now)
flooding = flooding and tokens < burst
local verdict
if tokens >= 1 then
  tokens = tokens - 1
  verdict = 0
elseif flooding then
  verdict = 2
else
  flooding = true
  verdict = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'updated', string.format('%.17g', updated),
  'flooding', flooding and '1' or '0')
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return verdict
"""
_VERDICTS = (Verdict.PASS, Verdict.NOTIFY, Verdict.DROP)  # the script's codes


class MemoryBuckets:
    """This process's buckets: each replica counts on its own. Idle users are swept every ``SWEEP_EVERY_S``."""

    def __init__(self) -> None:
        self._buckets: dict[int, Bucket] = {}
        self._swept: float | None = None

    def __len__(self) -> int:
        """How many users' buckets are kept."""
        return len(self._buckets)

    async def step(self, user_id: int, now: float | None, limits: Limits) -> Verdict:
        now = time.monotonic() if now is None else now
        if self._swept is None:
            self._swept = now
        elif now - self._swept > SWEEP_EVERY_S:
            self._sweep(now, limits)
        self._buckets[user_id], verdict = step_bucket(self._buckets.get(user_id), now, limits)
        return verdict

    def _sweep(self, now: float, limits: Limits) -> None:
        """Forget the users whose bucket has filled up again: they start afresh, as a new user would."""
        self._swept = now
        for user_id in [u for u, b in self._buckets.items() if now - b.updated >= limits.idle_after]:
            del self._buckets[user_id]

    async def close(self) -> None:
        self._buckets.clear()


class RedisBuckets:
    """Buckets shared by every replica: one hash per user, stepped by ``_STEP_LUA`` (EVALSHA, loaded on first use),
    expiring after ``Limits.idle_after``. When Redis fails, updates are served (see the module's docstring)."""

    def __init__(self, redis: Redis, prefix: str = REDIS_PREFIX, timeout: float = REDIS_TIMEOUT_S) -> None:
        self.redis = redis
        self.prefix = prefix
        self.timeout = timeout
        self._script = redis.register_script(_STEP_LUA)
        self._down_until = -math.inf  # time.monotonic() before which Redis is not asked (it just failed)
        self._warned = -math.inf

    def key(self, user_id: int) -> str:
        return f"{self.prefix}:{user_id}"

    async def step(self, user_id: int, now: float | None, limits: Limits) -> Verdict:
        started = time.monotonic()  # the real clock, whatever the throttle's: it paces the retries and the warnings
        if started < self._down_until:
            return Verdict.PASS
        args: list[str | int] = [
            "" if now is None else repr(now),
            repr(limits.burst),
            repr(limits.per_second),
            repr(limits.flood_per_second),
            math.ceil(limits.idle_after * 1000),
        ]
        try:
            async with asyncio.timeout(self.timeout):
                code = await self._script(keys=[self.key(user_id)], args=args)
        except Exception as error:  # unreachable, slow, out of memory, read-only: never the handler's problem
            self._down_until = started + REDIS_RETRY_AFTER_S
            if started - self._warned >= REDIS_WARN_EVERY_S:
                self._warned = started
                log.warning(
                    "throttle: Redis failed (%s: %s); updates are served unthrottled until it answers",
                    type(error).__name__,
                    error,
                )
            return Verdict.PASS
        return _VERDICTS[int(code)]

    async def close(self) -> None:
        await self.redis.aclose()


class Throttle:
    """A token bucket per user id, in ``buckets`` (this process's memory unless given :class:`RedisBuckets`).

    ``monotonic`` is the clock, injectable so tests move time by hand; by default ``time.monotonic`` in memory and
    the Redis server's clock in Redis (the one clock every replica shares)."""

    def __init__(
        self,
        burst: int = BURST,
        per_second: float = PER_SECOND,
        monotonic: Callable[[], float] | None = None,
        flood_per_second: float = FLOOD_PER_SECOND,
        buckets: MemoryBuckets | RedisBuckets | None = None,
    ) -> None:
        self.limits = Limits(float(burst), per_second, min(flood_per_second, per_second))
        self.monotonic = monotonic
        self.buckets = buckets if buckets is not None else MemoryBuckets()

    async def admit(self, user_id: int) -> Verdict:
        now = self.monotonic() if self.monotonic is not None else None
        return await self.buckets.step(user_id, now, self.limits)

    async def close(self) -> None:
        await self.buckets.close()


def build_throttle(
    redis_url: str | None, monotonic: Callable[[], float] | None = None, prefix: str = REDIS_PREFIX
) -> Throttle:
    """The running bot's throttle: shared by the replicas through Redis when ``redis_url`` is set, else in memory.
    The Redis client tries once per update, within ``REDIS_TIMEOUT_S``; :meth:`Throttle.close` closes it."""
    if not redis_url:
        return Throttle(monotonic=monotonic)
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    client = Redis.from_url(
        redis_url,
        socket_connect_timeout=REDIS_TIMEOUT_S,
        socket_timeout=REDIS_TIMEOUT_S,
        retry=Retry(NoBackoff(), 0),
    )
    return Throttle(monotonic=monotonic, buckets=RedisBuckets(client, prefix))


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
        verdict = await self.throttle.admit(from_user.id)
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
