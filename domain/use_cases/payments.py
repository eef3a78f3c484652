"""Payments in chat and the ticket they buy.

Telegram asks twice about money: a pre-checkout query before it charges (answered within 10 seconds: is this order
still payable, for exactly this amount?) and a successful payment after it charged. :func:`check_payable` answers the
first; :func:`record_payment` records the second **once per Telegram charge id**, in one transaction: money for an
order that awaits it pays the order and issues its ticket; any other money (a second payment, one after the booking
expired or was cancelled) is recorded as not applied and is due back, and the operators are told. Money is an amount
and a currency: money in another currency than the order's is owed back in its own currency. Every payment records
who paid. Money for an order we cannot find (:func:`record_unmatched_payment`) is recorded too and opens a problem
card of its own, with the charge ids and the payer.
"""

from __future__ import annotations

from datetime import datetime

from domain.errors import ConcurrentChange, NotPayable
from domain.model.catalog import SessionStatus
from domain.model.desk import DeskSettings, payment_subject
from domain.model.messages import AuditEntry, OutboxKind
from domain.model.orders import ACTIVE_BOOKINGS, NOTHING_PAID, BookingStatus, Order, PaymentStatus
from domain.model.payments import (
    ALREADY_PAID,
    AMOUNT,
    CANCELLED,
    DECLINED,
    EXPIRED,
    NOT_DUE,
    NOT_YOURS,
    SESSION_STARTED,
    UNKNOWN,
    Payer,
    Payment,
    PaymentOutcome,
    PaymentResult,
    new_ticket_code,
)
from domain.ports import UnitOfWork
from domain.rules.problems import ProblemKind
from domain.use_cases.desk import open_card_for
from domain.use_cases.places import tell_ticket_extras
from domain.use_cases.support import audit_order, get_order, retry_concurrent, tell_tourist

_TICKET_ATTEMPTS = 20
_SAVE_ATTEMPTS = 5  # a concurrent change of the same order (another charge) is re-read and decided again


# ---- the ticket code -----------------------------------------------------------------------------------------------


async def unique_ticket_code(uow: UnitOfWork) -> str:
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


def _amount_differs(order: Order, total_minor: int, currency: str) -> bool:
    """Not exactly the order's amount (the currency compared without regard to case)."""
    return total_minor != order.total_minor or currency.upper() != order.currency.upper()


def seats_released(order: Order, now: datetime) -> bool:
    """Past the time to pay: the rule the expiry job applies (:mod:`domain.use_cases.deadlines`). Past ``pay_by``
    the tourist is reminded once and the seats stay held for a grace period (``hold_until``); only after that is the
    order due to expire. Until then the invoice can still be paid."""
    return (
        order.pay_by is not None
        and order.pay_by <= now
        and order.pay_reminded_at is not None
        and order.hold_until <= now
    )


