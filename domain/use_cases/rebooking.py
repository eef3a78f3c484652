"""Rebooking by oneself: the tourist moves their own order to another date of the same event (the rules are in
:mod:`domain.rules.rebooking`).

:func:`rebooking_dates` and :func:`quote_rebooking` only read (the screens). :func:`rebook_order` is one transaction:
it re-reads and re-checks everything, then either moves the order at once with the operator's move
(:func:`domain.use_cases.order_changes.move_in_tx`: seats taken on the new session before they are given back on
the old one; the ticket code stays; reminders follow the new time), or — a paid order that becomes dearer — only
asks for the difference (an invoice through the outbox) and changes nothing. :func:`check_difference_payable` is
that invoice's pre-checkout check; :func:`pay_difference` records its payment once per charge and moves the order
in the same transaction, or, when the date can no longer be had, keeps the money as due back (the operators' desk
shows it) and moves nothing. The organiser is told of every move, in their language, through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import (
    ConcurrentChange,
    DomainError,
    InvalidTransition,
    NoChange,
    NotAllowed,
    NotFound,
    NotPayable,
    SessionNotBookable,
    SoldOut,
)
from domain.model.catalog import Event, EventSession, Organiser, Region
from domain.model.messages import TOURIST, OutboxKind, keyed_message
from domain.model.orders import BookingStatus, Order, OrderItem, PaymentStatus, TicketStatus
from domain.model.payments import (
    AMOUNT,
    CANCELLED,
    NOT_YOURS,
    Payment,
    PaymentOutcome,
    PaymentResult,
)
from domain.ports import UnitOfWork
from domain.rules.rebooking import (
    DATE_GONE,
    NOT_ACTIVE,
    PRICE_CHANGED,
    TOO_LATE,
    MoneyChange,
    check_order,
    check_target,
    fits,
    money_change,
    reprice,
)
from domain.use_cases.order_changes import move_in_tx
from domain.use_cases.support import audit_order, load_order, retry_concurrent, tell_tourist_of_change

DATES_SHOWN = 8  # other dates offered at most (the soonest that fit)
_LOOKAHEAD = 40  # upcoming sessions read to find them
_SAVE_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class RebookOrder:
    user_id: int
    order_id: int
    session_id: int
    seen_total_minor: int  # the new total the summary showed: another one now is refused (PriceChanged)


class PriceChanged(DomainError):
    """The price of the new date is not what the tourist saw on the summary (the catalog changed meanwhile)."""

    code = "rebook_price_changed"


@dataclass(frozen=True, slots=True)
class RebookDates:
    """The order, where it is now, and the other dates it may move to (soonest first)."""

    order: Order
    event: Event
    region: Region
    session: EventSession
    dates: list[EventSession]


@dataclass(frozen=True, slots=True)
class RebookQuote:
    """The order, its session now, the new one, and the order's tickets and total on the new date."""

    order: Order
    event: Event
    region: Region
    organiser: Organiser
    session: EventSession
    target: EventSession
    items: list[OrderItem]
    subtotal_minor: int
    priced_minor: int  # the tickets after the hotel discount (what ``Order.change_items`` takes)
    total_minor: int  # the order's total on the new date

    @property
    def difference_minor(self) -> int:
        """What the new date costs more (positive) or less (negative) than the order now."""
        return self.total_minor - self.order.total_minor

    @property
    def money(self) -> MoneyChange:
        return money_change(self.order, self.total_minor)


@dataclass(frozen=True, slots=True)
class Rebooked:
    """What :func:`rebook_order` did: ``moved`` (False: an invoice for the difference went out, nothing moved yet)."""

    quote: RebookQuote  # as it was decided (its order is the order as it is now)
    money: MoneyChange
    difference_minor: int
    moved: bool
    new_invoice: bool = False  # an unpaid order's price changed: its new invoice follows

    @property
    def order(self) -> Order:
        return self.quote.order


# ---- reads -----------------------------------------------------------------------------------------------------------


async def _own(uow: UnitOfWork, user_id: int, order_id: int) -> tuple[Order, EventSession, Event, Organiser, Region]:
    """The user's own order with what it is about; :class:`NotAllowed` for anyone else's, a forged or a gone one."""
    try:
        order, session, event, organiser = await load_order(uow, order_id)
    except NotFound:
        raise NotAllowed(order=order_id) from None
    region = await uow.catalog.region(event.region_id)
    if order.user_id is None or order.user_id != user_id or region is None:
        raise NotAllowed(order=order_id)
    return order, session, event, organiser, region


async def _quote(uow: UnitOfWork, user_id: int, order_id: int, session_id: int, now: datetime) -> RebookQuote:
    order, session, event, organiser, region = await _own(uow, user_id, order_id)
    cutoff = (await uow.organiser_settings.extras(organiser.id)).booking_cutoff
    check_order(order, session, cutoff, now)
    target = await uow.catalog.session(session_id)
    if target is None:
        raise NotFound(session=session_id)
    check_target(order, target, cutoff, now)
    items, subtotal, priced, total = reprice(event, order)
    return RebookQuote(order, event, region, organiser, session, target, items, subtotal, priced, total)


