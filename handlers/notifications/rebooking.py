"""Rebooking by oneself (domain/use_cases/rebooking.py): the invoice for a dearer date's difference, and the
organiser told that a guest moved their booking to another date, in the organiser's language."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram.types import LabeledPrice

from domain.errors import DomainError
from domain.model.catalog import localized
from domain.model.messages import OutboxKind
from domain.model.orders import BookingStatus, format_order_code
from domain.rules.rebooking import MoneyChange, difference_payload
from domain.use_cases.rebooking import quote_rebooking
from handlers.notifications import Invoice, RenderContext, Rendered, renders
from handlers.notifications.parts import organiser_tr, payload_order, summary, tourist_tr
from handlers.notifications.payments import DESCRIPTION_LIMIT, PRICE_LABEL_LIMIT, TITLE_LIMIT
from handlers.ui import cut


@renders(OutboxKind.REBOOK_INVOICE)
async def rebook_invoice(rc: RenderContext) -> Rendered | None:
    """The invoice for the difference, priced at send time; none when the date can no longer be had for a payment
    (it filled up, the order changed, the price is no longer dearer) or no provider is configured."""
    if (view := await payload_order(rc)) is None or view.order.user_id is None:
        return None
    session_id = rc.payload.get("session_id")
    if not isinstance(session_id, int) or not rc.options.get("payment_provider_token"):
        return None
    now = rc.now or datetime.now(UTC)
    try:
        quote = await quote_rebooking(rc.uow, view.order.user_id, view.id, session_id, now)
    except DomainError:
        return None  # the tourist sees why on the order card; an invoice that cannot be paid is not sent
    if quote.money is not MoneyChange.PAY_FIRST:
        return None
    tr = tourist_tr(view, rc.i18n)
    _ = tr.gettext
    zone = view.region.timezone
    lines = [
        _("New date for order {code}: {time}").format(
            code=format_order_code(view.order.code), time=tr.zoned(quote.target.starts_at, zone)
        ),
        _("It was: {time}").format(time=tr.zoned(quote.session.starts_at, zone)),
        _("Your booking moves as soon as this is paid."),
    ]
    label = cut(_("Price difference for the new date"), PRICE_LABEL_LIMIT)
    return Rendered(
        text="",
        invoice=Invoice(
            title=cut(localized(view.event.title, tr.language), TITLE_LIMIT),
            description=cut("\n".join(lines), DESCRIPTION_LIMIT),
            payload=difference_payload(view.id, session_id),
            currency=view.order.currency,
            prices=[LabeledPrice(label=label, amount=quote.difference_minor)],
        ),
    )


@renders(OutboxKind.ORGANISER_REBOOKED)
async def organiser_rebooked(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    tr = organiser_tr(view, rc.i18n)
    _ = tr.gettext
    lines = [
        "🗓 "
        + _("The guest moved booking <b>{code}</b> to another date.").format(code=format_order_code(view.order.code))
    ]
    from_session = rc.payload.get("from_session_id")
    if isinstance(from_session, int):
        async with rc.uow.read():
            old = await rc.uow.catalog.session(from_session)
        if old is not None:
            lines.append(_("It was: {time}").format(time=tr.zoned(old.starts_at, view.region.timezone)))
    lines += ["", *summary(view, tr)]
    if view.order.booking is BookingStatus.AWAITING_ORGANISER:
        lines += ["", _("The booking still waits for your answer, now for the new date.")]
    return Rendered("\n".join(lines))
