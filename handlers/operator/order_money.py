"""The ``/order`` card's money: cancel the order (with the money returned, or the refund left due) and record a
refund (everything owed, or an amount the operator types).

Telegram cannot refund a card payment itself: the operator returns the money in the payment provider's dashboard
and these buttons only record that they did.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message

from domain.errors import DomainError, InvalidAmount
from domain.model.orders import PaymentStatus
from domain.ports import Clock, UnitOfWork
from domain.rules.money import parse_amount
from domain.use_cases import order_changes as oc
from handlers.operator.access import Operator
from handlers.operator.errors import domain_error_text
from handlers.operator.money_lines import owed_back_text
from handlers.operator.order_card import OrderDeskAction, OrderDeskCb, back_kb, order_button, order_title
from handlers.operator.order_flow import (
    OrderDeskInput,
    answer_data,
    ask,
    asked_order,
    owes_tourist,
    refresh_card,
    reply_prompt,
    show_done,
    show_typed_done,
    view_or_refuse,
)
from handlers.settings import HandlerSettings
from handlers.tourist.messaging import answer_query, show
from handlers.ui import N_, Translator

router = Router(name=__name__)

AMOUNT_TEXT_MAX = 32
NO_REFUND_API = N_(
    "Telegram cannot refund a card payment itself: return the money in the payment provider's dashboard first; "
    "this button only records that you did."
)


# ---- cancel ----------------------------------------------------------------------------------------------------------


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.CANCEL))
async def on_order_cancel(
    query: CallbackQuery,
    callback_data: OrderDeskCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    now = clock.now()
    view = await view_or_refuse(
        query,
        uow,
        callback_data.order,
        tr,
        now,
        lambda v: oc.can_cancel(v.order, v.session, v.event, now),
        zone=settings.desk_timezone,
    )
    if view is None:
        return
    _ = tr.gettext
    order = view.order
    lines = [order_title(tr, view), "", _("Cancel this order? The seats go back on sale and the tourist is told.")]
    rows: list[list[InlineKeyboardButton]] = []
    if order.money_held:
        held = order.total_minor + order.partial_refund_minor + order.stray_minor
        lines += [
            "",
            _("The tourist has paid {amount}.").format(amount=tr.money(held, order.currency)),
            _(NO_REFUND_API),
        ]
        rows.append([order_button("💶 " + _("Cancel, money returned"), OrderDeskAction.CANCEL_REFUND, view.id)])
        rows.append([order_button("⏳ " + _("Cancel, refund later"), OrderDeskAction.CANCEL_KEEP, view.id)])
    else:
        rows.append([order_button("🚫 " + _("Yes, cancel the order"), OrderDeskAction.CANCEL_KEEP, view.id)])
    await answer_query(query)
    await show(query, "\n".join(lines), back_kb(tr, view.id, *rows))


@router.callback_query(OrderDeskCb.filter(F.action.in_({OrderDeskAction.CANCEL_REFUND, OrderDeskAction.CANCEL_KEEP})))
async def on_order_cancel_confirm(
    query: CallbackQuery,
    callback_data: OrderDeskCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    operator: Operator,
    settings: HandlerSettings,
) -> None:
    now = clock.now()
    refund = callback_data.action is OrderDeskAction.CANCEL_REFUND
    try:
        order = await oc.cancel_order(uow, callback_data.order, operator.actor, now, refund=refund)
    except DomainError as error:
        await refresh_card(
            query, uow, callback_data.order, tr, now, domain_error_text(error, tr), zone=settings.desk_timezone
        )
        return
    if order.refunded_minor and refund:
        what = tr.gettext("cancelled, refund of {amount} recorded").format(
            amount=tr.money(order.refunded_minor, order.currency)
        )
    elif order.payment is PaymentStatus.REFUND_DUE:
        what = tr.gettext("cancelled, refund due")
    else:
        what = tr.gettext("cancelled")
    await show_done(query, uow, callback_data.order, tr, now, operator, what, zone=settings.desk_timezone)


# ---- refund ----------------------------------------------------------------------------------------------------------


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.REFUND))
async def on_order_refund(
    query: CallbackQuery,
    callback_data: OrderDeskCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    now = clock.now()
    view = await view_or_refuse(query, uow, callback_data.order, tr, now, owes_tourist, zone=settings.desk_timezone)
    if view is None:
        return
    _ = tr.gettext
    order = view.order
    owed = owed_back_text(order, tr)  # per currency, never added up
    lines = [order_title(tr, view), "", "💶 " + _("Owed to the tourist: {amount}").format(amount=owed)]
    if order.stray_minor:
        lines.append(
            _("of which payments that did not pay the order: {amount}").format(
                amount=tr.money(order.stray_minor, order.currency)
            )
        )
    if order.partial_refund_minor:
        lines.append(
            _("of which a partial refund: {amount}").format(amount=tr.money(order.partial_refund_minor, order.currency))
        )
    lines += ["", _(NO_REFUND_API)]
    everything = "💶 " + _("Returned everything: {amount}").format(amount=owed)
    rows = [
        [order_button(everything, OrderDeskAction.REFUND_ALL, view.id)],
        [order_button("✏️ " + _("Returned another amount"), OrderDeskAction.REFUND_AMOUNT, view.id)],
    ]
    await answer_query(query)
    await show(query, "\n".join(lines), back_kb(tr, view.id, *rows))


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.REFUND_ALL))
async def on_order_refund_all(
    query: CallbackQuery,
    callback_data: OrderDeskCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    operator: Operator,
    settings: HandlerSettings,
) -> None:
    now = clock.now()
    async with uow:
        before = await uow.orders.get(callback_data.order)
    try:
        order = await oc.record_refund(uow, callback_data.order, operator.actor, now)
    except DomainError as error:
        await refresh_card(
            query, uow, callback_data.order, tr, now, domain_error_text(error, tr), zone=settings.desk_timezone
        )
        return
    amount = order.refunded_minor - (before.refunded_minor if before else 0)
    returned = (owed_back_text(before, tr) if before else "") or tr.money(amount, order.currency)  # per currency
    what = tr.gettext("refund of {amount} recorded").format(amount=returned)
    await show_done(query, uow, callback_data.order, tr, now, operator, what, zone=settings.desk_timezone)


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.REFUND_AMOUNT))
async def on_order_refund_amount(
    query: CallbackQuery,
    callback_data: OrderDeskCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    state: FSMContext,
    settings: HandlerSettings,
) -> None:
    now = clock.now()
    view = await view_or_refuse(query, uow, callback_data.order, tr, now, owes_tourist, zone=settings.desk_timezone)
    if view is None:
        return
    _ = tr.gettext
    owed = owed_back_text(view.order, tr)
    text = "\n".join(
        [
            order_title(tr, view),
            "",
            _("Reply to this message with the amount you returned in {currency}, e.g. 12.50 (at most {owed}).").format(
                currency=view.order.currency, owed=owed
            ),
            _(NO_REFUND_API),
        ]
    )
    await ask(state, OrderDeskInput.refund_amount, view.id, query, text, back_kb(tr, view.id))


@router.message(OrderDeskInput.refund_amount, F.text, ~F.text.startswith("/"))
async def on_order_refund_typed(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    operator: Operator,
    state: FSMContext,
    settings: HandlerSettings,
) -> None:
    now = clock.now()
    data = await answer_data(message, state)
    order_id = asked_order(data)
    async with uow:
        order = await uow.orders.get(order_id)
    if order is None:
        await state.clear()
        await message.reply(tr.gettext("There is no such order."))
        return
    raw = (message.text or "").strip().replace(",", ".")
    try:
        if len(raw) > AMOUNT_TEXT_MAX:
            raise ValueError(raw)
        amount = parse_amount(raw.removesuffix(order.currency).strip(), order.currency)
    except ValueError:
        await reply_prompt(message, state, tr.gettext("That is not an amount. Reply with a number such as 12.50."))
        return
    try:
        order = await oc.record_refund(uow, order_id, operator.actor, now, amount)
    except InvalidAmount as error:
        await reply_prompt(message, state, domain_error_text(error, tr, order.currency))  # still waiting for an amount
        return
    except DomainError as error:
        await state.clear()
        await message.reply(domain_error_text(error, tr, order.currency))
        return
    what = tr.gettext("refund of {amount} recorded").format(amount=tr.money(amount, order.currency))
    await show_typed_done(message, bot, state, data, uow, tr, now, operator, what, zone=settings.desk_timezone)
