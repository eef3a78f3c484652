"""The favourites' storage and jobs on SQLite and PostgreSQL (issue 15): one row per guest and event, the newest
first, the claims' locks and exclusions, the sold-out watch, the recipients (alerts on, not blocked), and the alerts
once per guest and session."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.storage.favourite_tables import FavouriteSoldOutRow
from bot.storage.tables import OutboxRow, SessionRow, UserRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.favourites import Favourite
from domain.model.messages import OutboxKind
from domain.use_cases.favourites import (
    add_favourite,
    alert_new_dates,
    alert_seats_again,
    remove_favourite,
    set_favourite_alerts,
)
from tests.fakes import FixedClock
from tests.seed import seed_catalog, seed_users

A, B, C = 501, 502, 503


async def kinds(sessions: async_sessionmaker, kind: OutboxKind) -> list[tuple[int, dict]]:
    async with sessions() as db:
        rows = await db.execute(
            select(OutboxRow.chat_id, OutboxRow.payload).where(OutboxRow.kind == kind.value).order_by(OutboxRow.id)
        )
        return [(int(chat_id), payload) for chat_id, payload in rows]


async def test_the_repository_and_both_alerts(sessions: async_sessionmaker) -> None:
    clock = FixedClock()
    now = clock.now()
    seeded = await seed_catalog(sessions, now)
    await seed_users(sessions, [A, B, C], now)
    uow = SqlUnitOfWork(sessions)
    assert await add_favourite(uow, A, seeded.event_id, now)
    assert not await add_favourite(uow, A, seeded.event_id, now + timedelta(seconds=1))  # once per guest and event
    assert await add_favourite(uow, A, seeded.instant_event_id, now + timedelta(seconds=2))
    assert await add_favourite(uow, B, seeded.instant_event_id, now)
    assert await add_favourite(uow, C, seeded.instant_event_id, now)
    await set_favourite_alerts(uow, C, seeded.instant_event_id, False)
    async with uow:
        mine = await uow.favourites.for_user(A)
        assert [f.event_id for f in mine] == [seeded.instant_event_id, seeded.event_id]  # the newest first
        assert await uow.favourites.count(A) == 2
        assert await uow.favourites.get(B, seeded.event_id) is None
        assert isinstance(await uow.favourites.get(B, seeded.instant_event_id), Favourite)
        assert list(await uow.favourites.alert_recipients(seeded.instant_event_id)) == [A, B]  # C: alerts off
    async with sessions() as db, db.begin():
        await db.execute(update(UserRow).where(UserRow.id == B).values(blocked_bot=True))
        new_id = await db.scalar(
            insert(SessionRow)
            .values(event_id=seeded.instant_event_id, starts_at=now + timedelta(days=6), capacity=3, seats_left=3)
            .returning(SessionRow.id)
        )
        await db.execute(update(SessionRow).where(SessionRow.id == seeded.instant_session_id).values(seats_left=0))
    async with uow:
        assert list(await uow.favourites.alert_recipients(seeded.instant_event_id)) == [A]  # B blocked the bot
        first = await uow.favourites.claim_with_new_sessions([])
        assert first is not None and first.event_id == seeded.instant_event_id
        others = await uow.favourites.claim_with_new_sessions([(first.user_id, first.event_id)])
        assert others is not None and (others.user_id, others.event_id) != (first.user_id, first.event_id)

    swept = await alert_new_dates(SqlUnitOfWork(sessions), now)
    assert len(swept.done) == 1 and len(swept.skipped) == 1  # A told; B blocked (marked seen, nothing sent)
    assert await kinds(sessions, OutboxKind.FAVOURITE_NEW_DATES) == [
        (A, {"event_id": seeded.instant_event_id, "sessions": [new_id]})
    ]
    assert (await alert_new_dates(SqlUnitOfWork(sessions), now)).claimed == 0

    assert (await alert_seats_again(SqlUnitOfWork(sessions), now)).claimed == 0  # sold out: watched only
    async with sessions() as db:
        assert list(await db.scalars(select(FavouriteSoldOutRow.session_id))) == [seeded.instant_session_id]
    async with sessions() as db, db.begin():
        await db.execute(update(SessionRow).where(SessionRow.id == seeded.instant_session_id).values(seats_left=2))
    assert (await alert_seats_again(SqlUnitOfWork(sessions), now)).done == [seeded.instant_session_id]
    assert await kinds(sessions, OutboxKind.FAVOURITE_SEATS) == [(A, {"session_id": seeded.instant_session_id})]
    async with sessions() as db:
        assert list(await db.scalars(select(FavouriteSoldOutRow.session_id))) == []

    # a watched date that is called off is forgotten on the next pass
    async with sessions() as db, db.begin():
        await db.execute(update(SessionRow).where(SessionRow.id == seeded.session_id).values(seats_left=0))
    await alert_seats_again(SqlUnitOfWork(sessions), now)
    async with sessions() as db, db.begin():
        assert list(await db.scalars(select(FavouriteSoldOutRow.session_id))) == [seeded.session_id]
        await db.execute(update(SessionRow).where(SessionRow.id == seeded.session_id).values(status="cancelled"))
    await alert_seats_again(SqlUnitOfWork(sessions), now)
    async with sessions() as db:
        assert list(await db.scalars(select(FavouriteSoldOutRow.session_id))) == []

    assert await remove_favourite(SqlUnitOfWork(sessions), A, seeded.event_id)
    assert not await remove_favourite(SqlUnitOfWork(sessions), A, seeded.event_id)
