"""The organiser answers a booking request: confirm, decline (with a reason), or an unclear reply.

Only the organiser's own chat may answer (their private chat, or their group: anyone in it speaks for them). The
tourist is told through the outbox, in their language; the operators get unclear replies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from domain.errors import InvalidTransition, NotAllowed
from domain.model.catalog import Organiser
from domain.model.messages import OutboxKind
from domain.model.orders import CODE_ALPHABET, BookingStatus, Order
from domain.ports import UnitOfWork
from domain.rules.replies import OrganiserReply, Verdict
from domain.use_cases.deadlines import schedule_order_reminders
from domain.use_cases.support import audit_order, event_of, get_order, organiser_of, tell_tourist

REPLY_KEPT = 1000  # characters of an organiser's answer kept on the order and in the audit log


@dataclass(frozen=True, slots=True)
class Answered:
    order: Order
    verdict: Verdict


async def _organisers_order(uow: UnitOfWork, order_id: int, chat_id: int) -> tuple[Order, Organiser]:
    order = await get_order(uow, order_id)
    organiser = await organiser_of(uow, await event_of(uow, order))
    if organiser.chat_id != chat_id:
        raise NotAllowed(order=order_id)
    return order, organiser


_ORDER_CODE = re.compile(rf"\b([{CODE_ALPHABET}]{{3}})-([{CODE_ALPHABET}]{{3}})\b")


async def order_of_request(uow: UnitOfWork, chat_id: int, message_id: int, text: str | None = None) -> int | None:
    """The order a reply to our message ``message_id`` of ``chat_id`` answers: the booking request delivered as that
    message, else the order code our message shows (a reply can arrive before the sender has recorded the message's
    id; a nudge quotes the code too). None for any other message. The caller checks the chat is the organiser's."""
    async with uow:
        order_id = await uow.outbox.order_for_message(OutboxKind.BOOKING_REQUEST.value, chat_id, message_id)
        if order_id is None and text and (match := _ORDER_CODE.search(text)):
            found = await uow.orders.id_by_code(match.group(1) + match.group(2))
            order = await uow.orders.get(found) if found else None
            event = await uow.catalog.event(order.event_id) if order else None
            organiser = await uow.catalog.organiser(event.organiser_id) if event else None
            if organiser is not None and organiser.chat_id == chat_id:  # e.g. not a tourist's own order card
                order_id = found
        return order_id


async def answer_booking_request(
    uow: UnitOfWork,
    order_id: int,
    chat_id: int,
    reply: OrganiserReply,
    reply_text: str,
    now: datetime,
    payments_enabled: bool,
) -> Answered:
    """Apply the organiser's answer. :class:`InvalidTransition` if the order no longer waits for one (the caller
    shows its state); :class:`NotAllowed` if ``chat_id`` is not the organiser's."""
    actor = f"organiser:{chat_id}"
    async with uow:
        order, organiser = await _organisers_order(uow, order_id, chat_id)
        if order.booking is not BookingStatus.AWAITING_ORGANISER:
            raise InvalidTransition(order=order.id, booking=order.booking.value)
        before = order.snapshot()
        if reply.verdict is Verdict.YES:
            await confirm_in_tx(uow, order, organiser, now, payments_enabled)
            action = "order.confirmed_by_organiser"
        elif reply.verdict is Verdict.NO:
            await decline_in_tx(uow, order, now, reply.reason)
            action = "order.declined_by_organiser"
        else:
            order.note_unclear_reply(reply_text[:REPLY_KEPT])  # the operator desk shows it on the order's card
            await uow.orders.save(order)
            action = "order.unclear_organiser_reply"
        await audit_order(uow, now, actor, action, order, before, reply=reply_text[:REPLY_KEPT])
        await uow.commit()
    return Answered(order, reply.verdict)


async def confirm_in_tx(
    uow: UnitOfWork,
    order: Order,
    organiser: Organiser,
    now: datetime,
    payments_enabled: bool,
) -> None:
    """Confirm ``order`` inside the caller's transaction (the organiser's answer, or an operator for them): its
    reminders, the tourist told, an invoice when they pay in chat. The caller audits it."""
    order.confirm_by_organiser(now, organiser.pay_within, payments_enabled)
    await uow.orders.save(order)
    await schedule_order_reminders(uow, order, now)
    await tell_tourist(uow, OutboxKind.ORDER_CONFIRMED, order, now)
    if order.pay_by is not None:
        await tell_tourist(uow, OutboxKind.INVOICE, order, now)


async def decline_in_tx(uow: UnitOfWork, order: Order, now: datetime, reason: str | None) -> None:
    """Decline ``order`` inside the caller's transaction: seats back on sale, the tourist told (with the reason).
    The caller audits it."""
    order.decline_by_organiser(now)
    await uow.seats.release(order.session_id, order.seats)
    await uow.orders.save(order)
    await tell_tourist(uow, OutboxKind.ORDER_DECLINED, order, now, reason=reason)
