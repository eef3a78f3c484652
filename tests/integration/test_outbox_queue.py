"""Claiming outbox rows: two senders at once never take the same row, and nothing is left behind."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.storage.db import session_factory
from bot.storage.outbox import OutboxQueue
from bot.storage.tables import OutboxRow
from tests.conftest import engine_twin

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
KINDS = ["tourist.order_confirmed"]


async def test_two_senders_share_the_rows_without_overlap(engine) -> None:
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():
        db.add_all(
            OutboxRow(
                kind=KINDS[0],
                chat_id=i,
                payload={"order_id": i},
                dedup_key=f"k{i}",
                status="pending",
                attempts=0,
                due_at=NOW,
                created_at=NOW,
            )
            for i in range(1, 301)
        )
    # each sender has its own engine and pool, as two processes would
    engines = [engine_twin(engine) for _ in range(2)]
    queues = [OutboxQueue(session_factory(e)) for e in engines]
    taken: list[list[int]] = [[], []]

    async def drain(index: int) -> None:
        while rows := await queues[index].claim(NOW, KINDS, 7):
            taken[index].extend(r.id for r in rows)
            await asyncio.sleep(0)

    await asyncio.gather(drain(0), drain(1))
    for e in engines:
        await e.dispose()
    assert set(taken[0]).isdisjoint(taken[1])
    assert sorted(taken[0] + taken[1]) == list(range(1, 301))


async def test_a_row_in_flight_is_not_claimed_again_until_its_lease_ends(engine) -> None:
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():
        db.add(
            OutboxRow(
                kind=KINDS[0],
                chat_id=1,
                payload={},
                dedup_key="one",
                status="pending",
                attempts=0,
                due_at=NOW,
                created_at=NOW,
            )
        )
    queue = OutboxQueue(sessions)
    [first] = await queue.claim(NOW, KINDS, 10)
    assert await queue.claim(NOW, KINDS, 10) == []
    [again] = await queue.claim(NOW.replace(minute=2), KINDS, 10)
    assert (again.id, again.attempts) == (first.id, 2)
    await queue.sent(again.id, NOW, 42)
    assert await queue.claim(NOW.replace(minute=10), KINDS, 10) == []
