"""What an operator does to an order from the desk: confirm or decline for the organiser, remind the tourist, cancel
(with or without the refund), record a refund, replace the ticket, move to another session, change the quantities,
set the partner hotel, add an internal note.

Each use case is one transaction: it re-reads the order, checks the precondition (:class:`InvalidTransition`,
:class:`NotFound`, :class:`SoldOut` or one of the errors below), changes it, writes an audit entry with the actor
(``operator:<id>``) and the status dimensions plus the fields it changed before and after, and tells the tourist
(and the organiser when it concerns them) through the outbox, rendered later in their own language.

Money: Telegram's Bot API cannot refund a card payment. A refund is *recorded* here after the operator returned the
money in the payment provider's dashboard. What is owed back (:func:`owed_minor`) is the whole order's amount while
the payment is REFUND_DUE, plus ``partial_refund_minor`` (the order became cheaper after payment), plus
``stray_minor`` (payments that did not pay the order). A refund of part of it pays the stray money first, then the
partial refund, then the order's own amount; what is left stays owed.
"""

from __future__ import annotations

from datetime import datetime

from domain.errors import HotelOutsideRegion, InvalidNote, NoChange, NotFound, NoTourist, SessionNotBookable
from domain.model.catalog import Event, EventSession, SessionStatus
from domain.model.messages import AuditEntry, OutboxKind, keyed_message
from domain.model.orders import BookingStatus, Order, OrderItem, PaymentStatus, TicketStatus
from domain.model.reminders import DueStatus
from domain.ports import UnitOfWork
from domain.rules.money import Money
from domain.rules.pricing import hotel_discount, quote
from domain.rules.texts import bounded_text, one_line
from domain.use_cases.confirmation import confirm_in_tx, decline_in_tx
from domain.use_cases.deadlines import schedule_order_reminders
from domain.use_cases.payments import unique_ticket_code
from domain.use_cases.support import (
    audit_order,
    get_order,
    load_order,
    reserve_seats,
    tell_organiser_of_change,
    tell_tourist_of_change,
)

NOTE_MAX_LENGTH = 1000
REASON_MAX_LENGTH = 500

# what changed, in ORDER_CHANGED / ORGANISER_ORDER_CHANGED payloads ("change")
CONFIRMED = "confirmed"
DECLINED = "declined"
CANCELLED = "cancelled"
SESSION = "session"
QUANTITIES = "quantities"
HOTEL = "hotel"
TICKET = "ticket"

# what the tourist must do next, in TOURIST_NUDGE payloads ("what")
PAY = "pay"
PAY_ON_SITE = "pay_on_site"
ATTEND = "attend"


# ---- pure rules ------------------------------------------------------------------------------------------------------


def owed_minor(order: Order) -> int:
    """Money owed back to the tourist now (:attr:`Order.owed_minor`)."""
    return order.owed_minor


def session_over(order: Order, session: EventSession, event: Event, now: datetime) -> bool:
    return session.starts_at + event.duration <= now


def can_edit(order: Order, session: EventSession, now: datetime) -> bool:
    """Session, quantities and hotel can change while the order is active and its session has not started."""
    return order.is_active and session.status is SessionStatus.SCHEDULED and session.starts_at > now


def can_cancel(order: Order, session: EventSession, event: Event, now: datetime) -> bool:
    return order.is_active and not session_over(order, session, event, now)


def can_reissue(order: Order) -> bool:
    """What :meth:`Order.reissue_ticket` requires."""
    return order.ticket is TicketStatus.ISSUED and order.ticket_code is not None


def nudge_topic(order: Order, session: EventSession, now: datetime) -> str | None:
    """What the tourist must do next, or None when there is nothing for them to do."""
    if order.booking is not BookingStatus.CONFIRMED or session.status is not SessionStatus.SCHEDULED:
        return None
    if session.starts_at <= now:
        return None
    if order.payment is PaymentStatus.AWAITING:
        return PAY
    if order.payment is PaymentStatus.ON_SITE:
        return PAY_ON_SITE
    if order.money_held:
        return ATTEND
    return None


