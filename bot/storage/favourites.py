"""SQLAlchemy implementation of ``domain.favourite_ports.FavouriteRepository``: the guests' favourite events and the
sold-out sessions their alerts watch. The jobs' claims lock one favourite (or watch) row each (``FOR UPDATE SKIP
LOCKED OF`` that table: never a session's row, so bookings go on); SQLite ignores the clause, its write transactions
run one at a time."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, not_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.db import insert_on_conflict
from bot.storage.favourite_tables import FavouriteRow, FavouriteSoldOutRow
from bot.storage.tables import SessionRow, UserRow
from domain.model.catalog import SessionStatus
from domain.model.favourites import Favourite


def favourite_from_row(row: FavouriteRow) -> Favourite:
    return Favourite(
        user_id=row.user_id,
        event_id=row.event_id,
        created_at=row.created_at,
        alerts=row.alerts,
        seen_session_id=row.seen_session_id,
    )


def _key(user_id: int, event_id: int) -> ColumnElement[bool]:
    return and_(FavouriteRow.user_id == user_id, FavouriteRow.event_id == event_id)


class SqlFavouriteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def get(self, user_id: int, event_id: int) -> Favourite | None:
        row = await self._db.scalar(select(FavouriteRow).where(_key(user_id, event_id)))
        return favourite_from_row(row) if row is not None else None

    async def add(self, favourite: Favourite) -> bool:
        statement = (
            insert_on_conflict(self._db, FavouriteRow)
            .values(
                user_id=favourite.user_id,
                event_id=favourite.event_id,
                created_at=favourite.created_at,
                alerts=favourite.alerts,
                seen_session_id=favourite.seen_session_id,
            )
            .on_conflict_do_nothing()
            .returning(FavouriteRow.user_id)
        )
        return await self._db.scalar(statement) is not None

    async def remove(self, user_id: int, event_id: int) -> bool:
        removed = await self._db.scalar(
            delete(FavouriteRow).where(_key(user_id, event_id)).returning(FavouriteRow.user_id)
        )
        return removed is not None

    async def save(self, favourite: Favourite) -> None:
        await self._db.execute(
            update(FavouriteRow)
            .where(_key(favourite.user_id, favourite.event_id))
            .values(alerts=favourite.alerts, seen_session_id=favourite.seen_session_id)
            .execution_options(synchronize_session=False)
        )

    async def for_user(self, user_id: int) -> Sequence[Favourite]:
        rows = await self._db.scalars(
            select(FavouriteRow)
            .where(FavouriteRow.user_id == user_id)
            .order_by(FavouriteRow.created_at.desc(), FavouriteRow.event_id.desc())
        )
        return [favourite_from_row(row) for row in rows]

    async def count(self, user_id: int) -> int:
        return int(await self._db.scalar(select(func.count()).where(FavouriteRow.user_id == user_id)) or 0)

    async def latest_session_id(self, event_id: int) -> int:
        return int(await self._db.scalar(select(func.max(SessionRow.id)).where(SessionRow.event_id == event_id)) or 0)

    async def claim_with_new_sessions(self, exclude: Collection[tuple[int, int]]) -> Favourite | None:
        newer = (
            select(SessionRow.id)
            .where(SessionRow.event_id == FavouriteRow.event_id, SessionRow.id > FavouriteRow.seen_session_id)
            .exists()
        )
        query = select(FavouriteRow).where(FavouriteRow.alerts.is_(True), newer)
        if exclude:
            query = query.where(not_(tuple_(FavouriteRow.user_id, FavouriteRow.event_id).in_(list(exclude))))
        row = await self._db.scalar(
            query.order_by(FavouriteRow.event_id, FavouriteRow.user_id)
            .limit(1)
            .with_for_update(skip_locked=True, of=FavouriteRow)
            .execution_options(populate_existing=True)
        )
        return favourite_from_row(row) if row is not None else None

    async def sessions_after(self, event_id: int, session_id: int) -> Sequence[int]:
        ids = await self._db.scalars(
            select(SessionRow.id)
            .where(SessionRow.event_id == event_id, SessionRow.id > session_id)
            .order_by(SessionRow.id)
        )
        return list(ids)

    async def watch_sold_out(self, now: datetime) -> int:
        watched = select(FavouriteSoldOutRow.session_id).where(FavouriteSoldOutRow.session_id == SessionRow.id)
        starred = select(FavouriteRow.event_id).where(FavouriteRow.alerts.is_(True))
        ids = list(
            await self._db.scalars(
                select(SessionRow.id).where(
                    SessionRow.seats_left == 0,
                    SessionRow.status == SessionStatus.SCHEDULED.value,
                    SessionRow.starts_at > now,
                    SessionRow.event_id.in_(starred),
                    not_(watched.exists()),
                )
            )
        )
        over = (  # watched sessions that started or were called off: forgotten (a join: the watch list is short)
            select(SessionRow.id)
            .join(FavouriteSoldOutRow, FavouriteSoldOutRow.session_id == SessionRow.id)
            .where((SessionRow.starts_at <= now) | (SessionRow.status != SessionStatus.SCHEDULED.value))
        )
        await self._db.execute(delete(FavouriteSoldOutRow).where(FavouriteSoldOutRow.session_id.in_(over)))
        added = 0
        for session_id in ids:
            statement = (
                insert_on_conflict(self._db, FavouriteSoldOutRow)
                .values(session_id=session_id, since=now)
                .on_conflict_do_nothing()
                .returning(FavouriteSoldOutRow.session_id)
            )
            added += await self._db.scalar(statement) is not None
        return added

    async def claim_watched_with_seats(self, exclude: Collection[int]) -> int | None:
        query = select(FavouriteSoldOutRow.session_id).join(
            SessionRow, and_(SessionRow.id == FavouriteSoldOutRow.session_id, SessionRow.seats_left > 0)
        )
        if exclude:
            query = query.where(FavouriteSoldOutRow.session_id.not_in(list(exclude)))
        return await self._db.scalar(
            query.order_by(FavouriteSoldOutRow.session_id)
            .limit(1)
            .with_for_update(skip_locked=True, of=FavouriteSoldOutRow)
        )

    async def unwatch(self, session_id: int) -> None:
        await self._db.execute(delete(FavouriteSoldOutRow).where(FavouriteSoldOutRow.session_id == session_id))

    async def alert_recipients(self, event_id: int) -> Sequence[int]:
        ids = await self._db.scalars(
            select(FavouriteRow.user_id)
            .join(UserRow, UserRow.id == FavouriteRow.user_id)
            .where(FavouriteRow.event_id == event_id, FavouriteRow.alerts.is_(True), UserRow.blocked_bot.is_(False))
            .order_by(FavouriteRow.user_id)
        )
        return list(ids)
