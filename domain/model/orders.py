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

from domain.errors import InvalidAmount, InvalidRating, InvalidTransition, NothingOwed, PaidPriceUp

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
# Nothing paid yet (or nothing due): money that arrives after such a booking ended is the order's refund due.
NOTHING_PAID = frozenset({PaymentStatus.NOT_DUE, PaymentStatus.AWAITING, PaymentStatus.ON_SITE})
# How a booking ends before its session (:meth:`Order.end`).
ENDINGS = frozenset({BookingStatus.CANCELLED, BookingStatus.DECLINED, BookingStatus.EXPIRED})
# A placed order before anyone acted on it.
JUST_PLACED = (BookingStatus.AWAITING_ORGANISER, PaymentStatus.NOT_DUE, TicketStatus.NONE)
STARS = range(1, 6)  # a rating


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


def check_stars(stars: object) -> None:
    """:class:`InvalidRating` unless ``stars`` is a whole number 1..5."""
    if isinstance(stars, bool) or not isinstance(stars, int) or stars not in STARS:
        raise InvalidRating(stars=stars)


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
    stray_other: dict[str, int] = field(default_factory=dict)  # such money in other currencies: currency -> minor
    partial_refund_minor: int = 0  # owed back after a change made the order cheaper (e.g. a partner hotel)
    refunded_minor: int = 0  # returned to the tourist so far
    # checkout (issue 15, domain/rules/checkout.py): both already taken off total_minor
    points_used: int = 0  # loyalty points spent on it (1 point = 1 minor unit); back if the booking ends
    discount_code: str | None = None
    code_discount_minor: int = 0  # what the discount code took off
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

    @property
    def owed_minor(self) -> int:
        """Money owed back to the tourist now: the whole amount while the payment is REFUND_DUE, plus what a change
        made cheaper after payment, plus payments that did not pay the order."""
        whole = self.total_minor if self.payment is PaymentStatus.REFUND_DUE else 0
        return whole + self.partial_refund_minor + self.stray_minor

    def owed_back(self) -> dict[str, int]:
        """Everything owed back to the tourist now, per currency (only currencies with something owed)."""
        owed = {self.currency.upper(): self.owed_minor} | dict(self.stray_other)
        return {currency: amount for currency, amount in sorted(owed.items()) if amount > 0}

    def is_order_currency(self, currency: str) -> bool:
        return currency.upper() == self.currency.upper()

    def receive_stray(self, amount_minor: int, currency: str) -> None:
        """Money in another currency that did not pay the order: owed back in that currency (money in the order's
        own currency is added by storage in one statement, see ``OrderRepository.add_stray``)."""
        if amount_minor <= 0 or self.is_order_currency(currency):
            raise self.refused(amount=amount_minor, currency=currency)
        key = currency.upper()
        self.stray_other = {**self.stray_other, key: self.stray_other.get(key, 0) + amount_minor}

    @property
    def stored_id(self) -> int:
        """The id storage gave the order; asking an order that was never stored is a programming error."""
        if self.id is None:
            raise ValueError(f"order {self.code} is not stored yet")
        return self.id

    def snapshot(self) -> dict[str, str | None]:
        """The status dimensions, for the audit log's before/after."""
        return {
            "booking": self.booking.value,
            "payment": self.payment.value,
            "ticket": self.ticket.value,
        }

    def money_snapshot(self) -> dict[str, object]:
        """The amounts a change of price or a refund moves, for the audit log's before/after."""
        return {
            "total_minor": self.total_minor,
            "currency": self.currency,
            "partial_refund_minor": self.partial_refund_minor,
            "stray_minor": self.stray_minor,
            "stray_other": dict(self.stray_other),
            "refunded_minor": self.refunded_minor,
        }

    def refused(self, **data: object) -> InvalidTransition:
        """The error for an action this order's state does not allow, with its status dimensions."""
        return InvalidTransition(
            order=self.id, booking=self.booking.value, payment=self.payment.value, ticket=self.ticket.value, **data
        )

    # ---- placing ---------------------------------------------------------------------------------------------------

    def _require_new(self) -> None:
        if (self.booking, self.payment, self.ticket) != JUST_PLACED:
            raise self.refused()

    def await_organiser(self, now: datetime, confirm_within: timedelta) -> None:
        """Just placed on an event that needs the organiser's confirmation: they answer by ``confirm_by``."""
        self._require_new()
        self.confirm_by = now + confirm_within

    def confirm_instantly(self, now: datetime, pay_within: timedelta, payments_enabled: bool) -> None:
        """Just placed on an event without confirmation: confirmed at once; paid in chat by the pay deadline, or at
        the meeting point."""
        self._require_new()
        self.booking = BookingStatus.CONFIRMED
        if payments_enabled:
            self.payment = PaymentStatus.AWAITING
            self.pay_by = now + pay_within
        else:
            self.payment = PaymentStatus.ON_SITE

    # ---- the organiser answers -------------------------------------------------------------------------------------

    def confirm_by_organiser(self, now: datetime, pay_within: timedelta, payments_enabled: bool) -> None:
        """Confirmed: now the tourist pays in chat by the pay deadline, or at the meeting point."""
        if self.booking is not BookingStatus.AWAITING_ORGANISER:
            raise InvalidTransition(booking=self.booking.value)
        self.booking = BookingStatus.CONFIRMED
        self.unclear_reply = None
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

    def note_unclear_reply(self, text: str) -> None:
        """The organiser answered neither yes nor no: the operator desk shows the answer on the order's card."""
        if self.booking is not BookingStatus.AWAITING_ORGANISER:
            raise InvalidTransition(booking=self.booking.value)
        self.unclear_reply = text

    def mark_organiser_nudged(self, now: datetime) -> None:
        """The silent organiser was reminded (once) of the booking request."""
        if self.booking is not BookingStatus.AWAITING_ORGANISER or self.confirm_nudged_at is not None:
            raise self.refused(nudged=self.confirm_nudged_at is not None)
        self.confirm_nudged_at = now

    # ---- ending ----------------------------------------------------------------------------------------------------

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
        if not self.is_active or booking not in ENDINGS:
            raise self.refused(to=booking.value)
        self.booking = booking
        self.cancelled_at = now
        if self.money_held:
            self.payment = PaymentStatus.REFUND_DUE
        elif self.payment in (PaymentStatus.AWAITING, PaymentStatus.ON_SITE):
            self.payment = PaymentStatus.NOT_DUE
        if self.ticket is TicketStatus.ISSUED:
            self.ticket = TicketStatus.VOIDED

    # ---- money -----------------------------------------------------------------------------------------------------

    def remind_to_pay(self, now: datetime, hold_until: datetime) -> None:
        """Unpaid past the pay deadline: reminded once; the seats stay held until ``hold_until``."""
        if (
            self.booking is not BookingStatus.CONFIRMED
            or self.payment is not PaymentStatus.AWAITING
            or self.pay_reminded_at is not None
        ):
            raise self.refused(reminded=self.pay_reminded_at is not None)
        self.pay_reminded_at = now
        self.hold_until = hold_until

    def pay(self, now: datetime, ticket_code: str) -> None:
        """The money for the order arrived: paid, and its ticket issued with ``ticket_code`` (an order moved to
        another session passes the code it has)."""
        if self.booking is not BookingStatus.CONFIRMED or self.payment is not PaymentStatus.AWAITING:
            raise self.refused()
        self.payment = PaymentStatus.PAID
        self.paid_at = now
        self.ticket = TicketStatus.ISSUED
        self.ticket_code = ticket_code

    def receive_after_end(self) -> None:
        """Money arrived for a booking that is over (expired, cancelled, declined) and had nothing paid: it is due
        back as the order's refund."""
        if self.is_active or self.payment not in NOTHING_PAID:
            raise self.refused()
        self.payment = PaymentStatus.REFUND_DUE

    def refund(self, amount_minor: int | None) -> int:
        """Record ``amount_minor`` (None: everything owed) as returned to the tourist; the amount.

        It pays the stray money first, then the partial refund, then the order's own amount (only while REFUND_DUE);
        what is left stays owed. Amounts are in the order's currency; everything owed (None) also returns the money
        owed in other currencies (:attr:`stray_other`). :class:`NothingOwed` when nothing is owed,
        :class:`InvalidAmount` outside 1..owed.
        """
        owed = self.owed_minor
        if owed <= 0 and not (amount_minor is None and self.stray_other):
            raise NothingOwed(order=self.id)
        if amount_minor is None:
            self.stray_other = {}  # returned in their own currencies
            if owed <= 0:
                return 0
        amount = owed if amount_minor is None else amount_minor
        if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= owed:
            raise InvalidAmount(order=self.id, owed=owed, amount=amount_minor)
        stray = min(amount, self.stray_minor)  # money that never paid the order goes back first
        partial = min(amount - stray, self.partial_refund_minor)
        whole = amount - stray - partial  # of the order's own amount (only while REFUND_DUE: owed says so)
        self.stray_minor -= stray
        self.partial_refund_minor -= partial
        if self.payment is PaymentStatus.REFUND_DUE:
            if whole == self.total_minor:
                self.payment = PaymentStatus.REFUNDED
            elif whole > 0:
                # part of the booking's money returned: the rest stays owed, as a partial refund due
                self.partial_refund_minor += self.total_minor - whole
                self.payment = PaymentStatus.PARTIALLY_REFUNDED
        elif self.money_held and partial:
            self.payment = PaymentStatus.PARTIALLY_REFUNDED  # the booking keeps the rest of the money
        if (
            self.payment is PaymentStatus.PARTIALLY_REFUNDED
            and not self.is_active
            and self.booking not in (BookingStatus.ATTENDED, BookingStatus.NO_SHOW)
            and self.owed_minor == 0
        ):
            self.payment = PaymentStatus.REFUNDED  # the booking is over and everything went back
        self.refunded_minor += amount
        return amount

    # ---- an operator edits it --------------------------------------------------------------------------------------

    def _require_active(self) -> None:
        if not self.is_active:
            raise self.refused()

    def _reprice(self, subtotal_minor: int, total_minor: int) -> int:
        """Set the new price; a paid order's saving becomes owed back (returned). :class:`PaidPriceUp` if a paid order
        would cost more. A code's and points' discount stay off the new price (never below zero)."""
        total_minor = max(total_minor - self.code_discount_minor - self.points_used, 0)
        if self.money_held and total_minor > self.total_minor:
            raise PaidPriceUp(order=self.id, total=self.total_minor, new_total=total_minor)
        saved = self.total_minor - total_minor if self.money_held else 0
        self.subtotal_minor, self.total_minor = subtotal_minor, total_minor
        self.partial_refund_minor += saved
        return saved

    def change_items(self, items: list[OrderItem], subtotal_minor: int, total_minor: int) -> int:
        """New quantities at a new price (see :meth:`change_hotel` for the money); what became owed back."""
        self._require_active()
        saved = self._reprice(subtotal_minor, total_minor)
        self.items = items
        return saved

    def change_hotel(self, hotel_id: int | None, discount_percent: int, subtotal_minor: int, total_minor: int) -> int:
        """Another partner hotel (or none) and the price with its discount: a paid order only gets cheaper (the
        difference becomes owed back, and is returned), :class:`PaidPriceUp` otherwise."""
        self._require_active()
        saved = self._reprice(subtotal_minor, total_minor)
        self.hotel_id = hotel_id
        self.discount_percent = discount_percent
        return saved

    def move_to(self, session_id: int) -> None:
        """Another session of the same event (the caller took its seats); the ticket code stays."""
        self._require_active()
        self.session_id = session_id

    def pay_difference(self, items: list[OrderItem], subtotal_minor: int, total_minor: int, paid_minor: int) -> None:
        """The dearer price of a new date whose difference the tourist has just paid (domain/use_cases/rebooking.py)."""
        if not self.is_active or not self.money_held or paid_minor <= 0 or total_minor - self.total_minor != paid_minor:
            raise self.refused(paid=paid_minor, new_total=total_minor)
        self.items, self.subtotal_minor, self.total_minor = items, subtotal_minor, total_minor

    def reissue_ticket(self, ticket_code: str) -> str:
        """A new code for the issued ticket (the old one no longer admits anyone); returns the old code."""
        old = self.ticket_code
        if self.ticket is not TicketStatus.ISSUED or old is None:
            raise self.refused()
        self.ticket_code = ticket_code
        return old

    # ---- after the session -----------------------------------------------------------------------------------------

    def rate(self, stars: int, now: datetime) -> None:
        """The tourist's 1-5 stars, once, for an order that took place (the caller checks the session started)."""
        check_stars(stars)
        if self.booking not in (BookingStatus.CONFIRMED, BookingStatus.ATTENDED) or self.rating is not None:
            raise self.refused(rated=self.rating is not None)
        self.rating = stars
        self.rated_at = now

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
