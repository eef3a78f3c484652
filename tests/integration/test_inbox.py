"""The update inbox: stored before confirmed, repeats dropped, pending ones handled again, one chat in order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aiogram import Bot
from aiogram.types import Update

from bot.inbox import Inbox, InboxPolling
from bot.storage.db import session_factory
from tests.fakes import FixedClock

BOT = Bot("123456:AAE_test-token-for-tripdesk-000000")


def message(update_id: int, chat_id: int, text: str = "hi") -> Update:
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1_764_000_000,
                "chat": {"id": chat_id, "type": "private", "first_name": "T"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "T"},
                "text": text,
            },
        }
    )


class RecordingDispatcher:
    """Stands in for the Dispatcher: records which updates it was fed, taking ``delay`` for each."""

    def __init__(self, delay: float = 0.0, fail: set[int] | None = None) -> None:
        self.delay, self.fail = delay, fail or set()
        self.started: list[int] = []
        self.finished: list[int] = []

    async def feed_update(self, bot: Bot, update: Update) -> None:
        self.started.append(update.update_id)
        await asyncio.sleep(self.delay)
        if update.update_id in self.fail:
            raise RuntimeError("handler crashed")
        self.finished.append(update.update_id)


async def test_a_repeated_delivery_is_stored_once(engine) -> None:
    inbox = Inbox(session_factory(engine), FixedClock())
    assert [u.update_id for u in await inbox.store([message(1, 10), message(2, 10)])] == [1, 2]
    assert [u.update_id for u in await inbox.store([message(2, 10), message(3, 10)])] == [3]


async def test_pending_updates_are_handled_again_and_marked(engine) -> None:
    inbox = Inbox(session_factory(engine), FixedClock())
    await inbox.store([message(1, 10), message(2, 11)])
    assert [u.update_id for u in await inbox.pending(BOT)] == [1, 2]
    dp = RecordingDispatcher(fail={2})
    polling = InboxPolling(dp, BOT, inbox)
    await asyncio.gather(*(polling.handle(u) for u in await inbox.pending(BOT)))
    assert dp.finished == [1]
    assert await inbox.pending(BOT) == []  # a crashed handler is recorded as failed, not retried forever


async def test_one_chat_in_order_other_chats_alongside(engine) -> None:
    inbox = Inbox(session_factory(engine), FixedClock())
    updates = [message(1, 10), message(2, 10), message(3, 20), message(4, 10)]
    await inbox.store(updates)
    dp = RecordingDispatcher(delay=0.05)
    polling = InboxPolling(dp, BOT, inbox)
    await asyncio.gather(*(polling.handle(u) for u in updates))
    chat_10 = [i for i in dp.finished if i != 3]
    assert chat_10 == [1, 2, 4]
    assert dp.started.index(3) < dp.finished.index(2)  # chat 20 did not wait for chat 10
    assert polling._locks == {}


async def test_handled_updates_are_forgotten_after_a_while(engine) -> None:
    clock = FixedClock(datetime(2026, 11, 30, tzinfo=UTC))
    inbox = Inbox(session_factory(engine), clock)
    await inbox.store([message(1, 10)])
    await inbox.finish(1, None)
    await inbox.forget_before(clock.now() + timedelta(days=1))
    assert [u.update_id for u in await inbox.store([message(1, 10)])] == [1]  # forgotten, so new again
