"""The invoice and the ticket for tourists."""

from __future__ import annotations

import logging

from aiogram import html
from aiogram.types import LabeledPrice

from domain.model.catalog import localized
from domain.model.checkin import checkin_link
from domain.model.messages import OutboxKind
from domain.model.orders import BookingStatus, PaymentStatus, TicketStatus, format_order_code
from domain.model.payments import invoice_payload
from handlers.notifications import AfterSend, Invoice, RenderContext, Rendered, renders
from handlers.notifications.booking import confirmed_text
from handlers.notifications.own_texts import extras_of
from handlers.notifications.parts import (
    edit_sent,
    order_kb,
    payload_order,
    redraw_order_cards,
    summary,
    tourist_tr,
)
from handlers.notifications.reminders import refresh_participants
from handlers.read_models import OrderView
from handlers.tourist.copy_code import with_copy_code
from handlers.tourist.labels import ticket_type_name
from handlers.ui import Translator, cut

log = logging.getLogger(__name__)

# sendInvoice limits (Bot API): title 1-32 characters, description 1-255, a price's label up to 64.
TITLE_LIMIT = 32
DESCRIPTION_LIMIT = 255
PRICE_LABEL_LIMIT = 64


# ---- the invoice ---------------------------------------------------------------------------------------------------


def invoice_prices(view: OrderView, tr: Translator) -> list[LabeledPrice]:
    """One line per ticket type at its list price, and the partner-hotel discount, the discount code and the loyalty
    points each as a negative line (the Bot API's price breakdown lists discounts among its components): the lines
    sum to exactly the order's total."""
    order = view.order
    prices = [
        LabeledPrice(label=f"{ticket_type_name(i.ticket_type, tr)} × {i.quantity}", amount=i.total_minor)
        for i in order.items
    ]
    checkout = order.code_discount_minor + order.points_used  # issue 15: taken off after the hotel's discount
    if discount := order.subtotal_minor - order.total_minor - checkout:
        label = tr.gettext("Hotel discount ({percent}%)").format(percent=order.discount_percent)
        prices.append(LabeledPrice(label=label, amount=-discount))
    if order.code_discount_minor and order.discount_code:
        label = cut(tr.gettext("Discount code {code}").format(code=order.discount_code), PRICE_LABEL_LIMIT)
        prices.append(LabeledPrice(label=label, amount=-order.code_discount_minor))
    if order.points_used:
        label = tr.gettext("Loyalty points ({points})").format(points=tr.number(order.points_used))
        prices.append(LabeledPrice(label=label, amount=-order.points_used))
    if sum(p.amount for p in prices) != order.total_minor:  # the order's own numbers disagree: charge the total
        title = cut(localized(view.event.title, tr.language), PRICE_LABEL_LIMIT)
        prices = [LabeledPrice(label=title, amount=order.total_minor)]
    return prices


@renders(OutboxKind.INVOICE)
async def invoice(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    order = view.order
    if order.booking is not BookingStatus.CONFIRMED or order.payment is not PaymentStatus.AWAITING:
        return None  # paid, expired or cancelled since: no stale invoice
    if order.total_minor <= 0 or not rc.options.get("payment_provider_token"):
        log.warning(
            "order %s: no invoice (total %s, provider token set: %s)",
            order.id,
            order.total_minor,
            bool(rc.options.get("payment_provider_token")),
        )
        return None
    tr = tourist_tr(view, rc.i18n)
    _ = tr.gettext
    region = localized(view.region.name, tr.language)
    lines = [f"{tr.zoned(view.session.starts_at, view.region.timezone)} ({region})"]
    if meeting_point := localized(view.event.meeting_point, tr.language):
        lines.append(_("Meeting point: {place}").format(place=meeting_point))
    if order.pay_by is not None:
        lines.append(
            _("Order {code}: please pay by {time}").format(
                code=format_order_code(order.code), time=tr.zoned(order.pay_by, view.region.timezone)
            )
        )
    return Rendered(
        text="",
        invoice=Invoice(
            title=cut(localized(view.event.title, tr.language), TITLE_LIMIT),
            description=cut("\n".join(lines), DESCRIPTION_LIMIT),
            payload=invoice_payload(view.id),
            currency=order.currency,
            prices=invoice_prices(view, tr),
        ),
    )


# ---- the ticket ----------------------------------------------------------------------------------------------------


@renders(OutboxKind.TICKET)
async def ticket(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    order = view.order
    if order.ticket is not TicketStatus.ISSUED or not order.ticket_code:
        return None  # voided (cancelled) before we got to send it
    tr = tourist_tr(view, rc.i18n)
    _ = tr.gettext
    lines = [
        "🎫 <b>" + _("Your ticket") + "</b>",
        f"<code>{html.quote(order.ticket_code)}</code>",
        "",
        *summary(view, tr),
    ]
    if meeting_point := localized(view.event.meeting_point, tr.language):
        lines.append("📍 " + _("Meeting point: {place}").format(place=html.quote(meeting_point)))
    lines += [
        "",
        "✅ "
        + _("Order {code} is paid: {amount}.").format(
            code=format_order_code(order.code), amount=tr.money(order.total_minor, order.currency)
        ),
        _("Show this code or the QR image at the meeting point. Please come a few minutes early."),
    ]
    return Rendered(
        "\n".join(lines),
        with_copy_code(order_kb(view, tr), order.ticket_code, tr),
        photo=rc.qr_image(await ticket_qr_text(rc, order.ticket_code)),
        photo_name=f"ticket-{order.ticket_code}.png",
        after_send=redraw_after_payment(rc, view),
    )


async def ticket_qr_text(rc: RenderContext, ticket_code: str) -> str:
    """What the ticket's QR encodes: the bot's check-in link for it (the organiser's phone camera opens the ticket in
    the bot, :mod:`handlers.organiser.checkin`); the bare code when the bot's username is not known."""
    me = await rc.bot.me() if rc.bot is not None else None
    return checkin_link(me.username, ticket_code) if me is not None and me.username else ticket_code


def redraw_after_payment(rc: RenderContext, view: OrderView) -> AfterSend:
    """Once the ticket is out, the messages that still asked for the money are redrawn: the tourist's "confirmed,
    please pay", the order card shown when booking and the organiser's participant lists of the session."""

    async def redraw(_message_id: int) -> None:
        tr = tourist_tr(view, rc.i18n)
        key = f"{OutboxKind.ORDER_CONFIRMED.value}:{view.id}"
        await edit_sent(rc, key, confirmed_text(view, tr, await extras_of(rc.uow, view)), order_kb(view, tr))
        await redraw_order_cards(rc, view)
        await refresh_participants(rc, view.session.id)

    return redraw
