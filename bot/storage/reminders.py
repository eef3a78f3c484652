"""SQLAlchemy implementation of ``domain.ports.ReminderRepository``: rows with a due time (order reminders, session
notices) and the orders whose deadlines passed, claimed one at a time by the scheduler's jobs.

Claims lock one row each (``FOR UPDATE SKIP LOCKED``; only the claimed table's row, never a session's, so bookings
and other claims go on). SQLite ignores the clause: its write transactions run one at a time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, case, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.storage.db import changed_rows, insert_on_conflict
from bot.storage.orders import load_orders
from bot.storage.tables import OrderReminderRow, OrderRow, SessionNoticeRow, SessionRow
from domain.model.orders import ACTIVE_BOOKINGS, BookingStatus, Order, PaymentStatus
from domain.model.reminders import DueStatus, Reminder, SessionNotice

_DueRow = TypeVar("_DueRow", OrderReminderRow, SessionNoticeRow)

_ACTIVE_BOOKINGS = sorted(b.value for b in ACTIVE_BOOKINGS)


def reminder_from_row(row: OrderReminderRow) -> Reminder:
    return Reminder(
        order_id=row.order_id,
        kind=row.kind,
        due_at=row.due_at,
        status=DueStatus(row.status),
        done_at=row.done_at,
        id=row.id,
    )


def notice_from_row(row: SessionNoticeRow) -> SessionNotice:
    return SessionNotice(
        session_id=row.session_id,
        kind=row.kind,
        due_at=row.due_at,
        status=DueStatus(row.status),
        done_at=row.done_at,
        id=row.id,
    )


class SqlReminderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    # ---- order reminders ------------------------------------------------------------------------------------------

    async def add(self, reminder: Reminder) -> bool:
        return await self._add_once(OrderReminderRow, OrderReminderRow.order_id, reminder.order_id, reminder)

    async def for_order(self, order_id: int) -> Sequence[Reminder]:
        rows = await self._db.scalars(
            select(OrderReminderRow).where(OrderReminderRow.order_id == order_id).order_by(OrderReminderRow.id)
        )
        return [reminder_from_row(r) for r in rows]

    async def claim_due(self, now: datetime, exclude: Collection[int]) -> Reminder | None:
        row = await self._claim_next(OrderReminderRow, now, exclude)
        return reminder_from_row(row) if row else None

    async def close(self, reminder_id: int, status: DueStatus, now: datetime) -> None:
        await self._close(OrderReminderRow, reminder_id, status, now)

    # ---- session notices ------------------------------------------------------------------------------------------

    async def add_notice(self, notice: SessionNotice) -> bool:
        return await self._add_once(SessionNoticeRow, SessionNoticeRow.session_id, notice.session_id, notice)

    async def rearm_notice(self, session_id: int, kind: str, due_at: datetime) -> bool:
        skipped = SessionNoticeRow.status == DueStatus.SKIPPED.value
        changed = await changed_rows(
            self._db,
            update(SessionNoticeRow)
            .where(
                SessionNoticeRow.session_id == session_id,
                SessionNoticeRow.kind == kind,
                SessionNoticeRow.status.in_([DueStatus.SENT.value, DueStatus.SKIPPED.value]),
            )
            .values(
                status=DueStatus.PENDING.value,
                due_at=due_at,
                done_at=case((skipped, null()), else_=SessionNoticeRow.done_at),  # "sent before" marks an update
            )
            .execution_options(synchronize_session=False),
        )
        return changed == 1

    async def claim_due_notice(self, now: datetime, exclude: Collection[int]) -> SessionNotice | None:
        row = await self._claim_next(SessionNoticeRow, now, exclude)
        return notice_from_row(row) if row else None

    async def close_notice(self, notice_id: int, status: DueStatus, now: datetime) -> None:
        await self._close(SessionNoticeRow, notice_id, status, now)

    async def _add_once(
        self,
        table: type[_DueRow],
        owner: InstrumentedAttribute[int],
        owner_id: int,
        due: Reminder | SessionNotice,
    ) -> bool:
        """Insert ``due`` for its owner (an order, a session) unless the owner has one of that kind already; whether
        it was inserted. ON CONFLICT DO NOTHING: a concurrent insert of the same (owner, kind) waits and then adds
        nothing."""
        inserted = await self._db.scalar(
            insert_on_conflict(self._db, table)
            .values(
                {
                    owner.key: owner_id,
                    "kind": due.kind,
                    "due_at": due.due_at,
                    "status": due.status.value,
                    "done_at": due.done_at,
                }
            )
            .on_conflict_do_nothing(index_elements=[owner, table.kind])
            .returning(table.id)
        )
        return inserted is not None

    async def _claim_next(self, table: type[_DueRow], now: datetime, exclude: Collection[int]) -> _DueRow | None:
        """The earliest due pending row of ``table`` that no other transaction holds (SKIP LOCKED), locked."""
        query = select(table).where(table.status == DueStatus.PENDING.value, table.due_at <= now)
        if exclude:
            query = query.where(table.id.not_in(list(exclude)))
        return await self._db.scalar(
            query.order_by(table.due_at, table.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )

    async def _close(self, table: type[_DueRow], row_id: int, status: DueStatus, now: datetime) -> None:
        await self._db.execute(
            update(table)
            .where(table.id == row_id)
            .values(status=status.value, done_at=now)
            .execution_options(synchronize_session=False)
        )

    # ---- orders whose deadlines passed ----------------------------------------------------------------------------

    async def claim_silent_order(self, now: datetime, exclude: Collection[int]) -> int | None:
        return await self._claim_order(
            and_(
                OrderRow.booking == BookingStatus.AWAITING_ORGANISER.value,
                OrderRow.confirm_by <= now,
                OrderRow.confirm_nudged_at.is_(None),
            ),
            OrderRow.confirm_by,
            exclude,
        )

    async def claim_unpaid_order(self, now: datetime, exclude: Collection[int]) -> int | None:
        return await self._claim_order(
            and_(
                OrderRow.booking == BookingStatus.CONFIRMED.value,
                OrderRow.payment == PaymentStatus.AWAITING.value,
                OrderRow.pay_by <= now,
                OrderRow.pay_reminded_at.is_(None),
            ),
            OrderRow.pay_by,
            exclude,
        )

    async def claim_overdue_order(self, now: datetime, starts_before: datetime, exclude: Collection[int]) -> int | None:
        # Two claims, each walking its own index in order (ix_orders_booking_payment_hold_until, then
        # ix_orders_booking_confirm_by), not one OR sorted whole: with a backlog of thousands of overdue orders in a
        # table of 1.2M the sort took 200 ms a claim (bench/memory.py).
        unpaid = await self._claim_order(
            and_(
                OrderRow.booking == BookingStatus.CONFIRMED.value,
                OrderRow.payment == PaymentStatus.AWAITING.value,
                OrderRow.hold_until <= now,
                OrderRow.pay_reminded_at.is_not(None),
            ),
            OrderRow.hold_until,
            exclude,
        )
        if unpaid is not None:
            return unpaid
        starting = select(SessionRow.id).where(SessionRow.starts_at <= starts_before)
        return await self._claim_order(
            and_(OrderRow.booking == BookingStatus.AWAITING_ORGANISER.value, OrderRow.session_id.in_(starting)),
            OrderRow.confirm_by,
            exclude,
        )

    async def session_orders(self, session_id: int) -> Sequence[Order]:
        rows = list(
            await self._db.scalars(
                select(OrderRow)
                .where(OrderRow.session_id == session_id, OrderRow.booking.in_(_ACTIVE_BOOKINGS))
                .order_by(OrderRow.created_at, OrderRow.id)
            )
        )
        return await load_orders(self._db, rows)

    async def _claim_order(
        self, condition: ColumnElement[bool], order_by: InstrumentedAttribute[Any], exclude: Collection[int]
    ) -> int | None:
        query = select(OrderRow.id).where(condition)
        if exclude:
            query = query.where(OrderRow.id.not_in(list(exclude)))
        # OF orders: lock the order only (a join or sub-select must not lock the session row bookings update).
        return await self._db.scalar(
            query.order_by(order_by, OrderRow.id).limit(1).with_for_update(skip_locked=True, of=OrderRow)
        )
