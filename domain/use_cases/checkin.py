"""Check-in and the day itself (issue 14): the ticket's QR opened at the meeting point, one tap to check it in, a
tourist running late, the organiser at the meeting point, and after the session the attendance job.

Only the organiser of the event (their chat) or an operator may see a ticket's details, check it in or speak for the
session; everyone else learns only which event a ticket is for. Every change is one transaction with its audit entry;
messages to others are outbox rows. The attendance job (:func:`settle_attendances`) works like the deadline jobs:
one claimed order per transaction, re-checked under the lock; a rating request due before it ran settles the order
itself (:func:`settle_in_tx`), so only attended tourists are asked for a rating.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.errors import NotAllowed, NotFound
from domain.model import checkin
from domain.model.catalog import Event, EventSession, Hotel, Organiser, Region
from domain.model.checkin import OrderDay
from domain.model.messages import SYSTEM, AuditEntry, OutboxKind, keyed_message
from domain.model.orders import BookingStatus, Order
from domain.model.payments import TICKET_PREFIX
from domain.model.users import User
from domain.ports import UnitOfWork
from domain.use_cases.points import earn_points_in_tx
from domain.use_cases.support import audit_order, load_order, organiser_of, tell_organiser
from domain.use_cases.sweep import DEFAULT_BATCH, Outcome, Swept, sweep


def organiser_actor(chat_id: int) -> str:
    return f"organiser:{chat_id}"


def may_act(organiser: Organiser, chat_id: int, operator_actor: str | None) -> str:
    """The audit actor of someone acting for ``organiser`` from ``chat_id`` (an operator names themselves);
    :class:`NotAllowed` for anyone else."""
    if operator_actor is not None:
        return operator_actor
    if organiser.chat_id == chat_id:
        return organiser_actor(chat_id)
    raise NotAllowed(organiser=organiser.id)


# ---- the ticket ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ticket:
    """What the organiser (or an operator) sees of a ticket: the order with its surroundings and its day."""

    order: Order
    session: EventSession
    event: Event
    organiser: Organiser
    region: Region
    tourist: User | None  # None once they asked us to forget them
    hotel: Hotel | None
    day: OrderDay | None
    present: int  # the session's active bookings checked in so far
    expected: int  # the session's active bookings


@dataclass(frozen=True, slots=True)
class TicketLook:
    """A ticket link opened: ``ticket`` for the event's organiser or an operator, None for anyone else (who sees
    only ``event``)."""

    event: Event
    ticket: Ticket | None


async def _ticket(uow: UnitOfWork, order_id: int) -> Ticket:
    order, session, event, organiser = await load_order(uow, order_id)
    region = await uow.catalog.region(event.region_id)
    if region is None:
        raise NotFound(region=event.region_id)
    tourist = await uow.users.get(order.user_id) if order.user_id else None
    hotel = await uow.catalog.hotel(order.hotel_id) if order.hotel_id else None
    day = await uow.checkins.order_day(order_id)
    present, expected = await _attendance_so_far(uow, session.id)
    return Ticket(order, session, event, organiser, region, tourist, hotel, day, present, expected)


async def _attendance_so_far(uow: UnitOfWork, session_id: int) -> tuple[int, int]:
    orders = await uow.reminders.session_orders(session_id)
    days = await uow.checkins.session_days(session_id)
    expected = [o for o in orders if o.booking is BookingStatus.CONFIRMED]
    return sum(1 for o in expected if (d := days.get(o.stored_id)) is not None and d.checked_in), len(expected)


async def look_up_ticket(uow: UnitOfWork, code: str, chat_id: int, operator_actor: str | None) -> TicketLook:
    """The ticket with ``code`` (a ticket code as stored, or the order code of an order paid on site) as ``chat_id``
    may see it; :class:`NotFound` for a code no order has (a forged or replaced ticket)."""
    async with uow.read():
        if code.startswith(TICKET_PREFIX):
            order_id = await uow.checkins.order_by_ticket(code)
        else:
            order_id = await uow.orders.id_by_code(code)
        if order_id is None:
            raise NotFound(ticket=code)
        ticket = await _ticket(uow, order_id)
    try:
        may_act(ticket.organiser, chat_id, operator_actor)
    except NotAllowed:
        return TicketLook(ticket.event, None)
    return TicketLook(ticket.event, ticket)


@dataclass(frozen=True, slots=True)
class CheckedIn:
    ticket: Ticket
    new: bool  # False: it was checked in before (``ticket.day`` says when); nothing changed


async def check_in_ticket(
    uow: UnitOfWork, order_id: int, chat_id: int, operator_actor: str | None, now: datetime
) -> CheckedIn:
    """Check the order's ticket in (once: a second tap, or two at once, change nothing and say when it was).

    :class:`NotAllowed` unless ``chat_id`` is the organiser's or an operator acts; :class:`NotFound` for no such
    order; :class:`InvalidTransition` for a voided ticket (``voided`` in its data) or one that cannot be checked in.
    """
    async with uow:
        order, session, _event, organiser = await load_order(uow, order_id)
        actor = may_act(organiser, chat_id, operator_actor)
        checkin.require_check_in(order, session)
        new = await uow.checkins.mark_checked_in(order.stored_id, now, actor)
        if new:
            await audit_order(
                uow, now, actor, "order.checked_in", order, order.snapshot(), checked_in_at=now.isoformat()
            )
        ticket = await _ticket(uow, order.stored_id)
        await uow.commit()
    return CheckedIn(ticket, new)


# ---- after the session -----------------------------------------------------------------------------------------------


async def settle_in_tx(uow: UnitOfWork, order: Order, now: datetime) -> bool:
    """Inside the caller's transaction: a confirmed order whose session is over becomes attended (checked in) or
    a no-show, audited; False when there is nothing to settle (yet)."""
    session = await uow.catalog.session(order.session_id)
    event = await uow.catalog.event(order.event_id)
    if session is None or event is None:
        return False
    before = order.snapshot()
    if not checkin.settle_attendance(order, session, event, await uow.checkins.order_day(order.stored_id), now):
        return False
    await uow.orders.save(order)
    action = "order.attended" if order.booking is BookingStatus.ATTENDED else "order.no_show"
    points = await earn_points_in_tx(uow, order, event, now)  # loyalty (issue 15): once per order
    await audit_order(uow, now, SYSTEM, action, order, before, **({"points_earned": points} if points else {}))
    return True


async def settle_attendances(uow: UnitOfWork, now: datetime, limit: int = DEFAULT_BATCH) -> Swept:
    """The job: confirmed orders whose session is over become attended or no-show (idempotent: a settled order is
    not confirmed any more, so it is never claimed again)."""

    async def handle(order_id: int) -> Outcome:
        order = await uow.orders.get(order_id)
        if order is None or not await settle_in_tx(uow, order, now):
            return Outcome.LEFT  # changed meanwhile, or its session has not ended yet
        return Outcome.DONE

    since = now - checkin.SETTLE_LOOKBACK
    return await sweep(uow, limit, lambda seen: uow.checkins.claim_order_to_settle(now, since, seen), handle)


# ---- the tourist is running late -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunningLate:
    order: Order
    new: bool  # False: the organiser was told before; nothing changed


async def report_running_late(uow: UnitOfWork, user_id: int, order_id: int, now: datetime) -> RunningLate:
    """The tourist tells the organiser they are running late: once per order, on the day of the session, before it
    ends. :class:`NotAllowed` for someone else's order; :class:`InvalidTransition` (``reason`` ``not_today`` or the
    order's state) otherwise."""
    async with uow:
        order, session, event, organiser = await load_order(uow, order_id)
        if order.user_id is None or order.user_id != user_id:
            raise NotAllowed(order=order_id)
        region = await uow.catalog.region(event.region_id)
        zone = ZoneInfo(region.timezone) if region else None
        checkin.require_running_late(order, session, event, session.starts_at.astimezone(zone), now)
        new = await uow.checkins.mark_running_late(order.stored_id, now)
        if new:
            await tell_organiser(uow, OutboxKind.RUNNING_LATE, organiser, order, now)
            actor = f"user:{user_id}"
            await audit_order(uow, now, actor, "order.running_late", order, order.snapshot(), at=now.isoformat())
            await uow.commit()
    return RunningLate(order, new)