async def check_payable(
    uow: UnitOfWork,
    order_id: int,
    user_id: int,
    total_minor: int,
    currency: str,
    now: datetime,
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
    if _amount_differs(order, total_minor, currency):
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
    payer_name: str | None = None,
) -> PaymentOutcome:
    """Record a successful payment once per ``telegram_charge_id`` (a repeat is :attr:`PaymentResult.DUPLICATE`:
    nothing changes, nothing is sent).

    Money for an order that still awaits it (its seats held: the deadline was checked at pre-checkout) pays it:
    payment PAID, ticket ISSUED with a new code, a TICKET message to the tourist. Any other money is recorded as not
    applied and is due back: an order without a valid booking any more (expired, cancelled, declined) becomes REFUND
    DUE; otherwise (a second payment, a wrong amount, someone else's) the order keeps its state and the money is
    added to what is owed back in the payment's currency (``stray_minor`` in the order's, ``stray_other`` in any
    other). Either way the operator desk shows the order as a late-payment problem. The payment records its payer
    (``user_id``, ``payer_name``). :class:`NotFound` for an unknown order.
    """

    async def once() -> PaymentOutcome:
        async with uow:
            recorded = await uow.payments.by_charge_id(telegram_charge_id)
            if recorded is not None:
                order = await uow.orders.get(recorded.order_id) if recorded.order_id is not None else None
                return PaymentOutcome(PaymentResult.DUPLICATE, order, payment=recorded)
            order = await get_order(uow, order_id)
            reason = _why_not_payable(order, user_id)
            if reason is None and _amount_differs(order, total_minor, currency):
                reason = AMOUNT
            payment = Payment(
                order_id=order.stored_id,
                telegram_charge_id=telegram_charge_id,
                provider_charge_id=provider_charge_id,
                amount_minor=total_minor,
                currency=currency.upper(),
                paid_at=now,
                applied=reason is None,
                payer_id=user_id,
                payer_name=payer_name,
            )
            before = order.snapshot()
            stray = 0
            if reason is None:
                order.pay(now, order.ticket_code or await unique_ticket_code(uow))
            elif (
                order.booking not in ACTIVE_BOOKINGS
                and order.payment in NOTHING_PAID
                and reason != NOT_YOURS
                and not _amount_differs(order, total_minor, currency)
            ):
                order.receive_after_end()  # nothing left to pay for: the money goes back
            elif not order.is_order_currency(currency):
                order.receive_stray(total_minor, currency)  # owed back in its own currency, never converted
            else:
                stray = total_minor  # a second payment, or one that did not fit: it goes back too
            # The order first, the payment row second: a racing payment for the same order waits on the order's row
            # and is decided again after our commit (ConcurrentChange); a racing duplicate of this very charge that
            # got past the order waits on the charge id and finds it recorded. (The other order deadlocks on
            # PostgreSQL: the payment's foreign key share-locks the order row both transactions then want to
            # update.) Money due back is added in one statement, so racing second charges queue on the row instead
            # of failing on its version.
            if order.snapshot() != before or not order.is_order_currency(currency):
                await uow.orders.save(order)
            elif stray:
                await uow.orders.add_stray(order, stray)
            if not await uow.payments.add(payment):
                # Recorded by a concurrent duplicate meanwhile: roll back and start again, which finds it recorded.
                raise ConcurrentChange(payment=telegram_charge_id)
            actor = f"user:{user_id}"
            money = {
                "amount_minor": total_minor,
                "currency": payment.currency,
                "telegram_charge_id": telegram_charge_id,
                "payer_id": user_id,
                "payer_name": payer_name,
            }
            if reason is None:
                await tell_tourist(uow, OutboxKind.TICKET, order, now)
                await tell_ticket_extras(uow, order, now)  # the map pin and the .ics after it
                await audit_order(uow, now, actor, "payment.received", order, before, **money)
                await uow.commit()
                return PaymentOutcome(PaymentResult.APPLIED, order)

            await audit_order(uow, now, actor, "payment.not_applied", order, before, **money, reason=reason)
            await uow.commit()
            return PaymentOutcome(PaymentResult.NOT_APPLIED, order, reason=reason)

    return await retry_concurrent(_SAVE_ATTEMPTS, once)


async def record_unmatched_payment(
    uow: UnitOfWork,
    payer: Payer,
    telegram_charge_id: str,
    provider_charge_id: str,
    total_minor: int,
    currency: str,
    payload: str | None,
    now: datetime,
    settings: DeskSettings,
) -> PaymentOutcome:
    """Money for an order we cannot find (an unknown or foreign invoice payload): recorded once per charge, without an
    order, and a problem card opened for it in the same transaction (the charge ids and the payer on it), so that an
    operator returns it. A repeat of the charge is :attr:`PaymentResult.DUPLICATE` and changes nothing."""

    async def once() -> PaymentOutcome:
        async with uow:
            recorded = await uow.payments.by_charge_id(telegram_charge_id)
            if recorded is not None:
                return PaymentOutcome(PaymentResult.DUPLICATE, None, payment=recorded)
            payment = Payment(
                order_id=None,
                telegram_charge_id=telegram_charge_id,
                provider_charge_id=provider_charge_id,
                amount_minor=total_minor,
                currency=currency.upper(),
                paid_at=now,
                applied=False,
                payer_id=payer.id,
                payer_name=payer.name,
            )
            if not await uow.payments.add(payment):
                raise ConcurrentChange(payment=telegram_charge_id)  # a concurrent duplicate: find it recorded
            subject = payment_subject(telegram_charge_id)
            await open_card_for(uow, subject, [ProblemKind.UNMATCHED_PAYMENT], settings, now, user_id=payer.id)
            await uow.audit.add(
                AuditEntry(
                    at=now,
                    actor=f"user:{payer.id}",
                    action="payment.unmatched",
                    order_id=None,
                    before={},
                    after={
                        "amount_minor": total_minor,
                        "currency": payment.currency,
                        "telegram_charge_id": telegram_charge_id,
                        "provider_charge_id": provider_charge_id,
                        "payer_id": payer.id,
                        "payer_name": payer.name,
                        "payload": (payload or "")[:128],
                    },
                )
            )
            await uow.commit()
            return PaymentOutcome(PaymentResult.NOT_APPLIED, None, reason=UNKNOWN, payment=payment)

    return await retry_concurrent(_SAVE_ATTEMPTS, once)
