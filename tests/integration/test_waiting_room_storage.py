"""The waiting room on SQLite and PostgreSQL (issue 13): concurrent presses give one place per tourist, the
pre-queue is drawn once even when presses and the job race at the opening, and an on-sale through the room never
oversells: admitted tourists book concurrently, the conditional UPDATE decides. Admission waits for the presses the
inbox has not finished (they may rank in front); places of one rank are in the order of their ids."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.storage.db import session_factory
from bot.storage.room_tables import RoomPlaceRow, WaitingRoomRow
from bot.storage.tables import AuditRow, InboxRow, OrderItemRow, OrderRow, OutboxRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.errors import SoldOut
from domain.model.waiting_room import LATE_RANK_BASE, PRESSES_IN_HAND, late_rank
from domain.use_cases import waiting_room as wr
from domain.use_cases.booking import PlaceOrder, place_order
from tests.conftest import migrated_engine
from tests.seed import seed_catalog, seed_users

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
FIRST_USER = 2_000_000
TOURISTS = 120
CAPACITY = 10
POOL = {"sqlite": {}, "postgres": {"pool_size": 30, "max_overflow": 10, "pool_timeout": 60}}
SETTINGS = wr.RoomSettings(desk_chat_id=-100500)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def wide_engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with migrated_engine(request.param, tmp_path, **POOL[request.param]) as engine:
        yield engine


@pytest.fixture
async def world(wide_engine: AsyncEngine) -> tuple[async_sessionmaker, int]:
    """A hot 10-seat session of the instant event (no questions) and TOURISTS tourists; the session's id."""
    sessions = session_factory(wide_engine)
    seeded = await seed_catalog(sessions, NOW)
    async with sessions() as db, db.begin():
        target = SessionRow(
            event_id=seeded.instant_event_id,
            starts_at=NOW + timedelta(days=5),
            capacity=CAPACITY,
            seats_left=CAPACITY,
            status="scheduled",
            hot=True,
            sale_opens_at=NOW + timedelta(minutes=10),
        )
        db.add(target)
        await db.flush()
        target_id = target.id
    await seed_users(sessions, range(FIRST_USER, FIRST_USER + TOURISTS), NOW)
    return sessions, target_id


def uow(sessions: async_sessionmaker) -> SqlUnitOfWork:
    return SqlUnitOfWork(sessions)


async def rows(sessions: async_sessionmaker) -> list[RoomPlaceRow]:
    async with sessions() as db:
        return list(await db.scalars(select(RoomPlaceRow).order_by(RoomPlaceRow.rank)))


async def test_concurrent_presses_give_one_place_per_tourist(world: tuple[async_sessionmaker, int]) -> None:
    sessions, target = world
    opened = NOW + timedelta(minutes=11)
    users = [FIRST_USER + i for i in range(TOURISTS)] * 2  # everyone presses twice at once
    random.Random(13).shuffle(users)
    presses = (wr.press_book(uow(sessions), target, u, update_id, opened) for update_id, u in enumerate(users, 1))
    results = await asyncio.gather(*presses)
    assert all(r is not None for r in results)
    places = await rows(sessions)
    assert len(places) == TOURISTS == len({p.user_id for p in places})
    assert all(p.rank is not None and p.rank >= LATE_RANK_BASE for p in places)
    assert len({p.rank for p in places}) == TOURISTS


async def test_the_pre_queue_is_drawn_once_while_presses_and_the_job_race_at_the_opening(
    world: tuple[async_sessionmaker, int],
) -> None:
    sessions, target = world
    early = range(FIRST_USER, FIRST_USER + 40)
    await asyncio.gather(*(wr.press_book(uow(sessions), target, u, u, NOW + timedelta(seconds=1)) for u in early))
    opening = NOW + timedelta(minutes=10)
    late = range(FIRST_USER + 40, FIRST_USER + 80)
    jobs = [wr.run_room(uow(sessions), opening, 0, SETTINGS, lambda: 4242) for _ in range(3)]
    presses = [
        wr.press_book(uow(sessions), target, u, u, opening + timedelta(milliseconds=i)) for i, u in enumerate(late)
    ]
    await asyncio.gather(*jobs, *presses)

    async with sessions() as db:
        room = await db.scalar(select(WaitingRoomRow).where(WaitingRoomRow.session_id == target))
        draws = await db.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.action == "room.drawn"))
    assert room is not None and room.status == "open" and room.drawn == 40 and room.seed is not None
    assert draws == 1
    places = await rows(sessions)
    assert all(p.rank is not None for p in places)
    assert {p.user_id for p in places[:40]} == set(early)  # the drawn pre-queue first...
    assert [p.user_id for p in places[40:]] == list(late)  # ...then those who came later, in arrival order


