"""Webhook mode, one bot process on SQLite, the emulator delivering to it: what is refused stores nothing, what the
emulator delivers is handled, a repeated update is handled once, and the health and metrics routes answer.

The refusals are sent by hand to the bot's ``WEBHOOK_LISTEN`` port; the inbox is read before and after each."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.storage.tables import InboxRow
from sandbox.server import Emulator
from tests.e2e.conftest import Database, seeded_database, sqlite_url
from tests.e2e.tourist import Tourist
from tests.e2e_lifecycle.harness import wait_db
from tests.e2e_replicas.harness import (
    HTTP_TIMEOUT,
    SECRET,
    SECRET_HEADER,
    WEBHOOK_PATH,
    Replica,
    bot_messages,
    free_port,
    inbox_rows,
    metric,
    metrics_of,
    start_replicas,
    stop_replica,
    wait_inbox_done,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

ONE_MB = 1024 * 1024


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    async with seeded_database(sqlite_url(tmp_path_factory.mktemp("webhook"), "webhook.db")) as db:
        yield db


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    emulator: Emulator, database: Database, operators: int, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Replica]:
    """The bot in webhook mode, the emulator posting straight to it."""
    port = free_port()
    [replica] = await start_replicas(
        emulator,
        database.url,
        operators,
        tmp_path_factory.mktemp("webhook-bot"),
        ["webhook"],
        f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
        ports=[port],
    )
    try:
        yield replica
    finally:
        code = await stop_replica(replica)
        assert code == 0, f"the bot did not exit 0 within 10 s of SIGTERM (exit {code}):\n{replica.process.tail()}"


@pytest_asyncio.fixture(loop_scope="module")
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT)) as session:
        yield session


async def post(client: aiohttp.ClientSession, bot: Replica, body: bytes, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    async with client.post(f"{bot.url}{WEBHOOK_PATH}", data=body, headers=headers) as response:
        await response.read()
        return response.status


def forged_update(update_id: int, user_id: int) -> bytes:
    user = {"id": user_id, "is_bot": False, "first_name": "Mallory", "language_code": "en"}
    message = {"message_id": 1, "date": 1, "chat": {"id": user_id, "type": "private"}, "from": user, "text": "/start"}
    return json.dumps({"update_id": update_id, "message": message}).encode()


async def test_a_post_without_the_right_secret_is_refused_and_nothing_is_stored(
    bot: Replica, database: Database, client: aiohttp.ClientSession
) -> None:
    before = await inbox_rows(database.sessions)
    body = forged_update(900_000_001, 555_000_001)
    answers = {
        "no secret": await post(client, bot, body, None),
        "wrong secret": await post(client, bot, body, SECRET[:-1] + "x"),
        "empty secret": await post(client, bot, body, ""),
    }
    after = await inbox_rows(database.sessions)
    assert answers == {"no secret": 401, "wrong secret": 401, "empty secret": 401}, answers
    assert after.keys() == before.keys(), f"inbox changed: new ids {sorted(after.keys() - before.keys())}"
    assert 900_000_001 not in after


async def test_too_large_or_not_an_update_is_refused(
    bot: Replica, database: Database, client: aiohttp.ClientSession
) -> None:
    before = await inbox_rows(database.sessions)
    big = b'{"update_id": 900000002, "pad": "' + b"x" * ONE_MB + b'"}'
    answers = {
        "over 1 MB": await post(client, bot, big, SECRET),
        "not JSON": await post(client, bot, b"hello", SECRET),
        "a list": await post(client, bot, b"[1, 2]", SECRET),
        "no update_id": await post(client, bot, b'{"message": {}}', SECRET),
        "update_id a string": await post(client, bot, b'{"update_id": "7"}', SECRET),
    }
    after = await inbox_rows(database.sessions)
    assert answers == {
        "over 1 MB": 413,
        "not JSON": 400,
        "a list": 400,
        "no update_id": 400,
        "update_id a string": 400,
    }, answers
    assert after.keys() == before.keys(), f"inbox changed: new ids {sorted(after.keys() - before.keys())}"


async def test_a_delivered_update_is_handled_and_a_repeat_is_handled_once(
    bot: Replica, database: Database, emulator: Emulator, client: aiohttp.ClientSession
) -> None:
    world = emulator.world
    tourist = Tourist(world, world.add_user(first_name="Wilma", language_code="en"))
    menu = await tourist.send("/start")  # the emulator's delivery, with the secret the bot set
    assert world.bot.webhook is not None and world.bot.webhook.secret_token == SECRET, world.bot.webhook
    rows = await wait_inbox_done(database.sessions)
    [update_id] = [k for k, v in rows.items() if v.chat_id == tourist.id]
    assert rows[update_id].status == "done", rows[update_id]
    duplicates_before = metric(await metrics_of(bot), "tripdesk_updates_total", outcome="duplicate")

    async with database.sessions() as db:  # the update as the emulator delivered it
        payload = await db.scalar(select(InboxRow.payload).where(InboxRow.update_id == update_id))
    assert await post(client, bot, json.dumps(payload).encode(), SECRET) == 200

    duplicates = await wait_db(
        lambda: _duplicates(bot),
        "the repeated update counted as a duplicate in /metrics",
        until=lambda count: count > duplicates_before,
    )
    assert duplicates == duplicates_before + 1
    await wait_inbox_done(database.sessions)
    rows = await inbox_rows(database.sessions)
    mine = {k: v.status for k, v in rows.items() if v.chat_id == tourist.id}
    answers = bot_messages(world, tourist.id)
    assert mine == {update_id: "done"}, f"inbox rows of the tourist: {mine}"
    assert [m["message_id"] for m in answers] == [menu["message_id"]], [m.get("text") for m in answers]


async def _duplicates(bot: Replica) -> float:
    return metric(await metrics_of(bot), "tripdesk_updates_total", outcome="duplicate")


async def test_health_readiness_and_metrics(bot: Replica, client: aiohttp.ClientSession) -> None:
    async with client.get(f"{bot.url}/healthz") as response:
        assert response.status == 200, await response.text()
    async with client.get(f"{bot.url}/readyz") as response:
        checks = await response.json()
        assert response.status == 200, checks
    assert checks == {"database": "ok", "telegram": "ok"}, checks
    exposition = await metrics_of(bot)
    assert metric(exposition, "tripdesk_updates_total", outcome="handled") >= 1, [
        line for line in exposition.splitlines() if line.startswith("tripdesk_updates")
    ]
