"""Token buckets for Telegram's outbound limits, on a clock moved by hand."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import (
    AnswerCallbackQuery,
    CopyMessage,
    EditMessageText,
    SendChatAction,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)

from bot.ratelimit import Limits, Rate, SpendHandlerSends


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_private_chat_gets_a_short_burst_then_one_a_second() -> None:
    clock = Clock()
    limits = Limits(clock=clock)
    for _ in range(3):
        assert limits.chat_wait(42) == 0
        limits.take(42)
    assert limits.chat_wait(42) == 1.0
    clock.now += 0.5
    assert limits.chat_wait(42) == 0.5
    clock.now += 0.5
    assert limits.chat_wait(42) == 0
    assert limits.chat_wait(43) == 0  # another chat is not affected


def test_a_group_gets_twenty_a_minute() -> None:
    clock = Clock()
    limits = Limits(clock=clock)
    for _ in range(20):
        assert limits.chat_wait(-100) == 0
        limits.take(-100)
    assert round(limits.chat_wait(-100), 6) == 3.0  # one token per 3 s


def test_overall_a_little_under_thirty_a_second() -> None:
    clock = Clock()
    limits = Limits(clock=clock)
    for chat in range(10):  # a short burst
        limits.take(chat)
    assert round(limits.overall_wait(), 6) == round(1 / 29, 6)
    for sent in range(290):  # then the pace: 290 messages take 10 s
        clock.now += limits.overall_wait()
        limits.take(1000 + sent)
    assert 9.9 < clock.now - 1000 < 10.1


def test_unlimited_never_waits() -> None:
    limits = Limits.unlimited()
    for _ in range(10_000):
        limits.take(1)
    assert limits.chat_wait(1) == 0 and limits.overall_wait() == 0


def test_idle_chats_are_forgotten_when_too_many() -> None:
    clock = Clock()
    limits = Limits(clock=clock, max_chats=100, per_chat=Rate(1.0, 1))
    for chat in range(100):
        limits.take(chat)
    clock.now += 5  # every bucket is full again
    limits.take(1000)
    assert len(limits._chats) <= 2


def test_a_429_to_a_chat_that_sent_one_message_holds_every_chat() -> None:
    """The chat used no more than this message of its burst: Telegram's overall count ran ahead of ours."""
    clock = Clock()
    limits = Limits(clock=clock)
    limits.take(42)
    assert limits.flooded(42, 3) is True
    assert limits.overall_wait() == 3.0
    assert limits.chat_wait(43) == 0  # a chat's own bucket is untouched; the overall one holds everyone
    clock.now += 3
    assert limits.overall_wait() == 0


def test_a_429_to_a_chat_that_spent_its_burst_holds_only_that_chat() -> None:
    """The sender defers that chat; the others go on at the overall rate."""
    clock = Clock()
    limits = Limits(clock=clock)
    for _ in range(3):
        limits.take(42)
    assert limits.flooded(42, 5) is False
    assert limits.overall_wait() == 0


def test_unlimited_never_holds() -> None:
    limits = Limits.unlimited()
    limits.take(42)
    assert limits.flooded(42, 30) is True
    assert limits.overall_wait() == 0


async def test_the_handlers_messages_spend_the_senders_buckets_without_waiting() -> None:
    """A reply a handler sends takes a token from the chat's and the overall bucket (the sender then waits its turn
    for that chat and for the bot); an edit, a callback answer, a chat action or a failed request takes none; the
    handler's own request never waits for the buckets."""
    clock = Clock()
    limits = Limits(per_chat=Rate(1.0, 1), overall=Rate(29.0, 2), clock=clock)
    spend = SpendHandlerSends(limits)
    made: list[str] = []

    async def make_request(bot: Bot, method: TelegramMethod[Any]) -> Any:
        made.append(method.__api_method__)
        if isinstance(method, SendPhoto):
            raise TelegramBadRequest(method, "Bad Request: wrong file")
        return True

    bot = Bot(token="42:TEST")
    for method in (
        EditMessageText(chat_id=7, message_id=1, text="edited"),
        AnswerCallbackQuery(callback_query_id="q"),
        SendChatAction(chat_id=7, action="typing"),
    ):
        await spend(make_request, bot, method)
    assert (limits.chat_wait(7), limits.overall_wait()) == (0, 0)
    with pytest.raises(TelegramBadRequest):
        await spend(make_request, bot, SendPhoto(chat_id=7, photo="nope"))
    assert limits.chat_wait(7) == 0
    await spend(make_request, bot, SendMessage(chat_id=7, text="your booking"))
    assert limits.chat_wait(7) == 1.0  # the sender's next message to this chat waits a second
    await spend(make_request, bot, CopyMessage(chat_id=8, from_chat_id=1, message_id=3))
    assert limits.overall_wait() > 0  # the burst of two is spent: the sender waits for the next token
    await spend(make_request, bot, SendMessage(chat_id=9, text="and still sent"))  # the handler itself never waits
    assert made[-1] == "sendMessage" and len(made) == 7
    await bot.session.close()
