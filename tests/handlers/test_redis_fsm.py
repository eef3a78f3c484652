"""Several replicas share FSM state through Redis: a booking begun on one is confirmed on another.

Needs a Redis server: ``TEST_REDIS_URL`` (``.ci/run`` sets it); skipped with that reason otherwise.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import DefaultKeyBuilder
from sqlalchemy import select

from bot.app import build_dispatcher
from bot.storage.tables import OrderRow
from handlers.tourist.callbacks import BookAction, BookCb
from tests.handlers.chat import Chat
from tests.handlers.conftest import detach_routers
from tests.seed import Seeded
from tests.telegram.recorder import RecordingSession

REDIS_URL = os.environ.get("TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="Redis not configured: set TEST_REDIS_URL (redis://127.0.0.1:6379/15)"
)


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    from redis.asyncio import Redis

    prefix = f"tripdesk-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    redis = Redis.from_url(REDIS_URL)
    keys = [key async for key in redis.scan_iter(f"{prefix}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def replica(settings, sessions, clock, prefix: str) -> Dispatcher:
    from aiogram.fsm.storage.redis import RedisStorage

    storage = RedisStorage.from_url(REDIS_URL, key_builder=DefaultKeyBuilder(prefix=prefix))
    return build_dispatcher(
        settings.model_copy(update={"redis_url": REDIS_URL}), sessions, clock=clock, storage=storage
    )


async def test_a_booking_started_on_one_replica_is_confirmed_on_another(
    settings, sessions, clock, bot: Bot, recorder: RecordingSession, seeded: Seeded, redis_prefix: str
) -> None:
    first = replica(settings, sessions, clock, redis_prefix)
    chat = Chat(first, bot, recorder, 4001)
    await chat.send("/start ev-islands-cruise")
    await chat.press(lambda b: b.callback_data == BookCb(action=BookAction.START, session=seeded.session_id).pack())
    await chat.press(lambda b: b.callback_data == BookCb(action=BookAction.NEXT, session=seeded.session_id).pack())
    await chat.send("Pier 3")
    await chat.press(
        lambda b: b.callback_data == BookCb(action=BookAction.CHOICE, session=seeded.session_id, value=0).pack()
    )
    await first.storage.close()
    detach_routers(first)

    second = replica(settings, sessions, clock, redis_prefix)  # another process, the same Redis
    chat.dp = second
    await chat.press(lambda b: b.callback_data == BookCb(action=BookAction.CONFIRM, session=seeded.session_id).pack())
    await second.storage.close()
    detach_routers(second)

    async with sessions() as db:
        orders = list(await db.scalars(select(OrderRow)))
    assert [(o.user_id, o.answers) for o in orders] == [(4001, {"pickup": "Pier 3", "lunch": "fish"})]
    assert recorder.violations == []
