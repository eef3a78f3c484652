"""Deadlines and reminders: the pay reminder and expiry for tourists, session reminders and the rating request, the
nudge and the participant list for organisers.

Each renderer re-reads the order (or session) at send time and returns None when the message no longer makes sense
(paid meanwhile, cancelled, moved to another session): the row is then closed unsent.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import html
from aiogram.types import InlineKeyboardMarkup

from domain.model.catalog import Hotel, SessionStatus, localized
from domain.model.messages import OutboxKind
from domain.model.orders import BookingStatus, Order, PaymentStatus, TicketStatus, format_order_code
from domain.ports import UnitOfWork
from domain.use_cases.deadlines import UNCONFIRMED
from handlers.notifications import RenderContext, Rendered, renders
from handlers.notifications.booking import request_kb, request_lines
from handlers.notifications.parts import (
    answer_lines,
    cards_redrawn,
    edit_sent,
    order_kb,
    organiser_tr,
    payload_order,
    summary,
    tickets,
    tourist_tr,
)
from handlers.read_models import SessionView, read_session
from handlers.tourist.callbacks import Below, BelowCb, RateCb
from handlers.ui import Translator, button

TEXT_BUDGET = 3800  # characters of one message, leaving room under Telegram's 4096 for the closing line


def rating_kb(order_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[button(f"⭐{n}", RateCb(order=order_id, stars=n)) for n in range(1, 6)]]
    )


# ---- tourists -------------------------------------------------------------------------------------------------------


@renders(OutboxKind.PAY_REMINDER)
async def pay_reminder(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    order = view.order
    if order.booking is not BookingStatus.CONFIRMED or order.payment is not PaymentStatus.AWAITING:
        return None  # paid or gone meanwhile
    tr = tourist_tr(view, rc.i18n)
    _ = tr.gettext
    amount = tr.money(order.total_minor, order.currency)
    lines = [
        "⏰ " + _("Your booking <b>{code}</b> is not paid yet.").format(code=format_order_code(order.code)),
        *summary(view, tr),
        "",
        _("Please pay {amount} by {time}, otherwise the seats go back on sale.").format(
            amount=amount, time=tr.zoned(order.hold_until, view.region.timezone)
        ),
    ]
    return Rendered("\n".join(lines), order_kb(view, tr))


@renders(OutboxKind.ORDER_EXPIRED)
async def order_expired(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    if view.order.booking is not BookingStatus.EXPIRED:
        return None
    tr = tourist_tr(view, rc.i18n)
    _ = tr.gettext
    lines = [
        "⌛ " + _("Your booking <b>{code}</b> has expired.").format(code=format_order_code(view.order.code)),
        *summary(view, tr),
        "",
    ]
    if rc.payload.get("reason") == UNCONFIRMED:
        lines.append(_("The organiser did not confirm it in time."))
    else:
        lines.append(_("It was not paid in time, so the seats went back on sale."))
    lines.append(_("Nothing to pay. You are welcome to book again."))
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[button("🗓 " + _("Book again"), BelowCb(to=Below.EVENT, id=view.event.id))]]
    )
    return Rendered("\n".join(lines), markup, after_send=cards_redrawn(rc, view))


@renders(OutboxKind.SESSION_REMINDER)
async def session_reminder(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    order = view.order
    if (
        order.booking is not BookingStatus.CONFIRMED
        or order.session_id != int(rc.payload.get("session_id", order.session_id))
        or view.session.status is SessionStatus.CANCELLED
    ):
        return None  # cancelled, expired or moved since the reminder was due
    tr = tourist_tr(view, rc.i18n)
    _ = tr.gettext
    region = html.quote(localized(view.region.name, tr.language))
    lines = [
        "⏰ " + _("Reminder: <b>{title}</b>").format(title=html.quote(localized(view.event.title, tr.language))),
        f"🗓 {tr.zoned(view.session.starts_at, view.region.timezone)} ({region})",
    ]
    if meeting_point := localized(view.event.meeting_point, tr.language):
        lines.append("📍 " + _("Meeting point: {place}").format(place=html.quote(meeting_point)))
    lines += [f"🎟 {tickets(order, tr)}", "🔖 " + _("<b>Order {code}</b>").format(code=format_order_code(order.code))]
    if order.ticket is TicketStatus.ISSUED and order.ticket_code:
        lines.append("🎫 " + _("Ticket: {code}").format(code=f"<code>{html.quote(order.ticket_code)}</code>"))
    lines.append("")
    amount = tr.money(order.total_minor, order.currency)
    if order.money_held:
        lines.append(_("Show the order code at the meeting point. Have a great time!"))
    elif order.payment is PaymentStatus.AWAITING:
        lines.append(_("Please pay {amount} soon to keep your seats.").format(amount=amount))
    else:
        lines.append(_("Pay at the meeting point: {amount}. Please come a few minutes early.").format(amount=amount))
    return Rendered("\n".join(lines), order_kb(view, tr))


@renders(OutboxKind.RATING_REQUEST)
async def rating_request(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    order = view.order
    if order.rating is not None or order.booking not in (BookingStatus.CONFIRMED, BookingStatus.ATTENDED):
        return None
    tr = tourist_tr(view, rc.i18n)
    text = "⭐ " + tr.gettext("How was <b>{title}</b>? Please rate it from 1 to 5 stars.").format(
        title=html.quote(localized(view.event.title, tr.language))
    )
    return Rendered(text, rating_kb(view.id))


# ---- organisers -----------------------------------------------------------------------------------------------------


@renders(OutboxKind.CONFIRM_NUDGE)
async def confirm_nudge(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    if view.order.booking is not BookingStatus.AWAITING_ORGANISER:
        return None  # answered meanwhile
    tr = organiser_tr(view, rc.i18n)
    _ = tr.gettext
    code = format_order_code(view.order.code)
    lines = [
        "⏰ " + _("Booking request <b>{code}</b> is still waiting for your answer.").format(code=code),
        *request_lines(view, tr),
        "",
        _(
            "Please reply to the original request with + to confirm, or − and a reason to decline, "
            "or use the buttons below. The tourist is waiting."
        ),
    ]
    return Rendered("\n".join(lines), request_kb(view.id, tr))


@dataclass(frozen=True, slots=True)
class Participants:
    """A session with its surroundings, its bookings and their hotels."""

    around: SessionView
    orders: list[Order]
    hotels: dict[int, Hotel]


async def load_participants(uow: UnitOfWork, session_id: int) -> Participants | None:
    async with uow:
        around = await read_session(uow, session_id)
        if around is None:
            return None
        orders = list(await uow.reminders.session_orders(session_id))
        hotels = {}
        for hotel_id in {o.hotel_id for o in orders if o.hotel_id}:
            if hotel := await uow.catalog.hotel(hotel_id):
                hotels[hotel_id] = hotel
    return Participants(around, orders, hotels)


def _standing(order: Order, tr: Translator) -> str:
    """Where the booking stands, in a few words for the organiser."""
    _ = tr.gettext
    if order.booking is BookingStatus.AWAITING_ORGANISER:
        return "⏳ " + _("awaiting your confirmation")
    if order.money_held:
        return "✅ " + _("paid")
    if order.payment is PaymentStatus.AWAITING:
        return "💳 " + _("payment pending")
    return "💶 " + _("pays on site: {amount}").format(amount=tr.money(order.total_minor, order.currency))


@renders(OutboxKind.PARTICIPANTS)
async def participants(rc: RenderContext) -> Rendered | None:
    found = await load_participants(rc.uow, int(rc.payload["session_id"]))
    if found is None or not found.orders or found.around.session.status is SessionStatus.CANCELLED:
        return None
    tr = rc.i18n.translator(found.around.organiser.language)
    return Rendered(participants_text(found, tr, updated=bool(rc.payload.get("updated"))))


async def refresh_participants(rc: RenderContext, session_id: int) -> None:
    """Redraw the participant lists already sent for the session (a booking on it was paid, say): a list never
    keeps saying "payment pending" for a booking that is paid."""
    found = await load_participants(rc.uow, session_id)
    if found is None or not found.orders or found.around.session.status is SessionStatus.CANCELLED:
        return
    text = participants_text(found, rc.i18n.translator(found.around.organiser.language), updated=True)
    await edit_sent(rc, f"{OutboxKind.PARTICIPANTS.value}:{session_id}", text)


def participants_text(found: Participants, tr: Translator, updated: bool) -> str:
    """The organiser's list of the session's bookings: tickets, where each stands, answers and hotels."""
    around, orders = found.around, found.orders
    _ = tr.gettext
    title = html.quote(localized(around.event.title, tr.language))
    if updated:
        head = "👥 " + _("Updated participant list: <b>{title}</b>").format(title=title)
    else:
        head = "👥 " + _("Participant list: <b>{title}</b>").format(title=title)
    seats = sum(o.seats for o in orders)
    lines = [
        head,
        f"🗓 {tr.zoned(around.session.starts_at, around.region.timezone)}",
        _("Bookings: {orders} · seats: {seats}").format(orders=len(orders), seats=seats),
    ]
    size = sum(len(line) + 1 for line in lines)
    for index, order in enumerate(orders):
        block = [
            "",
            f"<b>{format_order_code(order.code)}</b> · {tickets(order, tr)} · {_standing(order, tr)}",
            *answer_lines(around.organiser, order, tr),
        ]
        if order.hotel_id is not None and order.hotel_id in found.hotels:
            block.append("🏨 " + html.quote(found.hotels[order.hotel_id].name))
        block_size = sum(len(line) + 1 for line in block)
        if size + block_size > TEXT_BUDGET:
            rest = len(orders) - index
            lines += ["", tr.ngettext("…and {n} more booking.", "…and {n} more bookings.", rest).format(n=rest)]
            break
        lines += block
        size += block_size
    return "\n".join(lines)
