"""Several replicas on one inbox (bot/inbox.py, bot/replicas.py): each update handled once, a chat's in order
whichever replica received it; the claims of a replica that died, or that stops, are taken over; a transient
database failure hands the update back, and its chat waits for it."""

from __future__ import annotations

import asyncio
import random

import pytest
from aiogram import Bot
from aiogram.types import Update
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from bot.inbox import CLAIM, Inbox
from bot.inbox_worker import InboxWorker
from bot.replicas import Replica
from bot.storage.db import session_factory
from bot.storage.tables import InboxRow
from bot.storage.update_scope import CURRENT
from tests.conftest import engine_twin
from tests.fakes import FixedClock
from tests.integration.test_inbox import BOT, message


class SharedLog:
    """Stands in for the Dispatchers of several replicas: records who handled what, and checks that no chat ever has
    two updates in hand at once."""

    def __init__(self) -> None:
        self.handled: list[tuple[str, int, int]] = []  # (replica, chat, update)
        self.in_hand: set[int] = set()
        self.overlaps = 0

    def replica(self, name: str, delay: float = 0.002) -> Feeder:
        return Feeder(self, name, delay)


class Feeder:
    def __init__(self, log: SharedLog, name: str, delay: float) -> None:
        self.log, self.name, self.delay = log, name, delay

    async def feed_update(self, bot: Bot, update: Update) -> None:
        chat = update.message.chat.id if update.message else 0
        if chat in self.log.in_hand:
            self.log.overlaps += 1
        self.log.in_hand.add(chat)
        await asyncio.sleep(self.delay * random.random())
        self.log.in_hand.discard(chat)
        self.log.handled.append((self.name, chat, update.update_id))


async def statuses(engine) -> dict[int, str]:
    async with session_factory(engine)() as db:
        rows = (await db.execute(select(InboxRow.update_id, InboxRow.status))).all()
    return dict(rows)


async def test_two_replicas_receiving_alternately_handle_each_update_once_and_each_chat_in_order(engine) -> None:
    random.seed(12)
    twin = engine_twin(engine)  # the second replica: its own engine and pool, as another process
    try:
        log = SharedLog()
        workers = []
        for name, own in (("a", engine), ("b", twin)):
            replica = Replica(own)
            await replica.connect()
            inbox = Inbox(session_factory(own), FixedClock(), replica)
            workers.append((InboxWorker(log.replica(name), BOT, inbox), replica))
        updates = [message(i, 100 + i % 5) for i in range(1, 121)]  # 5 chats, 24 updates each
        for i, update in enumerate(updates):  # a load balancer alternating between them
            worker = workers[i % 2][0]
            await worker.inbox.store([update])
            worker.received([update])
            if i % 7 == 0:
                await asyncio.sleep(0.001)
        for worker, _ in workers:  # what a replica left for a busy chat is taken by the one that finishes it
            await worker.wait_idle(30)
        for _ in range(3):
            for worker, _ in workers:
                await worker.sweep()
                await worker.wait_idle(30)
        handled = [u for _, _, u in log.handled]
        assert sorted(handled) == list(range(1, 121)), "each update handled exactly once"
        for chat in range(100, 105):
            mine = [u for _, c, u in log.handled if c == chat]
            assert mine == sorted(mine), f"chat {chat} out of order: {mine}"
        assert log.overlaps == 0
        assert {name for name, _, _ in log.handled} == {"a", "b"}
        assert set((await statuses(engine)).values()) == {"done"}
        for _, replica in workers:
            await replica.close()
    finally:
        await twin.dispose()


