"""SQLAlchemy implementations of the domain's repositories (``domain/ports.py``): rows in, dataclasses out."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, func, null, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.tables import (
    AuditRow,
    EventRow,
    HotelRow,
    OrderItemRow,
    OrderReminderRow,
    OrderRow,
    OrganiserRow,
    OutboxRow,
    PaymentRow,
    RegionRow,
    SessionNoticeRow,
    SessionRow,
    UserRow,
)
from domain.errors import ConcurrentChange
from domain.model.catalog import (
    Choice,
    Confirmation,
    Event,
    EventSession,
    EventSummary,
    Hotel,
    Organiser,
    Question,
    QuestionKind,
    Region,
    SessionStatus,
    TicketType,
)
from domain.model.messages import AuditEntry, OutboxMessage
from domain.model.orders import (
    ACTIVE_BOOKINGS,
    BookingStatus,
    Order,
    OrderItem,
    PaymentStatus,
    TicketStatus,
)
from domain.model.payments import Payment
from domain.model.reminders import DueStatus, Reminder, SessionNotice
from domain.model.users import User

# ---- mapping ---------------------------------------------------------------------------------------------------


def region_from_row(row: RegionRow) -> Region:
    return Region(id=row.id, code=row.code, timezone=row.timezone, name=dict(row.name))


def hotel_from_row(row: HotelRow) -> Hotel:
    return Hotel(
        id=row.id, code=row.code, region_id=row.region_id, name=row.name, discount_percent=row.discount_percent
    )


def question_from_dict(data: dict) -> Question:
    return Question(
        id=data["id"],
        text=dict(data["text"]),
        kind=QuestionKind(data.get("kind", "text")),
        required=data.get("required", True),
        max_length=data.get("max_length", 200),
        choices=tuple(Choice(id=c["id"], text=dict(c["text"])) for c in data.get("choices", ())),
    )


def organiser_from_row(row: OrganiserRow) -> Organiser:
    return Organiser(
        id=row.id,
        code=row.code,
        name=row.name,
        chat_id=row.chat_id,
        language=row.language,
        phone=row.phone,
        confirm_within=timedelta(seconds=row.confirm_within_s),
        pay_within=timedelta(seconds=row.pay_within_s),
        hold=timedelta(seconds=row.hold_s),
        reminders=tuple(timedelta(seconds=s) for s in row.reminders_s),
        questions=tuple(question_from_dict(q) for q in row.questions),
    )


def event_from_row(row: EventRow) -> Event:
    return Event(
        id=row.id,
        code=row.code,
        organiser_id=row.organiser_id,
        region_id=row.region_id,
        category=row.category,
        title=dict(row.title),
        description=dict(row.description),
        meeting_point=dict(row.meeting_point),
        duration=timedelta(seconds=row.duration_s),
        languages=tuple(row.languages),
        currency=row.currency,
        ticket_types=tuple(TicketType(p["code"], p["price_minor"]) for p in row.prices),
        confirmation=Confirmation(row.confirmation),
    )


def session_from_row(row: SessionRow) -> EventSession:
    return EventSession(
        id=row.id,
        event_id=row.event_id,
        starts_at=row.starts_at,
        capacity=row.capacity,
        seats_left=row.seats_left,
        status=SessionStatus(row.status),
    )


def user_from_row(row: UserRow) -> User:
    return User(
        id=row.id,
        language=row.language,
        created_at=row.created_at,
        first_name=row.first_name,
        username=row.username,
        phone=row.phone,
        hotel_id=row.hotel_id,
        region_id=row.region_id,
        blocked_bot=row.blocked_bot,
    )


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
        partial_refund_minor=row.partial_refund_minor,
        refunded_minor=row.refunded_minor,
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
    "partial_refund_minor",
    "refunded_minor",
)


# How SQLite ("orders.request_key") and PostgreSQL ("uq_orders_request_key") name the unique keys in their errors.
_ORDER_UNIQUE_KEYS = ("orders.request_key", "orders.code", "uq_orders_request_key", "uq_orders_code")


def _order_values(order: Order) -> dict:
    values = {name: getattr(order, name) for name in _ORDER_FIELDS}
    values.update(booking=order.booking.value, payment=order.payment.value, ticket=order.ticket.value)
    return values


# ---- repositories ----------------------------------------------------------------------------------------------


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def get(self, user_id: int) -> User | None:
        row = await self._db.get(UserRow, user_id)
        return user_from_row(row) if row else None

    async def add(self, user: User) -> None:
        self._db.add(UserRow(**_user_values(user)))
        await self._db.flush()

    async def save(self, user: User) -> None:
        await self._db.execute(update(UserRow).where(UserRow.id == user.id).values(**_user_values(user)))

    async def delete(self, user_id: int) -> None:
        await self._db.execute(delete(UserRow).where(UserRow.id == user_id))


def _user_values(user: User) -> dict:
    return {
        "id": user.id,
        "language": user.language,
        "created_at": user.created_at,
        "first_name": user.first_name,
        "username": user.username,
        "phone": user.phone,
        "hotel_id": user.hotel_id,
        "region_id": user.region_id,
        "blocked_bot": user.blocked_bot,
    }


class SqlCatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def regions(self) -> Sequence[Region]:
        rows = await self._db.scalars(select(RegionRow).order_by(RegionRow.code))
        return [region_from_row(r) for r in rows]

    async def region(self, region_id: int) -> Region | None:
        row = await self._db.get(RegionRow, region_id)
        return region_from_row(row) if row else None

    async def event(self, event_id: int) -> Event | None:
        row = await self._db.get(EventRow, event_id)
        return event_from_row(row) if row else None

    async def event_by_code(self, code: str) -> Event | None:
        row = await self._db.scalar(select(EventRow).where(EventRow.code == code))
        return event_from_row(row) if row else None

    async def organiser(self, organiser_id: int) -> Organiser | None:
        row = await self._db.get(OrganiserRow, organiser_id)
        return organiser_from_row(row) if row else None

    async def hotel(self, hotel_id: int) -> Hotel | None:
        row = await self._db.get(HotelRow, hotel_id)
        return hotel_from_row(row) if row else None

    async def search_hotels(self, region_id: int, text: str, limit: int) -> Sequence[Hotel]:
        needle = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self._db.scalars(
            select(HotelRow)
            .where(HotelRow.region_id == region_id, HotelRow.search_name.like(f"%{needle}%", escape="\\"))
            .order_by(HotelRow.name)
            .limit(limit)
        )
        return [hotel_from_row(r) for r in rows]

    async def session(self, session_id: int) -> EventSession | None:
        row = await self._db.get(SessionRow, session_id, populate_existing=True)
        return session_from_row(row) if row else None

    async def upcoming_sessions(self, event_id: int, after: datetime, limit: int) -> Sequence[EventSession]:
        rows = await self._db.scalars(
            select(SessionRow)
            .where(
                SessionRow.event_id == event_id,
                SessionRow.starts_at > after,
                SessionRow.status == SessionStatus.SCHEDULED.value,
            )
            .order_by(SessionRow.starts_at)
            .limit(limit)
        )
        return [session_from_row(r) for r in rows]

    def _window(self, region_id: int, start: datetime, end: datetime):
        return (
            EventRow.region_id == region_id,
            SessionRow.starts_at >= start,
            SessionRow.starts_at < end,
            SessionRow.status == SessionStatus.SCHEDULED.value,
        )

    async def categories(self, region_id: int, start: datetime, end: datetime) -> Sequence[tuple[str, int]]:
        rows = await self._db.execute(
            select(EventRow.category, func.count(func.distinct(EventRow.id)))
            .join(SessionRow, SessionRow.event_id == EventRow.id)
            .where(*self._window(region_id, start, end))
            .group_by(EventRow.category)
            .order_by(EventRow.category)
        )
        return [(category, count) for category, count in rows]

    async def event_summaries(
        self, region_id: int, start: datetime, end: datetime, category: str | None, offset: int, limit: int
    ) -> tuple[Sequence[EventSummary], int]:
        conditions = list(self._window(region_id, start, end))
        if category is not None:
            conditions.append(EventRow.category == category)
        grouped = (
            select(
                SessionRow.event_id.label("event_id"),
                func.min(SessionRow.starts_at).label("next_start"),
                func.count().label("sessions"),
                func.sum(SessionRow.seats_left).label("seats"),
            )
            .join(EventRow, EventRow.id == SessionRow.event_id)
            .where(*conditions)
            .group_by(SessionRow.event_id)
            .subquery()
        )
        total = await self._db.scalar(select(func.count()).select_from(grouped))
        rows = await self._db.execute(
            select(EventRow, grouped.c.next_start, grouped.c.sessions, grouped.c.seats)
            .join(grouped, grouped.c.event_id == EventRow.id)
            .order_by(grouped.c.next_start, EventRow.id)
            .offset(offset)
            .limit(limit)
        )
        summaries = []
        for event_row, next_start, sessions, seats in rows:
            event = event_from_row(event_row)
            summaries.append(
                EventSummary(
                    event=event,
                    next_start=next_start,
                    sessions_in_window=int(sessions),
                    seats_left=int(seats or 0),
                    price_from_minor=min((t.price_minor for t in event.ticket_types), default=0),
                )
            )
        return summaries, int(total or 0)

    async def cancel_session(self, session_id: int, reason: str | None) -> bool:
        # Conditional: of two operators cancelling at once, one changes the row, the other sees rowcount 0.
        result = await self._db.execute(
            update(SessionRow)
            .where(SessionRow.id == session_id, SessionRow.status == SessionStatus.SCHEDULED.value)
            .values(status=SessionStatus.CANCELLED.value, cancel_reason=reason)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


class SqlSeatRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def reserve(self, session_id: int, seats: int) -> bool:
        # One conditional UPDATE: the check and the change are a single atomic statement on every backend.
        result = await self._db.execute(
            update(SessionRow)
            .where(
                SessionRow.id == session_id,
                SessionRow.status == SessionStatus.SCHEDULED.value,
                SessionRow.seats_left >= seats,
            )
            .values(seats_left=SessionRow.seats_left - seats)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    async def release(self, session_id: int, seats: int) -> None:
        await self._db.execute(
            update(SessionRow)
            .where(SessionRow.id == session_id)
            .values(
                seats_left=case(
                    (SessionRow.seats_left + seats > SessionRow.capacity, SessionRow.capacity),
                    else_=SessionRow.seats_left + seats,
                )
            )
            .execution_options(synchronize_session=False)
        )


class SqlOrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def add(self, order: Order) -> Order:
        row = OrderRow(**_order_values(order), version=0)
        self._db.add(row)
        try:
            await self._db.flush()
        except IntegrityError as error:
            # Another transaction placed the order for the same request key (or took the code) first; any other
            # integrity error is a programming error and stays one.
            if not any(key in str(error.orig) for key in _ORDER_UNIQUE_KEYS):
                raise
            raise ConcurrentChange(order=order.request_key or order.code) from None
        self._db.add_all(
            OrderItemRow(
                order_id=row.id, ticket_type=i.ticket_type, quantity=i.quantity, unit_price_minor=i.unit_price_minor
            )
            for i in order.items
        )
        await self._db.flush()
        order.id, order.version = row.id, 0
        return order

    async def _items(self, order_ids: Sequence[int]) -> dict[int, list[OrderItemRow]]:
        items: dict[int, list[OrderItemRow]] = {i: [] for i in order_ids}
        if order_ids:
            rows = await self._db.scalars(
                select(OrderItemRow).where(OrderItemRow.order_id.in_(order_ids)).order_by(OrderItemRow.id)
            )
            for item in rows:
                items[item.order_id].append(item)
        return items

    async def get(self, order_id: int) -> Order | None:
        row = await self._db.get(OrderRow, order_id, populate_existing=True)
        if row is None:
            return None
        return order_from_row(row, (await self._items([row.id]))[row.id])

    async def by_request_key(self, request_key: str) -> Order | None:
        row = await self._db.scalar(select(OrderRow).where(OrderRow.request_key == request_key))
        if row is None:
            return None
        return order_from_row(row, (await self._items([row.id]))[row.id])

    async def id_by_code(self, code: str) -> int | None:
        return await self._db.scalar(select(OrderRow.id).where(OrderRow.code == code))

    async def code_exists(self, code: str) -> bool:
        return await self._db.scalar(select(func.count()).where(OrderRow.code == code)) > 0

    async def ticket_code_exists(self, code: str) -> bool:
        return await self._db.scalar(select(func.count()).where(OrderRow.ticket_code == code)) > 0

    async def save(self, order: Order) -> None:
        result = await self._db.execute(
            update(OrderRow)
            .where(OrderRow.id == order.id, OrderRow.version == order.version)
            .values(**_order_values(order), version=order.version + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
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
        await self._db.execute(delete(OrderItemRow).where(OrderItemRow.order_id == order.id))
        self._db.add_all(
            OrderItemRow(
                order_id=order.id, ticket_type=i.ticket_type, quantity=i.quantity, unit_price_minor=i.unit_price_minor
            )
            for i in order.items
        )
        await self._db.flush()

    async def _orders(self, rows: Sequence[OrderRow]) -> list[Order]:
        items = await self._items([r.id for r in rows])
        return [order_from_row(r, items[r.id]) for r in rows]

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
        return await self._orders(rows), int(total or 0)

    async def all_for_user(self, user_id: int) -> Sequence[Order]:
        rows = list(await self._db.scalars(select(OrderRow).where(OrderRow.user_id == user_id)))
        return await self._orders(rows)


class SqlOutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def add(self, message: OutboxMessage) -> None:
        exists = await self._db.scalar(select(func.count()).where(OutboxRow.dedup_key == message.dedup_key))
        if exists:
            return  # the same change asked twice: one message
        self._db.add(
            OutboxRow(
                kind=message.kind.value,
                chat_id=message.chat_id,
                payload=message.payload,
                dedup_key=message.dedup_key,
                status="pending",
                attempts=0,
                due_at=message.due_at,
                created_at=message.due_at,
            )
        )
        await self._db.flush()

    async def order_for_message(self, kind: str, chat_id: int, message_id: int) -> int | None:
        payload = await self._db.scalar(
            select(OutboxRow.payload).where(
                OutboxRow.chat_id == chat_id, OutboxRow.sent_message_id == message_id, OutboxRow.kind == kind
            )
        )
        return int(payload["order_id"]) if payload and "order_id" in payload else None


def payment_from_row(row: PaymentRow) -> Payment:
    return Payment(
        order_id=row.order_id,
        telegram_charge_id=row.telegram_charge_id,
        provider_charge_id=row.provider_charge_id,
        amount_minor=row.amount_minor,
        currency=row.currency,
        paid_at=row.paid_at,
        applied=row.applied,
    )


class SqlPaymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def add(self, payment: Payment) -> bool:
        # INSERT ... ON CONFLICT DO NOTHING: a concurrent insert of the same charge id makes this statement wait for
        # that transaction and then insert nothing, without aborting ours (a plain INSERT would, on PostgreSQL).
        insert = postgresql_insert if self._db.get_bind().dialect.name == "postgresql" else sqlite_insert
        inserted = await self._db.scalar(
            insert(PaymentRow)
            .values(
                order_id=payment.order_id,
                telegram_charge_id=payment.telegram_charge_id,
                provider_charge_id=payment.provider_charge_id,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                paid_at=payment.paid_at,
                applied=payment.applied,
            )
            .on_conflict_do_nothing(index_elements=[PaymentRow.telegram_charge_id])
            .returning(PaymentRow.id)
        )
        return inserted is not None

    async def by_charge_id(self, telegram_charge_id: str) -> Payment | None:
        row = await self._db.scalar(select(PaymentRow).where(PaymentRow.telegram_charge_id == telegram_charge_id))
        return payment_from_row(row) if row else None

    async def for_order(self, order_id: int) -> Sequence[Payment]:
        rows = await self._db.scalars(select(PaymentRow).where(PaymentRow.order_id == order_id).order_by(PaymentRow.id))
        return [payment_from_row(r) for r in rows]

    async def mark_refunded(self, order_id: int, now: datetime) -> int:
        result = await self._db.execute(
            update(PaymentRow)
            .where(PaymentRow.order_id == order_id, PaymentRow.applied.is_(False), PaymentRow.refunded_at.is_(None))
            .values(refunded_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount


class SqlAuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def add(self, entry: AuditEntry) -> None:
        self._db.add(
            AuditRow(
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                order_id=entry.order_id,
                before=entry.before,
                after=entry.after,
            )
        )
        await self._db.flush()

    async def for_order(self, order_id: int, limit: int) -> Sequence[AuditEntry]:
        rows = await self._db.scalars(
            select(AuditRow).where(AuditRow.order_id == order_id).order_by(AuditRow.id.desc()).limit(limit)
        )
        return [
            AuditEntry(
                at=r.at,
                actor=r.actor,
                action=r.action,
                order_id=r.order_id,
                before=dict(r.before or {}),
                after=dict(r.after or {}),
            )
            for r in rows
        ]


# ---- reminders, session notices and deadlines --------------------------------------------------------------------


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


_ACTIVE_BOOKINGS = sorted(b.value for b in ACTIVE_BOOKINGS)


class SqlReminderRepository:
    """Claims lock one row each (``FOR UPDATE SKIP LOCKED``; only the claimed table's row, never a session's, so
    bookings and other claims go on). SQLite ignores the clause: its write transactions run one at a time."""

    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    def _insert(self):
        return postgresql_insert if self._db.get_bind().dialect.name == "postgresql" else sqlite_insert

    async def add(self, reminder: Reminder) -> bool:
        # ON CONFLICT DO NOTHING: a concurrent insert of the same (order, kind) waits and then adds nothing.
        inserted = await self._db.scalar(
            self._insert()(OrderReminderRow)
            .values(
                order_id=reminder.order_id,
                kind=reminder.kind,
                due_at=reminder.due_at,
                status=reminder.status.value,
                done_at=reminder.done_at,
            )
            .on_conflict_do_nothing(index_elements=[OrderReminderRow.order_id, OrderReminderRow.kind])
            .returning(OrderReminderRow.id)
        )
        return inserted is not None

    async def for_order(self, order_id: int) -> Sequence[Reminder]:
        rows = await self._db.scalars(
            select(OrderReminderRow).where(OrderReminderRow.order_id == order_id).order_by(OrderReminderRow.id)
        )
        return [reminder_from_row(r) for r in rows]

    async def _claim_next(
        self, table: type[OrderReminderRow | SessionNoticeRow], now: datetime, exclude: Collection[int]
    ) -> OrderReminderRow | SessionNoticeRow | None:
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

    async def _close(
        self, table: type[OrderReminderRow | SessionNoticeRow], row_id: int, status: DueStatus, now: datetime
    ) -> None:
        await self._db.execute(
            update(table)
            .where(table.id == row_id)
            .values(status=status.value, done_at=now)
            .execution_options(synchronize_session=False)
        )

    async def claim_due(self, now: datetime, exclude: Collection[int]) -> Reminder | None:
        row = await self._claim_next(OrderReminderRow, now, exclude)
        return reminder_from_row(row) if row else None

    async def close(self, reminder_id: int, status: DueStatus, now: datetime) -> None:
        await self._close(OrderReminderRow, reminder_id, status, now)

    async def add_notice(self, notice: SessionNotice) -> bool:
        inserted = await self._db.scalar(
            self._insert()(SessionNoticeRow)
            .values(
                session_id=notice.session_id,
                kind=notice.kind,
                due_at=notice.due_at,
                status=notice.status.value,
                done_at=notice.done_at,
            )
            .on_conflict_do_nothing(index_elements=[SessionNoticeRow.session_id, SessionNoticeRow.kind])
            .returning(SessionNoticeRow.id)
        )
        return inserted is not None

    async def rearm_notice(self, session_id: int, kind: str, due_at: datetime) -> bool:
        skipped = SessionNoticeRow.status == DueStatus.SKIPPED.value
        result = await self._db.execute(
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
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    async def claim_due_notice(self, now: datetime, exclude: Collection[int]) -> SessionNotice | None:
        row = await self._claim_next(SessionNoticeRow, now, exclude)
        return notice_from_row(row) if row else None

    async def close_notice(self, notice_id: int, status: DueStatus, now: datetime) -> None:
        await self._close(SessionNoticeRow, notice_id, status, now)

    async def _claim_order(self, condition, order_by, exclude: Collection[int]) -> int | None:
        query = select(OrderRow.id).where(condition)
        if exclude:
            query = query.where(OrderRow.id.not_in(list(exclude)))
        # OF orders: lock the order only (a join or sub-select must not lock the session row bookings update).
        return await self._db.scalar(
            query.order_by(order_by, OrderRow.id).limit(1).with_for_update(skip_locked=True, of=OrderRow)
        )

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
        starting = select(SessionRow.id).where(SessionRow.starts_at <= starts_before)
        return await self._claim_order(
            or_(
                and_(
                    OrderRow.booking == BookingStatus.CONFIRMED.value,
                    OrderRow.payment == PaymentStatus.AWAITING.value,
                    OrderRow.pay_reminded_at.is_not(None),
                    OrderRow.hold_until <= now,
                ),
                and_(
                    OrderRow.booking == BookingStatus.AWAITING_ORGANISER.value,
                    OrderRow.session_id.in_(starting),
                ),
            ),
            OrderRow.hold_until,
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
        return await SqlOrderRepository(self._db)._orders(rows)
