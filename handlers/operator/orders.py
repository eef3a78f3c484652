"""``/order CODE``: the full card of any order, with the operator's edit actions; ``/audit CODE``: its history.

The card (:mod:`handlers.operator.order_card`) shows every status dimension in words, the money (paid, refunded,
owed back), the hotel, the organiser's questions' answers, the deadlines, the ticket code, the tourist and the
organiser (phones masked) and the last audit entries. Its buttons (``OrderDeskCb``, prefix ``do``) are handled by
topic: another session and the quantities (:mod:`~handlers.operator.order_session`), cancelling and refunds
(:mod:`~handlers.operator.order_money`), the hotel, the ticket and the note (:mod:`~handlers.operator.order_details`).
Every press is checked again on the server: an action that no longer applies answers with the order as it is now.
After an action the card is rendered again in place with a line saying who did what.

This module opens the card (the commands, ``VIEW`` from other desk messages), refreshes it and pages its history;
:func:`send_order_card` posts it for other desk modules.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from domain.model.orders import format_order_code, normalize_order_code
from domain.ports import Clock, UnitOfWork
from handlers.operator.order_card import OrderDeskAction, OrderDeskCb, history_screen, order_card
from handlers.operator.order_flow import leave_order_input, refresh_card
from handlers.settings import HandlerSettings
from handlers.tourist.messaging import answer_query, show
from handlers.ui import Translator

router = Router(name=__name__)

CODE_TEXT_MAX = 32


async def _named_order(
    message: Message, command: CommandObject, uow: UnitOfWork, tr: Translator, usage: str
) -> tuple[int, str] | None:
    """The id and code of the order a command names; None once the operator is told why there is none."""
    raw = (command.args or "").strip()
    code = normalize_order_code(raw[:CODE_TEXT_MAX]) if raw else None
    if code is None:
        not_a_code = tr.gettext("That is not an order code. Order codes look like K7M-A4X.")
        await message.answer(not_a_code if raw else usage)
        return None
    async with uow:
        order_id = await uow.orders.id_by_code(code)
    if order_id is None:
        await message.answer(_no_such_code(tr, code))
        return None
    return order_id, code


def _no_such_code(tr: Translator, code: str) -> str:
    return tr.gettext("No order with the code {code}.").format(code=format_order_code(code))


@router.message(Command("order"))
async def cmd_order(
    message: Message,
    command: CommandObject,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    state: FSMContext,
    settings: HandlerSettings,
) -> None:
    await leave_order_input(state)
    usage = tr.gettext("Usage: /order and the order code, e.g. /order K7M-A4X: the order's card with its actions.")
    if (named := await _named_order(message, command, uow, tr, usage)) is None:
        return
    order_id, code = named
    card = await order_card(uow, order_id, tr, clock.now(), zone=settings.desk_timezone)
    if card is None:
        await message.answer(_no_such_code(tr, code))
        return
    await message.answer(card[0], reply_markup=card[1])


@router.message(Command("audit"))
async def cmd_audit(
    message: Message,
    command: CommandObject,
    uow: UnitOfWork,
    tr: Translator,
    state: FSMContext,
    settings: HandlerSettings,
) -> None:
    await leave_order_input(state)
    usage = tr.gettext("Usage: /audit and the order code, e.g. /audit K7M-A4X: the order's history, oldest first.")
    if (named := await _named_order(message, command, uow, tr, usage)) is None:
        return
    order_id, code = named
    screen = await history_screen(uow, order_id, 0, tr, settings.desk_timezone)
    if screen is None:
        await message.answer(_no_such_code(tr, code))
        return
    await message.answer(screen[0], reply_markup=screen[1])


async def send_order_card(
    query: CallbackQuery, order_id: int, uow: UnitOfWork, tr: Translator, clock: Clock, zone: str | None = None
) -> bool:
    """Post the order's card as a new message into the chat (and forum topic) of the pressed message; the caller
    answers the query. False (nothing sent) if there is no such order. Times in ``zone`` (``DESK_TIMEZONE``)."""
    card = await order_card(uow, order_id, tr, clock.now(), zone=zone)
    message = query.message
    if card is None or message is None or query.bot is None:
        return False
    thread = message.message_thread_id if isinstance(message, Message) and message.is_topic_message else None
    await query.bot.send_message(message.chat.id, card[0], reply_markup=card[1], message_thread_id=thread)
    return True


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.VIEW))
async def on_order_view(
    query: CallbackQuery,
    callback_data: OrderDeskCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    settings: HandlerSettings,
) -> None:
    async with uow:
        exists = await uow.orders.get(callback_data.order) is not None
    if not exists or query.message is None:
        await answer_query(query, tr.gettext("There is no such order."), alert=True)
        return
    await answer_query(query)
    await send_order_card(query, callback_data.order, uow, tr, clock, settings.desk_timezone)


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.REFRESH))
async def on_order_refresh(
    query: CallbackQuery,
    callback_data: OrderDeskCb,
    uow: UnitOfWork,
    tr: Translator,
    clock: Clock,
    state: FSMContext,
    settings: HandlerSettings,
) -> None:
    await leave_order_input(state)
    await refresh_card(query, uow, callback_data.order, tr, clock.now(), zone=settings.desk_timezone)


@router.callback_query(OrderDeskCb.filter(F.action == OrderDeskAction.HISTORY))
async def on_order_history(
    query: CallbackQuery, callback_data: OrderDeskCb, uow: UnitOfWork, tr: Translator, settings: HandlerSettings
) -> None:
    screen = await history_screen(uow, callback_data.order, callback_data.arg, tr, settings.desk_timezone)
    if screen is None:
        await answer_query(query, tr.gettext("There is no such order."), alert=True)
        return
    await answer_query(query)
    await show(query, *screen)
