"""The invoice and the ticket for tourists, and money that could not pay an order for the operators."""

from __future__ import annotations

import io
import logging
from html import escape

import segno
from aiogram.types import LabeledPrice

from bot.i18n import Translator
from bot.notifications import Invoice, RenderContext, Rendered, renders
from bot.notifications.booking import OrderContext, load_order_context
from domain.model.catalog import localized
from domain.model.messages import OutboxKind
from domain.model.orders import (
    BookingStatus,
    PaymentStatus,
    TicketStatus,
    format_order_code,
)
from domain.model.payments import invoice_payload
from handlers.tourist.labels import ticket_type_name

log = logging.getLogger(__name__)

# sendInvoice limits (Bot API): title 1-32 characters, description 1-255.
TITLE_LIMIT = 32
DESCRIPTION_LIMIT = 255
QR_SIZE_PX = 300  # about this wide: easily scanned from a phone screen at the meeting point
QR_BORDER = 4  # the quiet zone the QR standard asks for, in modules


def _e(text: str) -> str:
    return escape(text, quote=False)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---- the invoice ---------------------------------------------------------------------------------------------------


def invoice_prices(ctx: OrderContext, tr: Translator) -> list[LabeledPrice]:
    """One line per ticket type at its list price, and the partner-hotel discount as a negative line (the Bot API's
    price breakdown lists discounts among its components): the lines sum to exactly the order's total."""
    order = ctx.order
    prices = [
        LabeledPrice(label=f"{ticket_type_name(i.ticket_type, tr)} × {i.quantity}", amount=i.total_minor)
        for i in order.items
    ]
    if discount := order.subtotal_minor - order.total_minor:
        label = tr.gettext("Hotel discount ({percent}%)").format(percent=order.discount_percent)
        prices.append(LabeledPrice(label=label, amount=-discount))
    if sum(p.amount for p in prices) != order.total_minor:  # the order's own numbers disagree: charge the total
        prices = [LabeledPrice(label=_cut(localized(ctx.event.title, tr.language), 64), amount=order.total_minor)]
    return prices


@renders(OutboxKind.INVOICE)
async def invoice(rc: RenderContext) -> Rendered | None:
    if (ctx := await load_order_context(rc.uow, int(rc.payload["order_id"]))) is None:
        return None
    order = ctx.order
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
    tr = ctx.tourist_tr(rc.i18n)
    _ = tr.gettext
    lines = [f"{tr.datetime(ctx.session.starts_at, ctx.region.timezone)} ({localized(ctx.region.name, tr.language)})"]
    if meeting_point := localized(ctx.event.meeting_point, tr.language):
        lines.append(_("Meeting point: {place}").format(place=meeting_point))
    if order.pay_by is not None:
        lines.append(
            _("Order {code}: please pay by {time}").format(
                code=format_order_code(order.code), time=tr.datetime(order.pay_by, ctx.region.timezone)
            )
        )
    return Rendered(
        text="",
        invoice=Invoice(
            title=_cut(localized(ctx.event.title, tr.language), TITLE_LIMIT),
            description=_cut("\n".join(lines), DESCRIPTION_LIMIT),
            payload=invoice_payload(order.id),
            currency=order.currency,
            prices=invoice_prices(ctx, tr),
        ),
    )


# ---- the ticket ----------------------------------------------------------------------------------------------------


def qr_png(text: str, size_px: int = QR_SIZE_PX) -> bytes:
    """A PNG of ``text`` as a QR code, about ``size_px`` wide with its quiet zone."""
    qr = segno.make_qr(text, error="m")
    modules, _height = qr.symbol_size(scale=1, border=QR_BORDER)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=max(1, round(size_px / modules)), border=QR_BORDER)
    return buffer.getvalue()


@renders(OutboxKind.TICKET)
async def ticket(rc: RenderContext) -> Rendered | None:
    if (ctx := await load_order_context(rc.uow, int(rc.payload["order_id"]))) is None:
        return None
    order = ctx.order
    if order.ticket is not TicketStatus.ISSUED or not order.ticket_code:
        return None  # voided (cancelled) before we got to send it
    tr = ctx.tourist_tr(rc.i18n)
    _ = tr.gettext
    lines = [
        "🎫 <b>" + _("Your ticket") + "</b>",
        f"<code>{_e(order.ticket_code)}</code>",
        "",
        *ctx.summary(tr),
    ]
    if meeting_point := localized(ctx.event.meeting_point, tr.language):
        lines.append("📍 " + _("Meeting point: {place}").format(place=_e(meeting_point)))
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
        ctx.order_kb(tr),
        photo=qr_png(order.ticket_code),
        photo_name=f"ticket-{order.ticket_code}.png",
    )


# ---- money that did not pay an order -----------------------------------------------------------------------------
