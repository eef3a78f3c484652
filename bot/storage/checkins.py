"""SQLAlchemy implementation of ``domain.ports.CheckinRepository``: the day itself (bot/storage/checkin_tables.py).

Each mark is an insert that does nothing on conflict followed by a conditional update of an empty column: of two
taps at once exactly one reports that it made the mark (on PostgreSQL the second waits for the first to commit and
then finds the column set). The attendance claim locks the order only, like the deadline jobs' claims.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.storage.checkin_tables import OrderDayRow, SessionDayRow
from bot.storage.db import changed_rows, insert_on_conflict
from bot.storage.tables import OrderRow, SessionRow
from domain.model.catalog import SessionStatus
from domain.model.checkin import OrderDay, SessionDay
from domain.model.orders import BookingStatus

SETTLE_SESSIONS_TRIED = 5  # sessions whose orders are all held by another runner, passed over before giving up


def order_day_from_row(row: OrderDayRow) -> OrderDay:
    return OrderDay(row.order_id, row.checked_in_at, row.checked_in_by, row.running_late_at)


class SqlCheckinRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def order_by_ticket(self, ticket_code: str) -> int | None:
        return await self._db.scalar(select(OrderRow.id).where(OrderRow.ticket_code == ticket_code).limit(1))

    async def order_day(self, order_id: int) -> OrderDay | None:
        row = await self._db.get(OrderDayRow, order_id, populate_existing=True)
        return order_day_from_row(row) if row else None

    async def session_days(self, session_id: int) -> dict[int, OrderDay]:
        rows = await self._db.scalars(
            select(OrderDayRow)
            .join(OrderRow, OrderRow.id == OrderDayRow.order_id)
            .where(OrderRow.session_id == session_id)
        )
        return {row.order_id: order_day_from_row(row) for row in rows}

    async def _mark_order(self, order_id: int, column: InstrumentedAttribute[Any], values: dict[str, Any]) -> bool:
        await self._db.execute(
            insert_on_conflict(self._db, OrderDayRow).values(order_id=order_id).on_conflict_do_nothing()
        )
        marked = update(OrderDayRow).where(OrderDayRow.order_id == order_id, column.is_(None)).values(**values)
        return await changed_rows(self._db, marked) == 1

    async def mark_checked_in(self, order_id: int, now: datetime, actor: str) -> bool:
        values = {"checked_in_at": now, "checked_in_by": actor}
        return await self._mark_order(order_id, OrderDayRow.checked_in_at, values)

    async def mark_running_late(self, order_id: int, now: datetime) -> bool:
        return await self._mark_order(order_id, OrderDayRow.running_late_at, {"running_late_at": now})

    async def session_day(self, session_id: int) -> SessionDay | None:
        row = await self._db.get(SessionDayRow, session_id, populate_existing=True)
        return SessionDay(row.session_id, row.at_meeting_point_at, row.announced_by) if row else None

    async def mark_at_meeting_point(self, session_id: int, now: datetime, actor: str) -> bool:
        insert = insert_on_conflict(self._db, SessionDayRow).values(session_id=session_id).on_conflict_do_nothing()
        await self._db.execute(insert)
        marked = (
            update(SessionDayRow)
            .where(SessionDayRow.session_id == session_id, SessionDayRow.at_meeting_point_at.is_(None))
            .values(at_meeting_point_at=now, announced_by=actor)
        )
        return await changed_rows(self._db, marked) == 1

    async def claim_order_to_settle(self, now: datetime, since: datetime, exclude: Collection[int]) -> int | None:
        """A confirmed order of a session that started between ``since`` and ``now``, earliest session first.

        In two steps, the sessions first: joined in one query, SQLite's planner read every confirmed order through
        the booking index (0.3 s a claim at 1.2M orders, 40 s a job's batch), because it cannot know most of them
        are of sessions still to come. The session comes from its start's index, the order from
        ``ix_orders_session_id_booking``. A session whose confirmed orders another job runner holds (PostgreSQL's
        SKIP LOCKED) is passed over for the next one, a few at most: the next run finds the rest.
        """
        pending = [OrderRow.booking == BookingStatus.CONFIRMED.value]
        if exclude:
            pending.append(OrderRow.id.not_in(list(exclude)))
        passed: list[int] = []
        for _ in range(SETTLE_SESSIONS_TRIED):
            sessions = (
                select(SessionRow.id)
                .where(
                    SessionRow.status == SessionStatus.SCHEDULED.value,
                    SessionRow.starts_at <= now,
                    SessionRow.starts_at >= since,
                    exists().where(OrderRow.session_id == SessionRow.id, *pending),
                )
                .order_by(SessionRow.starts_at, SessionRow.id)
                .limit(1)
            )
            if passed:
                sessions = sessions.where(SessionRow.id.not_in(passed))
            session_id = await self._db.scalar(sessions)
            if session_id is None:
                return None
            order = select(OrderRow.id).where(OrderRow.session_id == session_id, *pending).order_by(OrderRow.id)
            # OF orders: the session row stays free for everything else
            order_id = await self._db.scalar(order.limit(1).with_for_update(skip_locked=True, of=OrderRow))
            if order_id is not None:
                return int(order_id)
            passed.append(session_id)
        return None