# ---- the organiser is at the meeting point ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AtMeetingPoint:
    session: EventSession
    told: int  # tourists told now (0 when it was sent before)
    new: bool


async def session_organiser(uow: UnitOfWork, session_id: int) -> tuple[EventSession, Event, Organiser]:
    session = await uow.catalog.session(session_id)
    event = await uow.catalog.event(session.event_id) if session else None
    if session is None or event is None:
        raise NotFound(session=session_id)
    return session, event, await organiser_of(uow, event)


async def check_session_access(uow: UnitOfWork, session_id: int, chat_id: int, operator_actor: str | None) -> None:
    """:class:`NotAllowed` unless ``chat_id`` is the session's organiser's or an operator acts; :class:`NotFound`
    for no such session."""
    async with uow.read():
        _session, _event, organiser = await session_organiser(uow, session_id)
    may_act(organiser, chat_id, operator_actor)


async def announce_at_meeting_point(
    uow: UnitOfWork, session_id: int, chat_id: int, operator_actor: str | None, now: datetime
) -> AtMeetingPoint:
    """ "We're at the meeting point": every tourist with a confirmed order on the session is told, in their language,
    through the outbox (paced within Telegram's limits); once per session. :class:`NotAllowed` for anyone but the
    organiser or an operator; :class:`InvalidTransition` outside :data:`~domain.model.checkin.AT_POINT_FROM` before
    the start until the end, or for a cancelled session."""
    async with uow:
        session, event, organiser = await session_organiser(uow, session_id)
        actor = may_act(organiser, chat_id, operator_actor)
        checkin.require_at_point(session, event, now)
        if not await uow.checkins.mark_at_meeting_point(session.id, now, actor):
            return AtMeetingPoint(session, 0, new=False)
        told = 0
        for order in await uow.reminders.session_orders(session.id):
            if order.booking is not BookingStatus.CONFIRMED or order.user_id is None:
                continue
            payload: dict[str, Any] = {"order_id": order.id, "session_id": session.id}
            kind = OutboxKind.AT_MEETING_POINT
            await uow.outbox.add(keyed_message(kind, order.user_id, payload, now, order.id, session.id))
            told += 1
        after = {"session_id": session.id, "told": told}
        await uow.audit.add(AuditEntry(at=now, actor=actor, action="session.at_meeting_point", after=after))
        await uow.commit()
    return AtMeetingPoint(session, told, new=True)
