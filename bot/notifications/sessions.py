"""Sessions, from the operators' tools: a cancelled session told to its tourists (with the event's other dates) and
to its organiser, and a session an operator suggests to a tourist (the event card with a Book button)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.notifications import RenderContext, Rendered, renders
from bot.notifications.booking import load_order_context
from domain.model.catalog import localized
from domain.model.messages import OutboxKind
from domain.model.orders import PaymentStatus, format_order_code
from handlers.tourist.browse import event_card, event_card_text
from handlers.tourist.callbacks import BookAction, BookCb, EventCb, MenuAction, MenuCb

OTHER_DATES = 5  # session buttons under the "cancelled" message


def _e(text: str) -> str:
    return escape(text, quote=False)


def _button(text: str, data: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())  # type: ignore[attr-defined]


def _now(rc: RenderContext) -> datetime:
    return rc.now or datetime.now(UTC)


@renders(OutboxKind.SESSION_CANCELLED)
async def session_cancelled(rc: RenderContext) -> Rendered | None:
    if (ctx := await load_order_context(rc.uow, int(rc.payload["order_id"]))) is None:
        return None
    tr = ctx.tourist_tr(rc.i18n)
    _ = tr.gettext
    now = _now(rc)
    async with rc.uow:
        others = [
            s
            for s in await rc.uow.catalog.upcoming_sessions(ctx.event.id, now, OTHER_DATES * 2)
            if s.id != ctx.session.id and s.bookable(now) and s.seats_left > 0
        ][:OTHER_DATES]
    code = format_order_code(ctx.order.code)
    lines = [
        "🚫 "
        + _("We are sorry: this session has been cancelled, and your booking <b>{code}</b> with it.").format(code=code),
        *ctx.summary(tr),
    ]
    if reason := rc.payload.get("reason"):
        lines.append(_("Reason: {reason}").format(reason=f"<i>{_e(str(reason))}</i>"))
    lines.append("")
    if ctx.order.payment is PaymentStatus.REFUND_DUE:
        lines.append(
            _("Refund due: our team will return {amount}. We will message you here when it is done.").format(
                amount=tr.money(ctx.order.total_minor, ctx.order.currency)
            )
        )
    else:
        lines.append(_("Nothing to pay."))
    rows = []
    if others:
        lines.append(_("Other dates of this event may suit you:"))
        rows += [
            [
                _button(
                    f"🗓 {tr.datetime(s.starts_at, ctx.region.timezone)} · {s.seats_left}",
                    BookCb(action=BookAction.START, session=s.id),
                )
            ]
            for s in others
        ]
        rows.append([_button("🗺 " + _("Open the event"), EventCb(event=ctx.event.id))])
    else:
        lines.append(_("Have a look at our other events:"))
        rows.append([_button("🗺 " + _("Events"), MenuCb(action=MenuAction.EVENTS))])
    return Rendered("\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows))


@renders(OutboxKind.SESSION_CANCELLED_ORGANISER)
async def session_cancelled_organiser(rc: RenderContext) -> Rendered | None:
    async with rc.uow:
        session = await rc.uow.catalog.session(int(rc.payload["session_id"]))
        event = await rc.uow.catalog.event(session.event_id) if session else None
        region = await rc.uow.catalog.region(event.region_id) if event else None
        organiser = await rc.uow.catalog.organiser(event.organiser_id) if event else None
    if session is None or event is None or region is None or organiser is None:
        return None
    tr = rc.i18n.translator(organiser.language if organiser.language in rc.i18n.languages else None)
    _ = tr.gettext
    orders = int(rc.payload.get("orders", 0))
    lines = [
        "🚫 " + _("Our team cancelled this session:"),
        f"<b>{_e(localized(event.title, tr.language))}</b>",
        f"🗓 {tr.datetime(session.starts_at, region.timezone)}",
        tr.ngettext(
            "{n} booking on it was cancelled; the tourist has been told.",
            "{n} bookings on it were cancelled; the tourists have been told.",
            orders,
        ).format(n=orders),
    ]
    if reason := rc.payload.get("reason"):
        lines.append(_("Reason: {reason}").format(reason=f"<i>{_e(str(reason))}</i>"))
    return Rendered("\n".join(lines))


@renders(OutboxKind.EVENT_SUGGESTION)
async def event_suggestion(rc: RenderContext) -> Rendered | None:
    now = _now(rc)
    async with rc.uow:
        user = await rc.uow.users.get(rc.chat_id)
        session = await rc.uow.catalog.session(int(rc.payload["session_id"]))
        event = await rc.uow.catalog.event(session.event_id) if session else None
        region = await rc.uow.catalog.region(event.region_id) if event else None
    if user is None or event is None or region is None:
        return None  # the tourist asked us to forget them, or the event left the catalog
    tr = rc.i18n.translator(user.language)
    _ = tr.gettext
    head = "💡 " + _("Our team suggests this for you:")
    if session is None or not session.bookable(now) or session.seats_left <= 0:
        # gone meanwhile: the event with whatever dates it has now
        text, markup = await event_card(rc.uow, event.id, tr, now)
        return Rendered(head + "\n\n" + text, markup)
    rows = [
        [
            _button(
                "🎟 " + _("Book: {time}").format(time=tr.datetime(session.starts_at, region.timezone)),
                BookCb(action=BookAction.START, session=session.id),
            )
        ],
        [_button("🗓 " + _("Other dates"), EventCb(event=event.id))],
    ]
    text = head + "\n\n" + event_card_text(event, region, [session], tr)
    return Rendered(text, InlineKeyboardMarkup(inline_keyboard=rows))
