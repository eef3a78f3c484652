"""The places of an order in files and pins: the meeting point as a map pin and the booking's calendar file
(``.ics``, RFC 5545, :mod:`domain.rules.ics`). Shared by the outbox's renderers (:mod:`handlers.notifications.places`)
and the order card's "Add to calendar" (:mod:`handlers.tourist.calendar`); it imports neither, so neither import
cycles through the other."""

from __future__ import annotations

from domain.model.catalog import localized
from domain.model.orders import TicketStatus, format_order_code
from domain.model.places import EventPlace
from domain.ports import UnitOfWork
from domain.rules.ics import CalendarEvent, calendar_file
from handlers.media import Document, Venue
from handlers.read_models import OrderView
from handlers.ui import Translator


async def event_place(uow: UnitOfWork, event_id: int) -> EventPlace | None:
    async with uow.read():
        return await uow.places.event_place(event_id)


def meeting_venue(view: OrderView, place: EventPlace | None, tr: Translator) -> Venue | None:
    """The meeting point as a map pin: named as the catalog names it (else the event), with its street address (else
    the meeting point's words, else the region); None when the catalog does not have it on the map."""
    if place is None or place.point is None:
        return None
    meeting_point = localized(view.event.meeting_point, tr.language)
    title = meeting_point or localized(view.event.title, tr.language)
    address = place.address or meeting_point or localized(view.region.name, tr.language)
    return Venue(title=title, address=address, point=place.point)


def ticket_calendar(view: OrderView, place: EventPlace | None, tr: Translator) -> Document:
    """The booking's ``.ics``: the session's start and end in UTC, the meeting point as the location, the order and
    ticket codes in the description; the same UID for every copy of this order."""
    _ = tr.gettext
    order = view.order
    meeting_point = localized(view.event.meeting_point, tr.language)
    location = ", ".join(part for part in (meeting_point, place.address if place else None) if part)
    code = format_order_code(order.code)
    description = [_("Order code: {code}").format(code=code)]
    if order.ticket is TicketStatus.ISSUED and order.ticket_code:
        description.append(_("Ticket: {code}").format(code=order.ticket_code))
    description.append(_("Please come to the meeting point a few minutes early."))
    event = CalendarEvent(
        uid=f"order-{order.code}@tripdesk",
        starts_at=view.session.starts_at,
        ends_at=view.session.starts_at + view.event.duration,
        summary=localized(view.event.title, tr.language),
        stamp=order.created_at,
        location=location,
        description="\n".join(description),
        point=place.point if place else None,
    )
    return Document(calendar_file(event), f"tripdesk-{code}.ics")


def calendar_caption(view: OrderView, tr: Translator) -> str:
    return "🗓 " + tr.gettext("Open the file to add it to your calendar.")
