"""The desk's jobs on SQLite and PostgreSQL: two processes checking the same orders open one card per order, never
two; a job run twice changes nothing the second time; an order that changes after its card opened updates that card
(one outbox row per version), and one that becomes normal closes it; at rest the jobs only read."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.storage.db import session_factory
from bot.storage.reads import READ_OPTION
from bot.storage.tables import DeskCardRow, OrderRow, OutboxRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.desk import DeskSettings
from domain.model.messages import OutboxKind
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.desk import check_orders, check_questions, reraise_cards
from tests.conftest import engine_twin
from tests.seed import seed_catalog, seed_users

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
DESK = DeskSettings(chat_id=-100500, digest_after=1000)
MANY = 40
FIRST_USER = 800_000


async def problem_orders(sessions: async_sessionmaker, count: int) -> list[int]:
    seeded = await seed_catalog(sessions, NOW)
    async with sessions() as db, db.begin():
        await db.execute(update(SessionRow).values(capacity=500, seats_left=500))
    await seed_users(sessions, range(FIRST_USER, FIRST_USER + count), now=NOW)
    ids = []
    for i in range(count):
        order = await place_order(
            SqlUnitOfWork(sessions),
            PlaceOrder(
                user_id=FIRST_USER + i,
                session_id=seeded.session_id,
                quantities={"adult": 1},
                answers={"pickup": "Viru", "lunch": "veg"},
            ),
            NOW,
        )
        ids.append(order.id)
    return ids


async def sweep(engine: AsyncEngine, now: datetime) -> list[int]:
    """One "process": its own engine, passes until nothing is left."""
    sessions = session_factory(engine)
    done: list[int] = []
    while True:
        swept = await check_orders(SqlUnitOfWork(sessions), now, 7, DESK)
        done += swept.done
        assert swept.failed == []
        if swept.claimed == 0:
            return done
        await asyncio.sleep(0)


async def card_rows(sessions: async_sessionmaker) -> list[DeskCardRow]:
    async with sessions() as db:
        return list(await db.scalars(select(DeskCardRow).order_by(DeskCardRow.id)))


async def card_messages(sessions: async_sessionmaker) -> Counter[int]:
    async with sessions() as db:
        payloads = await db.scalars(select(OutboxRow.payload).where(OutboxRow.kind == OutboxKind.PROBLEM_CARD.value))
        return Counter(p["card_id"] for p in payloads)


async def test_two_processes_open_one_card_per_order(engine, sessions) -> None:
    ids = await problem_orders(sessions, MANY)
    overdue = NOW + timedelta(minutes=11)
    twins = [engine_twin(engine) for _ in range(2)]
    try:
        taken = await asyncio.gather(*(sweep(twin, overdue) for twin in twins))
    finally:
        for twin in twins:
            await twin.dispose()
    assert set(taken[0]).isdisjoint(taken[1]) and sorted(taken[0] + taken[1]) == ids
    cards = await card_rows(sessions)
    assert sorted(c.order_id for c in cards) == ids and {c.status for c in cards} == {"open"}
    assert set((await card_messages(sessions)).values()) == {1}
    # nothing changed, nothing due: the next passes find nothing to do
    assert await sweep(engine, overdue + timedelta(seconds=1)) == []


async def test_a_change_updates_the_card_and_a_normal_order_closes_it(engine, sessions) -> None:
    [order_id] = await problem_orders(sessions, 1)
    overdue = NOW + timedelta(minutes=11)
    assert await sweep(engine, overdue) == [order_id]
    async with sessions() as db, db.begin():
        await db.execute(update(OrderRow).values(unclear_reply="tomorrow?", version=OrderRow.version + 1))
    assert await sweep(engine, overdue) == [order_id]
    [card] = await card_rows(sessions)
    assert card.kinds == ["organiser_silent", "unclear_reply"] and card.version == 1
    async with sessions() as db, db.begin():
        await db.execute(update(OrderRow).values(booking="declined", unclear_reply=None, version=OrderRow.version + 1))
    assert await sweep(engine, overdue) == [order_id]
    [card] = await card_rows(sessions)
    assert card.status == "resolved" and card.open_subject is None and card.resolution == "back_to_normal"
    assert (await card_messages(sessions))[card.id] == 3  # opened, updated, closed: one row per version
    async with sessions() as db:
        assert (
            await db.scalar(select(func.count()).select_from(OrderRow).where(OrderRow.desk_check_at.isnot(None))) == 0
        )


async def test_at_rest_the_desk_jobs_only_read(engine, sessions) -> None:
    """Nothing changed and nothing due (the scheduler's every-second call, most of the time): each job looks in a read
    block and stops there: no transaction, so on SQLite not the write lock (``BEGIN IMMEDIATE``) writers queue for.
    What changes afterwards is still found."""
    ids = await problem_orders(sessions, 3)
    overdue = NOW + timedelta(minutes=11)
    assert sorted(await sweep(engine, overdue)) == ids
    statements: list[tuple[str, bool]] = []

    def record(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append((statement.split()[0].upper(), bool(conn.get_execution_options().get(READ_OPTION))))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        uow = SqlUnitOfWork(sessions)
        for job in (check_orders, check_questions, reraise_cards):
            assert (await job(uow, overdue + timedelta(seconds=1), 7, DESK)).claimed == 0
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert statements and all(kind == "SELECT" and read for kind, read in statements), statements
    async with sessions() as db, db.begin():
        await db.execute(update(OrderRow).where(OrderRow.id == ids[1]).values(version=OrderRow.version + 1))
    assert await sweep(engine, overdue + timedelta(seconds=2)) == [ids[1]]


def test_the_scheduler_runs_the_desk_jobs_on_the_interval(uow_factory) -> None:
    from unittest.mock import AsyncMock

    from scheduler.jobs import (
        JOB_CHECK_ORDERS,
        JOB_CHECK_QUESTIONS,
        JOB_DELIVER_OUTBOX,
        JOB_RERAISE_CARDS,
        DeskJobs,
        build_scheduler,
    )
    from tests.fakes import FixedClock

    drain = AsyncMock()
    scheduler = build_scheduler(drain, 1.0, desk_jobs=DeskJobs(uow_factory, FixedClock(NOW), DESK))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert jobs[JOB_DELIVER_OUTBOX].func is drain
    assert set(jobs) == {JOB_DELIVER_OUTBOX, JOB_CHECK_ORDERS, JOB_CHECK_QUESTIONS, JOB_RERAISE_CARDS}
    assert all((job.max_instances, job.coalesce) == (1, True) for job in jobs.values())
