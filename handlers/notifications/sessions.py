"""Sessions, from the operators' tools: a cancelled session told to its tourists (with the event's other dates) and
to its organiser, and a session an operator suggests to a tourist (the event card with a Book button)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from domain.model.catalog import localized
from domain.model.messages import OutboxKind
from domain.model.orders import PaymentStatus, format_order_code
from handlers.notifications import RenderContext, Rendered, renders
from handlers.notifications.parts import cards_redrawn, payload_order, summary, tourist_tr
from handlers.read_models import load_session, read_session
from handlers.tourist.browse import event_card, event_card_text
from handlers.tourist.callbacks import Below, BelowCb
from handlers.ui import button

OTHER_DATES = 5  # session buttons under the "cancelled" message


def _now(rc: RenderContext) -> datetime:
    return rc.now or datetime.now(UTC)


@renders(OutboxKind.SESSION_CANCELLED)
async def session_cancelled(rc: RenderContext) -> Rendered | None:
    if (view := await payload_order(rc)) is None:
        return None
    tr = tourist_tr(view, rc.i18n)
    _ = tr.gettext
    now = _now(rc)
    async with rc.uow:
        others = [
            s
            for s in await rc.uow.catalog.upcoming_sessions(view.event.id, now, OTHER_DATES * 2)
            if s.id != view.session.id and s.bookable(now) and s.seats_left > 0
        ][:OTHER_DATES]
    code = format_order_code(view.order.code)
    lines = [
        "🚫 "
        + _("We are sorry: this session has been cancelled, and your booking <b>{code}</b> with it.").format(code=code),
        *summary(view, tr),
    ]
    if reason := rc.payload.get("reason"):
        lines.append(_("Reason: {reason}").format(reason=f"<i>{html.quote(str(reason))}</i>"))
    lines.append("")
    if view.order.payment is PaymentStatus.REFUND_DUE:
        lines.append(
            _("Refund due: our team will return {amount}. We will message you here when it is done.").format(
                amount=tr.money(view.order.total_minor, view.order.currency)
            )
        )
    else:
        lines.append(_("Nothing to pay."))
    rows: list[list[InlineKeyboardButton]] = []
    if others:
        lines.append(_("Other dates of this event may suit you:"))
        rows += [
            [
                button(
                    f"🗓 {tr.datetime(s.starts_at, view.region.timezone)} · {s.seats_left}",
                    BelowCb(to=Below.BOOK, id=s.id),
                )
            ]
            for s in others
        ]
        rows.append([button("🗺 " + _("Open the event"), BelowCb(to=Below.EVENT, id=view.event.id))])
    else:
        lines.append(_("Have a look at our other events:"))
        rows.append([button("🗺 " + _("Events"), BelowCb(to=Below.EVENTS))])
    return Rendered("\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows), after_send=cards_redrawn(rc, view))


@renders(OutboxKind.SESSION_CANCELLED_ORGANISER)
async def session_cancelled_organiser(rc: RenderContext) -> Rendered | None:
    if (around := await load_session(rc.uow, int(rc.payload["session_id"]))) is None:
        return None
    tr = rc.i18n.translator(around.organiser.language)
    _ = tr.gettext
    orders = int(rc.payload.get("orders", 0))
    lines = [
        "🚫 " + _("Our team cancelled this session:"),
        f"<b>{html.quote(localized(around.event.title, tr.language))}</b>",
        f"🗓 {tr.zoned(around.session.starts_at, around.region.timezone)}",
        tr.ngettext(
            "{n} booking on it was cancelled; the tourist has been told.",
            "{n} bookings on it were cancelled; the tourists have been told.",
            orders,
        ).format(n=orders),
    ]
    if reason := rc.payload.get("reason"):
        lines.append(_("Reason: {reason}").format(reason=f"<i>{html.quote(str(reason))}</i>"))
    return Rendered("\n".join(lines))


@renders(OutboxKind.EVENT_SUGGESTION)
async def event_suggestion(rc: RenderContext) -> Rendered | None:
    now = _now(rc)
    async with rc.uow:
        user = await rc.uow.users.get(rc.chat_id)
        around = await read_session(rc.uow, int(rc.payload["session_id"]))
    if user is None or around is None:
        return None  # the tourist asked us to forget them, or the event left the catalog
    session, event, region = around.session, around.event, around.region
    tr = rc.i18n.translator(user.language)
    _ = tr.gettext
    head = "💡 " + _("Our team suggests this for you:")
    if not session.bookable(now) or session.seats_left <= 0:
        # gone meanwhile: the event with whatever dates it has now
        text, markup = await event_card(rc.uow, event.id, tr, now)
        return Rendered(head + "\n\n" + text, markup)
    rows = [
        [
            button(
                "🎟 " + _("Book: {time}").format(time=tr.datetime(session.starts_at, region.timezone)),
                BelowCb(to=Below.BOOK, id=session.id),
            )
        ],
        [button("🗓 " + _("Other dates"), BelowCb(to=Below.EVENT, id=event.id))],
    ]
    text = head + "\n\n" + event_card_text(event, region, [session], tr)
    return Rendered(text, InlineKeyboardMarkup(inline_keyboard=rows))