async def rebooking_dates(uow: UnitOfWork, user_id: int, order_id: int, now: datetime) -> RebookDates:
    """The order and the other dates it may move to now (soonest first, at most :data:`DATES_SHOWN`).
    :class:`NotAllowed` for someone else's (or no) order, :class:`InvalidTransition` when it cannot be moved
    (``reason``)."""
    async with uow.read():
        order, session, event, organiser, region = await _own(uow, user_id, order_id)
        cutoff = (await uow.organiser_settings.extras(organiser.id)).booking_cutoff
        check_order(order, session, cutoff, now)
        upcoming = await uow.catalog.upcoming_sessions(order.event_id, now, _LOOKAHEAD)
    dates = [s for s in upcoming if fits(order, s, cutoff, now)][:DATES_SHOWN]
    return RebookDates(order, event, region, session, dates)


async def quote_rebooking(uow: UnitOfWork, user_id: int, order_id: int, session_id: int, now: datetime) -> RebookQuote:
    """The summary of moving the order to ``session_id``, checked as :func:`rebook_order` checks it."""
    async with uow.read():
        return await _quote(uow, user_id, order_id, session_id, now)


# ---- the change ------------------------------------------------------------------------------------------------------


async def _tell_organiser(uow: UnitOfWork, quote: RebookQuote, now: datetime) -> None:
    order = quote.order
    payload = {"order_id": order.id, "from_session_id": quote.session.id}
    chat = quote.organiser.chat_id
    await uow.outbox.add(keyed_message(OutboxKind.ORGANISER_REBOOKED, chat, payload, now, order.id, order.version))


async def _moved(uow: UnitOfWork, quote: RebookQuote, now: datetime, **audit: object) -> None:
    """After the move: the organiser told, a fresh ticket for the new date (same code), the audit entry."""
    order = quote.order
    await _tell_organiser(uow, quote, now)
    if order.ticket is TicketStatus.ISSUED:
        await tell_tourist_of_change(uow, OutboxKind.TICKET, order, now, "rebooked")
    await audit_order(
        uow,
        now,
        TOURIST,
        "order.rebooked_by_tourist",
        order,
        {**order.snapshot(), "session_id": quote.session.id, "starts_at": quote.session.starts_at.isoformat()},
        session_id=quote.target.id,
        starts_at=quote.target.starts_at.isoformat(),
        **order.money_snapshot(),
        **audit,
    )


async def rebook_order(uow: UnitOfWork, cmd: RebookOrder, now: datetime) -> Rebooked:
    """The tourist confirmed the summary: move the order now, or (paid, dearer) send the invoice for the difference.
    :class:`PriceChanged` when the price is not the one they saw; the refusals of :func:`quote_rebooking`;
    :class:`SoldOut` when the last seats went meanwhile; :class:`ConcurrentChange` when the order changed."""
    async with uow:
        quote = await _quote(uow, cmd.user_id, cmd.order_id, cmd.session_id, now)
        order, money, difference = quote.order, quote.money, quote.difference_minor
        if quote.total_minor != cmd.seen_total_minor:
            raise PriceChanged(order=order.id, total=quote.total_minor, seen=cmd.seen_total_minor)
        if money is MoneyChange.PAY_FIRST:
            payload = {"order_id": order.id, "session_id": quote.target.id}
            key = (order.id, quote.target.id, order.version, quote.total_minor)
            await uow.outbox.add(keyed_message(OutboxKind.REBOOK_INVOICE, cmd.user_id, payload, now, *key))
            await audit_order(
                uow,
                now,
                TOURIST,
                "order.rebook_invoiced",
                order,
                order.snapshot(),
                session_id=quote.target.id,
                difference_minor=difference,
            )
            await uow.commit()
            return Rebooked(quote, money, difference, moved=False)
        old_total = order.total_minor
        if (quote.items, quote.total_minor) != (order.items, old_total):
            order.change_items(quote.items, quote.subtotal_minor, quote.priced_minor)  # cheaper and paid: owed back
            await uow.orders.replace_items(order)
        await move_in_tx(uow, order, quote.session, quote.target, now)
        new_invoice = (
            order.total_minor != old_total
            and order.booking is BookingStatus.CONFIRMED
            and order.payment is PaymentStatus.AWAITING
        )
        if new_invoice:  # the open invoice's amount is refused at pre-checkout now: a new one (its own key)
            await tell_tourist_of_change(uow, OutboxKind.INVOICE, order, now, "rebooked")
        await _moved(uow, quote, now, difference_minor=difference)
        await uow.commit()
    return Rebooked(quote, money, difference, moved=True, new_invoice=new_invoice)