def clean_note(text: str) -> str:
    """The note as kept: trimmed; :class:`InvalidNote` when empty or too long."""
    return bounded_text(text, NOTE_MAX_LENGTH, InvalidNote)


# ---- plumbing ------------------------------------------------------------------------------------------------------


async def _tell_repriced(uow: UnitOfWork, order: Order, now: datetime, change: str, saved: int, old_total: int) -> None:
    """The tourist hears what changed and what became owed back (``saved``). If the amount changed while they still
    have to pay, the open invoice is refused at pre-checkout (its amount differs), so a new one goes out (its own
    dedup key: the first invoice's key is taken)."""
    repriced = {"change": change, "refund_due_minor": saved, "currency": order.currency}
    await tell_tourist_of_change(uow, OutboxKind.ORDER_CHANGED, order, now, change, **repriced)
    awaiting = order.booking is BookingStatus.CONFIRMED and order.payment is PaymentStatus.AWAITING
    if order.total_minor != old_total and awaiting:
        await tell_tourist_of_change(uow, OutboxKind.INVOICE, order, now, "reissued")


# ---- confirm or decline for the organiser ---------------------------------------------------------------------------


async def confirm_for_organiser(
    uow: UnitOfWork, order_id: int, actor: str, now: datetime, payments_enabled: bool
) -> Order:
    """An operator confirms a booking request for a silent (or unclear) organiser; the organiser is told too."""
    async with uow:
        order, session, _event, organiser = await load_order(uow, order_id)
        if order.booking is not BookingStatus.AWAITING_ORGANISER:
            raise order.refused()
        if session.status is not SessionStatus.SCHEDULED or session.starts_at <= now:
            raise order.refused(reason="session_over")
        before = order.snapshot()
        await confirm_in_tx(uow, order, organiser, now, payments_enabled)
        await tell_organiser_of_change(uow, organiser, order, now, CONFIRMED)
        await audit_order(uow, now, actor, "order.confirmed_for_organiser", order, before)
        await uow.commit()
    return order


async def decline_for_organiser(
    uow: UnitOfWork, order_id: int, actor: str, now: datetime, reason: str | None = None
) -> Order:
    """An operator declines a booking request for the organiser: seats released, the tourist told."""
    reason = one_line(reason, REASON_MAX_LENGTH)
    async with uow:
        order, _session, _event, organiser = await load_order(uow, order_id)
        if order.booking is not BookingStatus.AWAITING_ORGANISER:
            raise order.refused()
        before = order.snapshot()
        await decline_in_tx(uow, order, now, reason)
        await tell_organiser_of_change(uow, organiser, order, now, DECLINED, reason=reason)
        await audit_order(uow, now, actor, "order.declined_for_organiser", order, before, reason=reason)
        await uow.commit()
    return order


# ---- remind the tourist --------------------------------------------------------------------------------------------


async def remind_tourist(uow: UnitOfWork, order_id: int, actor: str, now: datetime) -> Order:
    """A nudge about what the tourist must do next: pay (with a fresh invoice), pay at the meeting point, come."""
    async with uow:
        order, session, _event, _organiser = await load_order(uow, order_id)
        what = nudge_topic(order, session, now)
        if what is None:
            raise order.refused(reason="nothing_to_do")
        if order.user_id is None:
            raise NoTourist(order=order.id)
        stamp = int(now.timestamp() * 1000)
        nudge = {"order_id": order.id, "what": what}
        await uow.outbox.add(keyed_message(OutboxKind.TOURIST_NUDGE, order.user_id, nudge, now, order.id, stamp))
        if what == PAY:
            invoice = {"order_id": order.id}
            await uow.outbox.add(
                keyed_message(OutboxKind.INVOICE, order.user_id, invoice, now, order.id, "nudge", stamp)
            )
        await audit_order(uow, now, actor, "order.tourist_reminded", order, order.snapshot(), what=what)
        await uow.commit()
    return order


