"""The day itself on SQLite and PostgreSQL: a ticket found by its code, each mark made once (also by two taps at
once), the session's check-ins, and the attendance job claiming, settling and never settling twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from bot.storage.checkin_tables import OrderDayRow
from bot.storage.tables import AuditRow, OrderRow, SessionRow
from domain.model.orders import BookingStatus, Order
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.checkin import announce_at_meeting_point, check_in_ticket, settle_attendances
from domain.use_cases.payments import record_payment
from scheduler.jobs import JOB_SETTLE_ATTENDANCE, DeadlineJobs
from tests.conftest import FixedClock
from tests.seed import INSTANT_ORGANISER_CHAT_ID, Seeded, seed_catalog, seed_users

LASTS = timedelta(hours=2)  # the walk


async def paid_walks(sessions, uow_factory, clock: FixedClock, users: list[int]) -> tuple[Seeded, list[Order]]:
    seeded = await seed_catalog(sessions, clock.now())
    await seed_users(sessions, users, clock.now())
    start = clock.now() + timedelta(minutes=30)
    async with sessions() as db, db.begin():
        await db.execute(update(SessionRow).where(SessionRow.id == seeded.instant_session_id).values(starts_at=start))
    orders = []
    for user_id in users:
        cmd = PlaceOrder(user_id, seeded.instant_session_id, {"adult": 1}, payments_enabled=True)
        order = await place_order(uow_factory(), cmd, clock.now())
        await record_payment(
            uow_factory(), order.stored_id, user_id, f"c{user_id}", f"p{user_id}", order.total_minor, "EUR", clock.now()
        )
        async with uow_factory() as uow:
            paid = await uow.orders.get(order.stored_id)
        assert paid is not None and paid.ticket_code
        orders.append(paid)
    return seeded, orders


async def test_marks_are_made_once(sessions, uow_factory, clock: FixedClock) -> None:
    _seeded, [order] = await paid_walks(sessions, uow_factory, clock, [501])
    now = clock.now()
    async with uow_factory() as uow:
        assert await uow.checkins.order_by_ticket(order.ticket_code or "") == order.id
        assert await uow.checkins.order_by_ticket("TKT-AAA-AAA-AAA") is None
        assert await uow.checkins.order_day(order.stored_id) is None
        assert await uow.checkins.mark_running_late(order.stored_id, now)
        assert await uow.checkins.mark_checked_in(order.stored_id, now, "organiser:1")
        assert not await uow.checkins.mark_checked_in(order.stored_id, now + timedelta(minutes=1), "operator:2")
        assert not await uow.checkins.mark_running_late(order.stored_id, now + timedelta(minutes=1))
        await uow.commit()
    async with uow_factory() as uow:
        day = await uow.checkins.order_day(order.stored_id)
        assert day is not None and (day.checked_in_at, day.checked_in_by, day.running_late_at) == (
            now,
            "organiser:1",
            now,
        )
        assert set(await uow.checkins.session_days(order.session_id)) == {order.id}
        assert await uow.checkins.session_day(order.session_id) is None
        assert await uow.checkins.mark_at_meeting_point(order.session_id, now, "organiser:1")
        assert not await uow.checkins.mark_at_meeting_point(order.session_id, now, "organiser:1")
        await uow.commit()


async def test_two_taps_at_once_check_in_once(sessions, uow_factory, clock: FixedClock) -> None:
    _seeded, [order] = await paid_walks(sessions, uow_factory, clock, [501])
    taps = await asyncio.gather(
        *(
            check_in_ticket(uow_factory(), order.stored_id, INSTANT_ORGANISER_CHAT_ID, None, clock.now())
            for _ in range(4)
        )
    )
    assert sum(tap.new for tap in taps) == 1
    async with sessions() as db:
        assert len(list(await db.scalars(select(OrderDayRow)))) == 1
        entries = list(await db.scalars(select(AuditRow).where(AuditRow.action == "order.checked_in")))
        assert len(entries) == 1


async def test_the_attendance_job_settles_once_after_the_session(sessions, uow_factory, clock: FixedClock) -> None:
    seeded, [anna, boris] = await paid_walks(sessions, uow_factory, clock, [501, 502])
    start = clock.now() + timedelta(minutes=30)
    await check_in_ticket(uow_factory(), anna.stored_id, INSTANT_ORGANISER_CHAT_ID, None, start)
    await announce_at_meeting_point(uow_factory(), seeded.instant_session_id, INSTANT_ORGANISER_CHAT_ID, None, start)

    early = await settle_attendances(uow_factory(), start + LASTS - timedelta(seconds=1))
    assert early.done == [] and len(early.left) == 2
    clock.set(start + LASTS)
    jobs = DeadlineJobs(uow_factory, clock)
    first = await jobs.run_all()
    assert sorted(first[JOB_SETTLE_ATTENDANCE].done) == sorted([anna.id, boris.id])
    second = await jobs.run_all()
    assert second[JOB_SETTLE_ATTENDANCE].claimed == 0
    async with uow_factory() as uow:
        settled = {o.id: (await uow.orders.get(o.stored_id)) for o in (anna, boris)}
    assert settled[anna.id] is not None and settled[anna.id].booking is BookingStatus.ATTENDED
    assert settled[boris.id] is not None and settled[boris.id].booking is BookingStatus.NO_SHOW


async def test_sessions_older_than_a_week_are_left_alone(sessions, uow_factory, clock: FixedClock) -> None:
    _seeded, [order] = await paid_walks(sessions, uow_factory, clock, [501])
    later = clock.now() + timedelta(days=8)
    async with uow_factory() as uow:
        assert await uow.checkins.claim_order_to_settle(later, later - timedelta(days=7), []) is None
        assert await uow.checkins.claim_order_to_settle(later, later - timedelta(days=9), []) == order.id
        assert await uow.checkins.claim_order_to_settle(later, later - timedelta(days=9), [order.stored_id]) is None


async def test_the_claim_takes_the_earliest_session_first_and_passes_over_settled_ones(
    engine, sessions, uow_factory, clock: FixedClock
) -> None:
    seeded, [first, second] = await paid_walks(sessions, uow_factory, clock, [501, 502])
    # a third tourist on the main cruise date, which starts two hours after the walk
    await seed_users(sessions, [503], clock.now())
    booking = PlaceOrder(503, seeded.session_id, {"adult": 1}, {"pickup": "Viru", "lunch": "fish"})
    cruise = await place_order(uow_factory(), booking, clock.now())
    async with sessions() as db, db.begin():
        walk = await db.scalar(select(SessionRow.starts_at).where(SessionRow.id == seeded.instant_session_id))
        await db.execute(
            update(SessionRow).where(SessionRow.id == seeded.session_id).values(starts_at=walk + timedelta(hours=2))
        )
        await db.execute(
            update(OrderRow).where(OrderRow.id == cruise.stored_id).values(booking=BookingStatus.CONFIRMED.value)
        )
    later = clock.now() + timedelta(days=1)
    since = later - timedelta(days=7)
    async with uow_factory() as uow:
        assert await uow.checkins.claim_order_to_settle(later, since, []) == first.stored_id
        walkers = [first.stored_id, second.stored_id]
        # the walk's orders seen (or settled): the next session's
        assert await uow.checkins.claim_order_to_settle(later, since, walkers) == cruise.stored_id
    if engine.dialect.name != "postgresql":
        return
    # another job runner holds both of the walk's orders: this one passes over to the next session
    async with uow_factory() as other:
        held = await other.checkins.claim_order_to_settle(later, since, [])
        assert held == first.stored_id
        async with uow_factory() as mine:
            assert await mine.checkins.claim_order_to_settle(later, since, []) == second.stored_id
            async with uow_factory() as third:
                assert await third.checkins.claim_order_to_settle(later, since, []) == cruise.stored_id
