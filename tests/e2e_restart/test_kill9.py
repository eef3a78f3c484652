"""kill -9 in the middle of a state-changing update loses nothing (bot/inbox.py): the update was either not yet
confirmed to Telegram (it comes again) or is stored as pending (handled at the next start).

The bot is killed while it waits for the database: the test holds SQLite's write lock when the tourist presses
Confirm (or when the successful payment arrives), so the bot has fetched the update but can neither store nor
handle it. With aiogram's own polling the next getUpdates would confirm the update meanwhile and the booking (the
payment) would be gone after the restart. The same on PostgreSQL, with table locks: test_kill9_postgres.py.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio

from handlers.tourist.callbacks import BookAction, BookCb
from sandbox.world import World
from tests.e2e.booking import book_cruise, orders_of, seats_left
from tests.e2e.conftest import Database, seeded_database, sqlite_url
from tests.e2e.tourist import Tourist
from tests.e2e_lifecycle.harness import (
    booked_and_invoiced,
    fetched,
    inbox,
    kill9,
    queued_update,
    start_bot,
    wait_idle,
)
from tests.e2e_restart.restart import (
    PROVIDER_TOKEN,
    assert_paid_once_after_restart,
    restart_and_find_order,
    stop_all,
)

pytestmark = pytest.mark.asyncio(loop_scope="function")


@pytest_asyncio.fixture
async def database(tmp_path) -> AsyncIterator[tuple[Database, str]]:
    async with seeded_database(sqlite_url(tmp_path, "kill9.db")) as db:
        yield db, str(tmp_path / "kill9.db")


async def test_a_booking_being_handled_when_the_bot_is_killed_is_not_lost(
    emulator, operators, database, tmp_path
) -> None:
    db, path = database
    world = emulator.world
    log_path = tmp_path / "bot.log"
    bots = [await start_bot(emulator, db.url, operators, log_path)]
    tourist = Tourist(world, world.add_user(first_name="Kai", language_code="en"))
    try:
        summary, _menu = await book_cruise(tourist, db.seeded)
        before = await seats_left(db.sessions, db.seeded.session_id)
        # the summary shows before the bot marks the update that drew it as done: wait for that, or the lock below
        # would catch that write instead (and the update would be handled again after the restart)
        await wait_idle(db.sessions)
        polls = len(world.calls)

        lock = sqlite3.connect(path, timeout=5, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # from now on the bot can write nothing
        try:
            confirm = BookCb(action=BookAction.CONFIRM, session=db.seeded.session_id).pack()
            query_id = await world.user_presses(tourist.id, tourist.id, summary["message_id"], confirm)
            update_id = queued_update(world, lambda u: u.get("callback_query", {}).get("id") == query_id)
            # the bot has fetched the press (a getUpdates returned it) but cannot store it: killed now, it has
            # neither stored nor confirmed it, wherever exactly it is in its handling
            await world.wait_for(lambda: fetched(world, update_id, polls), timeout=10)
            await kill9(bots[0])
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        assert await orders_of(db.sessions, tourist.id) == []  # nothing was written by the killed process
        assert update_id not in await inbox(db.sessions)

        await restart_and_find_order(emulator, db, operators, log_path, tourist, before, bots)
        await wait_idle(db.sessions)
        assert (await inbox(db.sessions))[update_id] == ("done", 1)  # Telegram sent it again: handled once
    finally:
        await stop_all(bots)


# ---- a payment -------------------------------------------------------------------------------------------------------


def successful_payment(kind: str, payload: dict[str, Any]) -> bool:
    return kind == "message" and "successful_payment" in payload


@contextlib.contextmanager
def write_lock_on_push(world: World, path: str, when: Callable[[str, dict[str, Any]], bool]) -> Iterator[dict]:
    """SQLite's write lock, taken at the very moment the emulator queues the first update ``when`` accepts (before
    the bot can fetch it), held until the block ends. The pre-checkout query before a payment needs a write (the
    inbox stores every update), so the lock cannot be taken before ``user_pays``; and after it returns, the
    successful payment may already be stored."""
    held: dict[str, sqlite3.Connection] = {}
    push = world.push_update

    def locking_push(kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if "lock" not in held and when(kind, payload):
            lock = sqlite3.connect(path, timeout=10, isolation_level=None)
            lock.execute("BEGIN IMMEDIATE")  # waits (briefly, blocking the loop) for a write the bot has under way
            held["lock"] = lock
        return push(kind, payload)

    world.push_update = locking_push  # type: ignore[method-assign]  # wraps this one World's method for the test
    try:
        yield held
    finally:
        del world.push_update  # the instance attribute goes: the method is back
        if lock := held.get("lock"):
            lock.execute("ROLLBACK")
            lock.close()


async def test_a_payment_being_handled_when_the_bot_is_killed_is_recorded_once(
    emulator, operators, database, tmp_path
) -> None:
    db, path = database
    world = emulator.world
    log_path = tmp_path / "bot.log"
    bots = [await start_bot(emulator, db.url, operators, log_path, PAYMENT_PROVIDER_TOKEN=PROVIDER_TOKEN)]
    tourist = Tourist(world, world.add_user(first_name="Mari", language_code="en"))
    try:
        order, invoice = await booked_and_invoiced(world, tourist, db.seeded, db.sessions)
        await wait_idle(db.sessions)
        polls = len(world.calls)
        with write_lock_on_push(world, path, successful_payment) as held:
            paid = await world.user_pays(tourist.id, tourist.id, invoice["message_id"])
            assert paid["ok"], paid  # the pre-checkout query was answered before the lock
            assert "lock" in held
            update_id = queued_update(world, lambda u: "successful_payment" in u.get("message", {}))
            await world.wait_for(lambda: fetched(world, update_id, polls), timeout=10)
            await kill9(bots[0])
        await assert_paid_once_after_restart(emulator, db, operators, log_path, tourist, order.id, update_id, bots)
    finally:
        await stop_all(bots)
