"""kill -9 in the middle of a state-changing update loses nothing (bot/inbox.py): the update was either not yet
confirmed to Telegram (it comes again) or is stored as pending (handled at the next start).

The bot is killed while it waits for the database: the test holds SQLite's write lock when the tourist presses
Confirm, so the bot has fetched the update but can neither store nor handle it. With aiogram's own polling the
next getUpdates would confirm the update meanwhile and the booking would be gone after the restart.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import sys
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.sandbox.limits import Limits
from bot.sandbox.server import Emulator
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade
from domain.orders import CODE_ALPHABET
from handlers.tourist.callbacks import BookAction, BookCb
from tests.e2e.booking import book_cruise, orders_of, seats_left
from tests.e2e.conftest import REPO, STARTUP_TIMEOUT, BotProcess, Database, bot_environment, wait_polling
from tests.e2e.tourist import Tourist
from tests.seed import ORGANISER_CHAT_ID, seed_catalog

pytestmark = pytest.mark.asyncio(loop_scope="function")


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emulator = Emulator(limits=Limits.off())
    await emulator.start(host="127.0.0.1", port=0)
    emulator.world.add_user(first_name="Kapten", language_code="et", user_id=ORGANISER_CHAT_ID)
    yield emulator
    await emulator.stop()


@pytest_asyncio.fixture
async def database(tmp_path) -> AsyncIterator[tuple[Database, str]]:  # noqa: ANN001
    from datetime import UTC, datetime

    path = tmp_path / "kill9.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    sessions = session_factory(engine)
    seeded = await seed_catalog(sessions, datetime.now(UTC))
    yield Database(f"sqlite+aiosqlite:///{path}", sessions, seeded), str(path)
    await engine.dispose()


async def start_bot(emulator: Emulator, database: Database, operators: int, log_path) -> BotProcess:  # noqa: ANN001
    log = open(log_path, "ab")  # noqa: SIM115 - the process writes to it until it exits
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        env=bot_environment(emulator, database, operators),
        stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
        cwd=REPO,
    )
    log.close()
    bot = BotProcess(process, log_path)
    try:
        await wait_polling(emulator.world, process, STARTUP_TIMEOUT)
    except (RuntimeError, TimeoutError) as error:
        await bot.stop()
        pytest.fail(f"{error}:\n{bot.tail()}")
    return bot


async def test_a_booking_being_handled_when_the_bot_is_killed_is_not_lost(emulator, database, tmp_path) -> None:  # noqa: ANN001
    db, path = database
    world = emulator.world
    operators = world.add_group(title="Ops", members=[world.add_user(first_name="Olga").id]).id
    log_path = tmp_path / "bot.log"
    first = await start_bot(emulator, db, operators, log_path)
    tourist = Tourist(world, world.add_user(first_name="Kai", language_code="en"))
    try:
        summary, _menu = await book_cruise(tourist, db.seeded)
        before = await seats_left(db.sessions, db.seeded.session_id)
        polls = len(world.calls_of("getUpdates"))

        lock = sqlite3.connect(path, timeout=5, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # from now on the bot can write nothing
        try:
            confirm = BookCb(action=BookAction.CONFIRM, session=db.seeded.session_id).pack()
            await world.user_presses(tourist.id, tourist.id, summary["message_id"], confirm)
            # the bot has fetched the press: a getUpdates returned it
            await world.wait_for(
                lambda: any(call.status == 200 and "callback_query" in str(call.response)
                            for call in world.calls_of("getUpdates")[polls:]),
                timeout=10,
            )
            await asyncio.sleep(1.0)  # bounded: the bot is now inside its handling, waiting for the lock
            first.process.kill()
            await asyncio.wait_for(first.process.wait(), 10)
        finally:
            lock.rollback()
            lock.close()
        assert await orders_of(db.sessions, tourist.id) == []  # nothing was written by the killed process

        second = await start_bot(emulator, db, operators, log_path)
        try:
            await tourist.wait(lambda: orders_and_card(tourist), "the order card after the restart", timeout=30)
            [order] = await orders_of(db.sessions, tourist.id)
            assert await seats_left(db.sessions, db.seeded.session_id) == before - 1
            assert order.booking == "awaiting_organiser"
        finally:
            assert await second.stop() == 0, second.tail()
    finally:
        if first.running:
            await first.stop()


ORDER_CODE = re.compile(rf"\b[{CODE_ALPHABET}]{{3}}-[{CODE_ALPHABET}]{{3}}\b")


def orders_and_card(tourist: Tourist) -> bool:
    """The summary became the order card: it shows an order code."""
    return any(ORDER_CODE.search(m.get("text") or "") for m in tourist.bot_messages())
