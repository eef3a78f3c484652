"""Use cases of booking: place an order (seats taken atomically) and cancel it.

Each use case is one transaction: it checks, changes, writes outbox rows and an audit entry, then commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import (
    SALES_STOPPED,
    ConcurrentChange,
    DomainError,
    InvalidAnswer,
    InvalidTransition,
    NotAllowed,
    NotFound,
    SessionNotBookable,
)
from domain.model.catalog import Organiser, Question, QuestionKind
from domain.model.messages import TOURIST, OutboxKind
from domain.model.orders import BookingStatus, Order, PaymentStatus, new_order_code
from domain.model.users import User
from domain.ports import UnitOfWork
from domain.rules.pricing import hotel_discount, quote
from domain.use_cases.deadlines import schedule_order_reminders
from domain.use_cases.points import checkout_in_tx, record_checkout_in_tx
from domain.use_cases.support import (
    audit_order,
    event_of,
    organiser_of,
    reserve_seats,
    session_of,
    tell_organiser,
    tell_tourist,
)

_CODE_ATTEMPTS = 20


def check_answer(question: Question, raw: str) -> str:
    """The cleaned answer to a booking question, or :class:`InvalidAnswer` with a ``reason`` code."""
    text = " ".join(raw.split())
    if not text and not question.required:
        return ""
    if question.kind is QuestionKind.CHOICE:
        if text not in {choice.id for choice in question.choices}:
            raise InvalidAnswer(question=question.id, reason="unknown_choice")
        return text
    if not text:
        raise InvalidAnswer(question=question.id, reason="empty")
    if len(text) > question.max_length:
        raise InvalidAnswer(question=question.id, reason="too_long", limit=question.max_length)
    return text


def check_answers(organiser: Organiser, answers: Mapping[str, str]) -> dict[str, str]:
    known = {q.id for q in organiser.questions}
    if unknown := set(answers) - known:
        raise InvalidAnswer(question=sorted(unknown)[0], reason="unknown_question")
    return {q.id: check_answer(q, answers.get(q.id, "")) for q in organiser.questions}


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    user_id: int
    session_id: int
    quantities: Mapping[str, int]
    answers: Mapping[str, str] = field(default_factory=dict)
    payments_enabled: bool = False
    request_key: str | None = None  # a repeated confirmation of the same booking screen returns the same order
    user: User | None = None  # the tourist as this update already read them: no second read of the same row
    points: int = 0  # loyalty points to spend on it (checked against the balance and the limit)
    discount_code: str | None = None  # as the guest typed it (checked: domain/model/discount_codes.py)


async def place_order(uow: UnitOfWork, cmd: PlaceOrder, now: datetime) -> Order:
    """Hold seats for the organiser's hold period and create the order with a short public code.

    Idempotent per ``request_key``: confirming the same booking screen twice (a double tap, a retried update)
    returns the order placed the first time and takes no more seats.

    The unique constraints do the checking, so the usual booking reads nothing it is about to write: the order goes
    in with a fresh code and its request key, and a clash (the screen placed before, or a taken code) is read or
    retried afterwards. The seats are taken last: the conditional UPDATE locks the session's row until the commit
    (on PostgreSQL), and every booking of that session waits for it, so it is held for one round trip only.
    """
    async with uow:
        try:
            order, organiser, needs_confirmation = await _new_order(uow, cmd, now)
        except DomainError:
            # the screen may have been placed while the session was still on sale: that order is the answer
            if (placed := await _placed_before(uow, cmd)) is not None:
                return placed
            raise
        if (placed := await _add_with_free_code(uow, order, cmd)) is not None:
            return placed
        await record_checkout_in_tx(uow, order, now)  # the code's use and the points spent, in this transaction
        if needs_confirmation:
            await tell_organiser(uow, OutboxKind.BOOKING_REQUEST, organiser, order, now)
        elif order.pay_by is not None:
            await tell_tourist(uow, OutboxKind.INVOICE, order, now)
        elif order.payment is PaymentStatus.ON_SITE:
            # confirmed at once, paid at the meeting point: no ticket follows a payment, so its confirmation with
            # the check-in QR of its order code is the tourist's ticket, as when an organiser confirms (once per order)
            await tell_tourist(uow, OutboxKind.ORDER_CONFIRMED, order, now, instant=True)
        await audit_order(uow, now, TOURIST, "order.placed", order, {})
        if order.booking is BookingStatus.CONFIRMED:
            await schedule_order_reminders(uow, order, now)
        await _use_turn(uow, cmd)
        await reserve_seats(uow, order.session_id, order.seats)
        await uow.commit()
    return order


async def _use_turn(uow: UnitOfWork, cmd: PlaceOrder) -> None:
    """On a hot on-sale the order uses the tourist's turn in the waiting room (they were admitted: their window may
    just have ended), in the order's own transaction: no pass of the room's job can see the seats gone but the
    booker still admitted, and tell them "sold out" after they booked."""
    await uow.rooms.book_place(cmd.session_id, cmd.user_id)  # one conditional write: a place in BOOKS is booked


async def _new_order(uow: UnitOfWork, cmd: PlaceOrder, now: datetime) -> tuple[Order, Organiser, bool]:
    """The order ``cmd`` asks for (checked, priced, confirmed or awaiting its organiser), not stored yet; with its
    organiser and whether the organiser confirms it."""
    session = await uow.catalog.session(cmd.session_id)
    if session is None:
        raise NotFound(session=cmd.session_id)
    if session.sales_stopped:
        raise SessionNotBookable(session=session.id, reason=SALES_STOPPED)
    if not session.bookable(now):
        raise SessionNotBookable(session=session.id)
    event = await uow.catalog.event(session.event_id)
    organiser = await uow.catalog.organiser(event.organiser_id) if event else None
    user = cmd.user if cmd.user is not None and cmd.user.id == cmd.user_id else await uow.users.get(cmd.user_id)
    if event is None or organiser is None or user is None:
        raise NotFound(session=cmd.session_id)
    if session.starts_at - (await uow.organiser_settings.extras(organiser.id)).booking_cutoff <= now:
        raise SessionNotBookable(session=session.id)  # within the organiser's own cutoff (``/settings``)
    answers = check_answers(organiser, cmd.answers)
    hotel = await uow.catalog.hotel(user.hotel_id) if user.hotel_id else None
    discount = hotel_discount(hotel, event)
    priced = quote(event, cmd.quantities, discount)
    checkout = await checkout_in_tx(uow, user.id, event, priced, cmd.discount_code, cmd.points, now)
    order = Order(
        code=new_order_code(),
        user_id=user.id,
        session_id=session.id,
        event_id=event.id,
        currency=priced.currency,
        items=list(priced.items),
        subtotal_minor=priced.subtotal_minor,
        discount_percent=priced.discount_percent,
        total_minor=checkout.total_minor,
        created_at=now,
        hold_until=now + organiser.hold,
        language=user.language,
        hotel_id=hotel.id if hotel and discount else user.hotel_id,
        answers=answers,
        request_key=cmd.request_key,
        points_used=checkout.points,
        discount_code=checkout.code,
        code_discount_minor=checkout.code_minor,
    )
    if event.needs_confirmation:
        order.await_organiser(now, organiser.confirm_within)
    else:
        order.confirm_instantly(now, organiser.pay_within, cmd.payments_enabled)
    return order, organiser, event.needs_confirmation


async def _placed_before(uow: UnitOfWork, cmd: PlaceOrder) -> Order | None:
    """The order placed earlier from the same booking screen, if any (one look-up by the unique request key)."""
    if cmd.request_key is None:
        return None
    placed = await uow.orders.by_request_key(cmd.request_key)
    if placed is not None and placed.user_id != cmd.user_id:
        raise NotAllowed(order=placed.id)
    return placed


async def _add_with_free_code(uow: UnitOfWork, order: Order, cmd: PlaceOrder) -> Order | None:
    """Store ``order``, drawing another code while its code is taken; None when stored, or the order the same
    booking screen placed before (a concurrent one waited for: the unique key decides who placed it)."""
    for _ in range(_CODE_ATTEMPTS):
        try:
            await uow.orders.add(order)
            return None
        except ConcurrentChange:
            if (placed := await _placed_before(uow, cmd)) is not None:
                return placed
        order.code = new_order_code()  # 24**6 codes: a clash is rare, twenty in a row only if nearly all are taken
    raise RuntimeError("could not find a free order code")


async def cancel_in_tx(uow: UnitOfWork, order: Order, now: datetime, action: str) -> None:
    """Cancel ``order`` inside the caller's transaction: release its seats, tell the organiser, audit it."""
    session = await session_of(uow, order)
    before = order.snapshot()
    knew = order.is_active  # awaiting the organiser or confirmed: the organiser knows of it
    order.cancel_by_tourist(session.starts_at, now)
    await uow.seats.release(order.session_id, order.seats)
    await uow.orders.save(order)
    event = await event_of(uow, order)
    if knew and event.needs_confirmation:
        await tell_organiser(uow, OutboxKind.BOOKING_CANCELLED, await organiser_of(uow, event), order, now)
    await audit_order(uow, now, TOURIST, action, order, before)


async def get_own_order(uow: UnitOfWork, user_id: int, order_id: int) -> Order:
    """The order if it belongs to ``user_id``; a forged or foreign id is :class:`NotAllowed`."""
    order = await uow.orders.get(order_id)
    if order is None or order.user_id != user_id:
        raise NotAllowed(order=order_id)
    return order


async def cancel_order(uow: UnitOfWork, user_id: int, order_id: int, now: datetime) -> Order:
    """The tourist cancels: free before payment; after payment it becomes refund due. Seats go back on sale."""
    async with uow:
        order = await get_own_order(uow, user_id, order_id)
        session = await session_of(uow, order)
        if not order.can_be_cancelled_by_tourist(session.starts_at, now):
            raise InvalidTransition(order=order.id, booking=order.booking.value)
        await cancel_in_tx(uow, order, now, "order.cancelled_by_tourist")
        await uow.commit()
    return order
