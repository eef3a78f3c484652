"""Deadlines and reminders: the pay reminder and expiry for tourists, session reminders and the rating request, the
nudge and the participant list for organisers, low ratings for the operators.

Each renderer re-reads the order (or session) at send time and returns None when the message no longer makes sense
(paid meanwhile, cancelled, moved to another session): the row is then closed unsent.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import I18n, Translator
from bot.notifications import RenderContext, Rendered, renders
from bot.notifications.booking import load_order_context
from domain.model.catalog import (
    Event,
    EventSession,
    Hotel,
    Organiser,
    Region,
    SessionStatus,
    localized,
)
from domain.model.messages import OutboxKind
from domain.model.orders import (
    BookingStatus,
    Order,
    PaymentStatus,
    TicketStatus,
    format_order_code,
)
from domain.ports import UnitOfWork
from domain.use_cases.deadlines import UNCONFIRMED
from handlers.organiser.callbacks import RequestAction, RequestCb
from handlers.tourist.callbacks import EventCb, RateCb
from handlers.tourist.labels import ticket_type_name

TEXT_BUDGET = 3800  # characters of one message, leaving room under Telegram's 4096 for the closing line


def _e(text: str) -> str:
    return escape(text, quote=False)


def _button(text: str, data: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())  # type: ignore[attr-defined]


def _tickets(order: Order, tr: Translator) -> str:
    return ", ".join(f"{_e(ticket_type_name(i.ticket_type, tr))} × {i.quantity}" for i in order.items)


def answer_lines(organiser: Organiser, order: Order, tr: Translator) -> list[str]:
    """The tourist's answers to the organiser's questions, in the reader's language (choices by their text)."""
    lines = []
    for question in organiser.questions:
        answer = order.answers.get(question.id)
        if not answer:
            continue
        choice = next((c for c in question.choices if c.id == answer), None)
        shown = localized(choice.text, tr.language) if choice else answer
        lines.append(f"❓ {_e(localized(question.text, tr.language))} <i>{_e(shown)}</i>")
    return lines


def rating_kb(order_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_button(f"⭐{n}", RateCb(order=order_id, stars=n)) for n in range(1, 6)]]
    )


# ---- tourists -------------------------------------------------------------------------------------------------------


@renders(OutboxKind.PAY_REMINDER)
async def pay_reminder(rc: RenderContext) -> Rendered | None:
    if (ctx := await load_order_context(rc.uow, int(rc.payload["order_id"]))) is None:
        return None
    order = ctx.order
    if order.booking is not BookingStatus.CONFIRMED or order.payment is not PaymentStatus.AWAITING:
        return None  # paid or gone meanwhile
    tr = ctx.tourist_tr(rc.i18n)
    _ = tr.gettext
    amount = tr.money(order.total_minor, order.currency)
    lines = [
        "⏰ " + _("Your booking <b>{code}</b> is not paid yet.").format(code=format_order_code(order.code)),
        *ctx.summary(tr),
        "",
        _("Please pay {amount} by {time}, otherwise the seats go back on sale.").format(
            amount=amount, time=tr.datetime(order.hold_until, ctx.region.timezone)
        ),
    ]
    return Rendered("\n".join(lines), ctx.order_kb(tr))


@renders(OutboxKind.ORDER_EXPIRED)
async def order_expired(rc: RenderContext) -> Rendered | None:
    if (ctx := await load_order_context(rc.uow, int(rc.payload["order_id"]))) is None:
        return None
    if ctx.order.booking is not BookingStatus.EXPIRED:
        return None
    tr = ctx.tourist_tr(rc.i18n)
    _ = tr.gettext
    lines = [
        "⌛ " + _("Your booking <b>{code}</b> has expired.").format(code=format_order_code(ctx.order.code)),
        *ctx.summary(tr),
        "",
    ]
    if rc.payload.get("reason") == UNCONFIRMED:
        lines.append(_("The organiser did not confirm it in time."))
    else:
        lines.append(_("It was not paid in time, so the seats went back on sale."))
    lines.append(_("Nothing to pay. You are welcome to book again."))
    markup = InlineKeyboardMarkup(inline_keyboard=[[_button("🗓 " + _("Book again"), EventCb(event=ctx.event.id))]])
    return Rendered("\n".join(lines), markup)


@renders(OutboxKind.SESSION_REMINDER)
async def session_reminder(rc: RenderContext) -> Rendered | None:
    if (ctx := await load_order_context(rc.uow, int(rc.payload["order_id"]))) is None:
        return None
    order = ctx.order
    if (
        order.booking is not BookingStatus.CONFIRMED
        or order.session_id != int(rc.payload.get("session_id", order.session_id))
        or ctx.session.status is SessionStatus.CANCELLED
    ):
        return None  # cancelled, expired or moved since the reminder was due
    tr = ctx.tourist_tr(rc.i18n)
    _ = tr.gettext
    region = _e(localized(ctx.region.name, tr.language))
    lines = [
        "⏰ " + _("Reminder: <b>{title}</b>").format(title=_e(localized(ctx.event.title, tr.language))),
        f"🗓 {tr.datetime(ctx.session.starts_at, ctx.region.timezone)} ({region})",
    ]
    if meeting_point := localized(ctx.event.meeting_point, tr.language):
        lines.append("📍 " + _("Meeting point: {place}").format(place=_e(meeting_point)))
    lines += [f"🎟 {_tickets(order, tr)}", "🔖 " + _("<b>Order {code}</b>").format(code=format_order_code(order.code))]
    if order.ticket is TicketStatus.ISSUED and order.ticket_code:
        lines.append("🎫 " + _("Ticket: {code}").format(code=f"<code>{_e(order.ticket_code)}</code>"))
    lines.append("")
    amount = tr.money(order.total_minor, order.currency)
    if order.money_held:
        lines.append(_("Show the order code at the meeting point. Have a great time!"))
    elif order.payment is PaymentStatus.AWAITING:
        lines.append(_("Please pay {amount} soon to keep your seats.").format(amount=amount))
    else:
        lines.append(_("Pay at the meeting point: {amount}. Please come a few minutes early.").format(amount=amount))
    return Rendered("\n".join(lines), ctx.order_kb(tr))


