"""Payments in chat and the ticket they buy.

Telegram asks twice about money: a pre-checkout query before it charges (answered within 10 seconds: is this order
still payable, for exactly this amount?) and a successful payment after it charged. :func:`check_payable` answers the
first; :func:`record_payment` records the second **once per Telegram charge id**, in one transaction: money for an
order that awaits it pays the order and issues its ticket; any other money (a second payment, one after the booking
expired or was cancelled) is recorded as not applied and is due back, and the operators are told.
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from domain.catalog import SessionStatus
from domain.errors import ConcurrentChange, DomainError, NotFound
from domain.messages import AuditEntry, OutboxKind, order_message
from domain.orders import (
    ACTIVE_BOOKINGS,
    CODE_ALPHABET,
    BookingStatus,
    Order,
    PaymentStatus,
    TicketStatus,
)

if TYPE_CHECKING:
    from domain.ports import UnitOfWork

INVOICE_PAYLOAD_PREFIX = "order:"

# TKT-7KM-4XP-9RA: nine characters of CODE_ALPHABET (24**9, about 41 bits from `secrets`) in groups of three, read
# aloud like the order code; the prefix tells it apart from an order code wherever someone types one.
TICKET_PREFIX = "TKT"
TICKET_GROUPS = 3
TICKET_GROUP_LENGTH = 3
_TICKET_ATTEMPTS = 20
# An order in one of these owes nothing back yet: money for it after its booking ended makes it refund due.
_NOTHING_PAID = frozenset({PaymentStatus.NOT_DUE, PaymentStatus.AWAITING, PaymentStatus.ON_SITE})
_SAVE_ATTEMPTS = 5  # a concurrent change of the same order (another charge) is re-read and decided again


class NotPayable(DomainError):
    """The order cannot take this payment; ``reason`` is one of :data:`REASONS`."""

    code = "not_payable"

    @property
    def reason(self) -> str:
        return str(self.data.get("reason", "unknown"))


# Why money cannot pay an order (pre-checkout refusals and payments that are not applied share the codes).
UNKNOWN = "unknown"  # no such order (or a payload we never wrote)
NOT_YOURS = "not_yours"  # someone else's order (a forwarded invoice)
ALREADY_PAID = "already_paid"
CANCELLED = "cancelled"  # by the tourist, or the session was cancelled
DECLINED = "declined"  # by the organiser
EXPIRED = "expired"  # not paid by the pay deadline
SESSION_STARTED = "session_started"
NOT_DUE = "not_due"  # nothing to pay (yet): awaiting the organiser, or pay at the meeting point
AMOUNT = "amount"  # the amount or currency differs from the order's
REASONS = (UNKNOWN, NOT_YOURS, ALREADY_PAID, CANCELLED, DECLINED, EXPIRED, SESSION_STARTED, NOT_DUE, AMOUNT)


class PaymentResult(enum.StrEnum):
    APPLIED = "applied"  # the order is paid and its ticket issued
    DUPLICATE = "duplicate"  # this charge was recorded before: nothing changed, nothing sent
    NOT_APPLIED = "not_applied"  # recorded, but it did not pay the order: it is due back to the tourist


@dataclass(frozen=True, slots=True)
class Payment:
    """One successful charge Telegram reported; ``applied`` is False for money that did not pay the order."""

    order_id: int
    telegram_charge_id: str
    provider_charge_id: str
    amount_minor: int
    currency: str
    paid_at: datetime
    applied: bool


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    result: PaymentResult
    order: Order | None
    reason: str | None = None  # why it was not applied (one of REASONS)
    payment: Payment | None = None  # for a duplicate: the payment recorded the first time


# ---- the invoice payload -------------------------------------------------------------------------------------------


def invoice_payload(order_id: int) -> str:
    return f"{INVOICE_PAYLOAD_PREFIX}{order_id}"


def parse_invoice_payload(payload: str | None) -> int | None:
    """The order id of a payload :func:`invoice_payload` wrote; None for anything else."""
    if not payload or not payload.startswith(INVOICE_PAYLOAD_PREFIX):
        return None
    digits = payload.removeprefix(INVOICE_PAYLOAD_PREFIX)
    if not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        return None
    order_id = int(digits)
    return order_id if order_id > 0 else None


# ---- the ticket code -----------------------------------------------------------------------------------------------


def new_ticket_code() -> str:
    groups = (
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(TICKET_GROUP_LENGTH)) for _ in range(TICKET_GROUPS)
    )
    return "-".join((TICKET_PREFIX, *groups))


_TICKET_CLEAN = re.compile(r"[\s\-#]")


def normalize_ticket_code(text: str) -> str | None:
    """What a person reads or types (``tkt 7km4xp9ra``, ``7KM-4XP-9RA``) as stored; None if it cannot be one."""
    raw = _TICKET_CLEAN.sub("", text).upper().removeprefix(TICKET_PREFIX)
    if len(raw) != TICKET_GROUPS * TICKET_GROUP_LENGTH or any(c not in CODE_ALPHABET for c in raw):
        return None
    groups = (raw[i : i + TICKET_GROUP_LENGTH] for i in range(0, len(raw), TICKET_GROUP_LENGTH))
    return "-".join((TICKET_PREFIX, *groups))


async def _unique_ticket_code(uow: UnitOfWork) -> str:
    for _ in range(_TICKET_ATTEMPTS):
        code = new_ticket_code()
        if not await uow.orders.ticket_code_exists(code):
            return code
    raise RuntimeError("could not find a free ticket code")  # 24**9 codes: practically never


# ---- is it payable? ------------------------------------------------------------------------------------------------


def _why_not_payable(order: Order, user_id: int) -> str | None:
    """What the order's own state says against a payment from ``user_id`` (no time, no amount)."""
    if order.user_id is None or order.user_id != user_id:
        return NOT_YOURS
    if order.money_held:
        return ALREADY_PAID
    match order.booking:
        case BookingStatus.CANCELLED:
            return CANCELLED
        case BookingStatus.DECLINED:
            return DECLINED
        case BookingStatus.EXPIRED:
            return EXPIRED
        case BookingStatus.ATTENDED | BookingStatus.NO_SHOW:
            return SESSION_STARTED
    if order.booking is not BookingStatus.CONFIRMED or order.payment is not PaymentStatus.AWAITING:
        return NOT_DUE
    return None


