"""What the outbox sends: each kind rendered at send time, in its recipient's language.

Tourists read their own language; organisers the one in the catalog; the operator group ``DEFAULT_LOCALE``.
A renderer returns None when there is nothing left to say (the order is gone): the row is then closed unsent.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import I18n, Translator
from domain.catalog import localized
from domain.messages import OutboxKind
from domain.orders import Order, format_order_code
from domain.ports import UnitOfWork
from domain.users import mask_phone
from handlers.organiser.callbacks import RequestAction, RequestCb
from handlers.tourist.callbacks import EventCb, OrderAction, OrderCb
from handlers.tourist.labels import ticket_type_name


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None


def _e(text: str) -> str:
    return escape(text, quote=False)


def _button(text: str, data: Any) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


class Renderer:
    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n

    async def render(self, uow: UnitOfWork, kind: str, chat_id: int, payload: dict[str, Any]) -> Rendered | None:
        match kind:
            case OutboxKind.BOOKING_REQUEST:
                return await self._order_message(uow, payload, self._booking_request)
            case OutboxKind.BOOKING_CANCELLED:
                return await self._order_message(uow, payload, self._booking_cancelled)
            case OutboxKind.ORDER_CONFIRMED:
                return await self._order_message(uow, payload, self._order_confirmed)
            case OutboxKind.ORDER_DECLINED:
                return await self._order_message(uow, payload, self._order_declined)
            case OutboxKind.UNCLEAR_REPLY:
                return await self._order_message(uow, payload, self._unclear_reply)
            case OutboxKind.TOURIST_QUESTION:
                return await self._tourist_question(uow, payload)
        raise ValueError(f"no renderer for outbox kind {kind!r}")

    # ---- the order and everything around it ------------------------------------------------------------------

    async def _order_message(self, uow: UnitOfWork, payload: dict[str, Any], render) -> Rendered | None:  # noqa: ANN001
        async with uow:
            order = await uow.orders.get(int(payload["order_id"]))
            if order is None:
                return None
            event = await uow.catalog.event(order.event_id)
            session = await uow.catalog.session(order.session_id)
            region = await uow.catalog.region(event.region_id)
            organiser = await uow.catalog.organiser(event.organiser_id)
            hotel = await uow.catalog.hotel(order.hotel_id) if order.hotel_id else None
            user = await uow.users.get(order.user_id) if order.user_id else None
        context = _OrderContext(order, event, session, region, organiser, hotel, user)
        return render(context, payload)

    def _tourist_tr(self, ctx: _OrderContext) -> Translator:
        return self.i18n.translator(ctx.user.language if ctx.user else ctx.order.language)

    def _organiser_tr(self, ctx: _OrderContext) -> Translator:
        language = ctx.organiser.language if ctx.organiser.language in self.i18n.languages else None
        return self.i18n.translator(language)

    def _summary(self, ctx: _OrderContext, tr: Translator) -> list[str]:
        when = tr.datetime(ctx.session.starts_at, ctx.region.timezone)
        tickets = ", ".join(
            f"{_e(ticket_type_name(i.ticket_type, tr))} × {i.quantity}" for i in ctx.order.items
        )
        return [
            f"<b>{_e(localized(ctx.event.title, tr.language))}</b>",
            f"🗓 {when}",
            f"🎟 {tickets} · {tr.money(ctx.order.total_minor, ctx.order.currency)}",
        ]

    def _booking_request(self, ctx: _OrderContext, payload: dict[str, Any]) -> Rendered:
        tr = self._organiser_tr(ctx)
        _ = tr.gettext
        code = format_order_code(ctx.order.code)
        lines = ["🆕 " + _("Booking request <b>{code}</b>").format(code=code), *self._summary(ctx, tr)]
        for question in ctx.organiser.questions:
            answer = ctx.order.answers.get(question.id)
            if not answer:
                continue
            choice = next((c for c in question.choices if c.id == answer), None)
            shown = localized(choice.text, tr.language) if choice else answer
            lines.append(f"❓ {_e(localized(question.text, tr.language))} <i>{_e(shown)}</i>")
        if ctx.hotel:
            lines.append("🏨 " + _e(ctx.hotel.name))
        lines += ["", _("Reply to this message with + to confirm, or − and a reason to decline.")]
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    _button("✅ " + _("Confirm"), RequestCb(action=RequestAction.CONFIRM, order=ctx.order.id)),
                    _button("❌ " + _("Decline"), RequestCb(action=RequestAction.DECLINE, order=ctx.order.id)),
                ]
            ]
        )
        return Rendered("\n".join(lines), markup)

    def _booking_cancelled(self, ctx: _OrderContext, payload: dict[str, Any]) -> Rendered:
        tr = self._organiser_tr(ctx)
        code = format_order_code(ctx.order.code)
        head = "🚫 " + tr.gettext("Booking <b>{code}</b> was cancelled by the tourist; the seats are free again.")
        return Rendered("\n".join([head.format(code=code), *self._summary(ctx, tr)]))

    def _order_confirmed(self, ctx: _OrderContext, payload: dict[str, Any]) -> Rendered:
        tr = self._tourist_tr(ctx)
        _ = tr.gettext
        code = format_order_code(ctx.order.code)
        lines = ["✅ " + _("Your booking <b>{code}</b> is confirmed!").format(code=code), *self._summary(ctx, tr)]
        if meeting_point := localized(ctx.event.meeting_point, tr.language):
            lines.append("📍 " + _e(meeting_point))
        amount = tr.money(ctx.order.total_minor, ctx.order.currency)
        if ctx.order.pay_by is not None:
            lines += ["", _("Please pay {amount} by {time}.").format(
                amount=amount, time=tr.datetime(ctx.order.pay_by, ctx.region.timezone))]
        else:
            lines += ["", _("Pay at the meeting point: {amount}. Please come a few minutes early.").format(amount=amount)]
        return Rendered("\n".join(lines), self._order_kb(ctx, tr))

    def _order_declined(self, ctx: _OrderContext, payload: dict[str, Any]) -> Rendered:
        tr = self._tourist_tr(ctx)
        _ = tr.gettext
        code = format_order_code(ctx.order.code)
        lines = ["😔 " + _("Sorry, the organiser could not accept your booking <b>{code}</b>.").format(code=code),
                 *self._summary(ctx, tr)]
        if reason := payload.get("reason"):
            lines.append(_("The organiser says: {reason}").format(reason=f"<i>{_e(reason)}</i>"))
        lines += ["", _("Nothing to pay. Other dates of this event may suit you:")]
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[_button("🗓 " + _("Other dates"), EventCb(event=ctx.event.id))]]
        )
        return Rendered("\n".join(lines), markup)

    def _order_kb(self, ctx: _OrderContext, tr: Translator) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            inline_keyboard=[[_button("🎟 " + tr.gettext("Open the order"),
                                      OrderCb(action=OrderAction.VIEW, order=ctx.order.id))]]
        )

    def _unclear_reply(self, ctx: _OrderContext, payload: dict[str, Any]) -> Rendered:
        tr = self.i18n.translator(None)
        _ = tr.gettext
        code = format_order_code(ctx.order.code)
        lines = [
            "⚠️ " + _("Unclear answer from {organiser} to booking request <b>{code}</b>:").format(
                organiser=_e(ctx.organiser.name), code=code),
            f"<i>{_e(str(payload.get('text', '')))}</i>",
            *self._summary(ctx, tr),
            "",
            _("Hint: call the organiser and confirm or decline the booking for them."),
        ]
        if ctx.organiser.phone:
            lines.append("📞 " + _e(ctx.organiser.phone))
        return Rendered("\n".join(lines))

    # ---- questions ----------------------------------------------------------------------------------------------

    async def _tourist_question(self, uow: UnitOfWork, payload: dict[str, Any]) -> Rendered:
        tr = self.i18n.translator(None)
        _ = tr.gettext
        user_id = int(payload["user_id"])
        async with uow:
            user = await uow.users.get(user_id)
            orders, _total = await uow.orders.for_user(user_id, 0, 5) if user else ([], 0)
        name = _e(user.first_name or "") if user else ""
        who = f'<a href="tg://user?id={user_id}">{name or user_id}</a>'
        details = [who]
        if user and user.username:
            details.append("@" + _e(user.username))
        language = payload.get("language") or (user.language if user else "")
        if language:
            details.append(tr.language_in_mine(language))
        if user and user.phone:
            details.append(mask_phone(user.phone))
        lines = ["❓ " + _("Question from a tourist"), " · ".join(details)]
        active = [format_order_code(o.code) for o in orders if o.is_active]
        if active:
            lines.append(_("Open orders: {codes}").format(codes=", ".join(active)))
        lines += ["", _e(str(payload.get("text", "")))]
        return Rendered("\n".join(lines))


@dataclass(frozen=True, slots=True)
class _OrderContext:
    order: Order
    event: Any
    session: Any
    region: Any
    organiser: Any
    hotel: Any
    user: Any
