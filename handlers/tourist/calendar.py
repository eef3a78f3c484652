""" "Add to calendar" on the card of a confirmed order (issue 15): the booking's ``.ics`` again, below the card — the
same file (and UID) the ticket brought, so a calendar that has it updates the entry instead of adding another."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from domain.errors import NotAllowed
from domain.model.orders import BookingStatus
from domain.model.users import User
from domain.ports import UnitOfWork
from domain.use_cases.booking import get_own_order
from handlers.media import send_document
from handlers.order_places import calendar_caption, ticket_calendar
from handlers.read_models import read_order
from handlers.tourist.messaging import answer_query
from handlers.tourist.place_callbacks import CalendarCb
from handlers.ui import Translator

router = Router(name=__name__)


@router.callback_query(CalendarCb.filter())
async def on_add_to_calendar(
    query: CallbackQuery, callback_data: CalendarCb, uow: UnitOfWork, tr: Translator, user: User
) -> None:
    try:
        async with uow.read():
            order = await get_own_order(uow, user.id, callback_data.order)
            view = await read_order(uow, order.stored_id)
            place = await uow.places.event_place(order.event_id)
    except NotAllowed:
        await answer_query(query, tr.gettext("This is not your order."), alert=True)
        return
    if view is None or view.order.booking is not BookingStatus.CONFIRMED:
        text = tr.gettext("The calendar file is there for a confirmed booking that is still ahead.")
        await answer_query(query, text, alert=True)
        return
    await answer_query(query)
    assert query.bot is not None, "an update fed through the Dispatcher is bound to its bot"
    await send_document(query.bot, query.from_user.id, ticket_calendar(view, place, tr), calendar_caption(view, tr))