def seats_released(order: Order, now: datetime) -> bool:
    """Past the time to pay: the rule the expiry job applies (``domain.deadlines``). Past ``pay_by`` the tourist is
    reminded once and the seats stay held for a grace period (``hold_until``); only after that is the order due to
    expire. Until then the invoice can still be paid."""
    return (
        order.pay_by is not None
        and order.pay_by <= now
        and order.pay_reminded_at is not None
        and order.hold_until <= now
    )


async def check_payable(
    uow: UnitOfWork, order_id: int, user_id: int, total_minor: int, currency: str, now: datetime
) -> None:
    """The pre-checkout check: :class:`NotPayable` with a reason unless ``user_id`` may pay exactly this amount for
    the order now (its seats still held: see :func:`seats_released`; its session not started). Reads only."""
    async with uow:
        order = await uow.orders.get(order_id)
        if order is None:
            raise NotPayable(order=order_id, reason=UNKNOWN)
        if reason := _why_not_payable(order, user_id):
            raise NotPayable(order=order_id, reason=reason)
        session = await uow.catalog.session(order.session_id)
    if session is None or session.status is SessionStatus.CANCELLED:
        raise NotPayable(order=order_id, reason=CANCELLED)
    if session.starts_at <= now:
        raise NotPayable(order=order_id, reason=SESSION_STARTED)
    if seats_released(order, now):
        raise NotPayable(order=order_id, reason=EXPIRED)
    if total_minor != order.total_minor or currency.upper() != order.currency.upper():
        raise NotPayable(order=order_id, reason=AMOUNT)


# ---- the money arrived ---------------------------------------------------------------------------------------------