@pytest.mark.postgres
async def test_the_claims_of_a_replica_whose_connection_is_gone_are_taken_over_at_once(pg_engine) -> None:
    engine = pg_engine
    twin = engine_twin(engine)
    try:
        dead = Replica(twin)
        await dead.connect()
        dead_inbox = Inbox(session_factory(twin), FixedClock(), dead)
        await dead_inbox.store([message(1, 10), message(2, 10)])
        assert (await dead_inbox.claim_next(10, BOT)).update_id == 1  # claimed, then the process is killed
        await dead.close()  # its connection drops, as with kill -9

        log = SharedLog()
        alive = Replica(engine)
        await alive.connect()
        worker = InboxWorker(log.replica("alive"), BOT, Inbox(session_factory(engine), FixedClock(), alive))
        await worker.sweep()  # long before the claim's own end (CLAIM)
        await worker.wait_idle(10)
        assert [u for _, _, u in log.handled] == [1, 2]
        assert await statuses(engine) == {1: "done", 2: "done"}
        await alive.close()
    finally:
        await twin.dispose()


async def test_a_live_replicas_claim_holds_its_chat_until_it_ends(engine) -> None:
    clock = FixedClock()
    other = Replica(engine)
    await other.connect()  # alive: its connection stays open
    holder = Inbox(session_factory(engine), clock, other)
    await holder.store([message(1, 10), message(2, 10), message(3, 20)])
    await holder.claim_next(10, BOT)

    log = SharedLog()
    me = Replica(engine)
    inbox = Inbox(session_factory(engine), clock, me)
    worker = InboxWorker(log.replica("me"), BOT, inbox)
    for chat in (10, 20):
        worker._kick(chat)
    await worker.wait_idle(10)
    assert [u for _, _, u in log.handled] == [3]  # chat 10 waits for the holder: its update 1 is in hand there
    clock.advance(seconds=CLAIM.total_seconds() + 1)  # the claim ran out (its holder never finished)
    worker._kick(10)
    await worker.wait_idle(10)
    assert [u for _, _, u in log.handled] == [3, 1, 2]
    await other.close()


class FlakyDatabase:
    """A dispatcher whose handler meets a lost database connection on the first try of update 1."""

    def __init__(self) -> None:
        self.tries: list[int] = []

    async def feed_update(self, bot: Bot, update: Update) -> None:
        self.tries.append(update.update_id)
        if update.update_id == 1 and self.tries.count(1) == 1:
            scope = CURRENT.get()
            assert scope is not None
            scope.transient = OperationalError("SELECT 1", {}, ConnectionResetError("the server closed the connection"))


async def test_a_transient_failure_hands_the_update_back_and_its_chat_waits_for_it(engine) -> None:
    clock = FixedClock()
    inbox = Inbox(session_factory(engine), clock)
    dp = FlakyDatabase()
    worker = InboxWorker(dp, BOT, inbox)
    fresh = await inbox.store([message(1, 10), message(2, 10), message(3, 20)])
    await worker.handle(fresh)
    assert sorted(dp.tries) == [1, 3]  # update 2 waits behind update 1, which waits for its retry
    assert (await statuses(engine))[1] == "pending"
    await worker.sweep()
    await worker.wait_idle(10)
    assert sorted(dp.tries) == [1, 3]  # not before its pause
    clock.advance(seconds=2)
    await worker.sweep()
    await worker.wait_idle(10)
    assert dp.tries == [1, 3, 1, 2] or dp.tries == [3, 1, 1, 2]
    assert await statuses(engine) == {1: "done", 2: "done", 3: "done"}


class Slow:
    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def feed_update(self, bot: Bot, update: Update) -> None:
        self.started.set()
        await asyncio.sleep(30)


async def test_a_stopping_replica_gives_its_claims_back(engine) -> None:
    inbox = Inbox(session_factory(engine), FixedClock())
    dp = Slow()
    worker = InboxWorker(dp, BOT, inbox)
    worker.received(await inbox.store([message(1, 10), message(2, 10)]))
    await asyncio.wait_for(dp.started.wait(), 10)
    await asyncio.wait_for(worker.stop(timeout=0.2), 5)
    assert await statuses(engine) == {1: "pending", 2: "pending"}  # another replica takes them now
    async with session_factory(engine)() as db:
        assert (await db.execute(text("SELECT count(*) FROM inbox WHERE claimed_by IS NOT NULL"))).scalar() == 0