@renders(OutboxKind.RATING_REQUEST)
async def rating_request(rc: RenderContext) -> Rendered | None:
    if (ctx := await load_order_context(rc.uow, int(rc.payload["order_id"]))) is None:
        return None
    order = ctx.order
    if order.rating is not None or order.booking not in (BookingStatus.CONFIRMED, BookingStatus.ATTENDED):
        return None
    tr = ctx.tourist_tr(rc.i18n)
    text = "⭐ " + tr.gettext("How was <b>{title}</b>? Please rate it from 1 to 5 stars.").format(
        title=_e(localized(ctx.event.title, tr.language))
    )
    return Rendered(text, rating_kb(order.id))


# ---- organisers -----------------------------------------------------------------------------------------------------


@renders(OutboxKind.CONFIRM_NUDGE)
async def confirm_nudge(rc: RenderContext) -> Rendered | None:
    if (ctx := await load_order_context(rc.uow, int(rc.payload["order_id"]))) is None:
        return None
    if ctx.order.booking is not BookingStatus.AWAITING_ORGANISER:
        return None  # answered meanwhile
    tr = ctx.organiser_tr(rc.i18n)
    _ = tr.gettext
    code = format_order_code(ctx.order.code)
    lines = [
        "⏰ " + _("Booking request <b>{code}</b> is still waiting for your answer.").format(code=code),
        *ctx.summary(tr),
        *answer_lines(ctx.organiser, ctx.order, tr),
    ]
    if ctx.hotel:
        lines.append("🏨 " + _e(ctx.hotel.name))
    lines += [
        "",
        _(
            "Please reply to the original request with + to confirm, or − and a reason to decline, "
            "or use the buttons below. The tourist is waiting."
        ),
    ]
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button("✅ " + _("Confirm"), RequestCb(action=RequestAction.CONFIRM, order=ctx.order.id)),
                _button("❌ " + _("Decline"), RequestCb(action=RequestAction.DECLINE, order=ctx.order.id)),
            ]
        ]
    )
    return Rendered("\n".join(lines), markup)


@dataclass(frozen=True, slots=True)
class SessionContext:
    session: EventSession
    event: Event
    region: Region
    organiser: Organiser
    orders: list[Order]
    hotels: dict[int, Hotel]

    def organiser_tr(self, i18n: I18n) -> Translator:
        return i18n.translator(self.organiser.language if self.organiser.language in i18n.languages else None)


async def load_session_context(uow: UnitOfWork, session_id: int) -> SessionContext | None:
    async with uow:
        session = await uow.catalog.session(session_id)
        if session is None:
            return None
        event = await uow.catalog.event(session.event_id)
        region = await uow.catalog.region(event.region_id)
        organiser = await uow.catalog.organiser(event.organiser_id)
        orders = list(await uow.reminders.session_orders(session_id))
        hotels = {}
        for hotel_id in {o.hotel_id for o in orders if o.hotel_id}:
            if hotel := await uow.catalog.hotel(hotel_id):
                hotels[hotel_id] = hotel
    return SessionContext(session, event, region, organiser, orders, hotels)


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
    ctx = await load_session_context(rc.uow, int(rc.payload["session_id"]))
    if ctx is None or not ctx.orders or ctx.session.status is SessionStatus.CANCELLED:
        return None
    tr = ctx.organiser_tr(rc.i18n)
    _ = tr.gettext
    title = _e(localized(ctx.event.title, tr.language))
    if rc.payload.get("updated"):
        head = "👥 " + _("Updated participant list: <b>{title}</b>").format(title=title)
    else:
        head = "👥 " + _("Participant list: <b>{title}</b>").format(title=title)
    seats = sum(o.seats for o in ctx.orders)
    lines = [
        head,
        f"🗓 {tr.datetime(ctx.session.starts_at, ctx.region.timezone)}",
        _("Bookings: {orders} · seats: {seats}").format(orders=len(ctx.orders), seats=seats),
    ]
    size = sum(len(line) + 1 for line in lines)
    for index, order in enumerate(ctx.orders):
        block = [
            "",
            f"<b>{format_order_code(order.code)}</b> · {_tickets(order, tr)} · {_standing(order, tr)}",
            *answer_lines(ctx.organiser, order, tr),
        ]
        if order.hotel_id in ctx.hotels:
            block.append("🏨 " + _e(ctx.hotels[order.hotel_id].name))
        block_size = sum(len(line) + 1 for line in block)
        if size + block_size > TEXT_BUDGET:
            rest = len(ctx.orders) - index
            lines += ["", tr.ngettext("…and {n} more booking.", "…and {n} more bookings.", rest).format(n=rest)]
            break
        lines += block
        size += block_size
    return Rendered("\n".join(lines))
