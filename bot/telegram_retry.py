"""Flood control and transient failures for every request the bot makes (aiogram has none built in).

- 429 Too Many Requests: wait ``retry_after`` as Telegram asks, then send again.
- 5xx and network errors: retry with exponential backoff.
Anything else (400, 403, ...) is the caller's to handle. ``getUpdates`` is left alone: the polling loop has its own
backoff. After the last attempt the error goes to the caller, as it would without this middleware.

A request that timed out may have reached Telegram: retrying it can, rarely, deliver a message twice. For a reply to
the person who is waiting for it, a rare duplicate is better than silence.

The outbox sender does not use this middleware (its own session: :mod:`bot.sender_session`): sleeping out a 429
inside one request would hold up every other chat's message; it defers that chat instead (:mod:`bot.outbox`).

At start, :func:`check_telegram` asks ``getMe`` a few times on its own (not through this middleware) and turns what
can go wrong into one line (:class:`TelegramUnusable`): a refused token, an unreachable server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import GetMe, GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import User

from bot.metrics import TELEGRAM_429

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 6  # in all, the first one included
    max_retry_after: float = 60.0  # a longer flood wait is not waited out inside an update
    backoff_base: float = 0.5
    backoff_max: float = 8.0


def _is_polling(method: TelegramMethod[Any]) -> bool:
    """``getUpdates``: the polling loop has its own backoff."""
    return method.__api_method__ == GetUpdates.__api_method__  # aiogram's or bot.inbox's raw one


class RetryMiddleware(BaseRequestMiddleware):
    def __init__(self, policy: RetryPolicy | None = None, sleep: Sleep = asyncio.sleep) -> None:
        self.policy = policy or RetryPolicy()
        self.sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if _is_polling(method):
            return await make_request(bot, method)
        policy = self.policy
        for attempt in range(1, policy.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                TELEGRAM_429.inc()
                if attempt == policy.attempts or error.retry_after > policy.max_retry_after:
                    raise
                delay = float(error.retry_after)
                log.warning("%s: flood control, retrying in %ss", method.__api_method__, delay)
            except (TelegramServerError, TelegramNetworkError) as error:
                if attempt == policy.attempts:
                    raise
                delay = min(policy.backoff_base * 2 ** (attempt - 1), policy.backoff_max)
                log.warning("%s: %s, retry %d in %.1fs", method.__api_method__, error.message, attempt, delay)
            await self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


# ---- at start --------------------------------------------------------------------------------------------------

TOKEN_REFUSED = "Telegram refused BOT_TOKEN (401 Unauthorized): check it with @BotFather"
STARTUP_ATTEMPTS = 3
STARTUP_TIMEOUT_S = 10  # per getMe; a server that does not answer at all is not waited for a minute


class TelegramUnusable(Exception):
    """The bot cannot work with Telegram; the message is the one line the CLI prints before it exits non-zero."""


async def check_telegram(
    bot: Bot, api_url: str, attempts: int = STARTUP_ATTEMPTS, sleep: Sleep = asyncio.sleep
) -> User:
    """``getMe``: the token is accepted and the server answers. A network or server failure is tried ``attempts``
    times (one log line each); then, or at once for a refused token, :class:`TelegramUnusable` says why."""
    for attempt in range(1, attempts + 1):
        try:
            return await bot.session.make_request(bot, GetMe(), timeout=STARTUP_TIMEOUT_S)
        except TelegramUnauthorizedError:
            raise TelegramUnusable(TOKEN_REFUSED) from None
        except TelegramNotFound:
            raise TelegramUnusable(
                f"{api_url} answered 404 Not Found to getMe: check TELEGRAM_API_URL and BOT_TOKEN"
            ) from None
        except ClientDecodeError:
            raise TelegramUnusable(f"{api_url} does not answer as a Telegram Bot API server") from None
        except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter) as error:
            if attempt == attempts:
                raise TelegramUnusable(f"cannot reach {api_url} after {attempts} tries: {error.message}") from None
            delay = float(error.retry_after) if isinstance(error, TelegramRetryAfter) else float(2 ** (attempt - 1))
            log.warning(
                "cannot reach %s (try %d of %d): %s; again in %.0fs", api_url, attempt, attempts, error.message, delay
            )
            await sleep(delay)
        except TelegramAPIError as error:
            raise TelegramUnusable(f"Telegram refused getMe: {error.message}") from None
    raise AssertionError("unreachable")  # pragma: no cover
