"""SQLAlchemy implementation of ``domain.ports.OrderRepository``: orders and their items, saved with optimistic
locking (a stale ``version`` raises :class:`ConcurrentChange`, so no update is lost)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Insert, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.db import changed_rows, dialect_insert
from bot.storage.tables import OrderItemRow, OrderRow, SessionRow
from domain.errors import ConcurrentChange
from domain.model.orders import BookingStatus, Order, OrderItem, PaymentStatus, TicketStatus


def order_from_row(row: OrderRow, items: Sequence[OrderItemRow]) -> Order:
    return Order(
        id=row.id,
        code=row.code,
        user_id=row.user_id,
        session_id=row.session_id,
        event_id=row.event_id,
        currency=row.currency,
        items=[OrderItem(i.ticket_type, i.quantity, i.unit_price_minor) for i in items],
        subtotal_minor=row.subtotal_minor,
        discount_percent=row.discount_percent,
        total_minor=row.total_minor,
        created_at=row.created_at,
        hold_until=row.hold_until,
        language=row.language,
        booking=BookingStatus(row.booking),
        payment=PaymentStatus(row.payment),
        ticket=TicketStatus(row.ticket),
        hotel_id=row.hotel_id,
        answers=dict(row.answers),
        confirm_by=row.confirm_by,
        pay_by=row.pay_by,
        cancelled_at=row.cancelled_at,
        request_key=row.request_key,
        ticket_code=row.ticket_code,
        paid_at=row.paid_at,
        confirm_nudged_at=row.confirm_nudged_at,
        pay_reminded_at=row.pay_reminded_at,
        unclear_reply=row.unclear_reply,
        rating=row.rating,
        rated_at=row.rated_at,
        undelivered=row.undelivered,
        desk_ack=list(row.desk_ack or ()),
        stray_minor=row.stray_minor,
        stray_other={str(c): int(a) for c, a in (row.stray_other or {}).items()},
        partial_refund_minor=row.partial_refund_minor,
        refunded_minor=row.refunded_minor,
        points_used=row.points_used or 0,
        discount_code=row.discount_code,
        code_discount_minor=row.code_discount_minor or 0,
        version=row.version,
    )


_ORDER_FIELDS = (
    "ticket_code",
    "paid_at",
    "confirm_nudged_at",
    "pay_reminded_at",
    "unclear_reply",
    "rating",
    "rated_at",
    "code",
    "request_key",
    "user_id",
    "session_id",
    "event_id",
    "currency",
    "subtotal_minor",
    "discount_percent",
    "total_minor",
    "created_at",
    "hold_until",
    "language",
    "hotel_id",
    "answers",
    "confirm_by",
    "pay_by",
    "cancelled_at",
    "undelivered",
    "desk_ack",
    "stray_minor",
    "stray_other",
    "partial_refund_minor",
    "refunded_minor",
    "points_used",
    "discount_code",
    "code_discount_minor",
)


def order_values(order: Order) -> dict[str, Any]:
    """The ``orders`` row's columns for ``order``, without ``id`` and ``version`` (the repository sets those; the
    benchmarks bulk-insert these values)."""
    values = {name: getattr(order, name) for name in _ORDER_FIELDS}
    values.update(booking=order.booking.value, payment=order.payment.value, ticket=order.ticket.value)
    return values


@cache
def _insert_order(dialect: str) -> Insert:
    """The order's INSERT, built once per dialect: its values come as parameters (see ``dialect_insert``)."""
    return dialect_insert(dialect, OrderRow).on_conflict_do_nothing().returning(OrderRow.id)


_INSERT_ITEMS = insert(OrderItemRow)


def _item_values(order_id: int, order: Order) -> list[dict[str, Any]]:
    return [
        {
            "order_id": order_id,
            "ticket_type": i.ticket_type,
            "quantity": i.quantity,
            "unit_price_minor": i.unit_price_minor,
        }
        for i in order.items
    ]


def _item_rows(order_id: int, order: Order) -> list[OrderItemRow]:
    return [
        OrderItemRow(
            order_id=order_id, ticket_type=i.ticket_type, quantity=i.quantity, unit_price_minor=i.unit_price_minor
        )
        for i in order.items
    ]


async def _items(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, list[OrderItemRow]]:
    items: dict[int, list[OrderItemRow]] = {i: [] for i in order_ids}
    if order_ids:
        rows = await session.scalars(
            select(OrderItemRow).where(OrderItemRow.order_id.in_(order_ids)).order_by(OrderItemRow.id)
        )
        for item in rows:
            items[item.order_id].append(item)
    return items


