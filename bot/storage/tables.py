"""SQLAlchemy tables. The schema is created only by the Alembic migrations in ``bot/storage/migrations``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores naive text; we add the zone back on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON}


class RegionRow(Base):
    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    name: Mapped[dict[str, Any]]


class HotelRow(Base):
    __tablename__ = "hotels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    search_name: Mapped[str] = mapped_column(String(200))  # casefolded, for search on every backend
    discount_percent: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (CheckConstraint("discount_percent BETWEEN 0 AND 100", name="discount_range"),)


class OrganiserRow(Base):
    __tablename__ = "organisers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    language: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(32))
    confirm_within_s: Mapped[int] = mapped_column(Integer)
    pay_within_s: Mapped[int] = mapped_column(Integer)
    hold_s: Mapped[int] = mapped_column(Integer)
    waitlist_claim_window_s: Mapped[int] = mapped_column(Integer, default=900, server_default="900")
    reminders_s: Mapped[list[int]] = mapped_column(JSON)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class EventRow(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organisers.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    title: Mapped[dict[str, Any]]
    description: Mapped[dict[str, Any]]
    meeting_point: Mapped[dict[str, Any]]
    duration_s: Mapped[int] = mapped_column(Integer)
    languages: Mapped[list[str]] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3))
    prices: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"code": "adult", "price_minor": 4500}, ...]
    confirmation: Mapped[str] = mapped_column(String(16))


class SessionRow(Base):
    __tablename__ = "event_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    starts_at: Mapped[datetime]
    capacity: Mapped[int] = mapped_column(Integer)
    seats_left: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # a hot on-sale (issue 13, the catalog's hot / sale_opens_at / admission_window, the event's unless the session
    # says otherwise): Book goes through the waiting room
    hot: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sale_opens_at: Mapped[datetime | None]
    admission_window_s: Mapped[int | None] = mapped_column(Integer)
    # the organiser stopped its sales (``/sessions``, issue 14): the seat-taking UPDATE refuses it (migration 0014)
    sales_stopped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    __table_args__ = (
        UniqueConstraint("event_id", "starts_at", name="uq_event_sessions_event_start"),
        CheckConstraint("seats_left >= 0", name="seats_left_not_negative"),
        CheckConstraint("seats_left <= capacity", name="seats_left_within_capacity"),
        Index("ix_event_sessions_starts_at", "starts_at"),
    )


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    first_name: Mapped[str | None] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    hotel_id: Mapped[int | None] = mapped_column(ForeignKey("hotels.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    blocked_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    offers_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # issue 15


class OrderRow(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # one order per booking screen
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)  # no FK: anonymised orders outlive users
    session_id: Mapped[int] = mapped_column(ForeignKey("event_sessions.id"))  # ix_orders_session_id_booking
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    booking: Mapped[str] = mapped_column(String(32))
    payment: Mapped[str] = mapped_column(String(32))
    ticket: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(Integer)
    discount_percent: Mapped[int] = mapped_column(Integer)
    total_minor: Mapped[int] = mapped_column(Integer)
    hotel_id: Mapped[int | None] = mapped_column(ForeignKey("hotels.id"))
    answers: Mapped[dict[str, Any]]
    language: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    hold_until: Mapped[datetime]
    confirm_by: Mapped[datetime | None]
    pay_by: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    ticket_code: Mapped[str | None] = mapped_column(String(16), unique=True)  # survives a change of session
    paid_at: Mapped[datetime | None]
    confirm_nudged_at: Mapped[datetime | None]  # the silent organiser was nudged (once)
    pay_reminded_at: Mapped[datetime | None]  # the unpaid tourist was reminded (once)
    unclear_reply: Mapped[str | None] = mapped_column(Text)  # the organiser's last reply that was neither yes nor no
    rating: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime | None]
    undelivered: Mapped[str | None] = mapped_column(String(64))  # a message about it that could not be delivered
    desk_ack: Mapped[list[str] | None] = mapped_column(JSON)  # problem kinds an operator marked handled
    stray_minor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # unapplied money, due back
    stray_other: Mapped[dict[str, int] | None] = mapped_column(JSON)  # such money in other currencies: {"USD": 9000}
    partial_refund_minor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # owed after a change
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # returned so far
    points_used: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # issue 15: spent at checkout
    discount_code: Mapped[str | None] = mapped_column(String(32))  # issue 15: used at checkout
    code_discount_minor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # what the code took off
    version: Mapped[int] = mapped_column(Integer, default=0)
    # The operator desk re-evaluates an order whose version it has not seen, or when a deadline of it passes.
    desk_seen_version: Mapped[int] = mapped_column(Integer, default=-1, server_default="-1")
    desk_check_at: Mapped[datetime | None] = mapped_column(index=True)
    __table_args__ = (
        # the orders the desk has not seen since they changed: few, found without scanning the table
        Index(
            "ix_orders_desk_unseen",
            "id",
            sqlite_where=text("version != desk_seen_version"),
            postgresql_where=text("version != desk_seen_version"),
        ),
        # a session's orders, and its orders in one state (the attendance claim, bot/storage/checkins.py)
        Index("ix_orders_session_id_booking", "session_id", "booking"),
        # the deadline jobs' claims (bot/storage/reminders.py): a range of one state's deadlines, not a table scan
        Index("ix_orders_booking_confirm_by", "booking", "confirm_by"),
        Index("ix_orders_booking_payment_pay_by", "booking", "payment", "pay_by"),
        Index(
            "ix_orders_booking_payment_hold_until",
            "booking",
            "payment",
            "hold_until",
            sqlite_where=text("pay_reminded_at IS NOT NULL"),
            postgresql_where=text("pay_reminded_at IS NOT NULL"),
        ),
    )


class OrderItemRow(Base):
    __tablename__ = "order_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    ticket_type: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(Integer)
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class OutboxRow(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]]
    dedup_key: Mapped[str] = mapped_column(String(128), unique=True)
    # pending, sending (leased), sent, dead (failed), superseded (a newer row of the same message replaced it)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    sent_message_id: Mapped[int | None] = mapped_column(BigInteger)  # replies to it are matched back to the row
    last_error: Mapped[str | None] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # ahead of the queue
    __table_args__ = (
        Index("ix_outbox_status_due_at", "status", "due_at"),
        Index(  # the few urgent rows not sent yet, found without reading the queue (bot/storage/outbox.py)
            "ix_outbox_urgent_open",
            "id",
            sqlite_where=text("urgent AND status IN ('pending', 'sending')"),  # as bot/storage/outbox.py asks
            postgresql_where=text("urgent AND status IN ('pending', 'sending')"),
        ),
        Index("ix_outbox_chat_message", "chat_id", "sent_message_id"),
        Index(
            "ix_outbox_open_by_chat",
            "chat_id",
            "id",
            sqlite_where=text("status IN ('pending', 'sending')"),
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
    )


class AuditRow(Base):
    """Append-only: nothing in the code updates or deletes these rows."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before: Mapped[dict[str, Any]]
    after: Mapped[dict[str, Any]]


