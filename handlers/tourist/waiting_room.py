"""The waiting room's buttons (issue 13): "🔄 My place" (a callback answer, no message), leaving and coming back,
preparing the booking while waiting, and booking when the turn comes (one tap with a prepared booking).

Every button names a place; the server checks that it is the presser's (a forged or foreign one is refused and
changes nothing) and that it is in the state the button was drawn for (an old one gets the place as it is now).
"""

from __future__ import annotations

import secrets

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Update

from domain.errors import InvalidTransition, NotAllowed
from domain.model.users import User
from domain.model.waiting_room import PlaceStatus
from domain.ports import Clock, UnitOfWork
from domain.use_cases.waiting_room import Entry, come_back, leave_room, my_place, set_place_message
from handlers.settings import HandlerSettings
from handlers.tourist.booking import BookingForm, on_booking_confirm, start_booking
from handlers.tourist.booking_screens import load_booking, tickets_screen
from handlers.tourist.callbacks import BookAction, BookCb, RoomAction, RoomCb
from handlers.tourist.messaging import answer_query, show, show_below
from handlers.tourist.room_screens import PlaceView, load_view, place_view, room_kb, room_text, status_line
from handlers.ui import Translator

router = Router(name=__name__)


async def _refused(query: CallbackQuery, tr: Translator) -> None:
    await answer_query(query, tr.gettext("This button is not yours or no longer valid."), alert=True)


async def _view(entry: Entry, uow: UnitOfWork) -> PlaceView | None:
    view = await load_view(uow, entry.place.session_id)
    return place_view(entry, view) if view is not None else None


async def _redraw(
    query: CallbackQuery, entry: Entry, uow: UnitOfWork, tr: Translator, user: User, clock: Clock
) -> None:
    """The pressed message shows the place as it is now, and is the one edited from now on."""
    if (pv := await _view(entry, uow)) is None:
        return
    message_id = await show(query, room_text(pv, tr), room_kb(pv, tr))
    if message_id is not None:
        await set_place_message(uow, pv.place_id, user.id, message_id, pv.status, clock.now())


@router.callback_query(RoomCb.filter(F.action == RoomAction.REFRESH))
async def on_room_refresh(
    query: CallbackQuery, callback_data: RoomCb, uow: UnitOfWork, tr: Translator, user: User, clock: Clock
) -> None:
    try:
        entry = await my_place(uow, callback_data.place, user.id, clock.now())
    except NotAllowed:
        await _refused(query, tr)
        return
    pv = await _view(entry, uow)
    await answer_query(query, status_line(pv, tr) if pv else None, alert=True)


@router.callback_query(RoomCb.filter(F.action == RoomAction.LEAVE))
async def on_room_leave(
    query: CallbackQuery, callback_data: RoomCb, uow: UnitOfWork, tr: Translator, user: User, clock: Clock
) -> None:
    try:
        entry = await leave_room(uow, callback_data.place, user.id, clock.now())
    except NotAllowed:
        await _refused(query, tr)
        return
    except InvalidTransition:  # an old button: the place as it is now
        await on_room_refresh(query, callback_data, uow, tr, user, clock)
        return
    await answer_query(query, tr.gettext("You stepped out of the queue."))
    await _redraw(query, entry, uow, tr, user, clock)


@router.callback_query(RoomCb.filter(F.action == RoomAction.BACK))
async def on_room_back(
    query: CallbackQuery,
    callback_data: RoomCb,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
    event_update: Update,
) -> None:
    try:
        entry = await come_back(uow, callback_data.place, user.id, event_update.update_id, clock.now())
    except NotAllowed:
        await _refused(query, tr)
        return
    except InvalidTransition:
        await on_room_refresh(query, callback_data, uow, tr, user, clock)
        return
    await answer_query(query, tr.gettext("Welcome back to the queue."))
    await _redraw(query, entry, uow, tr, user, clock)


@router.callback_query(RoomCb.filter(F.action == RoomAction.PREPARE))
async def on_room_prepare(
    query: CallbackQuery,
    callback_data: RoomCb,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
) -> None:
    """The booking screens below the queue's message, without taking a seat: Confirm keeps it ready for the turn."""
    try:
        entry = await my_place(uow, callback_data.place, user.id, clock.now())
    except NotAllowed:
        await _refused(query, tr)
        return
    ctx = await load_booking(uow, entry.place.session_id, user)
    if ctx is None or entry.place.status not in (PlaceStatus.WAITING, PlaceStatus.ADMITTED):
        await on_room_refresh(query, callback_data, uow, tr, user, clock)
        return
    qty = {t.code: 0 for t in ctx.view.event.ticket_types}
    qty[ctx.view.event.ticket_types[0].code] = 1
    await state.set_state(BookingForm.tickets)
    await state.set_data(
        {"draft": secrets.token_hex(8), "session": ctx.view.session.id, "qty": qty, "answers": {}, "q": 0}
    )
    await answer_query(query)
    await show_below(query, *tickets_screen(ctx, qty, tr))


@router.callback_query(RoomCb.filter(F.action == RoomAction.BOOK))
async def on_room_book(
    query: CallbackQuery,
    callback_data: RoomCb,
    state: FSMContext,
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
    settings: HandlerSettings,
    event_update: Update,
) -> None:
    """Their turn: a booking prepared to its summary is placed at once (one tap); otherwise the booking screens
    start below."""
    now = clock.now()
    try:
        entry = await my_place(uow, callback_data.place, user.id, now)
    except NotAllowed:
        await _refused(query, tr)
        return
    if not entry.place.may_book(now):  # too early, or the window ended: where they stand now
        await on_room_refresh(query, callback_data, uow, tr, user, clock)
        return
    session_id = entry.place.session_id
    data = await state.get_data()
    if await state.get_state() == BookingForm.summary.state and data.get("session") == session_id:
        confirm = BookCb(action=BookAction.CONFIRM, session=session_id)
        await on_booking_confirm(query, confirm, state, uow, tr, user, clock, settings, event_update)
        return
    await start_booking(query, session_id, event_update.update_id, state, uow, tr, user, clock, present=show_below)
