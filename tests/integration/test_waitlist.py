"""The waitlist on SQLite and PostgreSQL: offers go in order, hold their seats, expire and pass on; a claim books
them; the jobs claim under lock and are idempotent; nothing is oversold with bookings, claims and the jobs running
at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.storage.tables import OrderItemRow, OrderRow, SessionRow, WaitlistRow
from domain.errors import SoldOut
from domain.model.orders import ACTIVE_BOOKINGS
from domain.model.waitlist import OfferClosed, WaitlistStatus
from domain.ports import UnitOfWork
from domain.use_cases.booking import PlaceOrder, cancel_order, place_order
from domain.use_cases.waitlist import (
    ClaimOffer,
    claim_offer,
    expire_offers,
    join_waitlist,
    leave_waitlist,
    offer_freed_seats,
)
from scheduler.jobs import JOB_EXPIRE_WAITLIST_OFFERS, JOB_OFFER_WAITLIST_SEATS, DeadlineJobs
from tests.conftest import FixedClock
from tests.seed import Seeded, seed_catalog, seed_users

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
CAPACITY = 10  # the seeded instant session
BUYER, OTHER = 500, 501
WAITING = list(range(600, 620))
BOOKERS = list(range(700, 740))

Uows = Callable[[], UnitOfWork]


@pytest.fixture
async def world(sessions: async_sessionmaker) -> Seeded:
    seeded = await seed_catalog(sessions, NOW)
    await seed_users(sessions, [BUYER, OTHER, *WAITING, *BOOKERS], NOW)
    return seeded


async def _counts(sessions: async_sessionmaker, session_id: int) -> tuple[int, int, int]:
    """(seats left, seats in active orders, seats held by open offers) of the session, read back."""
    async with sessions() as db:
        left = await db.scalar(select(SessionRow.seats_left).where(SessionRow.id == session_id))
        sold = await db.scalar(
            select(func.coalesce(func.sum(OrderItemRow.quantity), 0))
            .join(OrderRow, OrderRow.id == OrderItemRow.order_id)
            .where(OrderRow.session_id == session_id, OrderRow.booking.in_([b.value for b in ACTIVE_BOOKINGS]))
        )
        held = await db.scalar(
            select(func.coalesce(func.sum(WaitlistRow.seats), 0)).where(
                WaitlistRow.session_id == session_id, WaitlistRow.status == WaitlistStatus.OFFERED.value
            )
        )
    return int(left or 0), int(sold or 0), int(held or 0)


async def _statuses(sessions: async_sessionmaker, users: list[int]) -> list[str]:
    async with sessions() as db:
        result = await db.execute(select(WaitlistRow.user_id, WaitlistRow.status))
        status = {row.user_id: row.status for row in result}
    return [status[u] for u in users]


async def _sold_out(uows: Uows, sid: int) -> int:
    """Sold out to two tourists (4 and 6 seats); the 4-seat order's id."""
    first = await place_order(uows(), PlaceOrder(BUYER, sid, {"adult": 4}), NOW)
    await place_order(uows(), PlaceOrder(OTHER, sid, {"adult": 6}), NOW)
    return first.stored_id


async def test_offers_go_in_order_expire_pass_on_and_a_claim_books(sessions, uow_factory, world: Seeded) -> None:
    sid = world.instant_session_id
    first = await _sold_out(uow_factory, sid)
    w1, w2, w3 = WAITING[:3]
    for uid, seats in ((w1, 3), (w2, 2), (w3, 1)):
        await join_waitlist(uow_factory(), uid, sid, seats, NOW)
    again = await join_waitlist(uow_factory(), w1, sid, 1, NOW)
    assert not again.new and again.entry.seats == 3  # one open entry per tourist and session

    await cancel_order(uow_factory(), BUYER, first, NOW)
    jobs = DeadlineJobs(uow_factory, FixedClock(NOW))
    runs = await jobs.run_all()
    assert runs[JOB_OFFER_WAITLIST_SEATS].done == [sid]
    assert await _statuses(sessions, [w1, w2, w3]) == ["offered", "waiting", "offered"]
    assert await _counts(sessions, sid) == (0, 6, 4)
    assert all(s.claimed == 0 for s in (await jobs.run_all()).values())  # a second pass finds nothing
    with pytest.raises(SoldOut):
        await place_order(uow_factory(), PlaceOrder(BOOKERS[0], sid, {"adult": 1}), NOW)

    later = DeadlineJobs(uow_factory, FixedClock(NOW + WINDOW))
    runs = await later.run_all()
    assert len(runs[JOB_EXPIRE_WAITLIST_OFFERS].done) == 2 and runs[JOB_OFFER_WAITLIST_SEATS].done == [sid]
    assert await _statuses(sessions, [w1, w2, w3]) == ["expired", "offered", "expired"]
    assert await _counts(sessions, sid) == (2, 6, 2)

    async with uow_factory() as uow:
        entry = await uow.waitlist.open_entry(w2, sid)
    assert entry is not None
    with pytest.raises(OfferClosed):
        await claim_offer(uow_factory(), ClaimOffer(w1, entry.stored_id, {"adult": 2}), NOW + WINDOW)
    claim = ClaimOffer(w2, entry.stored_id, {"adult": 2}, request_key=f"{w2}:draft")
    order = await claim_offer(uow_factory(), claim, NOW + WINDOW)
    assert (await claim_offer(uow_factory(), claim, NOW + WINDOW)).id == order.id  # a double tap: one order
    assert await _statuses(sessions, [w2]) == ["claimed"]
    assert await _counts(sessions, sid) == (2, 8, 0)