async def test_an_on_sale_through_the_room_never_oversells(world: tuple[async_sessionmaker, int]) -> None:
    sessions, target = world
    now = NOW + timedelta(minutes=10)
    users = [FIRST_USER + i for i in range(TOURISTS)]
    await asyncio.gather(*(wr.press_book(uow(sessions), target, u, u, now) for u in users))
    wanted = random.Random(7).choices([1, 2, 3], k=TOURISTS)
    admitted_order: list[int] = []
    for _ in range(40):
        now += timedelta(seconds=1)
        done = await wr.run_room(uow(sessions), now, 30, SETTINGS, lambda: 1)
        if done is None:
            break
        admitted_order += done.admitted

        async def book(user_id: int, at: datetime = now) -> None:
            """As a tourist does: told "only N left", they take N (or give up at none)."""
            seats = wanted[user_id - FIRST_USER]
            while seats > 0:
                try:
                    await place_order(uow(sessions), PlaceOrder(user_id, target, {"adult": seats}), at)
                except SoldOut as refused:
                    left = refused.data.get("left", 0)
                    seats = min(seats - 1, left if isinstance(left, int) else 0)
                    continue
                return

        await asyncio.gather(*(book(u) for u in done.admitted))
    async with sessions() as db:
        left = await db.scalar(select(SessionRow.seats_left).where(SessionRow.id == target))
        sold = await db.scalar(
            select(func.coalesce(func.sum(OrderItemRow.quantity), 0))
            .join(OrderRow, OrderRow.id == OrderItemRow.order_id)
            .where(OrderRow.session_id == target)
        )
        room = await db.scalar(select(WaitingRoomRow.status).where(WaitingRoomRow.session_id == target))
        told = await db.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.kind == "tourist.room_place")
        )
    assert left == 0 and sold == CAPACITY  # every seat sold, none twice
    assert room == "closed"
    line = await rows(sessions)  # by rank: the order of the presses' update ids
    assert admitted_order == [p.user_id for p in line if p.user_id in set(admitted_order)]
    assert admitted_order == [p.user_id for p in line][: len(admitted_order)]  # nobody was skipped
    statuses = [p.status for p in line]
    assert set(statuses) <= {"booked", "sold_out", "passed"}
    assert told >= statuses.count("sold_out") + len(admitted_order)


async def test_admission_waits_for_the_updates_the_inbox_has_not_finished(
    world: tuple[async_sessionmaker, int],
) -> None:
    """The port's answer from the inbox: the oldest update that is waiting for a handler or in one; handled or
    failed ones, and those received before the bound and given back after a failure (stuck), do not count; one never
    tried is a backlog and counts however old."""
    sessions, _target = world
    received = NOW + timedelta(minutes=30)
    old = received - PRESSES_IN_HAND - timedelta(seconds=1)
    async with sessions() as db, db.begin():
        for update_id, status, at, attempts in (
            (6, "pending", old, 1),  # stuck: failed, waits for a retry: not waited for
            (7, "pending", old, 0),  # a backlog (a burst): waited for
            (8, "done", received, 1),
            (9, "failed", received, 1),
            (10, "handling", received, 0),
            (11, "pending", received, 0),
        ):
            db.add(InboxRow(update_id=update_id, payload={}, received_at=at, status=status, attempts=attempts))
    since = received - PRESSES_IN_HAND
    async with uow(sessions) as work:
        assert await work.rooms.oldest_unhandled_update(since) == 7
    async with sessions() as db, db.begin():
        await db.execute(update(InboxRow).where(InboxRow.update_id == 7).values(status="done"))
    async with uow(sessions) as work:
        assert await work.rooms.oldest_unhandled_update(since) == 10
    async with sessions() as db, db.begin():
        await db.execute(update(InboxRow).where(InboxRow.update_id.in_([10, 11])).values(status="done"))
    async with uow(sessions) as work:
        assert await work.rooms.oldest_unhandled_update(since) is None


