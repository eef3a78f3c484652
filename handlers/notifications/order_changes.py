"""What the tourist and the organiser hear when an operator changes an order (domain/use_cases/order_changes.py).

Rendered at send time in the recipient's language from the order as it is then; what the message is about (the
session it left, the amount refunded, the old ticket code) comes from the payload.
"""

from __future__ import annotations

from aiogram import html
from aiogram.types import InlineKeyboardMarkup

from domain.model.catalog import localized
from domain.model.messages import OutboxKind
from domain.model.orders import BookingStatus, PaymentStatus, format_order_code
from domain.use_cases import order_changes as oc
from handlers.notifications import RenderContext, Rendered, renders
from handlers.notifications.parts import cards_redrawn, order_kb, organiser_tr, payload_order, summary, tourist_tr
from handlers.read_models import OrderView
from handlers.tourist.callbacks import EventCb
from handlers.ui import Translator, button


async def _old_time(rc: RenderContext, view: OrderView, tr: Translator) -> str | None:
    session_id = rc.payload.get("from_session_id")
    if not isinstance(session_id, int):
        return None
    async with rc.uow:
        session = await rc.uow.catalog.session(session_id)
    return tr.zoned(session.starts_at, view.region.timezone) if session else None


def _refund_line(tr: Translator, amount_minor: object, currency: str) -> str | None:
    if isinstance(amount_minor, int) and amount_minor > 0:
        return "💶 " + tr.gettext(
            "The difference of {amount} will be refunded to you; we will message you here."
        ).format(amount=tr.money(amount_minor, currency))
    return None


def _reason_line(tr: Translator, reason: object) -> str:
    return tr.gettext("Reason: {reason}").format(reason=f"<i>{html.quote(str(reason))}</i>")


