"""kill -9 in the middle of a state-changing update loses nothing, on PostgreSQL (see test_kill9.py for SQLite).

Each test runs against a database of its own (``CREATE DATABASE tripdesk_kill9_<random>`` through the server of
``TEST_POSTGRES_URL``, dropped at the end), migrated and seeded; the bot process gets it as ``DATABASE_URL``.
Instead of SQLite's single write lock, the test holds ``LOCK TABLE ... IN ACCESS EXCLUSIVE MODE`` in an open
transaction, which stops the bot at a chosen statement, and waits until a backend of the bot is seen waiting for
that lock (``pg_stat_activity``). Then: kill -9, roll back, restart.

- the Confirm press, with ``inbox`` locked: the bot fetched the update and cannot store it; it was not confirmed to
  Telegram, which delivers it again after the restart;
- the Confirm press, with ``orders`` locked: the bot stored the update and confirmed it to Telegram (the next
  getUpdates carried a higher offset), and is stuck placing the order; after the restart the inbox hands it over
  again;
- a successful payment, with ``payments`` locked: the pre-checkout query reads only orders and sessions, so it is
  answered; the payment update is stored and confirmed, its handler stuck at the charge-id lookup; after the
  restart it is recorded once and one ticket goes out.

A backend of the killed process that waits for a lock does not notice its client is gone until it has something
to send: after the rollback it runs its statement, fails to answer and ends, committing nothing.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bot.storage.db import create_engine
from handlers.tourist.callbacks import BookAction, BookCb
from tests.e2e.booking import book_cruise, orders_of, seats_left
from tests.e2e.conftest import Database, seeded_database
from tests.e2e.tourist import Tourist
from tests.e2e_lifecycle.harness import (
    Organiser,
    booked_and_invoiced,
    confirmed,
    fetched,
    inbox,
    kill9,
    queued_update,
    start_bot,
    wait_db,
    wait_idle,
)
from tests.e2e_restart.restart import (
    PROVIDER_TOKEN,
    assert_paid_once_after_restart,
    restart_and_find_order,
    stop_all,
)
from tests.seed import ORGANISER_CHAT_ID

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")

pytestmark = [
    pytest.mark.asyncio(loop_scope="function"),
    pytest.mark.postgres,
    pytest.mark.skipif(
        not POSTGRES_URL,
        reason="PostgreSQL not configured: set TEST_POSTGRES_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1/test)",
    ),
]

LOCK_TIMEOUT = "10s"  # the test's LOCK TABLE waits at most this long for the bot's transactions in flight


@pytest_asyncio.fixture
async def database() -> AsyncIterator[Database]:
    """A fresh database on the server of TEST_POSTGRES_URL, migrated and seeded; dropped afterwards (with any
    connection a killed bot may have left)."""
    name = f"tripdesk_kill9_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        async with seeded_database(url) as db:
            yield db
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@contextlib.asynccontextmanager
async def locked(url: str, table: str) -> AsyncIterator[None]:
    """``LOCK TABLE <table> IN ACCESS EXCLUSIVE MODE`` in an open transaction (nobody else reads or writes the
    table) until the block ends; then rolled back."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            await conn.execute(text(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE'))
            try:
                yield
            finally:
                await conn.rollback()
    finally:
        await engine.dispose()


async def waiting_for_lock(sessions) -> list[str]:
    """The statements other backends of this database are waiting to run because of a lock (whitespace folded)."""
    async with sessions() as db:
        rows = await db.execute(
            text(
                "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND wait_event_type = 'Lock'"
            )
        )
        return [" ".join(row.query.split()) for row in rows]


async def wait_blocked(sessions, statement: str) -> None:
    """Until a backend (of the bot) waits for the test's lock to run a statement containing ``statement``."""
    await wait_db(
        lambda: waiting_for_lock(sessions),
        f"bot statement waiting for the lock: {statement!r}",
        until=lambda queries: any(statement in q for q in queries),
    )


# ---- the booking --------------------------------------------------------------------------------------------------