async def load_orders(session: AsyncSession, rows: Sequence[OrderRow]) -> list[Order]:
    """The orders of ``rows`` with their items (one query for all the items)."""
    items = await _items(session, [r.id for r in rows])
    return [order_from_row(r, items[r.id]) for r in rows]


class SqlOrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def add(self, order: Order) -> Order:
        """Insert ``order`` and its items in two Core statements; :class:`ConcurrentChange` when its code or its
        request key is taken.

        ``ON CONFLICT DO NOTHING`` lets the unique constraints decide (no look-up per code): a clash writes nothing
        and leaves the transaction usable (a plain INSERT's error would abort it on PostgreSQL), so the caller can
        read the other order or try another code in the same transaction. A concurrent insert of the same key
        waits for that transaction, then counts as a clash.
        """
        db = await self._db.connection()
        order_id = await db.scalar(_insert_order(db.dialect.name), {**order_values(order), "version": 0})
        if order_id is None:
            raise ConcurrentChange(order=order.request_key or order.code)
        if items := _item_values(order_id, order):
            await db.execute(_INSERT_ITEMS, items[0] if len(items) == 1 else items)  # one row: no executemany
        order.id, order.version = order_id, 0
        return order

    async def get(self, order_id: int) -> Order | None:
        row = await self._db.get(OrderRow, order_id, populate_existing=True)
        if row is None:
            return None
        return order_from_row(row, (await _items(self._db, [row.id]))[row.id])

    async def by_request_key(self, request_key: str) -> Order | None:
        row = await self._db.scalar(select(OrderRow).where(OrderRow.request_key == request_key))
        if row is None:
            return None
        return order_from_row(row, (await _items(self._db, [row.id]))[row.id])

    async def id_by_code(self, code: str) -> int | None:
        return await self._db.scalar(select(OrderRow.id).where(OrderRow.code == code))

    async def code_exists(self, code: str) -> bool:
        return bool(await self._db.scalar(select(func.count()).where(OrderRow.code == code)))

    async def ticket_code_exists(self, code: str) -> bool:
        return bool(await self._db.scalar(select(func.count()).where(OrderRow.ticket_code == code)))

    async def save(self, order: Order) -> None:
        changed = await changed_rows(
            self._db,
            update(OrderRow)
            .where(OrderRow.id == order.id, OrderRow.version == order.version)
            .values(**order_values(order), version=order.version + 1)
            .execution_options(synchronize_session=False),
        )
        if changed != 1:
            raise ConcurrentChange(order=order.id)
        order.version += 1

    async def add_stray(self, order: Order, amount_minor: int) -> None:
        """Add money due back to ``order`` in one statement (whatever its version), and bump the version."""
        row = (
            await self._db.execute(
                update(OrderRow)
                .where(OrderRow.id == order.id)
                .values(stray_minor=OrderRow.stray_minor + amount_minor, version=OrderRow.version + 1)
                .returning(OrderRow.stray_minor, OrderRow.version)
                .execution_options(synchronize_session=False)
            )
        ).one()
        order.stray_minor, order.version = row.stray_minor, row.version

    async def replace_items(self, order: Order) -> None:
        """Store ``order.items`` as its items (after a change of quantities); call with :meth:`save`."""
        if order.id is None:
            raise ValueError("replace_items needs a stored order")
        await self._db.execute(delete(OrderItemRow).where(OrderItemRow.order_id == order.id))
        self._db.add_all(_item_rows(order.id, order))
        await self._db.flush()

    async def for_user(self, user_id: int, offset: int, limit: int) -> tuple[Sequence[Order], int]:
        total = await self._db.scalar(select(func.count()).where(OrderRow.user_id == user_id))
        rows = list(
            await self._db.scalars(
                select(OrderRow)
                .join(SessionRow, SessionRow.id == OrderRow.session_id)
                .where(OrderRow.user_id == user_id)
                .order_by(OrderRow.created_at.desc(), OrderRow.id.desc())
                .offset(offset)
                .limit(limit)
            )
        )
        return await load_orders(self._db, rows), int(total or 0)

    async def all_for_user(self, user_id: int) -> Sequence[Order]:
        rows = list(await self._db.scalars(select(OrderRow).where(OrderRow.user_id == user_id)))
        return await load_orders(self._db, rows)