# ---- paying the difference ------------------------------------------------------------------------------------------


def _refusal(error: DomainError) -> str:
    """The pre-checkout reason for a refusal of :func:`_quote`."""
    if isinstance(error, NotAllowed):
        return NOT_YOURS
    if isinstance(error, InvalidTransition):
        return CANCELLED if error.data.get("reason") == NOT_ACTIVE else TOO_LATE
    return DATE_GONE  # NoChange, NotFound, SessionNotBookable, SoldOut


_QUOTE_REFUSALS = (NotAllowed, InvalidTransition, NoChange, NotFound, SessionNotBookable, SoldOut)


def _difference_refusal(quote: RebookQuote, total_minor: int, currency: str) -> str | None:
    if currency.upper() != quote.order.currency.upper():
        return AMOUNT
    if quote.money is not MoneyChange.PAY_FIRST or quote.difference_minor != total_minor:
        return PRICE_CHANGED
    return None


async def check_difference_payable(
    uow: UnitOfWork, order_id: int, session_id: int, user_id: int, total_minor: int, currency: str, now: datetime
) -> None:
    """The pre-checkout check of the difference's invoice: :class:`NotPayable` with a reason unless ``user_id`` may
    pay exactly this amount now to move the order to the session (it still fits them). Reads only."""
    try:
        quote = await quote_rebooking(uow, user_id, order_id, session_id, now)
    except _QUOTE_REFUSALS as error:
        raise NotPayable(order=order_id, reason=_refusal(error)) from None
    if reason := _difference_refusal(quote, total_minor, currency):
        raise NotPayable(order=order_id, reason=reason)


async def pay_difference(
    uow: UnitOfWork,
    order_id: int,
    session_id: int,
    user_id: int,
    telegram_charge_id: str,
    provider_charge_id: str,
    total_minor: int,
    currency: str,
    now: datetime,
    payer_name: str | None = None,
) -> PaymentOutcome:
    """The difference arrived: recorded once per ``telegram_charge_id`` (a repeat is DUPLICATE, nothing changes).
    If the date can still be had for exactly this amount, the order moves and takes the new price in the same
    transaction (APPLIED). Otherwise (the last seats went between the pre-checkout and the charge, say) nothing
    moves and the money is due back (NOT_APPLIED, with the reason): the desk shows it. :class:`NotFound` when the
    order does not exist (the caller records it as money for no order)."""

    def payment(applied: bool) -> Payment:
        return Payment(
            order_id=order_id,
            telegram_charge_id=telegram_charge_id,
            provider_charge_id=provider_charge_id,
            amount_minor=total_minor,
            currency=currency.upper(),
            paid_at=now,
            applied=applied,
            payer_id=user_id,
            payer_name=payer_name,
        )

    money = {"amount_minor": total_minor, "currency": currency.upper(), "telegram_charge_id": telegram_charge_id}

    async def once() -> PaymentOutcome:
        async with uow:
            recorded = await uow.payments.by_charge_id(telegram_charge_id)
            if recorded is not None:
                order = await uow.orders.get(order_id)
                return PaymentOutcome(PaymentResult.DUPLICATE, order, payment=recorded)
            if await uow.orders.get(order_id) is None:
                raise NotFound(order=order_id)
            reason: str | None
            try:
                quote = await _quote(uow, user_id, order_id, session_id, now)
                reason = _difference_refusal(quote, total_minor, currency)
                if reason is None:
                    order = quote.order
                    order.pay_difference(quote.items, quote.subtotal_minor, quote.total_minor, total_minor)
                    await move_in_tx(uow, order, quote.session, quote.target, now)  # seats first: SoldOut
                    await uow.orders.replace_items(order)
                    if not await uow.payments.add(payment(True)):
                        raise ConcurrentChange(payment=telegram_charge_id)
                    await _moved(uow, quote, now, difference_minor=total_minor, telegram_charge_id=telegram_charge_id)
                    await uow.commit()
                    return PaymentOutcome(PaymentResult.APPLIED, order)
            except _QUOTE_REFUSALS as error:
                reason = _refusal(error)  # nothing was written: the seats' UPDATE is the first write
            order = await uow.orders.get(order_id)
            if order is None:
                raise NotFound(order=order_id)
            before = order.snapshot()
            if order.is_order_currency(currency):
                await uow.orders.add_stray(order, total_minor)  # due back: the desk shows it
            else:
                order.receive_stray(total_minor, currency)
                await uow.orders.save(order)
            if not await uow.payments.add(payment(False)):
                raise ConcurrentChange(payment=telegram_charge_id)
            await audit_order(uow, now, f"user:{user_id}", "payment.not_applied", order, before, **money, reason=reason)
            await uow.commit()
            return PaymentOutcome(PaymentResult.NOT_APPLIED, order, reason=reason)

    return await retry_concurrent(_SAVE_ATTEMPTS, once)
