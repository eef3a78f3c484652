"""The retry middleware: waits out 429s, backs off on 5xx and network errors, leaves other errors alone."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates, SendMessage

from bot.telegram_retry import RetryMiddleware, RetryPolicy

BOT = Bot("123456:AAE_test-token-for-tripdesk-000000")
SEND = SendMessage(chat_id=1, text="hi")


class Flaky:
    """Fails with the given errors in turn, then succeeds."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self, bot: Bot, method: object) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def middleware(slept: list[float]) -> RetryMiddleware:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return RetryMiddleware(RetryPolicy(attempts=4), sleep=sleep)


async def test_waits_out_flood_control(middleware: RetryMiddleware, slept: list[float]) -> None:
    request = Flaky(TelegramRetryAfter(SEND, "Too Many Requests: retry after 3", 3))
    assert await middleware(request, BOT, SEND) == "ok"
    assert request.calls == 2 and slept == [3.0]


async def test_backs_off_on_server_and_network_errors(middleware: RetryMiddleware, slept: list[float]) -> None:
    request = Flaky(TelegramServerError(SEND, "Internal Server Error"), TelegramNetworkError(SEND, "timeout"))
    assert await middleware(request, BOT, SEND) == "ok"
    assert slept == [0.5, 1.0]


async def test_gives_up_after_the_last_attempt(middleware: RetryMiddleware) -> None:
    request = Flaky(*[TelegramServerError(SEND, "Internal Server Error")] * 4)
    with pytest.raises(TelegramServerError):
        await middleware(request, BOT, SEND)
    assert request.calls == 4


async def test_other_errors_are_not_retried(middleware: RetryMiddleware, slept: list[float]) -> None:
    request = Flaky(TelegramBadRequest(SEND, "Bad Request: message is not modified"))
    with pytest.raises(TelegramBadRequest):
        await middleware(request, BOT, SEND)
    assert request.calls == 1 and slept == []


async def test_a_very_long_flood_wait_is_not_waited_inside_an_update(middleware: RetryMiddleware) -> None:
    request = Flaky(TelegramRetryAfter(SEND, "Too Many Requests: retry after 3600", 3600))
    with pytest.raises(TelegramRetryAfter):
        await middleware(request, BOT, SEND)


async def test_polling_is_left_to_the_polling_loop(middleware: RetryMiddleware) -> None:
    request = Flaky(TelegramServerError(GetUpdates(), "Internal Server Error"))
    with pytest.raises(TelegramServerError):
        await middleware(request, BOT, GetUpdates())
    assert request.calls == 1