@renders(OutboxKind.ORDER_CHANGED)
async def order_changed(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    tr = tourist_tr(view, rc.i18n)
    _ = tr.gettext
    order = view.order
    code = format_order_code(order.code)
    change = rc.payload.get("change")
    markup: InlineKeyboardMarkup | None = order_kb(view, tr)
    new_invoice = order.booking is BookingStatus.CONFIRMED and order.payment is PaymentStatus.AWAITING
    if change == oc.SESSION:
        lines = ["🗓 " + _("Our team moved your booking <b>{code}</b> to another session.").format(code=code)]
        if old := await _old_time(rc, view, tr):
            lines.append(_("It was: {time}").format(time=old))
        lines += ["", *summary(view, tr)]
        if meeting_point := localized(view.event.meeting_point, tr.language):
            lines.append("📍 " + html.quote(meeting_point))
        if order.ticket_code:
            lines.append(_("Your ticket stays valid."))
    elif change == oc.QUANTITIES:
        lines = [
            "🎟 " + _("Our team changed the tickets of your booking <b>{code}</b>.").format(code=code),
            *summary(view, tr),
        ]
        if line := _refund_line(tr, rc.payload.get("refund_due_minor"), order.currency):
            lines.append(line)
        if new_invoice:
            lines.append(_("Please use the new invoice: the old one is no longer valid."))
    elif change == oc.HOTEL:
        if view.hotel is not None:
            head = _("Our team set your hotel for booking <b>{code}</b>: {hotel}.").format(
                code=code, hotel=html.quote(view.hotel.name)
            )
        else:
            head = _("Our team removed the hotel from your booking <b>{code}</b>.").format(code=code)
        lines = ["🏨 " + head, *summary(view, tr)]
        if order.discount_percent:
            lines.append(_("Hotel discount: {percent}%").format(percent=order.discount_percent))
        if line := _refund_line(tr, rc.payload.get("refund_due_minor"), order.currency):
            lines.append(line)
        if new_invoice:
            lines.append(_("Please use the new invoice: the old one is no longer valid."))
    elif change == oc.TICKET:
        old = rc.payload.get("old_ticket_code")
        lines = ["🎫 " + _("Your ticket for booking <b>{code}</b> was replaced.").format(code=code)]
        if isinstance(old, str):
            lines.append(
                _("The old code {ticket} no longer works; your new ticket follows.").format(
                    ticket=f"<code>{html.quote(old)}</code>"
                )
            )
        markup = None
    elif change == oc.CANCELLED:
        lines = ["🚫 " + _("Our team cancelled your booking <b>{code}</b>.").format(code=code), *summary(view, tr)]
        if reason := rc.payload.get("reason"):
            lines.append(_reason_line(tr, reason))
        refunded = rc.payload.get("refunded_minor")
        lines.append("")
        if isinstance(refunded, int) and refunded > 0:
            lines.append(_("We have refunded {amount} to you.").format(amount=tr.money(refunded, order.currency)))
        elif order.payment is PaymentStatus.REFUND_DUE:
            lines.append(
                _("Your payment of {amount} will be refunded; we will message you here when it is done.").format(
                    amount=tr.money(order.total_minor, order.currency)
                )
            )
        else:
            lines.append(_("Nothing to pay."))
        lines.append(_("Other dates of this event may suit you:"))
        markup = InlineKeyboardMarkup(inline_keyboard=[[button("🗓 " + _("Other dates"), EventCb(event=view.event.id))]])
    else:
        return None
    return Rendered("\n".join(lines), markup, after_send=cards_redrawn(rc, view))


@renders(OutboxKind.ORDER_REFUNDED)
async def order_refunded(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    tr = tourist_tr(view, rc.i18n)
    _ = tr.gettext
    amount = rc.payload.get("amount_minor")
    if not isinstance(amount, int) or amount <= 0:
        return None
    currency = str(rc.payload.get("currency") or view.order.currency)
    lines = [
        "💶 "
        + _("We have refunded {amount} for your booking <b>{code}</b>.").format(
            amount=tr.money(amount, currency), code=format_order_code(view.order.code)
        ),
        _("Depending on your bank it may take a few days to show on your account."),
    ]
    return Rendered("\n".join(lines), order_kb(view, tr), after_send=cards_redrawn(rc, view))


@renders(OutboxKind.TOURIST_NUDGE)
async def tourist_nudge(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    tr = tourist_tr(view, rc.i18n)
    _ = tr.gettext
    order = view.order
    what = oc.nudge_topic(order, view.session, rc.now) if rc.now else rc.payload.get("what")
    code = format_order_code(order.code)
    amount = tr.money(order.total_minor, order.currency)
    if what == oc.PAY:
        head = _("A reminder: your booking <b>{code}</b> is waiting for your payment of {amount}.").format(
            code=code, amount=amount
        )
        after = _("The invoice follows; please pay soon, otherwise the seats go back on sale.")
    elif what == oc.PAY_ON_SITE:
        head = _("A reminder about your booking <b>{code}</b>.").format(code=code)
        after = _("Pay at the meeting point: {amount}. Please come a few minutes early.").format(amount=amount)
    elif what == oc.ATTEND:
        head = _("A reminder about your booking <b>{code}</b>.").format(code=code)
        after = _("Show your ticket at the meeting point. Please come a few minutes early.")
    else:
        return None  # nothing left to do: paid, cancelled or over meanwhile
    lines = ["⏰ " + head, *summary(view, tr)]
    if meeting_point := localized(view.event.meeting_point, tr.language):
        lines.append("📍 " + html.quote(meeting_point))
    lines += ["", after]
    return Rendered("\n".join(lines), order_kb(view, tr))


@renders(OutboxKind.ORGANISER_ORDER_CHANGED)
async def organiser_order_changed(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    tr = organiser_tr(view, rc.i18n)
    _ = tr.gettext
    code = format_order_code(view.order.code)
    change = rc.payload.get("change")
    reason = rc.payload.get("reason")
    if change == oc.CONFIRMED:
        head = "✅ " + _("Our team confirmed booking <b>{code}</b> on your behalf.").format(code=code)
    elif change == oc.DECLINED:
        head = "❌ " + _("Our team declined booking <b>{code}</b> on your behalf.").format(code=code)
    elif change == oc.CANCELLED:
        head = "🚫 " + _("Our team cancelled booking <b>{code}</b>; the seats are free again.").format(code=code)
    elif change == oc.SESSION:
        head = "🗓 " + _("Our team moved booking <b>{code}</b> to another session.").format(code=code)
        if old := await _old_time(rc, view, tr):
            head += "\n" + _("It was: {time}").format(time=old)
    elif change == oc.QUANTITIES:
        head = "🎟 " + _("Our team changed the tickets of booking <b>{code}</b>.").format(code=code)
    else:
        return None
    lines = [head, *summary(view, tr)]
    if reason:
        lines.append(_reason_line(tr, reason))
    return Rendered("\n".join(lines))
