"""Booking requests to organisers, their outcome to tourists, unclear replies to operators (tourist questions:
:mod:`bot.notifications.questions`)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import I18n, Translator
from bot.notifications import RenderContext, Rendered, renders
from domain.model.catalog import (
    Event,
    EventSession,
    Hotel,
    Organiser,
    Region,
    localized,
)
from domain.model.messages import OutboxKind
from domain.model.orders import Order, format_order_code
from domain.model.users import User
from domain.ports import UnitOfWork
from handlers.organiser.callbacks import RequestAction, RequestCb
from handlers.tourist.callbacks import EventCb, OrderAction, OrderCb
from handlers.tourist.labels import ticket_type_name


def _e(text: str) -> str:
    return escape(text, quote=False)


def _button(text: str, data: Any) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


@dataclass(frozen=True, slots=True)
class OrderContext:
    """An order and everything around it, read in one transaction."""

    order: Order
    event: Event
    session: EventSession
    region: Region
    organiser: Organiser
    hotel: Hotel | None
    user: User | None

    def tourist_tr(self, i18n: I18n) -> Translator:
        return i18n.translator(self.user.language if self.user else self.order.language)

    def organiser_tr(self, i18n: I18n) -> Translator:
        return i18n.translator(self.organiser.language if self.organiser.language in i18n.languages else None)

    def summary(self, tr: Translator) -> list[str]:
        """Title, date and time in the region, tickets and total: the lines every message about an order has."""
        tickets = ", ".join(f"{_e(ticket_type_name(i.ticket_type, tr))} × {i.quantity}" for i in self.order.items)
        return [
            f"<b>{_e(localized(self.event.title, tr.language))}</b>",
            f"🗓 {tr.datetime(self.session.starts_at, self.region.timezone)}",
            f"🎟 {tickets} · {tr.money(self.order.total_minor, self.order.currency)}",
        ]

    def order_kb(self, tr: Translator) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [_button("🎟 " + tr.gettext("Open the order"), OrderCb(action=OrderAction.VIEW, order=self.order.id))]
            ]
        )


async def load_order_context(uow: UnitOfWork, order_id: int) -> OrderContext | None:
    async with uow:
        return await read_order_context(uow, order_id)


async def read_order_context(uow: UnitOfWork, order_id: int) -> OrderContext | None:
    """:func:`load_order_context` inside the caller's open transaction (to read more with it)."""
    order = await uow.orders.get(order_id)
    if order is None:
        return None
    event = await uow.catalog.event(order.event_id)
    session = await uow.catalog.session(order.session_id)
    region = await uow.catalog.region(event.region_id)
    organiser = await uow.catalog.organiser(event.organiser_id)
    hotel = await uow.catalog.hotel(order.hotel_id) if order.hotel_id else None
    user = await uow.users.get(order.user_id) if order.user_id else None
    return OrderContext(order, event, session, region, organiser, hotel, user)


@renders(OutboxKind.BOOKING_REQUEST)
async def booking_request(rc: RenderContext) -> Rendered | None:
    if (ctx := await load_order_context(rc.uow, int(rc.payload["order_id"]))) is None:
        return None
    tr = ctx.organiser_tr(rc.i18n)
    _ = tr.gettext
    code = format_order_code(ctx.order.code)
    lines = ["🆕 " + _("Booking request <b>{code}</b>").format(code=code), *ctx.summary(tr)]
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


@renders(OutboxKind.BOOKING_CANCELLED)
async def booking_cancelled(rc: RenderContext) -> Rendered | None:
    if (ctx := await load_order_context(rc.uow, int(rc.payload["order_id"]))) is None:
        return None
    tr = ctx.organiser_tr(rc.i18n)
    head = "🚫 " + tr.gettext("Booking <b>{code}</b> was cancelled by the tourist; the seats are free again.")
    return Rendered("\n".join([head.format(code=format_order_code(ctx.order.code)), *ctx.summary(tr)]))


@renders(OutboxKind.ORDER_CONFIRMED)
async def order_confirmed(rc: RenderContext) -> Rendered | None:
    if (ctx := await load_order_context(rc.uow, int(rc.payload["order_id"]))) is None:
        return None
    tr = ctx.tourist_tr(rc.i18n)
    _ = tr.gettext
    code = format_order_code(ctx.order.code)
    lines = ["✅ " + _("Your booking <b>{code}</b> is confirmed!").format(code=code), *ctx.summary(tr)]
    if meeting_point := localized(ctx.event.meeting_point, tr.language):
        lines.append("📍 " + _e(meeting_point))
    amount = tr.money(ctx.order.total_minor, ctx.order.currency)
    if ctx.order.pay_by is not None:
        when = tr.datetime(ctx.order.pay_by, ctx.region.timezone)
        lines += ["", _("Please pay {amount} by {time}.").format(amount=amount, time=when)]
    else:
        lines += ["", _("Pay at the meeting point: {amount}. Please come a few minutes early.").format(amount=amount)]
    return Rendered("\n".join(lines), ctx.order_kb(tr))


@renders(OutboxKind.ORDER_DECLINED)
async def order_declined(rc: RenderContext) -> Rendered | None:
    if (ctx := await load_order_context(rc.uow, int(rc.payload["order_id"]))) is None:
        return None
    tr = ctx.tourist_tr(rc.i18n)
    _ = tr.gettext
    code = format_order_code(ctx.order.code)
    lines = [
        "😔 " + _("Sorry, the organiser could not accept your booking <b>{code}</b>.").format(code=code),
        *ctx.summary(tr),
    ]
    if reason := rc.payload.get("reason"):
        lines.append(_("The organiser says: {reason}").format(reason=f"<i>{_e(reason)}</i>"))
    lines += ["", _("Nothing to pay. Other dates of this event may suit you:")]
    markup = InlineKeyboardMarkup(inline_keyboard=[[_button("🗓 " + _("Other dates"), EventCb(event=ctx.event.id))]])
    return Rendered("\n".join(lines), markup)
