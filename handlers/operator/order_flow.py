"""What every action of the ``/order`` card does around its use case: show the card again (with who did what, or
why the press no longer applies), and ask for typed input (a hotel's name, a refund amount, a note).

Typed input waits in an FSM state of the operator in the group; in a group with privacy mode on the bot only sees
it as a reply to its message, so each prompt says "reply", and only a reply to one of the flow's prompts counts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram import Bot, html
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from domain.errors import InvalidTransition
from domain.ports import UnitOfWork
from domain.use_cases import order_changes as oc
from handlers.operator.access import Operator
from handlers.operator.errors import domain_error_text
from handlers.operator.order_card import order_card
from handlers.read_models import OrderView, load_order
from handlers.tourist.messaging import answer_query, show
from handlers.ui import Translator, cut

PROMPTS_KEPT = 10


class OrderDeskInput(StatesGroup):
    hotel = State()
    refund_amount = State()
    note = State()


ORDER_INPUT_STATES = frozenset(
    {OrderDeskInput.hotel.state, OrderDeskInput.refund_amount.state, OrderDeskInput.note.state}
)


async def leave_order_input(state: FSMContext) -> None:
    """Stop waiting for typed input of an ``/order`` action (another command or press came first)."""
    if await state.get_state() in ORDER_INPUT_STATES:
        await state.clear()


# ---- showing the card again ----------------------------------------------------------------------------------------


def _done_line(operator: Operator, what: str) -> str:
    return f"✅ <i>{html.quote(cut(operator.name, 64))}: {what}</i>"


async def refresh_card(
    query: CallbackQuery,
    uow: UnitOfWork,
    order_id: int,
    tr: Translator,
    now: datetime,
    alert: str | None = None,
    *,
    zone: str | None,
) -> None:
    """Answer the press (with ``alert`` if given) and show the card as it is now, times in the desk's ``zone``
    (``settings.desk_timezone``)."""
    card = await order_card(uow, order_id, tr, now, zone=zone)
    if card is None:
        await answer_query(query, tr.gettext("There is no such order."), alert=True)
        return
    await answer_query(query, alert, alert=alert is not None)
    await show(query, *card)


async def show_done(
    query: CallbackQuery,
    uow: UnitOfWork,
    order_id: int,
    tr: Translator,
    now: datetime,
    operator: Operator,
    what: str,
    *,
    zone: str | None,
) -> None:
    """Answer "Done." and show the card (times in the desk's ``zone``) with a line saying who did ``what``."""
    card = await order_card(uow, order_id, tr, now, _done_line(operator, what), zone=zone)
    await answer_query(query, tr.gettext("Done."))
    if card is not None:
        await show(query, *card)


def editable(now: datetime) -> Callable[[OrderView], bool]:
    """For :func:`view_or_refuse`: the order's session, tickets and hotel can still change."""
    return lambda view: oc.can_edit(view.order, view.session, now)


def owes_tourist(view: OrderView) -> bool:
    """For :func:`view_or_refuse`: money is owed back to the tourist."""
    return bool(view.order.owed_back())  # in any currency


async def view_or_refuse(
    query: CallbackQuery,
    uow: UnitOfWork,
    order_id: int,
    tr: Translator,
    now: datetime,
    applies: Callable[[OrderView], bool] | None = None,
    *,
    zone: str | None,
) -> OrderView | None:
    """The order if the press still ``applies`` to it; otherwise the press is answered with the fresh card."""
    view = await load_order(uow, order_id)
    if view is None:
        await answer_query(query, tr.gettext("There is no such order."), alert=True)
        return None
    if applies is not None and not applies(view):
        await refresh_card(query, uow, order_id, tr, now, domain_error_text(InvalidTransition(), tr), zone=zone)
        return None
    return view


# ---- typed input ---------------------------------------------------------------------------------------------------


async def ask(
    state: FSMContext, wanted: State, order_id: int, query: CallbackQuery, prompt: str, markup: InlineKeyboardMarkup
) -> None:
    """Show ``prompt`` in the pressed message and wait for the operator's typed answer: a reply to that message
    (``do_prompts``)."""
    message_id = query.message.message_id if query.message is not None else None
    await state.set_state(wanted)
    await state.set_data({"do_order": order_id, "do_message": message_id, "do_prompts": [message_id]})
    await answer_query(query)
    await show(query, prompt, markup)


async def reply_prompt(
    message: Message, state: FSMContext, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Answer the operator's input; a reply to this answer counts as the next try."""
    sent = await message.reply(text, reply_markup=markup)
    data = await state.get_data()
    await state.update_data(do_prompts=[*data.get("do_prompts", []), sent.message_id][-PROMPTS_KEPT:])


async def answer_data(message: Message, state: FSMContext) -> dict[str, Any]:
    """The flow's data if ``message`` replies to one of its prompts; anything else is not for us (a colleague's
    chat, an answer to a tourist's question) and goes on to the other routers."""
    data = await state.get_data()
    replied = message.reply_to_message
    if replied is None or replied.message_id not in data.get("do_prompts", []):
        raise SkipHandler
    return data


def asked_order(data: dict[str, Any]) -> int:
    """The order the typed input is for (0: none)."""
    return int(data.get("do_order", 0))


async def show_typed_done(
    message: Message,
    bot: Bot,
    state: FSMContext,
    data: dict[str, Any],
    uow: UnitOfWork,
    tr: Translator,
    now: datetime,
    operator: Operator,
    what: str,
    *,
    zone: str | None,
) -> None:
    """The typed input did ``what``: stop waiting, and show the card (times in the desk's ``zone``) with who did it
    in the message it was asked in (a new answer to ``message`` if that cannot be edited)."""
    await state.clear()
    card = await order_card(uow, asked_order(data), tr, now, _done_line(operator, what), zone=zone)
    if card is None:
        return
    text, markup = card
    if message_id := data.get("do_message"):
        try:
            await bot.edit_message_text(
                text=text, chat_id=message.chat.id, message_id=int(message_id), reply_markup=markup
            )
            return
        except TelegramBadRequest as error:
            if "message is not modified" in error.message:
                return
    await message.answer(text, reply_markup=markup)
