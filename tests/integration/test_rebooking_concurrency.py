"""Rebooking by oneself never oversells, on SQLite and PostgreSQL: many tourists move their orders onto the same
small session at once, each in its own transaction (as every Telegram update is); the conditional seats UPDATE takes
the seats on the new session before the old one gets them back, so exactly its capacity moves and the rest are
refused as sold out with nothing changed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.storage.db import session_factory
from bot.storage.tables import OrderItemRow, OrderRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.errors import ConcurrentChange, SoldOut
from domain.model.orders import Order
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.rebooking import Rebooked, RebookOrder, rebook_order
from tests.conftest import migrated_engine
from tests.seed import seed_catalog, seed_users

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TOURISTS = 40
CAPACITY = 5
FIRST_USER = 2_000_000
WALK_PRICE = 1500  # tests.seed: the walk's adult ticket

POOL = {"sqlite": {}, "postgres": {"pool_size": 20, "max_overflow": 10, "pool_timeout": 60}}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with migrated_engine(request.param, tmp_path, **POOL[request.param]) as engine:
        yield engine


async def _session(sessions: async_sessionmaker, event_id: int, days: int, capacity: int) -> int:
    async with sessions() as db, db.begin():
        row = SessionRow(
            event_id=event_id,
            starts_at=NOW + timedelta(days=days),
            capacity=capacity,
            seats_left=capacity,
            status="scheduled",
        )
        db.add(row)
        await db.flush()
        return row.id


@pytest.fixture
async def world(engine: AsyncEngine) -> tuple[async_sessionmaker, int, int, list[Order]]:
    """A roomy walk in 4 days with one order of one seat per tourist, and a 5-seat walk in 6 days to move to."""
    sessions = session_factory(engine)
    seeded = await seed_catalog(sessions, NOW)
    source = await _session(sessions, seeded.instant_event_id, 4, 100)
    target = await _session(sessions, seeded.instant_event_id, 6, CAPACITY)
    await seed_users(sessions, range(FIRST_USER, FIRST_USER + TOURISTS), NOW)
    orders = [
        await place_order(SqlUnitOfWork(sessions), PlaceOrder(FIRST_USER + i, source, {"adult": 1}), NOW)
        for i in range(TOURISTS)
    ]
    return sessions, source, target, orders


async def _state(sessions: async_sessionmaker, session_id: int) -> tuple[int, int]:
    """(seats left, seats held by the session's orders) read back from the database."""
    async with sessions() as db:
        left = await db.scalar(select(SessionRow.seats_left).where(SessionRow.id == session_id))
        held = await db.scalar(
            select(func.coalesce(func.sum(OrderItemRow.quantity), 0))
            .join(OrderRow, OrderRow.id == OrderItemRow.order_id)
            .where(OrderRow.session_id == session_id, OrderRow.booking.in_(("awaiting_organiser", "confirmed")))
        )
    return int(left), int(held)


async def test_concurrent_date_changes_move_exactly_the_capacity(
    world: tuple[async_sessionmaker, int, int, list[Order]],
) -> None:
    sessions, source, target, orders = world

    async def attempt(order: Order) -> Rebooked:
        cmd = RebookOrder(order.user_id or 0, order.stored_id, target, WALK_PRICE)
        return await rebook_order(SqlUnitOfWork(sessions), cmd, NOW)

    results = await asyncio.gather(*(attempt(o) for o in orders), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, SoldOut):
            raise result
    moved = [r for r in results if isinstance(r, Rebooked)]
    refused = [r for r in results if isinstance(r, SoldOut)]

    assert len(moved) == CAPACITY and len(refused) == TOURISTS - CAPACITY
    assert all(r.moved and r.order.session_id == target for r in moved)
    assert await _state(sessions, target) == (0, CAPACITY)  # full, never oversold
    assert await _state(sessions, source) == (100 - TOURISTS + CAPACITY, TOURISTS - CAPACITY)  # the movers' back
    async with sessions() as db:
        on_target = set(await db.scalars(select(OrderRow.id).where(OrderRow.session_id == target)))
    assert on_target == {r.order.stored_id for r in moved}  # the refused ones stayed where they were


async def test_one_order_moved_twice_at_once_keeps_the_seats_right(
    world: tuple[async_sessionmaker, int, int, list[Order]],
) -> None:
    """A double tap on two summaries of the same order: whatever order the two transactions run in, the order ends on
    one session and every session's seats match the orders on it."""
    sessions, source, target, orders = world
    other = await _session(sessions, orders[0].event_id, 8, CAPACITY)
    order = orders[0]

    async def attempt(session_id: int) -> Rebooked:
        cmd = RebookOrder(order.user_id or 0, order.stored_id, session_id, WALK_PRICE)
        return await rebook_order(SqlUnitOfWork(sessions), cmd, NOW)

    results = await asyncio.gather(attempt(target), attempt(other), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, ConcurrentChange):
            raise result
    assert any(isinstance(r, Rebooked) for r in results)
    for session_id, capacity in ((source, 100), (target, CAPACITY), (other, CAPACITY)):
        left, held = await _state(sessions, session_id)
        assert left == capacity - held, f"session {session_id}: {left} left, {held} held"
    assert sum([(await _state(sessions, s))[1] for s in (target, other)]) == 1