# ---- money back ------------------------------------------------------------------------------------------------------


async def _refund_in_tx(
    uow: UnitOfWork, order: Order, actor: str, now: datetime, amount_minor: int | None, tell: bool
) -> int:
    """Record a refund of ``amount_minor`` (None: everything owed) inside the caller's transaction; the amount."""
    before = {**order.snapshot(), **order.money_snapshot()}
    stray_before, other_before = order.stray_minor, dict(order.stray_other)
    amount = order.refund(amount_minor)  # NothingOwed, InvalidAmount
    if (stray_before and order.stray_minor == 0) or order.owed_minor == 0 or (other_before and not order.stray_other):
        # payments that did not pay the order are back with the tourist (a late payment on an expired order is
        # the order's refund due itself: settled when nothing is owed any more)
        await uow.payments.mark_refunded(order.stored_id, now)
    await uow.orders.save(order)
    if tell:
        returned = {order.currency: amount} | {c: a for c, a in other_before.items() if c not in order.stray_other}
        for currency, minor in returned.items():  # one message per currency: money is an amount and a currency
            if minor > 0:
                tag = "refund" if currency == order.currency else f"refund-{currency}"
                refunded = {"amount_minor": minor, "currency": currency}
                await tell_tourist_of_change(uow, OutboxKind.ORDER_REFUNDED, order, now, tag, **refunded)
    await audit_order(
        uow,
        now,
        actor,
        "order.refund_recorded",
        order,
        before,
        **order.money_snapshot(),
        amount_minor=amount,
        owed_minor=order.owed_minor,
    )
    return amount


async def record_refund(
    uow: UnitOfWork, order_id: int, actor: str, now: datetime, amount_minor: int | None = None
) -> Order:
    """The operator returned money in the payment provider's dashboard: record it (everything owed, or an amount
    1..owed), mark stray payments refunded, settle the payment status; the tourist is told."""
    async with uow:
        order = await get_order(uow, order_id)
        await _refund_in_tx(uow, order, actor, now, amount_minor, tell=True)
        await uow.commit()
    return order


# ---- cancel --------------------------------------------------------------------------------------------------------


async def cancel_order(
    uow: UnitOfWork, order_id: int, actor: str, now: datetime, refund: bool, reason: str | None = None
) -> Order:
    """An operator cancels an active order before its session ends: seats released, money held becomes refund due
    (and with ``refund`` the refund is recorded at once), the tourist and the organiser told."""
    reason = one_line(reason, REASON_MAX_LENGTH)
    async with uow:
        order, session, event, organiser = await load_order(uow, order_id)
        if not can_cancel(order, session, event, now):
            raise order.refused()
        before = {**order.snapshot(), **order.money_snapshot()}
        knew = order.booking is BookingStatus.CONFIRMED or event.needs_confirmation
        order.end(BookingStatus.CANCELLED, now)
        await uow.seats.release(order.session_id, order.seats)
        await uow.orders.save(order)
        await audit_order(uow, now, actor, "order.cancelled_by_operator", order, before, reason=reason, refund=refund)
        refunded = 0
        if refund and order.owed_back():
            refunded = await _refund_in_tx(uow, order, actor, now, None, tell=False)
        await tell_tourist_of_change(
            uow,
            OutboxKind.ORDER_CHANGED,
            order,
            now,
            CANCELLED,
            change=CANCELLED,
            reason=reason,
            refunded_minor=refunded,
            currency=order.currency,
        )
        if knew:
            await tell_organiser_of_change(uow, organiser, order, now, CANCELLED, reason=reason)
        await uow.commit()
    return order


# ---- the ticket ------------------------------------------------------------------------------------------------------


