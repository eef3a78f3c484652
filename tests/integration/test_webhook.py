"""Webhook mode's receiver (bot/webhook.py) over real HTTP: what it refuses stores nothing; an update is stored
before the 200 and handled after; a repeat is acknowledged and handled once; stopping or a database away gives 503
(Telegram sends again); and leadership (bot/replicas.py) passes when the leader's connection goes."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiogram import Bot
from aiogram.types import Update
from aiohttp import ClientSession, web
from sqlalchemy import func, select

from bot.inbox import Inbox
from bot.inbox_worker import InboxWorker
from bot.replicas import Replica
from bot.storage.db import session_factory
from bot.storage.tables import InboxRow
from bot.webhook import MAX_BODY, SECRET_HEADER, WebhookReceiver, webhook_app
from tests.conftest import engine_twin
from tests.fakes import FixedClock
from tests.integration.test_inbox import BOT, message

SECRET = "s3cret-token_for-the-hook"


class Recorder:
    def __init__(self) -> None:
        self.handled: list[int] = []

    async def feed_update(self, bot: Bot, update: Update) -> None:
        self.handled.append(update.update_id)


@pytest.fixture
async def hook(engine):
    inbox = Inbox(session_factory(engine), FixedClock())
    dp = Recorder()
    worker = InboxWorker(dp, BOT, inbox)
    receiver = WebhookReceiver(inbox, worker, BOT, SECRET)
    runner = web.AppRunner(webhook_app(receiver, "/tg/hook"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with ClientSession(f"http://127.0.0.1:{port}") as client:
        yield client, receiver, worker, dp, engine
    await worker.stop(1)
    await runner.cleanup()


def body(update_id: int, chat: int = 10) -> bytes:
    return json.dumps(message(update_id, chat).model_dump(mode="json", exclude_none=True, by_alias=True)).encode()


async def stored(engine) -> int:
    async with session_factory(engine)() as db:
        return int(await db.scalar(select(func.count()).select_from(InboxRow)) or 0)


async def post(client: ClientSession, data: bytes, secret: str | None = SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    async with client.post("/tg/hook", data=data, headers=headers) as response:
        return response.status


async def test_a_post_without_the_right_secret_is_refused_and_stores_nothing(hook) -> None:
    client, _, _, dp, engine = hook
    assert await post(client, body(1), secret=None) == 401
    assert await post(client, body(1), secret="wrong-but-long-enough") == 401
    assert await post(client, body(1), secret=SECRET[:-1]) == 401
    assert await stored(engine) == 0 and dp.handled == []


async def test_a_huge_body_and_a_body_that_is_not_an_update_are_refused(hook) -> None:
    client, _, _, dp, engine = hook
    assert await post(client, b"{" + b" " * MAX_BODY + b"}") == 413
    for junk in (b"not json", b"[1, 2]", b'{"message": {}}', b'{"update_id": "7"}', b'{"update_id": true}', b"\xff"):
        assert await post(client, junk) == 400, junk
    assert await stored(engine) == 0 and dp.handled == []


async def test_an_update_is_stored_before_the_200_handled_after_and_a_repeat_handled_once(hook) -> None:
    client, _, worker, dp, engine = hook
    assert await post(client, body(5)) == 200
    assert await stored(engine) == 1  # committed when the 200 came
    assert await post(client, body(5)) == 200  # Telegram sends it again: acknowledged, dropped
    await worker.wait_idle(10)
    assert dp.handled == [5]
    assert await stored(engine) == 1


async def test_an_update_aiogram_cannot_read_is_kept_as_failed_and_acknowledged(hook) -> None:
    client, _, worker, dp, engine = hook
    poison = {"update_id": 9, "message": {"message_id": 1, "date": "yesterday", "text": "?"}}
    assert await post(client, json.dumps(poison).encode()) == 200  # or Telegram would send it forever
    await worker.wait_idle(10)
    async with session_factory(engine)() as db:
        row = await db.get(InboxRow, 9)
    assert row is not None and row.status == "failed" and dp.handled == []


async def test_a_stopping_replica_answers_503_so_telegram_sends_again(hook) -> None:
    client, receiver, _, dp, engine = hook
    receiver.accepting = False
    assert await post(client, body(3)) == 503
    assert await post(client, body(3), secret="wrong-but-long-enough") == 401  # the secret is checked first
    assert await stored(engine) == 0 and dp.handled == []


async def test_the_database_away_gives_503_and_stores_nothing(hook) -> None:
    client, receiver, _, dp, _ = hook

    async def refuse(raw: object, bot: Bot) -> list[Update]:
        raise ConnectionRefusedError("the database is restarting")

    receiver.inbox.accept = refuse  # type: ignore[method-assign]
    assert await post(client, body(4)) == 503
    assert dp.handled == []


@pytest.mark.postgres
async def test_one_leader_at_a_time_and_another_takes_over_when_its_connection_goes(pg_engine) -> None:
    twin = engine_twin(pg_engine)
    first, second = Replica(pg_engine), Replica(twin)
    try:
        await first.connect()
        await second.connect()
        assert first.id != second.id and first.id.startswith("pg-")
        assert await first.try_lead()
        assert not await second.try_lead()
        assert await first.still_leading()
        await first.close()  # its connection goes, as when the process dies
        stop = asyncio.Event()
        assert await asyncio.wait_for(second.lead_while(stop), 10)
        assert second.leading
    finally:
        await first.close()
        await second.close()
        await twin.dispose()


async def test_sqlite_has_one_replica_and_it_always_leads(sqlite_engine) -> None:
    replica = Replica(sqlite_engine)
    assert await replica.connect() == replica.id and replica.id.startswith("local-")
    assert await replica.try_lead() and await replica.still_leading()
