"""The desk's read side in SQL (:class:`handlers.operator.queries.DeskQueries`), and the rows of the orders export.

Nothing here writes. :class:`SqlDeskQueries` reads on the open transaction of the update's unit of work (the
UnitOfWork middleware injects it as ``desk_queries``); :func:`export_rows` on a session of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.storage.catalog import event_from_row, session_from_row
from bot.storage.tables import (
    DeskCardRow,
    EventRow,
    HotelRow,
    OrderItemRow,
    OrderRow,
    OrganiserRow,
    PaymentRow,
    RegionRow,
    SessionRow,
    UserRow,
)
from bot.storage.uow import SqlUnitOfWork
from bot.storage.users import user_from_row
from domain.model.catalog import EventSession, SessionStatus
from domain.model.users import User
from domain.use_cases.stats import DayFacts
from handlers.operator.queries import ENDED_BOOKINGS, SESSIONS_BETWEEN_MAX, OpenSession, first_open_start


class SqlDeskQueries:
    """:class:`~handlers.operator.queries.DeskQueries` on whatever transaction ``uow`` has open when asked."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    @property
    def _db(self) -> AsyncSession:
        return self._uow.session

    # ---- /session ------------------------------------------------------------------------------------------------

    async def session_at(self, event_id: int, starts_at: datetime) -> EventSession | None:
        row = await self._db.scalar(
            select(SessionRow).where(SessionRow.event_id == event_id, SessionRow.starts_at == starts_at)
        )
        return session_from_row(row) if row else None

    async def sessions_between(self, event_id: int, start: datetime, end: datetime) -> list[EventSession]:
        rows = await self._db.scalars(
            select(SessionRow)
            .where(SessionRow.event_id == event_id, SessionRow.starts_at >= start, SessionRow.starts_at < end)
            .order_by(SessionRow.starts_at)
            .limit(SESSIONS_BETWEEN_MAX)
        )
        return [session_from_row(r) for r in rows]

    # ---- /find ---------------------------------------------------------------------------------------------------

    async def users_by_phone(self, phone: str, limit: int) -> list[User]:
        rows = await self._db.scalars(select(UserRow).where(UserRow.phone == phone).order_by(UserRow.id).limit(limit))
        return [user_from_row(r) for r in rows]

    async def users_by_username(self, username: str, limit: int) -> list[User]:
        rows = await self._db.scalars(
            select(UserRow).where(func.lower(UserRow.username) == username.lower()).order_by(UserRow.id).limit(limit)
        )
        return [user_from_row(r) for r in rows]

    async def order_id_by_ticket(self, ticket_code: str) -> int | None:
        return await self._db.scalar(select(OrderRow.id).where(OrderRow.ticket_code == ticket_code))

    # ---- /events -------------------------------------------------------------------------------------------------

    async def open_sessions(
        self,
        region_id: int,
        start: datetime,
        end: datetime,
        category: str | None,
        now: datetime,
        offset: int,
        limit: int,
    ) -> tuple[list[OpenSession], int]:
        conditions = [
            EventRow.region_id == region_id,
            SessionRow.starts_at >= first_open_start(start, now),
            SessionRow.starts_at < end,
            SessionRow.status == SessionStatus.SCHEDULED.value,
            SessionRow.sales_stopped.is_(False),  # its organiser stopped the sales: no seat to offer
            SessionRow.seats_left > 0,
        ]
        if category:
            conditions.append(EventRow.category == category)
        joined = select(SessionRow, EventRow).join(EventRow, EventRow.id == SessionRow.event_id).where(*conditions)
        total = await self._db.scalar(select(func.count()).select_from(joined.subquery()))
        rows = await self._db.execute(joined.order_by(SessionRow.starts_at, SessionRow.id).offset(offset).limit(limit))
        found = [OpenSession(session_from_row(s), event_from_row(e)) for s, e in rows]
        return found, int(total or 0)

    async def categories(self, region_id: int) -> list[str]:
        rows = await self._db.scalars(
            select(EventRow.category).where(EventRow.region_id == region_id).distinct().order_by(EventRow.category)
        )
        return list(rows)

    # ---- /stats --------------------------------------------------------------------------------------------------

    async def day_facts(self, start: datetime, end: datetime) -> DayFacts:
        def within(column: InstrumentedAttribute[datetime | None]) -> ColumnElement[bool]:
            return and_(column >= start, column < end)

        db = self._db
        placed = await db.scalar(select(func.count()).select_from(OrderRow).where(within(OrderRow.created_at)))
        paid = await db.scalar(select(func.count()).select_from(OrderRow).where(within(OrderRow.paid_at)))
        revenue = await db.execute(
            select(PaymentRow.currency, func.sum(PaymentRow.amount_minor))
            .where(within(PaymentRow.paid_at), PaymentRow.applied.is_(True))
            .group_by(PaymentRow.currency)
        )
        ended = await db.execute(
            select(OrderRow.booking, func.count())
            .where(within(OrderRow.cancelled_at), OrderRow.booking.in_([b.value for b in ENDED_BOOKINGS]))
            .group_by(OrderRow.booking)
        )
        opened = await db.scalar(select(func.count()).select_from(DeskCardRow).where(within(DeskCardRow.opened_at)))
        resolved = await db.execute(
            select(DeskCardRow.opened_at, DeskCardRow.resolved_at).where(
                DeskCardRow.status == "resolved", within(DeskCardRow.resolved_at)
            )
        )
        open_now = await db.scalar(select(func.count()).select_from(DeskCardRow).where(DeskCardRow.status == "open"))
        return DayFacts(
            placed=int(placed or 0),
            paid=int(paid or 0),
            revenue={currency: int(amount or 0) for currency, amount in revenue},
            ended={booking: int(count) for booking, count in ended},
            problems_opened=int(opened or 0),
            resolve_times=[resolved_at - opened_at for opened_at, resolved_at in resolved if resolved_at is not None],
            open_problems=int(open_now or 0),
        )


