"""The order: independent status dimensions, its items and the transitions a tourist can make.

An order's condition is a combination of booking, payment and ticket statuses plus deadlines; the stage shown
to the tourist is derived from that combination (see :func:`order_stage`), never stored.
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.errors import InvalidTransition

# Easy to read aloud and to type: none of the look-alikes 0/O, 1/I/L, 2/Z, S, G, 8/B, Q.
CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY345679"
CODE_LENGTH = 6


class BookingStatus(enum.StrEnum):
    AWAITING_ORGANISER = "awaiting_organiser"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class PaymentStatus(enum.StrEnum):
    NOT_DUE = "not_due"
    AWAITING = "awaiting"
    ON_SITE = "on_site"  # to be paid at the meeting point (no payment provider configured)
    PAID = "paid"
    REFUND_DUE = "refund_due"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class TicketStatus(enum.StrEnum):
    NONE = "none"
    ISSUED = "issued"
    VOIDED = "voided"


class Stage(enum.StrEnum):
    """What the tourist sees: one plain-words state per order, derived from its dimensions."""

    AWAITING_ORGANISER = "awaiting_organiser"
    AWAITING_PAYMENT = "awaiting_payment"
    PAY_ON_SITE = "pay_on_site"
    PAID = "paid"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    REFUND_DUE = "refund_due"
    REFUNDED = "refunded"
    EXPIRED = "expired"
    SESSION_CANCELLED = "session_cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    PAST = "past"


ACTIVE_BOOKINGS = frozenset({BookingStatus.AWAITING_ORGANISER, BookingStatus.CONFIRMED})
# We hold the tourist's money (all of it, or what is left after a partial refund).
MONEY_HELD = frozenset({PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED})


def new_order_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_order_code(code: str) -> str:
    """``K7MA4X`` -> ``K7M-A4X``: two groups of three read aloud more easily."""
    return f"{code[:3]}-{code[3:]}" if len(code) == CODE_LENGTH else code


_CODE_CLEAN = re.compile(r"[\s\-#]")


def normalize_order_code(text: str) -> str | None:
    """Accept what a person types (``k7m-a4x``, ``K7M A4X``); None if it cannot be an order code."""
    code = _CODE_CLEAN.sub("", text).upper()
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


@dataclass(slots=True)
class OrderItem:
    ticket_type: str
    quantity: int
    unit_price_minor: int

    @property
    def total_minor(self) -> int:
        return self.quantity * self.unit_price_minor


@dataclass(slots=True)
class Order:
    code: str
    user_id: int | None
    session_id: int
    event_id: int
    currency: str
    items: list[OrderItem]
    subtotal_minor: int
    discount_percent: int
    total_minor: int
    created_at: datetime
    hold_until: datetime
    language: str
    booking: BookingStatus = BookingStatus.AWAITING_ORGANISER
    payment: PaymentStatus = PaymentStatus.NOT_DUE
    ticket: TicketStatus = TicketStatus.NONE
    hotel_id: int | None = None
    answers: dict[str, str] = field(default_factory=dict)
    confirm_by: datetime | None = None
    pay_by: datetime | None = None
    cancelled_at: datetime | None = None
    request_key: str | None = None  # the booking screen it came from: a repeated confirm finds this order
    ticket_code: str | None = None  # unguessable, read aloud at the meeting point; survives a change of session
    paid_at: datetime | None = None
    confirm_nudged_at: datetime | None = None
    pay_reminded_at: datetime | None = None
    unclear_reply: str | None = None  # the organiser's last answer that was neither yes nor no
    rating: int | None = None
    rated_at: datetime | None = None
    undelivered: str | None = None  # the kind of a message about this order that could not be delivered
    desk_ack: list[str] = field(default_factory=list)  # problem kinds an operator marked handled
    stray_minor: int = 0  # money received that did not pay the order (late or second payment): due back
    partial_refund_minor: int = 0  # owed back after a change made the order cheaper (e.g. a partner hotel)
    refunded_minor: int = 0  # returned to the tourist so far
    id: int | None = None
    version: int = 0

    @property
    def seats(self) -> int:
        return sum(item.quantity for item in self.items)

    @property
    def is_active(self) -> bool:
        return self.booking in ACTIVE_BOOKINGS

    @property
    def money_held(self) -> bool:
        return self.payment in MONEY_HELD

    def snapshot(self) -> dict[str, str | None]:
        """The status dimensions, for the audit log's before/after."""
        return {
            "booking": self.booking.value,
            "payment": self.payment.value,
            "ticket": self.ticket.value,
        }

    def can_be_cancelled_by_tourist(self, session_starts_at: datetime, now: datetime) -> bool:
        return self.is_active and session_starts_at > now

    def cancel_by_tourist(self, session_starts_at: datetime, now: datetime) -> None:
        """Free before payment; after payment the money becomes refund due."""
        if not self.can_be_cancelled_by_tourist(session_starts_at, now):
            raise InvalidTransition(booking=self.booking.value, payment=self.payment.value)
        self.end(BookingStatus.CANCELLED, now)

    def end(self, booking: BookingStatus, now: datetime) -> None:
        """The booking is over before the session (cancelled, declined, expired): money held becomes refund due,
        money not yet paid is no longer due, an issued ticket is void."""
        self.booking = booking
        self.cancelled_at = now
        if self.money_held:
            self.payment = PaymentStatus.REFUND_DUE
        elif self.payment in (PaymentStatus.AWAITING, PaymentStatus.ON_SITE):
            self.payment = PaymentStatus.NOT_DUE
        if self.ticket is TicketStatus.ISSUED:
            self.ticket = TicketStatus.VOIDED

    def confirm_by_organiser(self, now: datetime, pay_within: timedelta, payments_enabled: bool) -> None:
        """Confirmed: now the tourist pays in chat by the pay deadline, or at the meeting point."""
        if self.booking is not BookingStatus.AWAITING_ORGANISER:
            raise InvalidTransition(booking=self.booking.value)
        self.booking = BookingStatus.CONFIRMED
        if payments_enabled:
            self.payment = PaymentStatus.AWAITING
            self.pay_by = now + pay_within
            self.hold_until = max(self.hold_until, self.pay_by)
        else:
            self.payment = PaymentStatus.ON_SITE

    def decline_by_organiser(self, now: datetime) -> None:
        if self.booking is not BookingStatus.AWAITING_ORGANISER:
            raise InvalidTransition(booking=self.booking.value)
        self.end(BookingStatus.DECLINED, now)

    def anonymize(self) -> None:
        """Drop everything personal; amounts, dates and statuses stay for accounting."""
        self.user_id = None
        self.answers = {}
        self.hotel_id = None