class PaymentRow(Base):
    """Every successful payment Telegram reported, once (by its charge id); ``applied`` is False for money that
    did not pay an order (a second payment, or one after expiry): that money is due back."""

    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)  # None: no such order found
    telegram_charge_id: Mapped[str] = mapped_column(String(255), unique=True)
    provider_charge_id: Mapped[str] = mapped_column(String(255))
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    paid_at: Mapped[datetime]
    applied: Mapped[bool] = mapped_column(Boolean)
    refunded_at: Mapped[datetime | None]  # an operator returned this money (not applied, or the order's refund)
    payer_id: Mapped[int | None] = mapped_column(BigInteger)  # who paid (None: recorded before payers were)
    payer_name: Mapped[str | None] = mapped_column(String(128))


class OrderReminderRow(Base):
    """A message due about one order at a time (a reminder before the session, a rating request after it)."""

    __tablename__ = "order_reminders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # "before:86400", "before:7200", "rating"
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, skipped
    done_at: Mapped[datetime | None]
    __table_args__ = (
        UniqueConstraint("order_id", "kind", name="uq_order_reminders_order_kind"),
        Index("ix_order_reminders_status_due_at", "status", "due_at"),
    )


class SessionNoticeRow(Base):
    """A message due about a whole session (the participant list for the organiser)."""

    __tablename__ = "session_notices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("event_sessions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    done_at: Mapped[datetime | None]
    __table_args__ = (
        UniqueConstraint("session_id", "kind", name="uq_session_notices_session_kind"),
        Index("ix_session_notices_status_due_at", "status", "due_at"),
    )


