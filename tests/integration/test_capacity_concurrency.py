"""Capacity is never oversold: many concurrent bookings, each in its own transaction, on SQLite and PostgreSQL.

Every attempt gets its own :class:`SqlUnitOfWork` (as every Telegram update does) and runs concurrently with the
others through ``asyncio.gather``; the conditional ``UPDATE ... WHERE seats_left >= n`` decides who gets a seat.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.storage.db import session_factory
from bot.storage.tables import OrderItemRow, OrderRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.errors import SoldOut
from domain.model.orders import Order, OrderItem, new_order_code
from domain.use_cases.booking import PlaceOrder, place_order
from tests.conftest import migrated_engine
from tests.seed import Seeded, seed_catalog, seed_users

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ATTEMPTS = 200
CAPACITY = 10
FIRST_USER = 1_000_000


# Enough connections that the attempts contend on the seats row rather than queue for the pool.
POOL = {"sqlite": {}, "postgres": {"pool_size": 30, "max_overflow": 10, "pool_timeout": 60}}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def wide_engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with migrated_engine(request.param, tmp_path, **POOL[request.param]) as engine:
        yield engine


@pytest.fixture
async def world(wide_engine: AsyncEngine) -> tuple[async_sessionmaker, Seeded, int]:
    """The seeded catalog plus a fresh 10-seat session and ATTEMPTS tourists; returns the session's id last."""
    sessions = session_factory(wide_engine)
    seeded = await seed_catalog(sessions, NOW)
    async with sessions() as db, db.begin():
        target = SessionRow(
            event_id=seeded.instant_event_id,
            starts_at=NOW + timedelta(days=5),
            capacity=CAPACITY,
            seats_left=CAPACITY,
            status="scheduled",
        )
        db.add(target)
        await db.flush()
        target_id = target.id
    await seed_users(sessions, range(FIRST_USER, FIRST_USER + ATTEMPTS), NOW)
    return sessions, seeded, target_id


async def _state(sessions: async_sessionmaker, session_id: int) -> tuple[int, int, int]:
    """(seats left, orders, seats sold in orders) for the session, read back from the database."""
    async with sessions() as db:
        left = await db.scalar(select(SessionRow.seats_left).where(SessionRow.id == session_id))
        orders = await db.scalar(select(func.count()).select_from(OrderRow).where(OrderRow.session_id == session_id))
        sold = await db.scalar(
            select(func.coalesce(func.sum(OrderItemRow.quantity), 0))
            .join(OrderRow, OrderRow.id == OrderItemRow.order_id)
            .where(OrderRow.session_id == session_id)
        )
    return int(left), int(orders), int(sold)


def _split(results: list[Any]) -> tuple[list[Any], list[SoldOut]]:
    """Successes and SoldOut refusals; any other exception fails the test as itself."""
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, SoldOut):
            raise result
    return [r for r in results if not isinstance(r, BaseException)], [r for r in results if isinstance(r, SoldOut)]


# ---- through place_order ----------------------------------------------------------------------------------------


async def test_concurrent_single_seat_bookings_sell_exactly_the_capacity(
    world: tuple[async_sessionmaker, Seeded, int],
) -> None:
    sessions, _, target = world

    async def attempt(user_id: int) -> Order:
        return await place_order(SqlUnitOfWork(sessions), PlaceOrder(user_id, target, {"adult": 1}), NOW)

    results = await asyncio.gather(*(attempt(FIRST_USER + i) for i in range(ATTEMPTS)), return_exceptions=True)
    placed, sold_out = _split(results)

    assert len(placed) == CAPACITY
    assert len(sold_out) == ATTEMPTS - CAPACITY
    assert all(e.data == {"left": 0, "wanted": 1} for e in sold_out)
    assert len({o.user_id for o in placed}) == CAPACITY
    assert len({o.code for o in placed}) == CAPACITY
    assert await _state(sessions, target) == (0, CAPACITY, CAPACITY)


async def test_concurrent_multi_seat_bookings_never_exceed_the_capacity(
    world: tuple[async_sessionmaker, Seeded, int],
) -> None:
    sessions, _, target = world
    wanted = random.Random(20261130).choices([1, 2, 3], k=ATTEMPTS)

    async def attempt(i: int) -> Order:
        return await place_order(SqlUnitOfWork(sessions), PlaceOrder(FIRST_USER + i, target, {"adult": wanted[i]}), NOW)

    placed, sold_out = _split(await asyncio.gather(*(attempt(i) for i in range(ATTEMPTS)), return_exceptions=True))

    sold = sum(o.seats for o in placed)
    left, orders, sold_in_db = await _state(sessions, target)
    assert 0 < sold <= CAPACITY
    assert (left, orders, sold_in_db) == (CAPACITY - sold, len(placed), sold)
    assert len(placed) + len(sold_out) == ATTEMPTS
    assert all(e.data["left"] < e.data["wanted"] for e in sold_out)
    assert left < 3  # every size was tried many times after the seats ran low


