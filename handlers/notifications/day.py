"""The day itself (issue 14): the organiser hears that a tourist is running late (with the order), and each tourist
of a session hears that the organiser is at the meeting point, in their own language."""

from __future__ import annotations

from aiogram import html

from domain.model.catalog import SessionStatus, localized
from domain.model.messages import OutboxKind
from domain.model.orders import BookingStatus, format_order_code
from handlers.notifications import RenderContext, Rendered, renders
from handlers.notifications.booking import request_lines
from handlers.notifications.parts import order_kb, organiser_tr, payload_order, tourist_tr


@renders(OutboxKind.RUNNING_LATE)
async def running_late(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    if view.order.booking is not BookingStatus.CONFIRMED or view.session.status is SessionStatus.CANCELLED:
        return None  # cancelled or over meanwhile
    tr = organiser_tr(view, rc.i18n)
    _ = tr.gettext
    name = html.quote(view.user.display_name) if view.user else "—"
    lines = [
        "🏃 "
        + _("<b>{name}</b> is running late: booking {code}.").format(
            name=name, code=format_order_code(view.order.code)
        ),
        *request_lines(view, tr),
    ]
    if view.user is not None and view.user.phone:
        lines.append("📞 " + html.quote(view.user.phone))
    return Rendered("\n".join(lines))


@renders(OutboxKind.AT_MEETING_POINT)
async def at_meeting_point(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    order = view.order
    if (
        order.booking is not BookingStatus.CONFIRMED
        or order.session_id != int(rc.payload.get("session_id", order.session_id))
        or view.session.status is SessionStatus.CANCELLED
    ):
        return None  # cancelled or moved to another session meanwhile
    tr = tourist_tr(view, rc.i18n)
    _ = tr.gettext
    title = html.quote(localized(view.event.title, tr.language))
    lines = ["📍 " + _("The organiser of <b>{title}</b> is at the meeting point.").format(title=title)]
    if meeting_point := localized(view.event.meeting_point, tr.language):
        lines.append(_("Meeting point: {place}").format(place=html.quote(meeting_point)))
    lines += [
        "🗓 " + _("Start: {time}").format(time=tr.zoned(view.session.starts_at, view.region.timezone)),
        "🔖 " + _("<b>Order {code}</b>").format(code=format_order_code(order.code)),
    ]
    return Rendered("\n".join(lines), order_kb(view, tr))
