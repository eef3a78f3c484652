"""What organisers ask of the operators from their own screens (issue 14): cancelling a session, as one card per
session in the operator chat with the affected orders and the desk's ``/session … cancel`` command ready to send (that
flow, handlers/operator/sessions.py, cancels, makes refunds due and tells the tourists and the organiser)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import html

from domain.model.catalog import SessionStatus, localized
from domain.model.messages import OutboxKind
from domain.model.orders import format_order_code
from domain.use_cases.organiser_sessions import CancelReason
from handlers.notifications import RenderContext, Rendered, renders
from handlers.read_models import read_session
from handlers.status_words import operator_booking_words, operator_payment_words
from handlers.ui import Translator, cut

ORDERS_SHOWN = 15  # order lines on the card; the rest are counted


def reason_words(tr: Translator, reason: str, text: str | None) -> str:
    """The reason as the operators read it (and as the command passes it on to the tourists)."""
    if reason == CancelReason.WEATHER.value:
        return tr.gettext("bad weather")
    if reason == CancelReason.BREAKDOWN.value:
        return tr.gettext("a breakdown")
    return text or ""


@renders(OutboxKind.SESSION_CANCEL_REQUEST)
async def session_cancel_request(rc: RenderContext) -> Rendered | None:
    session_id = int(rc.payload["session_id"])
    async with rc.uow:
        around = await read_session(rc.uow, session_id)
        orders = list(await rc.uow.reminders.session_orders(session_id)) if around else []
    if around is None or around.session.status is SessionStatus.CANCELLED:
        return None  # cancelled meanwhile (or gone): nothing left to ask
    tr = rc.i18n.translator(None)
    _ = tr.gettext
    session, event, region = around.session, around.event, around.region
    reason = reason_words(tr, str(rc.payload.get("reason", "")), rc.payload.get("text"))
    paid = sum(1 for o in orders if o.money_held)
    lines = [
        "🆘 <b>" + _("An organiser asks to cancel a session") + "</b>",
        _("{organiser} asks to cancel:").format(organiser=html.quote(around.organiser.name)),
        f"<b>{html.quote(localized(event.title, tr.language))}</b> · {tr.zoned(session.starts_at, region.timezone)}",
        _("Reason: {reason}").format(reason=f"<i>{html.quote(reason)}</i>" if reason else "—"),
        "",
        tr.ngettext("{n} active order", "{n} active orders", len(orders)).format(n=len(orders))
        + " · "
        + tr.ngettext("{n} paid: a refund becomes due", "{n} paid: refunds become due", paid).format(n=paid),
    ]
    for order in orders[:ORDERS_SHOWN]:
        tickets = tr.ngettext("{n} seat", "{n} seats", order.seats).format(n=order.seats)
        state = f"{operator_booking_words(tr, order.booking)}, {operator_payment_words(tr, order.payment)}"
        lines.append(f"• <code>{format_order_code(order.code)}</code> · {tickets} · {html.quote(state)}")
    if len(orders) > ORDERS_SHOWN:
        more = len(orders) - ORDERS_SHOWN
        lines.append(tr.ngettext("… and {n} more", "… and {n} more", more).format(n=more))
    local = session.starts_at.astimezone(ZoneInfo(region.timezone)).strftime("%Y-%m-%d %H:%M")
    command = f"/session {event.code} {local} cancel {cut(reason, 200)}".rstrip()
    lines += [
        "",
        _("To cancel it (refunds due, tourists told and offered other dates, the organiser told), send:"),
        f"<code>{html.quote(command)}</code>",
    ]
    return Rendered("\n".join(lines))
