"""The deadline jobs on SQLite and PostgreSQL: restart-safe, idempotent, and safe with two processes at once.

Each job is run twice (the second run must find nothing to do); two "processes" (engines with pools of their own,
``engine_twin``) run the same job concurrently and every reminder goes out exactly once, none missed. The catalog
runs on short durations and the clock is moved by hand.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.storage.db import session_factory
from bot.storage.tables import (
    AuditRow,
    OrderReminderRow,
    OrderRow,
    OrganiserRow,
    OutboxRow,
    SessionNoticeRow,
    SessionRow,
)
from bot.storage.uow import SqlUnitOfWork
from domain.model.catalog import BOOKING_CUTOFF
from domain.model.messages import OutboxKind
from domain.model.orders import BookingStatus, Order, PaymentStatus
from domain.model.reminders import PARTICIPANTS, DueStatus, Reminder, SessionNotice
from domain.use_cases.booking import PlaceOrder, cancel_order, place_order
from domain.use_cases.checkin import check_in_ticket
from domain.use_cases.deadlines import (
    expire_overdue,
    remind_unpaid,
    schedule_order_reminders,
    send_due_reminders,
)
from domain.use_cases.sweep import Swept
from scheduler.jobs import (
    JOB_DELIVER_OFFERS,
    JOB_EXPIRE_OVERDUE,
    JOB_EXPIRE_WAITLIST_OFFERS,
    JOB_FAVOURITE_NEW_DATES,
    JOB_FAVOURITE_SEATS,
    JOB_NUDGE_ORGANISERS,
    JOB_OFFER_WAITLIST_SEATS,
    JOB_PARTICIPANT_LISTS,
    JOB_REMIND_UNPAID,
    JOB_SEND_REMINDERS,
    JOB_SETTLE_ATTENDANCE,
    DeadlineJobs,
)
from tests.conftest import engine_twin
from tests.fakes import FixedClock
from tests.seed import INSTANT_ORGANISER_CHAT_ID, Seeded, seed_catalog, seed_user, seed_users

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
START = NOW + timedelta(minutes=10)
BIG_START = NOW + timedelta(hours=1)
TOURIST = 5001
ANSWERS = {"pickup": "Hotel Viru", "lunch": "veg"}
MANY = 60
FIRST_USER = 900_000


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker:
    return session_factory(engine)


@pytest.fixture
async def seeded(sessions: async_sessionmaker) -> Seeded:
    """The seeded catalog on short durations: 30 s to confirm, 60 s to pay, reminders 5 and 1 minutes before."""
    seeded = await seed_catalog(sessions, NOW)
    async with sessions() as db, db.begin():
        await db.execute(
            update(OrganiserRow).values(confirm_within_s=30, pay_within_s=60, hold_s=60, reminders_s=[300, 60])
        )
        await db.execute(
            update(SessionRow)
            .where(SessionRow.id.in_([seeded.session_id, seeded.instant_session_id]))
            .values(starts_at=START)
        )
    await seed_user(sessions, TOURIST, now=NOW)
    return seeded


async def walk(
    sessions: async_sessionmaker,
    seeded: Seeded,
    user_id: int = TOURIST,
    payments: bool = False,
    session_id: int | None = None,
    seats: int = 2,
    now: datetime = NOW,
) -> Order:
    cmd = PlaceOrder(
        user_id=user_id,
        session_id=session_id or seeded.instant_session_id,
        quantities={"adult": seats},
        payments_enabled=payments,
    )
    return await place_order(SqlUnitOfWork(sessions), cmd, now)


async def cruise(sessions: async_sessionmaker, seeded: Seeded) -> Order:
    cmd = PlaceOrder(user_id=TOURIST, session_id=seeded.session_id, quantities={"adult": 2}, answers=ANSWERS)
    return await place_order(SqlUnitOfWork(sessions), cmd, NOW)


async def outbox_kinds(sessions: async_sessionmaker) -> Counter[str]:
    async with sessions() as db:
        return Counter(await db.scalars(select(OutboxRow.kind)))


async def audit_actions(sessions: async_sessionmaker) -> Counter[str]:
    async with sessions() as db:
        return Counter(await db.scalars(select(AuditRow.action)))


async def order_row(sessions: async_sessionmaker, order_id: int) -> OrderRow:
    async with sessions() as db:
        return await db.get(OrderRow, order_id)


async def seats_left(sessions: async_sessionmaker, session_id: int) -> int:
    async with sessions() as db:
        return await db.scalar(select(SessionRow.seats_left).where(SessionRow.id == session_id))


async def reminder_statuses(sessions: async_sessionmaker) -> dict[tuple[int, str], str]:
    async with sessions() as db:
        rows = await db.execute(select(OrderReminderRow.order_id, OrderReminderRow.kind, OrderReminderRow.status))
        return {(order_id, kind): status for order_id, kind, status in rows}


async def run_twice(jobs: DeadlineJobs) -> tuple[dict[str, Swept], dict[str, Swept]]:
    return await jobs.run_all(), await jobs.run_all()


def nothing(runs: dict[str, Swept]) -> bool:
    return all(s.claimed == 0 for s in runs.values())


# ---- the whole timeline, every job run twice ----------------------------------------------------------------------


async def test_every_job_run_twice_does_its_work_once(sessions, seeded, uow_factory) -> None:
    clock = FixedClock(NOW)
    jobs = DeadlineJobs(uow_factory, clock)
    silent = await cruise(sessions, seeded)  # awaits the organiser, who never answers
    unpaid = await walk(sessions, seeded, payments=True)  # confirmed at once, never paid
    await seed_user(sessions, TOURIST + 1, now=NOW)
    on_site = await walk(sessions, seeded, user_id=TOURIST + 1)  # confirmed, pays at the meeting point
    assert await seats_left(sessions, seeded.instant_session_id) == 6

    first, second = await run_twice(jobs)
    assert nothing(first) and nothing(second)

    clock.set(NOW + timedelta(seconds=60))  # past confirm_by and pay_by
    first, second = await run_twice(jobs)
    assert first[JOB_NUDGE_ORGANISERS].done == [silent.id] and first[JOB_REMIND_UNPAID].done == [unpaid.id]
    assert nothing(second)
    assert (await order_row(sessions, unpaid.id)).hold_until == NOW + timedelta(seconds=90)  # + half of 60 s

    clock.set(NOW + timedelta(seconds=90))  # the grace is over
    first, second = await run_twice(jobs)
    assert first[JOB_EXPIRE_OVERDUE].done == [unpaid.id] and nothing(second)
    assert await seats_left(sessions, seeded.instant_session_id) == 8  # released once

    clock.set(START - BOOKING_CUTOFF)  # nobody confirmed the cruise; the 5-minute reminder of the on-site order
    first, second = await run_twice(jobs)
    assert first[JOB_EXPIRE_OVERDUE].done == [silent.id]
    assert len(first[JOB_SEND_REMINDERS].done) == 1
    assert first[JOB_SEND_REMINDERS].skipped != []  # the expired order's reminders
    assert nothing(second)
    assert await seats_left(sessions, seeded.session_id) == 20

    clock.set(START - timedelta(minutes=1))  # the 1-minute reminder and the participant list
    first, second = await run_twice(jobs)
    assert len(first[JOB_SEND_REMINDERS].done) == 1 and len(first[JOB_PARTICIPANT_LISTS].done) == 1
    assert nothing(second)

    # the on-site tourist is checked in at the meeting point: only attended tourists are asked for a rating
    await check_in_ticket(uow_factory(), on_site.stored_id, INSTANT_ORGANISER_CHAT_ID, None, START)
    clock.set(START + timedelta(hours=3))  # an hour after the two-hour walk: attended, and the rating request
    first, second = await run_twice(jobs)
    assert first[JOB_SETTLE_ATTENDANCE].done == [on_site.id]
    assert len(first[JOB_SEND_REMINDERS].done) == 1 and nothing(second)

    assert await outbox_kinds(sessions) == Counter(
        {
            OutboxKind.BOOKING_REQUEST.value: 1,
            OutboxKind.INVOICE.value: 1,
            OutboxKind.CONFIRM_NUDGE.value: 1,
            OutboxKind.PAY_REMINDER.value: 1,
            OutboxKind.ORDER_EXPIRED.value: 2,
            OutboxKind.SESSION_REMINDER.value: 2,
            OutboxKind.PARTICIPANTS.value: 1,
            OutboxKind.RATING_REQUEST.value: 1,
            OutboxKind.ORDER_CONFIRMED.value: 1,  # the on-site order's confirmation with its check-in QR
        }
    )
    actions = await audit_actions(sessions)
    assert (actions["order.organiser_nudged"], actions["order.pay_reminded"], actions["order.expired"]) == (1, 1, 2)
    assert (actions["reminder.sent"], actions["session.participants_sent"]) == (3, 1)
    statuses = await reminder_statuses(sessions)
    assert {k: v for k, v in statuses.items() if k[0] == on_site.id} == {
        (on_site.id, f"before:300@{seeded.instant_session_id}"): "sent",
        (on_site.id, f"before:60@{seeded.instant_session_id}"): "sent",
        (on_site.id, f"rating@{seeded.instant_session_id}"): "sent",
    }
    assert {v for k, v in statuses.items() if k[0] == unpaid.id} == {"skipped"}  # an expired order: no reminders


# ---- two processes at once ----------------------------------------------------------------------------------------


@pytest.fixture
async def big_session(sessions: async_sessionmaker, seeded: Seeded) -> int:
    async with sessions() as db, db.begin():
        row = SessionRow(
            event_id=seeded.instant_event_id, starts_at=BIG_START, capacity=500, seats_left=500, status="scheduled"
        )
        db.add(row)
        await db.flush()
        session_id = row.id
    await seed_users(sessions, range(FIRST_USER, FIRST_USER + MANY), now=NOW)
    return session_id


async def drain(engine: AsyncEngine, use_case, now: datetime, batch: int) -> list[int]:
    """One "process": its own engine, passes until nothing is left."""
    sessions = session_factory(engine)
    done: list[int] = []
    while True:
        swept = await use_case(SqlUnitOfWork(sessions), now, batch)
        done += swept.done + swept.skipped
        assert swept.failed == []
        if swept.claimed == 0:
            return done
        await asyncio.sleep(0)


async def test_two_processes_send_every_reminder_exactly_once(
    engine,
    sessions,
    seeded,
    big_session,
) -> None:
    orders = [
        await walk(sessions, seeded, user_id=FIRST_USER + i, session_id=big_session, seats=1) for i in range(MANY)
    ]
    twins = [engine_twin(engine) for _ in range(2)]
    at = BIG_START - timedelta(minutes=4)  # every 5-minute reminder is due
    try:
        taken = await asyncio.gather(*(drain(twin, send_due_reminders, at, 7) for twin in twins))
    finally:
        for twin in twins:
            await twin.dispose()
    assert set(taken[0]).isdisjoint(taken[1])
    assert len(taken[0]) + len(taken[1]) == MANY  # none missed
    async with sessions() as db:
        reminder = OutboxRow.kind == OutboxKind.SESSION_REMINDER.value
        sent = list(await db.scalars(select(OutboxRow.payload).where(reminder)))
        audited = Counter(await db.scalars(select(AuditRow.order_id).where(AuditRow.action == "reminder.sent")))
    assert sorted(p["order_id"] for p in sent) == sorted(o.id for o in orders)
    assert set(audited.values()) == {1} and len(audited) == MANY  # each handled once, not merely deduplicated
    statuses = await reminder_statuses(sessions)
    assert all(statuses[(o.id, f"before:300@{big_session}")] == "sent" for o in orders)
    assert all(statuses[(o.id, f"before:60@{big_session}")] == "pending" for o in orders)  # not due yet


async def test_two_processes_expire_each_order_once_and_release_its_seats_once(
    engine,
    sessions,
    seeded,
    big_session,
) -> None:
    orders = [
        await walk(sessions, seeded, user_id=FIRST_USER + i, session_id=big_session, seats=2, payments=True)
        for i in range(MANY)
    ]
    assert await seats_left(sessions, big_session) == 500 - 2 * MANY
    reminded_at = NOW + timedelta(seconds=60)
    twins = [engine_twin(engine) for _ in range(2)]
    try:
        reminded = await asyncio.gather(*(drain(twin, remind_unpaid, reminded_at, 5) for twin in twins))
        expired = await asyncio.gather(
            *(drain(twin, expire_overdue, reminded_at + timedelta(seconds=30), 5) for twin in twins)
        )
    finally:
        for twin in twins:
            await twin.dispose()
    for taken in (reminded, expired):
        assert set(taken[0]).isdisjoint(taken[1]) and len(taken[0]) + len(taken[1]) == MANY
    assert await seats_left(sessions, big_session) == 500
    actions = await audit_actions(sessions)
    assert (actions["order.pay_reminded"], actions["order.expired"]) == (MANY, MANY)
    kinds = await outbox_kinds(sessions)
    assert (kinds[OutboxKind.PAY_REMINDER.value], kinds[OutboxKind.ORDER_EXPIRED.value]) == (MANY, MANY)
    assert {(await order_row(sessions, o.id)).booking for o in orders} == {BookingStatus.EXPIRED}


# ---- downtime, cancellations, moves ---------------------------------------------------------------------------------


async def test_after_downtime_a_late_reminder_goes_out_only_before_the_start(sessions, seeded) -> None:
    before_start = await walk(sessions, seeded)
    swept = await send_due_reminders(SqlUnitOfWork(sessions), START - timedelta(seconds=30), 50)
    assert (len(swept.done), len(swept.skipped)) == (1, 1)  # the 1-minute one goes, the 5-minute one is moot
    statuses = await reminder_statuses(sessions)
    sid = seeded.instant_session_id
    assert statuses[(before_start.id, f"before:300@{sid}")] == "skipped"
    assert statuses[(before_start.id, f"before:60@{sid}")] == "sent"


async def test_after_downtime_past_the_start_reminders_are_recorded_as_skipped(
    sessions,
    seeded,
) -> None:
    placed = await walk(sessions, seeded)
    swept = await send_due_reminders(SqlUnitOfWork(sessions), START + timedelta(minutes=1), 50)
    assert swept.done == [] and len(swept.skipped) == 2
    assert (await outbox_kinds(sessions))[OutboxKind.SESSION_REMINDER.value] == 0
    again = await send_due_reminders(SqlUnitOfWork(sessions), START + timedelta(minutes=2), 50)
    assert again.claimed == 0
    assert (await reminder_statuses(sessions))[(placed.id, f"rating@{seeded.instant_session_id}")] == "pending"


async def test_cancelled_expired_and_moved_orders_get_no_reminders(sessions, seeded) -> None:
    for user_id in (TOURIST + 1, TOURIST + 2):
        await seed_user(sessions, user_id, now=NOW)
    cancelled = await walk(sessions, seeded)
    await cancel_order(SqlUnitOfWork(sessions), TOURIST, cancelled.id, NOW)
    expired = await walk(sessions, seeded, user_id=TOURIST + 1, payments=True)
    await remind_unpaid(SqlUnitOfWork(sessions), NOW + timedelta(seconds=60), 50)
    await expire_overdue(SqlUnitOfWork(sessions), NOW + timedelta(seconds=90), 50)
    moved = await walk(sessions, seeded, user_id=TOURIST + 2)
    async with sessions() as db, db.begin():
        other = SessionRow(
            event_id=seeded.instant_event_id,
            starts_at=START + timedelta(days=1),
            capacity=10,
            seats_left=10,
            status="scheduled",
        )
        db.add(other)
        await db.flush()
        other_id = other.id
        await db.execute(update(OrderRow).where(OrderRow.id == moved.id).values(session_id=other_id))
    uow = SqlUnitOfWork(sessions)
    async with uow:  # moving an order re-schedules its reminders for the new session
        await schedule_order_reminders(uow, await uow.orders.get(moved.id), NOW)
        await uow.commit()

    swept = await send_due_reminders(SqlUnitOfWork(sessions), START + timedelta(hours=3), 50)
    assert swept.done == []
    assert (await outbox_kinds(sessions))[OutboxKind.SESSION_REMINDER.value] == 0
    async with sessions() as db:
        reasons = {
            (entry.order_id, entry.after["reason"])
            for entry in await db.scalars(select(AuditRow).where(AuditRow.action == "reminder.skipped"))
        }
    assert {(cancelled.id, "cancelled"), (expired.id, "expired"), (moved.id, "moved")} <= reasons
    assert {reason for _, reason in reasons} == {"cancelled", "expired", "moved"}
    statuses = await reminder_statuses(sessions)
    assert statuses[(moved.id, f"before:60@{other_id}")] == "pending"  # the new session's reminders wait


# ---- the repository -------------------------------------------------------------------------------------------------


async def test_rows_are_added_once_and_a_sent_list_can_be_due_again(sessions, seeded) -> None:
    placed = await walk(sessions, seeded)
    uow = SqlUnitOfWork(sessions)
    async with uow:
        assert not await uow.reminders.add(Reminder(placed.id, f"rating@{seeded.instant_session_id}", START))
        assert await uow.reminders.add(Reminder(placed.id, "rating@12345", START))
        assert not await uow.reminders.add_notice(SessionNotice(seeded.instant_session_id, PARTICIPANTS, START))
        assert not await uow.reminders.rearm_notice(seeded.instant_session_id, PARTICIPANTS, NOW)  # still pending
        notice = await uow.reminders.claim_due_notice(START, [])
        await uow.reminders.close_notice(notice.id, DueStatus.SENT, NOW)
        assert await uow.reminders.rearm_notice(seeded.instant_session_id, PARTICIPANTS, NOW + timedelta(seconds=5))
        again = await uow.reminders.claim_due_notice(NOW + timedelta(seconds=5), [])
        assert (again.id, again.done_at) == (notice.id, NOW)  # "sent before": an updated list
        assert await uow.reminders.claim_due_notice(NOW + timedelta(seconds=5), [again.id]) is None
        [active] = await uow.reminders.session_orders(seeded.instant_session_id)
        assert (active.id, active.payment) == (placed.id, PaymentStatus.ON_SITE)
        await uow.commit()
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(SessionNoticeRow)) == 1


# ---- the scheduler --------------------------------------------------------------------------------------------------


def test_the_scheduler_runs_every_deadline_job_on_an_interval_one_at_a_time(uow_factory) -> None:
    from unittest.mock import AsyncMock

    from scheduler.jobs import JOB_DELIVER_OUTBOX, build_scheduler

    drain = AsyncMock()
    scheduler = build_scheduler(drain, 1.0, DeadlineJobs(uow_factory, FixedClock(NOW)), deadline_interval_s=5.0)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert jobs[JOB_DELIVER_OUTBOX].func is drain
    assert set(jobs) == {
        JOB_DELIVER_OUTBOX,
        JOB_NUDGE_ORGANISERS,
        JOB_REMIND_UNPAID,
        JOB_EXPIRE_OVERDUE,
        JOB_SEND_REMINDERS,
        JOB_PARTICIPANT_LISTS,
        JOB_SETTLE_ATTENDANCE,
        JOB_EXPIRE_WAITLIST_OFFERS,
        JOB_OFFER_WAITLIST_SEATS,
        JOB_DELIVER_OFFERS,
        JOB_FAVOURITE_NEW_DATES,
        JOB_FAVOURITE_SEATS,
    }
    for job_id, job in jobs.items():
        assert (job.max_instances, job.coalesce) == (1, True)
        seconds = job.trigger.interval.total_seconds()
        assert seconds == (1.0 if job_id == JOB_DELIVER_OUTBOX else 5.0)