async def test_leaving_an_offer_passes_it_on(sessions, uow_factory, world: Seeded) -> None:
    sid = world.instant_session_id
    first = await _sold_out(uow_factory, sid)
    w1, w2 = WAITING[:2]
    one = (await join_waitlist(uow_factory(), w1, sid, 4, NOW)).entry
    await join_waitlist(uow_factory(), w2, sid, 4, NOW)
    await cancel_order(uow_factory(), BUYER, first, NOW)
    await offer_freed_seats(uow_factory(), NOW)
    await leave_waitlist(uow_factory(), w1, one.stored_id, NOW)
    assert await _counts(sessions, sid) == (4, 6, 0)
    await offer_freed_seats(uow_factory(), NOW)
    assert await _statuses(sessions, [w1, w2]) == ["left", "offered"]
    assert await _counts(sessions, sid) == (0, 6, 4)


async def test_nothing_is_oversold_with_bookings_claims_and_the_jobs_at_once(
    sessions, uow_factory, world: Seeded
) -> None:
    """Ten waiting tourists, forty booking, cancellations freeing seats, the offer and expiry jobs and claims, all
    at once, in rounds: at every point seats left + sold + held = capacity, never below zero."""
    sid = world.instant_session_id
    first = await _sold_out(uow_factory, sid)
    waiting = WAITING[:10]
    for uid in waiting:
        await join_waitlist(uow_factory(), uid, sid, 1 + uid % 3, NOW)
    await cancel_order(uow_factory(), BUYER, first, NOW)

    async def claim_if_offered(uid: int, now: datetime) -> None:
        async with uow_factory() as uow:
            entry = await uow.waitlist.open_entry(uid, sid)
        if entry is not None and entry.offer_open(now):
            with contextlib.suppress(OfferClosed):
                await claim_offer(uow_factory(), ClaimOffer(uid, entry.stored_id, {"adult": entry.seats}), now)

    async def cancel_one(now: datetime) -> None:
        """Free seats again: the oldest active order of a booker."""
        async with sessions() as db:
            order_id = await db.scalar(
                select(OrderRow.id)
                .where(OrderRow.session_id == sid, OrderRow.user_id.in_(BOOKERS), OrderRow.booking == "confirmed")
                .order_by(OrderRow.id)
                .limit(1)
            )
            user_id = await db.scalar(select(OrderRow.user_id).where(OrderRow.id == order_id)) if order_id else None
        if order_id is not None and user_id is not None:
            await cancel_order(uow_factory(), user_id, order_id, now)

    async def book(uid: int, now: datetime) -> None:
        with contextlib.suppress(SoldOut):
            await place_order(uow_factory(), PlaceOrder(uid, sid, {"adult": 1}), now)

    for step in range(6):
        now = NOW + step * WINDOW / 2  # a round's offers are claimed in the next, or expire in the one after
        await asyncio.gather(
            offer_freed_seats(uow_factory(), now),
            offer_freed_seats(uow_factory(), now),  # a second process running the same job
            expire_offers(uow_factory(), now),
            *(book(uid, now) for uid in BOOKERS[step * 6 : step * 6 + 6]),
            *(claim_if_offered(uid, now) for uid in waiting[step % 2 :: 2]),
            cancel_one(now),
        )
        left, sold, held = await _counts(sessions, sid)
        assert left >= 0 and left + sold + held == CAPACITY
    async with sessions() as db:
        claimed = await db.scalar(
            select(func.count()).select_from(WaitlistRow).where(WaitlistRow.status == WaitlistStatus.CLAIMED.value)
        )
        orders = await db.scalar(select(func.count()).select_from(OrderRow).where(OrderRow.session_id == sid))
    assert int(claimed or 0) > 0 and int(orders or 0) >= 2 + int(claimed or 0)


async def test_two_joins_at_once_make_one_entry(sessions, uow_factory, world: Seeded) -> None:
    sid = world.instant_session_id
    await _sold_out(uow_factory, sid)
    joined = await asyncio.gather(*(join_waitlist(uow_factory(), WAITING[0], sid, 2, NOW) for _ in range(5)))
    assert len({j.entry.id for j in joined}) == 1 and sum(j.new for j in joined) == 1
