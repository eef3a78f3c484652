"""The places of the catalog in the messages about an order (issue 15): the meeting point as a map pin after the
ticket and after each reminder, and the ticket's calendar file (``.ics``, RFC 5545, :mod:`domain.rules.ics`)."""

from __future__ import annotations

from domain.model.catalog import SessionStatus
from domain.model.messages import OutboxKind
from domain.model.orders import BookingStatus, TicketStatus
from handlers.notifications import RenderContext, Rendered, renders
from handlers.notifications.parts import payload_order, tourist_tr
from handlers.order_places import calendar_caption, event_place, meeting_venue, ticket_calendar


@renders(OutboxKind.TICKET_VENUE)
async def ticket_venue(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None or view.order.ticket is not TicketStatus.ISSUED:
        return None  # voided (cancelled) before we got to send it
    venue = meeting_venue(view, await event_place(rc.uow, view.event.id), tourist_tr(view, rc.i18n))
    return Rendered("", venue=venue) if venue is not None else None


@renders(OutboxKind.TICKET_CALENDAR)
async def ticket_calendar_file(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None or view.order.ticket is not TicketStatus.ISSUED:
        return None
    tr = tourist_tr(view, rc.i18n)
    place = await event_place(rc.uow, view.event.id)
    return Rendered(calendar_caption(view, tr), document=ticket_calendar(view, place, tr))


@renders(OutboxKind.REMINDER_VENUE)
async def reminder_venue(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    order = view.order
    if (
        order.booking is not BookingStatus.CONFIRMED
        or order.session_id != int(rc.payload.get("session_id", order.session_id))
        or view.session.status is SessionStatus.CANCELLED
    ):
        return None  # cancelled, expired or moved since the reminder was due
    venue = meeting_venue(view, await event_place(rc.uow, view.event.id), tourist_tr(view, rc.i18n))
    return Rendered("", venue=venue) if venue is not None else None
