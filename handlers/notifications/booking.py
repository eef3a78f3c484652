"""Booking requests to organisers, their outcome to tourists (tourist questions:
:mod:`handlers.notifications.questions`)."""

from __future__ import annotations

from aiogram import html
from aiogram.types import InlineKeyboardMarkup

from domain.model.catalog import localized
from domain.model.checkin import checkin_link
from domain.model.messages import OutboxKind
from domain.model.orders import BookingStatus, PaymentStatus, format_order_code
from domain.model.organiser_settings import OrganiserExtras, TextKind
from handlers.notifications import AfterSend, RenderContext, Rendered, renders
from handlers.notifications.own_texts import bring_line, extras_of, own_text
from handlers.notifications.parts import (
    answer_lines,
    edit_sent,
    order_kb,
    organiser_tr,
    payload_order,
    redraw_order_cards,
    summary,
    tourist_tr,
)
from handlers.organiser.callbacks import RequestAction, RequestCb
from handlers.read_models import OrderView
from handlers.status_words import organiser_booking_words
from handlers.tourist.callbacks import Below, BelowCb
from handlers.ui import CANCEL_STYLE, CONFIRM_STYLE, Translator, button

CAPTION_LIMIT = 1024  # characters of a photo's caption (Bot API)


def request_kb(order_id: int, tr: Translator) -> InlineKeyboardMarkup:
    """The organiser's buttons under a booking request: the same as replying + or −."""
    _ = tr.gettext
    confirm = button("✅ " + _("Confirm"), RequestCb(action=RequestAction.CONFIRM, order=order_id), CONFIRM_STYLE)
    decline = button("❌ " + _("Decline"), RequestCb(action=RequestAction.DECLINE, order=order_id), CANCEL_STYLE)
    return InlineKeyboardMarkup(inline_keyboard=[[confirm, decline]])


def request_lines(view: OrderView, tr: Translator) -> list[str]:
    """What the organiser decides a booking request on: the summary, the tourist's answers and hotel."""
    lines = [*summary(view, tr), *answer_lines(view.organiser, view.order, tr)]
    if view.hotel:
        lines.append("🏨 " + html.quote(view.hotel.name))
    return lines


def settled_text(view: OrderView, tr: Translator) -> str:
    """A booking request once it is answered (by the organiser, an operator, or the tourist cancelling): what it
    was about and where it stands, without buttons."""
    _ = tr.gettext
    booking = view.order.booking
    mark = {BookingStatus.CONFIRMED: "✅", BookingStatus.DECLINED: "❌"}.get(booking, "🚫")
    lines = [
        "🆕 " + _("Booking request <b>{code}</b>").format(code=format_order_code(view.order.code)),
        *request_lines(view, tr),
        "",
        mark + " " + _("Settled: {state}.").format(state=organiser_booking_words(tr, booking)),
    ]
    return "\n".join(lines)


def disarm_requests(rc: RenderContext, view: OrderView) -> AfterSend:
    """After the outcome is told: the tourist's order card shows it, and the organiser's request and its reminder
    lose Confirm/Decline and say how the booking was settled (an operator may have answered for the organiser)."""

    async def disarm(_message_id: int) -> None:
        await redraw_order_cards(rc, view)
        if view.order.booking is BookingStatus.AWAITING_ORGANISER:
            return
        text = settled_text(view, organiser_tr(view, rc.i18n))
        for kind in (OutboxKind.BOOKING_REQUEST, OutboxKind.CONFIRM_NUDGE):
            await edit_sent(rc, f"{kind.value}:{view.id}", text)

    return disarm