async def test_places_of_the_same_rank_are_in_the_order_of_their_ids(world: tuple[async_sessionmaker, int]) -> None:
    sessions, target = world
    opened = NOW + timedelta(minutes=11)
    users = [FIRST_USER + i for i in range(3)]
    for update_id, user_id in enumerate(users, 1):
        await wr.press_book(uow(sessions), target, user_id, update_id, opened)
    async with uow(sessions) as work:
        ids = [p.id for p in await work.rooms.line(target)]
        await work.rooms.set_ranks({place_id: late_rank(1) for place_id in ids if place_id is not None})
        await work.commit()
    async with uow(sessions) as work:
        line = await work.rooms.line(target)
        assert [p.id for p in line] == sorted(ids)
        assert [await work.rooms.ahead_of(p) for p in line] == [0, 1, 2]


async def test_the_line_is_read_as_marks_and_a_window_only_ever_shortens(world: tuple[async_sessionmaker, int]) -> None:
    sessions, target = world
    opened = NOW + timedelta(minutes=11)
    for update_id, user in enumerate(range(FIRST_USER, FIRST_USER + 5), start=1):  # pressed after the opening
        await wr.press_book(uow(sessions), target, user, update_id, opened)
    line = await rows(sessions)
    async with uow(sessions) as u:
        marks = await u.rooms.line_marks(target)
        places = await u.rooms.places_by_ids([line[3].id, line[1].id, 10**9])
    assert [m.place_id for m in marks] == [p.id for p in line]  # the line's order, by rank
    assert [m.shown_position for m in marks] == [1, 2, 3, 4, 5]  # what each first message (queued) shows
    assert {(m.status.value, m.shown_status.value if m.shown_status else None, m.has_message) for m in marks} == {
        ("waiting", "waiting", False)  # not sent yet: no message id
    }
    assert sorted(p.id for p in places) == sorted([line[1].id, line[3].id])  # an unknown id is left out

    await wr.run_room(uow(sessions), opened + timedelta(seconds=1), 100, SETTINGS, lambda: 1)  # 5 admitted
    first = (await rows(sessions))[0]
    assert first.status == "admitted" and first.admit_until is not None
    bound = first.admit_until.replace(tzinfo=UTC) if first.admit_until.tzinfo is None else first.admit_until
    async with uow(sessions) as u:
        assert await u.rooms.shorten_window(first.id, bound - timedelta(minutes=1))
        assert not await u.rooms.shorten_window(first.id, bound)  # never extended
        await u.commit()
    assert (await rows(sessions))[0].admit_until.replace(tzinfo=None) == (bound - timedelta(minutes=1)).replace(
        tzinfo=None
    )


async def test_a_booking_marks_only_an_admitted_or_passed_place_booked(world: tuple[async_sessionmaker, int]) -> None:
    """``book_place`` is the booking's one write to the room (no read): a place in ``BOOKS`` becomes booked."""
    sessions, target = world
    users = [FIRST_USER + i for i in range(5)]
    opened = NOW + timedelta(minutes=11)
    for update_id, user in enumerate(users[:4], 1):  # the fifth has no place
        await wr.press_book(uow(sessions), target, user, update_id, opened)
    statuses = dict(zip(users, ["admitted", "passed", "waiting", "left"], strict=False))
    async with sessions() as db, db.begin():
        for user, status in statuses.items():
            await db.execute(
                update(RoomPlaceRow)
                .where(RoomPlaceRow.session_id == target, RoomPlaceRow.user_id == user)
                .values(status=status)
            )
    booked = []
    for user in users:
        async with uow(sessions) as unit:
            booked.append(await unit.rooms.book_place(target, user))
            await unit.commit()
    assert booked == [True, True, False, False, False]
    after = {p.user_id: p.status for p in await rows(sessions)}
    assert after == {users[0]: "booked", users[1]: "booked", users[2]: "waiting", users[3]: "left"}