async def reissue_ticket(uow: UnitOfWork, order_id: int, actor: str, now: datetime) -> Order:
    """A new ticket code (the old one no longer admits anyone), sent to the tourist with its QR."""
    async with uow:
        order = await get_order(uow, order_id)
        if not can_reissue(order):
            raise order.refused()
        before = {**order.snapshot(), "ticket_code": order.ticket_code}
        old = order.reissue_ticket(await unique_ticket_code(uow))
        await uow.orders.save(order)
        await tell_tourist_of_change(
            uow, OutboxKind.ORDER_CHANGED, order, now, TICKET, change=TICKET, old_ticket_code=old
        )
        await tell_tourist_of_change(uow, OutboxKind.TICKET, order, now, "reissued")
        await audit_order(uow, now, actor, "order.ticket_reissued", order, before, ticket_code=order.ticket_code)
        await uow.commit()
    return order


# ---- another session -------------------------------------------------------------------------------------------------


async def move_in_tx(uow: UnitOfWork, order: Order, session: EventSession, target: EventSession, now: datetime) -> None:
    """Move ``order`` from ``session`` to ``target`` inside the caller's transaction (the operator's move and the
    tourist's own date change): seats taken on the target first (:class:`SoldOut` otherwise), then given back on
    the old one; the order saved; the old time's pending reminders skipped, the new time's scheduled."""
    await reserve_seats(uow, target.id, order.seats)
    await uow.seats.release(session.id, order.seats)
    order.move_to(target.id)
    await uow.orders.save(order)
    for reminder in await uow.reminders.for_order(order.stored_id):
        if reminder.status is DueStatus.PENDING and reminder.session_id == session.id:
            await uow.reminders.close(reminder.stored_id, DueStatus.SKIPPED, now)
    if order.booking is BookingStatus.CONFIRMED:
        await schedule_order_reminders(uow, order, now)


async def change_session(uow: UnitOfWork, order_id: int, session_id: int, actor: str, now: datetime) -> Order:
    """Move the order to another upcoming session of the same event: seats taken there first (:class:`SoldOut`
    otherwise), then released on the old one; the ticket code stays; reminders follow the new time."""
    async with uow:
        order, session, _event, organiser = await load_order(uow, order_id)
        if not can_edit(order, session, now):
            raise order.refused()
        if session_id == order.session_id:
            raise NoChange(order=order.id, session=session_id)
        target = await uow.catalog.session(session_id)
        if target is None or target.event_id != order.event_id:
            raise NotFound(session=session_id)
        if not target.bookable(now):
            raise SessionNotBookable(session=session_id)
        before = {**order.snapshot(), "session_id": session.id, "starts_at": session.starts_at.isoformat()}
        await move_in_tx(uow, order, session, target, now)
        await tell_tourist_of_change(
            uow, OutboxKind.ORDER_CHANGED, order, now, SESSION, change=SESSION, from_session_id=session.id
        )
        await tell_organiser_of_change(uow, organiser, order, now, SESSION, from_session_id=session.id)
        await audit_order(
            uow,
            now,
            actor,
            "order.session_changed",
            order,
            before,
            session_id=target.id,
            starts_at=target.starts_at.isoformat(),
        )
        await uow.commit()
    return order


# ---- quantities and the hotel: re-priced -----------------------------------------------------------------------------


def _priced(items: list[OrderItem], discount_percent: int, currency: str) -> tuple[int, int]:
    subtotal = sum(item.total_minor for item in items)
    return subtotal, Money(subtotal, currency).percent_off(discount_percent).amount_minor


def requote(event: Event, order: Order, quantities: dict[str, int]) -> tuple[list[OrderItem], int, int]:
    """New items, subtotal and total for ``quantities`` with the order's discount; ticket types the order has keep
    the price they were booked at. :class:`InvalidQuantity` for unknown types, negatives, none or too many."""
    priced = quote(event, quantities, order.discount_percent)
    booked = {item.ticket_type: item.unit_price_minor for item in order.items}
    items = [OrderItem(i.ticket_type, i.quantity, booked.get(i.ticket_type, i.unit_price_minor)) for i in priced.items]
    subtotal, total = _priced(items, order.discount_percent, order.currency)
    return items, subtotal, total