# ---- the orders export -------------------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "code",
    "created",
    "event",
    "session_start",
    "region",
    "organiser",
    "booking",
    "payment",
    "ticket",
    "quantity",
    "total",
    "currency",
    "discount_percent",
    "paid_at",
    "refunded",
    "hotel",
    "tourist_language",
)


async def export_rows(
    db: AsyncSession, start: datetime, end: datetime, batch: int = 500
) -> AsyncIterator[Sequence[Any]]:
    """Orders created in ``[start, end)``, oldest first, as plain tuples (see :data:`EXPORT_COLUMNS`), read
    ``batch`` at a time (keyset on the id): no order objects, never the whole table in memory."""
    quantity = (
        select(OrderItemRow.order_id.label("order_id"), func.sum(OrderItemRow.quantity).label("quantity"))
        .group_by(OrderItemRow.order_id)
        .subquery()
    )
    columns = (
        OrderRow.id,
        OrderRow.code,
        OrderRow.created_at,
        EventRow.code,
        SessionRow.starts_at,
        RegionRow.code,
        OrganiserRow.code,
        OrderRow.booking,
        OrderRow.payment,
        OrderRow.ticket,
        quantity.c.quantity,
        OrderRow.total_minor,
        OrderRow.currency,
        OrderRow.discount_percent,
        OrderRow.paid_at,
        OrderRow.refunded_minor,
        HotelRow.code,
        OrderRow.language,
    )
    last_id = 0
    while True:
        rows = (
            await db.execute(
                select(*columns)
                .join(SessionRow, SessionRow.id == OrderRow.session_id)
                .join(EventRow, EventRow.id == OrderRow.event_id)
                .join(RegionRow, RegionRow.id == EventRow.region_id)
                .join(OrganiserRow, OrganiserRow.id == EventRow.organiser_id)
                .outerjoin(HotelRow, HotelRow.id == OrderRow.hotel_id)
                .outerjoin(quantity, quantity.c.order_id == OrderRow.id)
                .where(OrderRow.created_at >= start, OrderRow.created_at < end, OrderRow.id > last_id)
                .order_by(OrderRow.id)
                .limit(batch)
            )
        ).all()
        if not rows:
            return
        last_id = rows[-1][0]
        for row in rows:
            yield tuple(row)[1:]
        if len(rows) < batch:
            return
