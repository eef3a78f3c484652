"""What the places of the catalog add to the messages of an order (issue 15): the meeting point as a map pin and the
calendar file with the ticket, the map pin again with each reminder before the session.

Called inside the transaction of the change that sends the message (the payment, the due reminder), so each goes
out through the outbox after that message and once (its dedup key). An event without its meeting point on the map
sends no pin.
"""

from __future__ import annotations

from datetime import datetime

from domain.model.messages import OutboxKind, keyed_message
from domain.model.orders import Order
from domain.ports import UnitOfWork
from domain.use_cases.support import tell_tourist


async def _on_map(uow: UnitOfWork, order: Order) -> bool:
    place = await uow.places.event_place(order.event_id)
    return place is not None and place.point is not None


async def tell_ticket_extras(uow: UnitOfWork, order: Order, now: datetime) -> None:
    """After the ticket: the meeting point as a map pin (when the catalog has it on the map), then the ``.ics``."""
    if order.user_id is None:
        return
    if await _on_map(uow, order):
        await tell_tourist(uow, OutboxKind.TICKET_VENUE, order, now)
    await tell_tourist(uow, OutboxKind.TICKET_CALENDAR, order, now)


async def tell_reminder_venue(
    uow: UnitOfWork, order: Order, session_id: int, reminder_kind: str, now: datetime
) -> None:
    """After a reminder before the session (``reminder_kind`` names it): the meeting point as a map pin, once per
    reminder."""
    if order.user_id is None or not await _on_map(uow, order):
        return
    payload = {"order_id": order.id, "session_id": session_id}
    await uow.outbox.add(keyed_message(OutboxKind.REMINDER_VENUE, order.user_id, payload, now, order.id, reminder_kind))
