"""The organiser's participant list of a session (the manifest): its bookings with tickets, where each stands,
answers and hotels, and the day itself: who has checked in, who is running late. Sent before the session by the
outbox (:mod:`handlers.notifications.reminders`), redrawn when a booking on it is paid, and opened as it stands now
from its own button (:mod:`handlers.organiser.day`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiogram import html
from aiogram.types import InlineKeyboardMarkup

from domain.model.catalog import Hotel, localized
from domain.model.checkin import OrderDay
from domain.model.orders import BookingStatus, Order, PaymentStatus, format_order_code
from domain.ports import UnitOfWork
from handlers.notifications.parts import answer_lines, tickets
from handlers.organiser.callbacks import ManifestAction, ManifestCb
from handlers.read_models import SessionView, read_session
from handlers.ui import Translator, button

TEXT_BUDGET = 3800  # characters of one message, leaving room under Telegram's 4096 for the closing line


@dataclass(frozen=True, slots=True)
class Participants:
    """A session with its surroundings, its bookings and their hotels."""

    around: SessionView
    orders: list[Order]
    hotels: dict[int, Hotel]
    days: dict[int, OrderDay] = field(default_factory=dict)  # check-ins and "running late", by order id


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
        days = await uow.checkins.session_days(session_id)
    return Participants(around, orders, hotels, days)


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


def _arrival(day: OrderDay | None, around: SessionView, tr: Translator) -> str:
    """``✅ `` for a booking checked in, ``🏃 10:40 `` for one running late, nothing otherwise."""
    if day is None:
        return ""
    if day.checked_in:
        return "✅ "
    if day.running_late_at is not None:
        return f"🏃 {tr.time(day.running_late_at, around.region.timezone)} "
    return ""


def manifest_kb(session_id: int, tr: Translator) -> InlineKeyboardMarkup:
    """Under the participant list: the list as it stands now (who has checked in), and "at the meeting point"."""
    _ = tr.gettext
    refresh = button("🔄 " + _("Who has checked in"), ManifestCb(action=ManifestAction.REFRESH, session=session_id))
    at_point = button(
        "📍 " + _("We're at the meeting point"), ManifestCb(action=ManifestAction.AT_POINT, session=session_id)
    )
    return InlineKeyboardMarkup(inline_keyboard=[[refresh], [at_point]])


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
    present = sum(1 for o in orders if (d := found.days.get(o.stored_id)) is not None and d.checked_in)
    if present:
        checked = _("Checked in: {present} of {orders} bookings").format(present=present, orders=len(orders))
        lines.append("✅ " + checked)
    size = sum(len(line) + 1 for line in lines)
    for index, order in enumerate(orders):
        block = [
            "",
            f"{_arrival(found.days.get(order.stored_id), around, tr)}<b>{format_order_code(order.code)}</b> · "
            f"{tickets(order, tr)} · {_standing(order, tr)}",
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