class InboxRow(Base):
    """Updates received from Telegram, stored before they are confirmed, and handled from here by whichever replica
    claims them (bot/inbox.py): one that was being handled when its process died is handled again (handlers are
    idempotent)."""

    __tablename__ = "inbox"
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, handling, done, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    chat_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # one chat's: in order
    claimed_by: Mapped[str | None] = mapped_column(String(64))  # the replica handling it
    claimed_until: Mapped[datetime | None]  # handling: the claim's end; pending: not before (a retry's pause)
    __table_args__ = (
        Index("ix_inbox_status", "status"),
        Index(
            "ix_inbox_open_by_chat",
            "chat_id",
            "update_id",
            sqlite_where=text("status IN ('pending', 'handling')"),
            postgresql_where=text("status IN ('pending', 'handling')"),
        ),
    )


class FsmRow(Base):
    """A conversation's state and data (the booking draft, a profile step): see bot/storage/fsm.py."""

    __tablename__ = "fsm_state"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict[str, Any]]


class DeskCardRow(Base):
    """One operator card per subject (an order, a tourist's question thread, a payment whose order we cannot find)
    while it has open problems.

    ``open_subject`` equals ``subject`` while the card is open and is NULL once resolved: the unique key allows one
    open card per subject and any number of resolved ones."""

    __tablename__ = "desk_cards"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(300), index=True)  # "order:17", "question:5", "payment:<charge id>"
    open_subject: Mapped[str | None] = mapped_column(String(300), unique=True)
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)  # the tourist (question cards)
    kinds: Mapped[list[str]] = mapped_column(JSON)  # open problem kinds, most urgent first
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, resolved
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    taken_by: Mapped[int | None] = mapped_column(BigInteger)
    taken_by_name: Mapped[str | None] = mapped_column(String(128))
    snoozed_until: Mapped[datetime | None]
    remind_at: Mapped[datetime | None]  # when it is re-raised if still unhandled
    reraised_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))  # actor, "system" when the order became normal
    resolved_by_name: Mapped[str | None] = mapped_column(String(128))
    resolution: Mapped[str | None] = mapped_column(String(64))  # what was done (an action code)
    last_action: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"by": name, "action": code, "at": iso}
    message_id: Mapped[int | None] = mapped_column(BigInteger)  # the card in the operator chat, edited in place
    thread_id: Mapped[int | None] = mapped_column(BigInteger)  # forum topic
    digest_id: Mapped[int | None] = mapped_column(Integer)  # announced in a digest instead of its own message
    version: Mapped[int] = mapped_column(Integer, default=0)  # bumped on every change that must be re-rendered
    __table_args__ = (Index("ix_desk_cards_status_remind_at", "status", "remind_at"),)


class DeskTopicRow(Base):
    """Forum topics the bot made in the operator group: "problems", and "user:<id>" per tourist with questions."""

    __tablename__ = "desk_topics"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class QuestionThreadRow(Base):
    """A tourist's conversation with the operators: open while the last question waits for an answer."""

    __tablename__ = "question_threads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, answered
    asked_at: Mapped[datetime]  # the last question
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(String(64))
    desk_check_at: Mapped[datetime | None] = mapped_column(index=True)  # when the desk looks at it next
    last_question: Mapped[str | None] = mapped_column(Text)  # the last question's text, for its desk card
    created_at: Mapped[datetime]


