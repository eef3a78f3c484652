"""PostgreSQL restarted in the middle of a run (issue 12): the bot reconnects and loses nothing.

The real bot process (``python -m bot run``, long polling against the emulator) serves a handful of tourists who
book the cruise at the same time, on a database of its own on the server of ``TEST_POSTGRES_URL`` (created for the
test, migrated, seeded, dropped at the end). The first tourist's Confirm is caught in the middle of its handling:
the test holds ``LOCK TABLE orders IN SHARE MODE`` (reads go on, the insert of the order waits) and waits until a
backend of the bot is seen waiting there (``pg_stat_activity``). Once the other tourists are a third of the way
through their bookings, the test restarts the server with ``pg_ctlcluster <version> <cluster> restart`` (fast mode:
every connection is cut, the bot's and the lock's included). The tourists carry on as people would, each waiting for
the bot's answer to their last tap (up to :data:`REPLY_TIMEOUT`), and then:

- every booking started is placed, once: one order per tourist, one booking request per order to the organiser;
- every stored update is done (none failed, none left pending or being handled), every outbox row sent;
- no message twice: no bot message repeated in a chat, no request of the bot refused by the emulator (a callback
  query answered twice, say), no apology from the error backstop;
- the seats left are the capacity less the seats of the orders;
- the bot process is still running and stops cleanly.

**The server is shared** (other test runs use it at the same time): the test restarts it once, in fast mode, and
makes sure it is running and accepting connections again in a ``finally`` (starting it if the restart left it
down). It skips, with the reason, when the cluster serving the URL cannot be found (``pg_lsclusters``: Debian's
tools) or this user may not restart it (neither root nor the cluster's owner, and no password-less ``sudo``); it
never fails on that. It is marked ``pg_restart`` (and ``postgres``): ``-m "not pg_restart"`` leaves it out.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import subprocess
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from bot.storage.db import create_engine
from bot.storage.reads import engine_of
from bot.storage.tables import OrderItemRow, OrderRow, OutboxRow, SessionRow
from handlers.tourist.callbacks import BookAction, BookCb, BrowseCb, EventCb, MenuAction, MenuCb, When
from sandbox.errors import NOT_MODIFIED
from sandbox.server import Emulator
from sandbox.world import World
from tests.e2e.booking import PICKUP, VEGETARIAN, book_cruise, orders_of
from tests.e2e.conftest import Database, seeded_database
from tests.e2e.tourist import Tourist, callback_data
from tests.e2e_lifecycle.harness import Organiser, inbox, start_bot, wait_db, wait_idle
from tests.e2e_restart.restart import orders_and_card, stop_all
from tests.seed import ORGANISER_CHAT_ID

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")

pytestmark = [
    pytest.mark.asyncio(loop_scope="function"),
    pytest.mark.postgres,
    pytest.mark.pg_restart,
    pytest.mark.skipif(
        not POSTGRES_URL,
        reason="PostgreSQL not configured: set TEST_POSTGRES_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1/test)",
    ),
]

TOURISTS = 8  # each books one seat of the cruise's first date (20 seats)
UPDATES_PER_BOOKING = 10  # /start, six presses to the date, Continue, the pickup typed, lunch: then Confirm
RESTART_AFTER = (TOURISTS - 2) * UPDATES_PER_BOOKING // 3  # the others' updates handled when the server restarts
LOCK_TIMEOUT = "10s"  # the test's LOCK TABLE waits at most this long for the bot's transactions in flight
REPLY_TIMEOUT = 45.0  # a tap during the restart is answered after the reconnect and the inbox's retry pause
RESTART_TIMEOUT = 60.0  # pg_ctlcluster restart (fast mode) on a busy machine
READY_TIMEOUT = 60.0  # the server accepts connections again
SETTLE_TIMEOUT = 30.0  # the inbox done and the outbox sent after the last booking
LOCAL_HOSTS = {None, "", "localhost", "127.0.0.1", "::1"}


# ---- the cluster ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cluster:
    version: str
    name: str
    port: int
    command: tuple[str, ...]  # how to run pg_ctlcluster: directly, or through sudo -n

    def ctl(self, action: str) -> list[str]:
        return [*self.command, "--mode", "fast", self.version, self.name, action]


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def local_cluster(url: str) -> Cluster | str:
    """The Debian cluster serving ``url`` and how to restart it; or why that cannot be done from here."""
    parsed = make_url(url)
    if parsed.host not in LOCAL_HOSTS:
        return f"the PostgreSQL server {parsed.host} is not on this machine"
    if not (shutil.which("pg_lsclusters") and shutil.which("pg_ctlcluster")):
        return "pg_lsclusters/pg_ctlcluster not found (not a Debian PostgreSQL)"
    listing = _run(["pg_lsclusters", "--no-header"], 10)
    port = parsed.port or 5432
    for line in listing.stdout.splitlines():
        fields = line.split()  # version cluster port status owner data-directory log-file
        if len(fields) >= 5 and fields[2] == str(port):
            version, name, owner = fields[0], fields[1], fields[4]
            break
    else:
        return f"no cluster on port {port} in pg_lsclusters ({listing.stdout.strip() or listing.stderr.strip()})"
    if os.geteuid() == 0 or pwd.getpwuid(os.geteuid()).pw_name == owner:
        command: tuple[str, ...] = ("pg_ctlcluster",)
    elif shutil.which("sudo") and _run(["sudo", "-n", "true"], 10).returncode == 0:
        command = ("sudo", "-n", "pg_ctlcluster")
    else:
        return f"this user may not restart cluster {version}/{name} (neither root nor {owner}, no sudo -n)"
    return Cluster(version, name, port, command)


async def restart(cluster: Cluster) -> None:
    """``pg_ctlcluster ... restart``, in a thread (the emulator and the tourists run on meanwhile)."""
    done = await asyncio.to_thread(_run, cluster.ctl("restart"), RESTART_TIMEOUT)
    if done.returncode != 0:  # not the bot's doing: the machine would not let the test restart its server
        pytest.skip(f"pg_ctlcluster restart failed ({done.returncode}): {(done.stderr or done.stdout).strip()}")


async def ensure_running(cluster: Cluster, url: str) -> None:
    """The cluster is up and accepts connections (started if a failed restart left it down); bounded."""
    status = await asyncio.to_thread(_run, [*cluster.command, cluster.version, cluster.name, "status"], 10)
    if status.returncode != 0:  # 3: not running
        await asyncio.to_thread(_run, cluster.ctl("start"), RESTART_TIMEOUT)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_TIMEOUT
    engine = create_engine(url, poolclass=NullPool)
    try:
        while True:
            try:
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                return
            except Exception:
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.2)
    finally:
        await engine.dispose()


# ---- fixtures -------------------------------------------------------------------------------------------------------


@pytest.fixture
def cluster() -> Cluster:
    assert POSTGRES_URL is not None
    found = local_cluster(POSTGRES_URL)
    if isinstance(found, str):
        pytest.skip(f"cannot restart PostgreSQL from this test: {found}")
    return found


@pytest_asyncio.fixture
async def database(cluster: Cluster) -> AsyncIterator[Database]:
    """A fresh database named after TEST_POSTGRES_URL's (``<name>_pgrestart_<random>``), migrated and seeded;
    dropped afterwards, once the server answers again."""
    assert POSTGRES_URL is not None
    base = make_url(POSTGRES_URL)
    name = f"{base.database}_pgrestart_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        async with seeded_database(url) as db:
            yield db
    finally:
        await ensure_running(cluster, POSTGRES_URL)
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


# ---- what is checked ------------------------------------------------------------------------------------------------


async def done_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    return sum(1 for status, _attempts in (await inbox(sessions)).values() if status == "done")


async def outbox_statuses(sessions: async_sessionmaker[AsyncSession]) -> dict[int, str]:
    async with sessions() as db:
        return {row.id: row.status for row in await db.execute(select(OutboxRow.id, OutboxRow.status))}


async def seats_booked(sessions: async_sessionmaker[AsyncSession], session_id: int) -> tuple[int, int, int]:
    """(capacity, seats left, seats in the session's orders)."""
    async with sessions() as db:
        capacity, left = (
            await db.execute(select(SessionRow.capacity, SessionRow.seats_left).where(SessionRow.id == session_id))
        ).one()
        booked = await db.scalar(
            select(func.coalesce(func.sum(OrderItemRow.quantity), 0))
            .join(OrderRow, OrderRow.id == OrderItemRow.order_id)
            .where(OrderRow.session_id == session_id)
        )
    return capacity, left, int(booked or 0)


def repeated_messages(tourist: Tourist) -> list[str]:
    """Texts the bot sent into the tourist's chat more than once (as sent, before any edit)."""
    sent = Counter(m["original"].get("text") or m["original"].get("caption") or "" for m in tourist.bot_messages())
    return [text for text, count in sent.items() if count > 1]


def refused_calls(world: World) -> list[str]:
    """The bot's requests the emulator refused as invalid ("message is not modified" is expected after a repeat)."""
    return [
        f"{c.method} {c.params} -> {c.status} {c.description}"
        for c in world.calls
        if c.status in (400, 401, 404, 409) and c.description != NOT_MODIFIED
    ]


async def book(tourist: Tourist, db: Database) -> None:
    """The whole journey: the summary, then Confirm; done once the order card shows."""
    summary, _menu = await book_cruise(tourist, db.seeded)
    await confirm(tourist, db, summary)


async def to_pickup(tourist: Tourist, db: Database) -> None:
    """/start -> ... -> the cruise's first date -> Continue: the bot asks for the pickup place."""
    seeded = db.seeded
    await tourist.send("/start")
    await tourist.press(MenuCb(action=MenuAction.EVENTS))
    await tourist.press(BrowseCb(region=seeded.region_id, step="when"))
    await tourist.press(BrowseCb(region=seeded.region_id, when=When.UPCOMING, step="category"))
    await tourist.press(BrowseCb(region=seeded.region_id, when=When.UPCOMING, category="sea", step="list"))
    await tourist.press(EventCb(event=seeded.event_id))
    await tourist.press(BookCb(action=BookAction.START, session=seeded.session_id))
    await tourist.press(BookCb(action=BookAction.NEXT, session=seeded.session_id))


async def from_pickup(tourist: Tourist, db: Database) -> None:
    """The pickup typed, a lunch, Confirm: the order card."""
    session_id = db.seeded.session_id
    question = await tourist.send(PICKUP)
    await tourist.press(BookCb(action=BookAction.CHOICE, session=session_id, value=VEGETARIAN), question)
    # the question becomes the summary; as a person would, find it even if a newer message came meanwhile
    confirm_data = BookCb(action=BookAction.CONFIRM, session=session_id).pack()
    summary = await tourist.wait(
        lambda: next((m for m in reversed(tourist.bot_messages()) if confirm_data in callback_data(m)), None),
        "the summary with its Confirm button",
    )
    await confirm(tourist, db, summary)


async def confirm(tourist: Tourist, db: Database, summary: dict[str, Any]) -> None:
    await tourist.press(BookCb(action=BookAction.CONFIRM, session=db.seeded.session_id), summary)
    await tourist.wait(lambda: orders_and_card(tourist), "the order card")


@contextlib.asynccontextmanager
async def locked(url: str, user_id: int) -> AsyncIterator[None]:
    """Until the block ends (or the restart cuts it), in one open transaction: ``LOCK TABLE orders IN SHARE MODE``
    (the orders can be read, but a Confirm being handled waits at its insert of the order) and the conversation row
    of user ``user_id`` locked ``FOR UPDATE`` (the inbox's "done" mark of their update, which writes that row in the
    same transaction, waits after the handler has answered them)."""
    engine = create_engine(url, poolclass=NullPool)
    conn = await engine.connect()
    try:
        await conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        await conn.execute(text("LOCK TABLE orders IN SHARE MODE"))
        keys = await conn.scalars(
            text("SELECT key FROM fsm_state WHERE key LIKE :pattern FOR UPDATE"), {"pattern": f"%:{user_id}:%"}
        )
        assert keys.all(), f"no conversation row of user {user_id} to lock"
        yield
    finally:
        with contextlib.suppress(SQLAlchemyError, OSError):  # the restart may have ended it already
            await conn.rollback()
        with contextlib.suppress(SQLAlchemyError, OSError):
            await conn.close()
        await engine.dispose()


async def waiting_for_lock(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """The statements other backends of this database wait to run because of a lock (whitespace folded)."""
    async with sessions() as db:
        rows = await db.execute(
            text(
                "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND wait_event_type = 'Lock'"
            )
        )
        return [" ".join(row.query.split()) for row in rows]


# ---- the test -------------------------------------------------------------------------------------------------------


async def test_postgres_restarted_mid_run_loses_nothing(
    emulator: Emulator, operators: int, cluster: Cluster, database: Database, tmp_path: Path
) -> None:
    db = database
    world = emulator.world
    log_path = tmp_path / "bot.log"
    bots = [await start_bot(emulator, db.url, operators, log_path)]
    tourists = [
        Tourist(world, world.add_user(first_name=f"Guest{n}", language_code="en"), timeout=REPLY_TIMEOUT)
        for n in range(TOURISTS)
    ]
    journeys: list[asyncio.Task[None]] = []
    confirming, answered, others = tourists[0], tourists[1], tourists[2:]
    try:
        summary, _menu = await book_cruise(confirming, db.seeded)
        await to_pickup(answered, db)
        await wait_idle(db.sessions)  # a screen shows a moment before its update is marked done
        handled = await done_count(db.sessions)
        try:
            async with locked(db.url, answered.id):
                # When the server goes down: the first tourist's Confirm is being handled (stuck at its insert of the
                # order); the second tourist has been answered (the lunch question) but the update is not yet marked
                # done (its "done" mark waits); the others are in the middle of their journeys.
                journeys.append(asyncio.create_task(confirm(confirming, db, summary)))
                journeys.append(asyncio.create_task(from_pickup(answered, db)))
                journeys += [asyncio.create_task(book(t, db)) for t in others]
                await wait_db(
                    lambda: waiting_for_lock(db.sessions),
                    "the Confirm waiting at its insert of the order, the answered update at its done mark",
                    until=lambda queries: (
                        any("INSERT INTO orders" in q for q in queries) and any("fsm_state" in q for q in queries)
                    ),
                )
                await wait_db(
                    lambda: done_count(db.sessions),
                    f"{RESTART_AFTER} more updates handled before the restart",
                    until=lambda done: done >= handled + RESTART_AFTER,
                    timeout=60,
                )
                assert not any(j.done() for j in journeys), "the bookings ended before the restart: nothing tested"
                await restart(cluster)
        finally:
            assert POSTGRES_URL is not None
            await ensure_running(cluster, POSTGRES_URL)
            await engine_of(db.sessions).dispose()  # the test's own pooled connections were cut too
        outcomes = await asyncio.gather(*journeys, return_exceptions=True)
        failed = [f"{t}: {o!r}" for t, o in zip(tourists, outcomes, strict=True) if isinstance(o, BaseException)]
        repeats = {t.id: r for t in tourists if (r := repeated_messages(t))}
        assert not failed, (
            "bookings not completed after the restart:\n"
            + "\n".join(failed)
            + (f"\nmessages sent twice (a cause?): {repeats}" if repeats else "")
            + "\n"
            + bots[0].tail()
        )

        # every booking placed once, its organiser asked once
        organiser = Organiser(world, ORGANISER_CHAT_ID)
        for tourist in tourists:
            [order] = await orders_of(db.sessions, tourist.id)
            assert order.booking == "awaiting_organiser", (tourist, order.booking)
            await organiser.wait_request(order.code, timeout=SETTLE_TIMEOUT)
            assert len(organiser.requests(order.code)) == 1, order.code

        # the inbox all done, the outbox all sent
        rows = await wait_db(
            lambda: inbox(db.sessions),
            "every stored update done",
            until=lambda rows: all(status == "done" for status, _ in rows.values()),
            timeout=SETTLE_TIMEOUT,
        )
        assert len(rows) >= TOURISTS * (UPDATES_PER_BOOKING + 1)
        await wait_db(
            lambda: outbox_statuses(db.sessions),
            "every outbox row sent",
            until=lambda rows: rows and set(rows.values()) == {"sent"},
            timeout=SETTLE_TIMEOUT,
        )

        capacity, left, booked = await seats_booked(db.sessions, db.seeded.session_id)
        assert booked == TOURISTS and left == capacity - booked, (capacity, left, booked)
        assert bots[0].running, bots[0].tail()

        # nothing refused, no apology, nothing twice
        assert not refused_calls(world), "\n".join(refused_calls(world))
        assert not bots[0].backstop_lines(), "\n".join(bots[0].backstop_lines())
        repeats = {t.id: r for t in tourists if (r := repeated_messages(t))}
        assert not repeats, f"messages sent twice (an update answered, then handled again after the restart): {repeats}"
    finally:
        for journey in journeys:
            journey.cancel()
        await asyncio.gather(*journeys, return_exceptions=True)
        await stop_all(bots)