def order_stage(order: Order, session_starts_at: datetime, session_cancelled: bool, now: datetime) -> Stage:
    """The single plain-words stage a tourist sees for this combination of statuses."""
    if order.payment is PaymentStatus.REFUND_DUE:
        return Stage.REFUND_DUE
    if order.payment in (PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED) and not order.is_active:
        return Stage.REFUNDED
    match order.booking:
        case BookingStatus.DECLINED:
            return Stage.DECLINED
        case BookingStatus.EXPIRED:
            return Stage.EXPIRED
        case BookingStatus.ATTENDED:
            return Stage.ATTENDED
        case BookingStatus.NO_SHOW:
            return Stage.NO_SHOW
        case BookingStatus.CANCELLED:
            return Stage.SESSION_CANCELLED if session_cancelled else Stage.CANCELLED
    if session_cancelled:
        return Stage.SESSION_CANCELLED
    if session_starts_at <= now:
        return Stage.PAST
    if order.booking is BookingStatus.AWAITING_ORGANISER:
        return Stage.AWAITING_ORGANISER
    if order.money_held:
        return Stage.PAID
    if order.payment is PaymentStatus.ON_SITE:
        return Stage.PAY_ON_SITE
    return Stage.AWAITING_PAYMENT


def stage_deadline(order: Order, stage: Stage) -> datetime | None:
    """By when the next step is due, for the stages that have one."""
    if stage is Stage.AWAITING_ORGANISER:
        return order.confirm_by
    if stage is Stage.AWAITING_PAYMENT:
        return order.pay_by
    return None