async def record_payment(
    uow: UnitOfWork,
    order_id: int,
    user_id: int,
    telegram_charge_id: str,
    provider_charge_id: str,
    total_minor: int,
    currency: str,
    now: datetime,
) -> PaymentOutcome:
    """Record a successful payment once per ``telegram_charge_id`` (a repeat is :attr:`PaymentResult.DUPLICATE`:
    nothing changes, nothing is sent).

    Money for an order that still awaits it (its seats held: the deadline was checked at pre-checkout) pays it:
    payment PAID, ticket ISSUED with a new code, a TICKET message to the tourist. Any other money is recorded as not
    applied and is due back: an order without a valid booking any more (expired, cancelled, declined) becomes REFUND
    DUE; otherwise (a second payment, a wrong amount, someone else's) the order keeps its state and the money is
    added to ``stray_minor``. Either way the operator desk shows the order as a late-payment problem. :class:`NotFound` for an unknown order.
    """
    for attempt in range(_SAVE_ATTEMPTS):
        try:
            return await _record_payment_once(
                uow, order_id, user_id, telegram_charge_id, provider_charge_id, total_minor, currency, now
            )
        except ConcurrentChange:
            if attempt == _SAVE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


async def _record_payment_once(
    uow: UnitOfWork,
    order_id: int,
    user_id: int,
    telegram_charge_id: str,
    provider_charge_id: str,
    total_minor: int,
    currency: str,
    now: datetime,
) -> PaymentOutcome:
    async with uow:
        recorded = await uow.payments.by_charge_id(telegram_charge_id)
        if recorded is not None:
            return PaymentOutcome(PaymentResult.DUPLICATE, await uow.orders.get(recorded.order_id), payment=recorded)
        order = await uow.orders.get(order_id)
        if order is None:
            raise NotFound(order=order_id)
        reason = _why_not_payable(order, user_id)
        if reason is None and (total_minor != order.total_minor or currency.upper() != order.currency.upper()):
            reason = AMOUNT
        payment = Payment(
            order_id=order.id,
            telegram_charge_id=telegram_charge_id,
            provider_charge_id=provider_charge_id,
            amount_minor=total_minor,
            currency=currency.upper(),
            paid_at=now,
            applied=reason is None,
        )
        before = order.snapshot()
        stray = 0
        if reason is None:
            order.payment = PaymentStatus.PAID
            order.paid_at = now
            order.ticket = TicketStatus.ISSUED
            if order.ticket_code is None:
                order.ticket_code = await _unique_ticket_code(uow)
        elif order.booking not in ACTIVE_BOOKINGS and order.payment in _NOTHING_PAID and reason != NOT_YOURS:
            order.payment = PaymentStatus.REFUND_DUE  # nothing left to pay for: the money goes back
        else:
            stray = total_minor  # a second payment, or one that did not fit: it goes back too
        # The order first, the payment row second: a racing payment for the same order waits on the order's row and
        # is decided again after our commit (ConcurrentChange); a racing duplicate of this very charge that got past
        # the order waits on the charge id and finds it recorded. (The other order deadlocks on PostgreSQL: the
        # payment's foreign key share-locks the order row both transactions then want to update.) Money due back is
        # added in one statement, so racing second charges queue on the row instead of failing on its version.
        if order.snapshot() != before:
            await uow.orders.save(order)
        elif stray:
            await uow.orders.add_stray(order, stray)
        if not await uow.payments.add(payment):
            # Recorded by a concurrent duplicate meanwhile: roll back and start again, which finds it recorded.
            raise ConcurrentChange(payment=telegram_charge_id)
        actor = f"user:{user_id}"
        money = {"amount_minor": total_minor, "currency": payment.currency, "telegram_charge_id": telegram_charge_id}
        if reason is None:
            if order.user_id is not None:
                await uow.outbox.add(order_message(OutboxKind.TICKET, order.user_id, order.id, now))
            await uow.audit.add(
                AuditEntry(at=now, actor=actor, action="payment.received", order_id=order.id, before=before,
                           after={**order.snapshot(), **money})
            )
            await uow.commit()
            return PaymentOutcome(PaymentResult.APPLIED, order)

        await uow.audit.add(
            AuditEntry(at=now, actor=actor, action="payment.not_applied", order_id=order.id, before=before,
                       after={**order.snapshot(), **money, "reason": reason})
        )
        await uow.commit()
        return PaymentOutcome(PaymentResult.NOT_APPLIED, order, reason=reason)