async def test_concurrent_repeats_of_one_confirm_place_one_order(world: tuple[async_sessionmaker, Seeded, int]) -> None:
    """A double tap (or a retried update) of the same booking screen, many times at once: one order, seats once.
    Every repeat gets that order back, also one that raced the first to the insert: the unique request key makes it
    wait for the first transaction and then read its order."""
    sessions, _, target = world
    cmd = PlaceOrder(FIRST_USER, target, {"adult": 2}, request_key=f"screen:{FIRST_USER}:1")
    results = await asyncio.gather(
        *(place_order(SqlUnitOfWork(sessions), cmd, NOW) for _ in range(20)), return_exceptions=True
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result
    orders = [r for r in results if isinstance(r, Order)]
    assert len(orders) == 20 and len({o.id for o in orders}) == 1
    assert await _state(sessions, target) == (CAPACITY - 2, 1, 2)
    retried = await place_order(SqlUnitOfWork(sessions), cmd, NOW)
    assert retried.id == orders[0].id


async def test_a_booking_looks_nothing_up_and_takes_the_seats_last(
    world: tuple[async_sessionmaker, Seeded, int],
) -> None:
    """The unique constraints guard the code, the request key and the outbox's dedup key (no ``SELECT count(*)``
    before each insert), and the conditional UPDATE is the last write: on PostgreSQL it locks the session's row
    until the commit, and every booking of that session waits for it."""
    sessions, _, target = world
    engine = sessions.kw["bind"]
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        cmd = PlaceOrder(FIRST_USER, target, {"adult": 2}, request_key=f"screen:{FIRST_USER}:1", payments_enabled=True)
        order = await place_order(SqlUnitOfWork(sessions), cmd, NOW)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)

    assert not [s for s in statements if "count(" in s.lower() or (s.startswith("SELECT") and " FROM orders " in s)]
    writes = [s for s in statements if s.startswith(("INSERT", "UPDATE"))]
    assert writes[0].startswith("INSERT INTO orders ") and writes[1].startswith("INSERT INTO order_items ")
    assert writes[-1].startswith("UPDATE event_sessions SET seats_left")
    assert {w.split()[2] for w in writes[2:-1]} >= {"outbox", "audit_log", "order_reminders"}
    assert await _state(sessions, target) == (CAPACITY - 2, 1, 2)
    assert order.pay_by is not None  # confirmed at once with payments: the invoice went into the outbox


# ---- the same guarantee at the storage port (independent of the catalog reads) ----------------------------------


async def _reserve_and_record(
    sessions: async_sessionmaker, event_id: int, session_id: int, user_id: int, seats: int
) -> Order | None:
    """The storage half of place_order: take seats with the conditional UPDATE, then write the order."""
    async with SqlUnitOfWork(sessions) as uow:
        if not await uow.seats.reserve(session_id, seats):
            return None
        order = await uow.orders.add(
            Order(
                code=new_order_code(),
                user_id=user_id,
                session_id=session_id,
                event_id=event_id,
                currency="EUR",
                items=[OrderItem("adult", seats, 1500)],
                subtotal_minor=1500 * seats,
                discount_percent=0,
                total_minor=1500 * seats,
                created_at=NOW,
                hold_until=NOW + timedelta(minutes=15),
                language="en",
            )
        )
        await uow.commit()
    return order


async def test_concurrent_seat_reservations_sell_exactly_the_capacity(
    world: tuple[async_sessionmaker, Seeded, int],
) -> None:
    sessions, seeded, target = world
    results = await asyncio.gather(
        *(_reserve_and_record(sessions, seeded.instant_event_id, target, FIRST_USER + i, 1) for i in range(ATTEMPTS))
    )
    placed = [r for r in results if r is not None]
    assert len(placed) == CAPACITY
    assert await _state(sessions, target) == (0, CAPACITY, CAPACITY)


async def test_concurrent_multi_seat_reservations_never_exceed_the_capacity(
    world: tuple[async_sessionmaker, Seeded, int],
) -> None:
    sessions, seeded, target = world
    wanted = random.Random(7).choices([1, 2, 3], k=ATTEMPTS)
    results = await asyncio.gather(
        *(
            _reserve_and_record(sessions, seeded.instant_event_id, target, FIRST_USER + i, wanted[i])
            for i in range(ATTEMPTS)
        )
    )
    sold = sum(r.seats for r in results if r is not None)
    assert 0 < sold <= CAPACITY
    assert await _state(sessions, target) == (CAPACITY - sold, sum(r is not None for r in results), sold)


async def test_a_cancelled_session_sells_nothing_under_load(world: tuple[async_sessionmaker, Seeded, int]) -> None:
    sessions, seeded, _ = world
    cancelled = seeded.cancelled_session_id
    results = await asyncio.gather(
        *(_reserve_and_record(sessions, seeded.event_id, cancelled, FIRST_USER + i, 1) for i in range(50))
    )
    assert results == [None] * 50
    assert await _state(sessions, cancelled) == (20, 0, 0)