class RelayMessageRow(Base):
    """Which tourist a message in the operator chat is about (both ways), so a reply reaches the right person."""

    __tablename__ = "relay_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    thread_id: Mapped[int | None] = mapped_column(Integer)  # question_threads.id
    direction: Mapped[str] = mapped_column(String(16))  # to_operators, to_tourist
    created_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("chat_id", "message_id", name="uq_relay_messages_chat_message"),)


class CatalogVersionRow(Base):
    """One row: a number that database triggers bump on every change of regions, hotels, organisers and events
    (migration 0006), so a process's in-memory catalog (bot/storage/catalog_cache.py) knows when to reload."""

    __tablename__ = "catalog_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)


_WAITLIST_OPEN = text("status IN ('waiting', 'offered')")


class WaitlistRow(Base):
    """Waiting for seats of a sold-out session (domain/model/waitlist.py); one open entry per tourist and session."""

    __tablename__ = "waitlist"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("event_sessions.id"))
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    seats: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # waiting, offered, claimed, left, expired
    joined_at: Mapped[datetime]
    offered_at: Mapped[datetime | None]
    offered_until: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    order_id: Mapped[int | None] = mapped_column(Integer)  # the order a claimed offer became
    version: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (
        CheckConstraint("seats > 0", name="seats_positive"),
        Index(
            "uq_waitlist_open_user_session",
            "session_id",
            "user_id",
            unique=True,
            sqlite_where=_WAITLIST_OPEN,
            postgresql_where=_WAITLIST_OPEN,
        ),
        Index("ix_waitlist_status_session_id", "status", "session_id", "id"),  # the offer job, in join order
        Index("ix_waitlist_status_offered_until", "status", "offered_until"),  # the expiry job
    )


# The waiting room's tables have a module of their own (this one is long enough); importing it here puts them in
# Base.metadata for everyone who reads the schema from this module (Alembic, the tests).
from bot.storage.bot_profile_tables import BotProfileRow as BotProfileRow  # noqa: E402
from bot.storage.checkin_tables import OrderDayRow as OrderDayRow  # noqa: E402
from bot.storage.checkin_tables import SessionDayRow as SessionDayRow  # noqa: E402
from bot.storage.favourite_tables import FavouriteRow as FavouriteRow  # noqa: E402
from bot.storage.favourite_tables import FavouriteSoldOutRow as FavouriteSoldOutRow  # noqa: E402
from bot.storage.loyalty_tables import PointsEntryRow as PointsEntryRow  # noqa: E402
from bot.storage.loyalty_tables import PointsRuleRow as PointsRuleRow  # noqa: E402
from bot.storage.loyalty_tables import ReferralRow as ReferralRow  # noqa: E402
from bot.storage.offer_tables import DiscountCodeRow as DiscountCodeRow  # noqa: E402
from bot.storage.offer_tables import DiscountCodeUseRow as DiscountCodeUseRow  # noqa: E402
from bot.storage.offer_tables import OfferDeliveryRow as OfferDeliveryRow  # noqa: E402
from bot.storage.offer_tables import OfferRow as OfferRow  # noqa: E402
from bot.storage.organiser_tables import OrganiserChangeRow as OrganiserChangeRow  # noqa: E402
from bot.storage.organiser_tables import OrganiserExtrasRow as OrganiserExtrasRow  # noqa: E402
from bot.storage.place_tables import EventPlaceRow as EventPlaceRow  # noqa: E402
from bot.storage.place_tables import HotelPageRow as HotelPageRow  # noqa: E402
from bot.storage.place_tables import RegionGuideRow as RegionGuideRow  # noqa: E402
from bot.storage.room_tables import RoomPlaceRow as RoomPlaceRow  # noqa: E402
from bot.storage.room_tables import WaitingRoomRow as WaitingRoomRow  # noqa: E402
