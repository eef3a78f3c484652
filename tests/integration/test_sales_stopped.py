"""Stopped sales (issue 14) on SQLite and PostgreSQL (the ``engine`` fixture): the organiser's ``sales_stopped`` flag
is checked by the seat-taking conditional UPDATE itself, so tourists booking at the moment the sales stop, and after,
take no seat the stop did not see; a seat a cancellation frees is not sold again, nor offered to the waitlist, until
the sales resume."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.storage.tables import OrderRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.errors import SALES_STOPPED, SessionNotBookable, SoldOut
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.organiser_access import OrganiserActor
from domain.use_cases.organiser_sessions import resume_sales, stop_sales
from domain.use_cases.waitlist import join_waitlist, offer_freed_seats
from tests.seed import ORGANISER_CHAT_ID, Seeded, seed_catalog, seed_users

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
OWN = OrganiserActor(ORGANISER_CHAT_ID)
FIRST_USER = 910_000
ANSWERS = {"pickup": "Viru", "lunch": "veg"}


@pytest.fixture
async def seeded(sessions: async_sessionmaker) -> Seeded:
    return await seed_catalog(sessions, NOW)


async def book(sessions: async_sessionmaker, seeded: Seeded, user_id: int, seats: int = 1) -> object:
    order = PlaceOrder(user_id, seeded.session_id, {"adult": seats}, ANSWERS)
    return await place_order(SqlUnitOfWork(sessions), order, NOW)


async def seats_left(sessions: async_sessionmaker, session_id: int) -> int:
    async with sessions() as db:
        row = await db.get(SessionRow, session_id)
    assert row is not None
    return row.seats_left


async def orders_after(sessions: async_sessionmaker, first_id: int) -> int:
    async with sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(OrderRow).where(OrderRow.id > first_id)) or 0)


async def last_order_id(sessions: async_sessionmaker) -> int:
    async with sessions() as db:
        return int(await db.scalar(select(func.max(OrderRow.id))) or 0)


async def test_tourists_booking_while_and_after_the_sales_stop_take_no_seat_the_stop_missed(sessions, seeded) -> None:
    users = list(range(FIRST_USER, FIRST_USER + 16))
    await seed_users(sessions, users, NOW)
    before = await last_order_id(sessions)
    # a crowd books while the organiser stops the sales: each booking is either in before the stop, or refused
    results = await asyncio.gather(
        *(book(sessions, seeded, u) for u in users[:8]),
        stop_sales(SqlUnitOfWork(sessions), seeded.organiser_id, seeded.session_id, OWN, NOW),
        *(book(sessions, seeded, u) for u in users[8:12]),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, SessionNotBookable | SoldOut):
            raise result
    sold_while_stopping = await orders_after(sessions, before)
    left = await seats_left(sessions, seeded.session_id)
    assert left == 20 - sold_while_stopping  # every seat taken is an order's, none lost
    # after the stop: nothing more, whatever the seats left say (there are free ones)
    assert left > 0
    after_stop = await asyncio.gather(*(book(sessions, seeded, u) for u in users[12:]), return_exceptions=True)
    assert all(isinstance(r, SessionNotBookable) and r.data["reason"] == SALES_STOPPED for r in after_stop)
    assert await orders_after(sessions, before) == sold_while_stopping
    assert await seats_left(sessions, seeded.session_id) == left
    # the seat-taking UPDATE itself refuses, whatever a stale read of the session said
    uow = SqlUnitOfWork(sessions)
    async with uow:
        assert await uow.seats.reserve(seeded.session_id, 1) is False


async def test_a_freed_seat_is_neither_sold_nor_offered_to_the_waitlist_until_the_sales_resume(
    sessions, seeded
) -> None:
    buyer, waiting, late = FIRST_USER + 100, FIRST_USER + 101, FIRST_USER + 102
    await seed_users(sessions, [buyer, waiting, late], NOW)
    await book(sessions, seeded, buyer, seats=4)
    async with sessions() as db:  # the session is sold out but for the buyer's 4 seats
        row = await db.get(SessionRow, seeded.session_id)
        assert row is not None
        row.seats_left = 0
        await db.commit()
    await join_waitlist(SqlUnitOfWork(sessions), waiting, seeded.session_id, 2, NOW)
    await stop_sales(SqlUnitOfWork(sessions), seeded.organiser_id, seeded.session_id, OWN, NOW)
    async with sessions() as db:  # the buyer cancels: their 4 seats are free again
        await db.execute(update(SessionRow).where(SessionRow.id == seeded.session_id).values(seats_left=4))
        await db.commit()
    swept = await offer_freed_seats(SqlUnitOfWork(sessions), NOW)
    assert swept.done == []  # nothing offered
    with pytest.raises(SessionNotBookable):
        await book(sessions, seeded, late)
    assert await seats_left(sessions, seeded.session_id) == 4

    await resume_sales(SqlUnitOfWork(sessions), seeded.organiser_id, seeded.session_id, OWN, NOW)
    swept = await offer_freed_seats(SqlUnitOfWork(sessions), NOW)
    assert len(swept.done) == 1  # the waiting tourist is offered their 2 seats now
    assert await seats_left(sessions, seeded.session_id) == 2
