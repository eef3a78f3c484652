"""Deadlines and reminders: the pay reminder and expiry for tourists, session reminders and the rating request, the
nudge and the participant list for organisers.

Each renderer re-reads the order (or session) at send time and returns None when the message no longer makes sense
(paid meanwhile, cancelled, moved to another session): the row is then closed unsent.
"""

from __future__ import annotations

from aiogram import html
from aiogram.types import InlineKeyboardMarkup

from domain.model.catalog import SessionStatus, localized
from domain.model.checkin import on_the_day
from domain.model.messages import OutboxKind
from domain.model.orders import BookingStatus, PaymentStatus, TicketStatus, format_order_code
from domain.model.organiser_settings import TextKind
from domain.use_cases.deadlines import UNCONFIRMED
from handlers.notifications import RenderContext, Rendered, renders
from handlers.notifications.booking import request_kb, request_lines
from handlers.notifications.own_texts import bring_line, extras_of, own_text
from handlers.notifications.parts import (
    cards_redrawn,
    edit_sent,
    order_kb,
    organiser_tr,
    payload_order,
    summary,
    tickets,
    tourist_tr,
)
from handlers.organiser.callbacks import LateCb
from handlers.organiser.manifest import load_participants, manifest_kb, participants_text
from handlers.tourist.callbacks import Below, BelowCb, RateCb
from handlers.ui import button


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
    extras = await extras_of(rc.uow, view)  # the organiser's own reminder text replaces the opening line
    opening = own_text(extras, TextKind.REMINDER, view, tr)
    lines = [
        opening
        or "⏰ " + _("Reminder: <b>{title}</b>").format(title=html.quote(localized(view.event.title, tr.language))),
        f"🗓 {tr.zoned(view.session.starts_at, view.region.timezone)} ({region})",
    ]
    if meeting_point := localized(view.event.meeting_point, tr.language):
        lines.append("📍 " + _("Meeting point: {place}").format(place=html.quote(meeting_point)))
    lines += bring_line(extras, view, tr)
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
    markup = order_kb(view, tr)
    local_start = tr.now_local(view.region.timezone, view.session.starts_at)
    if rc.now is not None and on_the_day(view.session, local_start, rc.now, view.event):
        late = button("🏃 " + _("I'm running late"), LateCb(order=view.id))
        markup = InlineKeyboardMarkup(inline_keyboard=[[late], *markup.inline_keyboard])
    return Rendered("\n".join(lines), markup)


@renders(OutboxKind.RATING_REQUEST)
async def rating_request(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    order = view.order
    if order.rating is not None or order.booking is not BookingStatus.ATTENDED:
        return None  # only tourists checked in at the meeting point are asked
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


@renders(OutboxKind.PARTICIPANTS)
async def participants(rc: RenderContext) -> Rendered | None:
    found = await load_participants(rc.uow, int(rc.payload["session_id"]))
    if found is None or not found.orders or found.around.session.status is SessionStatus.CANCELLED:
        return None
    tr = rc.i18n.translator(found.around.organiser.language)
    text = participants_text(found, tr, updated=bool(rc.payload.get("updated")))
    return Rendered(text, manifest_kb(found.around.session.id, tr))


async def refresh_participants(rc: RenderContext, session_id: int) -> None:
    """Redraw the participant lists already sent for the session (a booking on it was paid, say): a list never
    keeps saying "payment pending" for a booking that is paid."""
    found = await load_participants(rc.uow, session_id)
    if found is None or not found.orders or found.around.session.status is SessionStatus.CANCELLED:
        return
    tr = rc.i18n.translator(found.around.organiser.language)
    text = participants_text(found, tr, updated=True)
    await edit_sent(rc, f"{OutboxKind.PARTICIPANTS.value}:{session_id}", text, manifest_kb(session_id, tr))