@renders(OutboxKind.BOOKING_REQUEST)
async def booking_request(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    tr = organiser_tr(view, rc.i18n)
    _ = tr.gettext
    code = format_order_code(view.order.code)
    lines = [
        "🆕 " + _("Booking request <b>{code}</b>").format(code=code),
        *request_lines(view, tr),
        "",
        _("Reply to this message with + to confirm, or − and a reason to decline."),
    ]
    return Rendered("\n".join(lines), request_kb(view.id, tr))


@renders(OutboxKind.BOOKING_CANCELLED)
async def booking_cancelled(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    tr = organiser_tr(view, rc.i18n)
    head = "🚫 " + tr.gettext("Booking <b>{code}</b> was cancelled by the tourist; the seats are free again.")
    text = "\n".join([head.format(code=format_order_code(view.order.code)), *summary(view, tr)])
    return Rendered(text, after_send=disarm_requests(rc, view))


@renders(OutboxKind.ORDER_CONFIRMED)
async def order_confirmed(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    if view.order.booking is not BookingStatus.CONFIRMED:
        return None  # cancelled (or expired) before it went out: no stale "confirmed"
    tr = tourist_tr(view, rc.i18n)
    extras = await extras_of(rc.uow, view)
    text = confirmed_text(view, tr, extras)
    if view.order.booking is BookingStatus.CONFIRMED and view.order.payment is PaymentStatus.ON_SITE:
        return await on_site_confirmed(rc, view, tr, [text, confirmed_text(view, tr)])
    return Rendered(text, order_kb(view, tr), after_send=disarm_requests(rc, view))


async def checkin_qr_text(rc: RenderContext, code: str) -> str:
    """What a check-in QR encodes: the bot's check-in link for ``code`` (a ticket code, or the order code of an
    order paid on site), opened by the organiser's phone camera (:mod:`handlers.organiser.checkin`); the bare code
    when the bot's username is not known."""
    me = await rc.bot.me() if rc.bot is not None else None
    return checkin_link(me.username, code) if me is not None and me.username else code


async def on_site_confirmed(rc: RenderContext, view: OrderView, tr: Translator, texts: list[str]) -> Rendered:
    """A confirmed order paid on site has no ticket: its confirmation carries the check-in QR of its order code
    (the first of ``texts`` that fits a photo's caption with the line saying what the QR is for; none fits: the
    message goes without it, as before)."""
    show = "🎫 " + tr.gettext("Show this QR image at the meeting point: the organiser checks you in with it.")
    # confirmed at once: the card shown at booking already says so (a redraw would be "message is not modified"),
    # and no organiser was asked
    markup, after_send = order_kb(view, tr), None if rc.payload.get("instant") else disarm_requests(rc, view)
    for text in texts:
        caption = f"{text}\n{show}"
        if len(caption.encode("utf-16-le")) // 2 <= CAPTION_LIMIT:  # as Telegram counts; tags make it generous
            photo = rc.qr_image(await checkin_qr_text(rc, view.order.code))
            name = f"checkin-{view.order.code}.png"
            return Rendered(caption, markup, photo=photo, photo_name=name, after_send=after_send)
    return Rendered(texts[0], markup, after_send=after_send)


def confirmed_text(view: OrderView, tr: Translator, extras: OrganiserExtras | None = None) -> str:
    """The tourist's "confirmed" message: what to pay by when — or, redrawn after the payment, that it is paid.
    With the organiser's ``extras``, their own confirmation text opens it and their "what to bring" note follows
    the meeting point."""
    _ = tr.gettext
    code = format_order_code(view.order.code)
    opening = own_text(extras, TextKind.CONFIRMATION, view, tr) if extras else None
    lines = [opening or "✅ " + _("Your booking <b>{code}</b> is confirmed!").format(code=code), *summary(view, tr)]
    if meeting_point := localized(view.event.meeting_point, tr.language):
        lines.append("📍 " + html.quote(meeting_point))
    if extras:
        lines += bring_line(extras, view, tr)
    amount = tr.money(view.order.total_minor, view.order.currency)
    if view.order.payment is PaymentStatus.PAID:
        lines += ["", "✅ " + _("Paid: {amount}. Your ticket is below.").format(amount=amount)]
    elif view.order.pay_by is not None:
        when = tr.zoned(view.order.pay_by, view.region.timezone)
        lines += ["", _("Please pay {amount} by {time}.").format(amount=amount, time=when)]
    else:
        lines += ["", _("Pay at the meeting point: {amount}. Please come a few minutes early.").format(amount=amount)]
    return "\n".join(lines)


@renders(OutboxKind.ORDER_DECLINED)
async def order_declined(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    tr = tourist_tr(view, rc.i18n)
    _ = tr.gettext
    code = format_order_code(view.order.code)
    lines = [
        "😔 " + _("Sorry, the organiser could not accept your booking <b>{code}</b>.").format(code=code),
        *summary(view, tr),
    ]
    if reason := rc.payload.get("reason"):
        lines.append(_("The organiser says: {reason}").format(reason=f"<i>{html.quote(str(reason))}</i>"))
    lines += ["", _("Nothing to pay. Other dates of this event may suit you:")]
    other_dates = button("🗓 " + _("Other dates"), BelowCb(to=Below.EVENT, id=view.event.id))
    markup = InlineKeyboardMarkup(inline_keyboard=[[other_dates]])
    return Rendered("\n".join(lines), markup, after_send=disarm_requests(rc, view))
