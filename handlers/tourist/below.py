"""Navigation from a message that must stay: the buttons under confirmations, declines, tickets, receipts and
notices (:class:`BelowCb`) open their screen in a new message below, so the organiser's reason, the order code or the
ticket is never overwritten by a menu."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Update

from domain.errors import NotAllowed
from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from handlers.tourist.booking import start_booking
from handlers.tourist.browse import entry_screen, event_card
from handlers.tourist.callbacks import Below, BelowCb
from handlers.tourist.keyboards import main_menu_kb
from handlers.tourist.messaging import answer_query, show_below
from handlers.tourist.orders import order_card, orders_page
from handlers.tourist.start import greeting
from handlers.ui import Translator

router = Router(name=__name__)


@router.callback_query(BelowCb.filter())
async def on_below_open(
    query: CallbackQuery,
    callback_data: BelowCb,
    state: FSMContext,
    uow: UnitOfWork,
    user: User,
    tr: Translator,
    clock: Clock,
    event_update: Update,
) -> None:
    now = clock.now()
    screen: tuple[str, InlineKeyboardMarkup]
    if callback_data.to is Below.BOOK:
        await start_booking(query, callback_data.id, event_update.update_id, state, uow, tr, user, clock, show_below)
        return
    if callback_data.to is Below.EVENT:
        screen = await event_card(uow, callback_data.id, tr, now, user.id)
    elif callback_data.to is Below.ORDER:
        try:
            screen = await order_card(uow, callback_data.id, user.id, tr, now)
        except NotAllowed:
            await answer_query(query, tr.gettext("This is not your order."), alert=True)
            return
    elif callback_data.to is Below.ORDERS:
        await state.clear()
        screen = await orders_page(uow, user.id, 0, tr, now)
    elif callback_data.to is Below.EVENTS:
        await state.clear()
        screen = await entry_screen(uow, tr, user)
    else:
        await state.clear()
        screen = greeting(tr, user.first_name), main_menu_kb(tr)
    await answer_query(query)
    await show_below(query, *screen)