async def change_quantities(
    uow: UnitOfWork, order_id: int, quantities: dict[str, int], actor: str, now: datetime
) -> Order:
    """New quantities per ticket type, re-priced with the order's discount (its ticket types keep the price they
    were booked at); seats taken or released by the difference; a paid order may only get cheaper (the difference
    becomes owed back)."""
    async with uow:
        order, session, event, organiser = await load_order(uow, order_id)
        if not can_edit(order, session, now):
            raise order.refused()
        items, subtotal, total = requote(event, order, quantities)  # InvalidQuantity for bad input
        old = {item.ticket_type: item.quantity for item in order.items}
        if {item.ticket_type: item.quantity for item in items} == old:
            raise NoChange(order=order.id)
        before = {**order.snapshot(), "items": old, **order.money_snapshot()}
        delta = sum(item.quantity for item in items) - order.seats
        old_total = order.total_minor
        saved = order.change_items(items, subtotal, total)  # PaidPriceUp
        if delta > 0:
            await reserve_seats(uow, session.id, delta)
        if delta < 0:
            await uow.seats.release(session.id, -delta)
        await uow.orders.replace_items(order)
        await uow.orders.save(order)
        await _tell_repriced(uow, order, now, QUANTITIES, saved, old_total)
        await tell_organiser_of_change(uow, organiser, order, now, QUANTITIES)
        await audit_order(
            uow,
            now,
            actor,
            "order.quantities_changed",
            order,
            before,
            items={item.ticket_type: item.quantity for item in items},
            **order.money_snapshot(),
        )
        await uow.commit()
    return order


async def set_hotel(uow: UnitOfWork, order_id: int, hotel_id: int | None, actor: str, now: datetime) -> Order:
    """The tourist's partner hotel (or none): re-priced with its discount. A paid order only gets cheaper (the
    difference becomes owed back); an unpaid one gets the new price and, if it awaits payment, a fresh invoice."""
    async with uow:
        order, session, event, _organiser = await load_order(uow, order_id)
        if not can_edit(order, session, now):
            raise order.refused()
        hotel = None
        if hotel_id is not None:
            hotel = await uow.catalog.hotel(hotel_id)
            if hotel is None:
                raise NotFound(hotel=hotel_id)
            if hotel.region_id != event.region_id:
                raise HotelOutsideRegion(hotel=hotel_id, region=event.region_id)
        if hotel_id == order.hotel_id:
            raise NoChange(order=order.id, hotel=hotel_id)
        discount = hotel_discount(hotel, event)
        subtotal, total = _priced(order.items, discount, order.currency)
        before = {
            **order.snapshot(),
            "hotel_id": order.hotel_id,
            "discount_percent": order.discount_percent,
            **order.money_snapshot(),
        }
        old_total = order.total_minor
        saved = order.change_hotel(hotel_id, discount, subtotal, total)  # PaidPriceUp
        await uow.orders.save(order)
        await _tell_repriced(uow, order, now, HOTEL, saved, old_total)
        await audit_order(
            uow,
            now,
            actor,
            "order.hotel_set",
            order,
            before,
            hotel_id=hotel_id,
            discount_percent=discount,
            **order.money_snapshot(),
        )
        await uow.commit()
    return order


# ---- the internal note -----------------------------------------------------------------------------------------------


async def add_note(uow: UnitOfWork, order_id: int, actor: str, text: str, now: datetime) -> None:
    """An internal note on the order: in the audit log only, never told to anyone."""
    note = clean_note(text)
    async with uow:
        order = await get_order(uow, order_id)
        await uow.audit.add(
            AuditEntry(at=now, actor=actor, action="order.note", order_id=order.id, after={"note": note})
        )
        await uow.commit()