# What the bot is stopped at: inbox.accept's insert of the updates; place_order's insert of the order (the first
# statement of a Confirm that touches orders).
STUCK_AT = {"inbox": "INSERT INTO inbox", "orders": "INSERT INTO orders"}


@pytest.mark.parametrize("table", ["inbox", "orders"])
async def test_a_booking_being_handled_when_the_bot_is_killed_is_not_lost(
    table, emulator, operators, database, tmp_path
) -> None:
    db = database
    world = emulator.world
    log_path = tmp_path / "bot.log"
    bots = [await start_bot(emulator, db.url, operators, log_path)]
    tourist = Tourist(world, world.add_user(first_name="Kai", language_code="en"))
    try:
        summary, _menu = await book_cruise(tourist, db.seeded)
        before = await seats_left(db.sessions, db.seeded.session_id)
        await wait_idle(db.sessions)  # the summary shows a moment before its update is marked done
        polls = len(world.calls)
        async with locked(db.url, table):
            confirm = BookCb(action=BookAction.CONFIRM, session=db.seeded.session_id).pack()
            query_id = await world.user_presses(tourist.id, tourist.id, summary["message_id"], confirm)
            update_id = queued_update(world, lambda u: u.get("callback_query", {}).get("id") == query_id)
            await world.wait_for(lambda: fetched(world, update_id, polls), timeout=10)
            await wait_blocked(db.sessions, STUCK_AT[table])
            if table == "orders":
                # stored, claimed and confirmed to "Telegram": only the inbox can bring it back now
                assert (await inbox(db.sessions))[update_id] == ("handling", 0)
                await world.wait_for(lambda: confirmed(world, update_id), timeout=10)
            else:
                assert not confirmed(world, update_id)
            await kill9(bots[0])
        assert await orders_of(db.sessions, tourist.id) == []  # nothing was written by the killed process
        assert await seats_left(db.sessions, db.seeded.session_id) == before

        order = await restart_and_find_order(emulator, db, operators, log_path, tourist, before, bots)
        await Organiser(world, ORGANISER_CHAT_ID).wait_request(order.code)  # the organiser is asked, once
        await wait_idle(db.sessions)
        assert (await inbox(db.sessions))[update_id] == ("done", 1)
        assert len(Organiser(world, ORGANISER_CHAT_ID).requests(order.code)) == 1
    finally:
        await stop_all(bots)


# ---- the payment --------------------------------------------------------------------------------------------------


async def test_a_payment_being_handled_when_the_bot_is_killed_is_recorded_once(
    emulator, operators, database, tmp_path
) -> None:
    db = database
    world = emulator.world
    log_path = tmp_path / "bot.log"
    bots = [await start_bot(emulator, db.url, operators, log_path, PAYMENT_PROVIDER_TOKEN=PROVIDER_TOKEN)]
    tourist = Tourist(world, world.add_user(first_name="Mari", language_code="en"))
    try:
        order, invoice = await booked_and_invoiced(world, tourist, db.seeded, db.sessions)
        await wait_idle(db.sessions)
        polls = len(world.calls)
        async with locked(db.url, "payments"):
            paid = await world.user_pays(tourist.id, tourist.id, invoice["message_id"])
            assert paid["ok"], paid  # the pre-checkout query does not touch payments: answered ok
            update_id = queued_update(world, lambda u: "successful_payment" in u.get("message", {}))
            await world.wait_for(lambda: fetched(world, update_id, polls), timeout=10)
            await wait_blocked(db.sessions, "WHERE payments.telegram_charge_id =")
            await world.wait_for(lambda: confirmed(world, update_id), timeout=10)
            await wait_db(
                lambda: inbox(db.sessions),
                "the payment stored and in hand, everything else done",
                until=lambda rows: (
                    {k: v for k, v in rows.items() if v[0] in ("pending", "handling")} == {update_id: ("handling", 0)}
                ),
            )
            await kill9(bots[0])
        await assert_paid_once_after_restart(emulator, db, operators, log_path, tourist, order.id, update_id, bots)
    finally:
        await stop_all(bots)
