"""Where booking meets the waiting room (issue 13): the calls :mod:`handlers.tourist.booking` makes on a Book press
and on Confirm. A session without a queue books as before; on a hot one, Book takes the tourist's one place in the
queue (a new message below, the room's, edited in place from then on) and only an admitted tourist goes on to book.
"""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery

from domain.errors import SoldOut
from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.use_cases.waiting_room import may_book, note_booked, press_book, set_place_message
from handlers.tourist.messaging import answer_query, show_below
from handlers.tourist.room_screens import load_view, place_view, room_kb, room_text, status_line
from handlers.tourist.waitlist_claims import WAITLIST
from handlers.ui import Translator


async def enter_waiting_room(
    query: CallbackQuery, session_id: int, uow: UnitOfWork, tr: Translator, user: User, clock: Clock
) -> bool:
    """Book pressed: True when the waiting room answered (a place was given or shown); False when the booking goes
    on as usual (no queue, or it is the tourist's turn)."""
    now = clock.now()
    try:
        entry = await press_book(uow, session_id, user.id, now)
    except SoldOut:
        return False  # the booking screens say it is sold out, as for any session
    if entry is None or entry.place.may_book(now):
        return False
    view = await load_view(uow, session_id)
    if view is None:
        return False
    pv = place_view(entry, view)
    if not entry.fresh:  # one place, one message: pressing again only says where they stand
        await answer_query(query, status_line(pv, tr), alert=True)
        return True
    await answer_query(query, tr.gettext("You are in the queue."))
    message_id = await show_below(query, room_text(pv, tr), room_kb(pv, tr))
    if message_id is not None:
        await set_place_message(uow, entry.place.stored_id, user.id, message_id, now)
    return True


async def hold_for_turn(
    query: CallbackQuery,
    session_id: int,
    draft: dict[str, Any],
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
) -> bool:
    """Confirm pressed on a booking: True when it must wait for the tourist's turn (the prepared booking is kept and
    their turn will be one tap); False when it may be placed now (no queue, their turn, or a claimed waitlist offer:
    its seats were held for it)."""
    if draft.get(WAITLIST):
        return False
    now = clock.now()
    gate = await may_book(uow, session_id, user.id, now)
    if gate is None or gate.place.may_book(now):
        return False
    if gate.place.in_line:
        text = tr.gettext("Your booking is ready. When your turn comes, tap “Book now” in the queue message.")
        await answer_query(query, text, alert=True)
        return True
    return await enter_waiting_room(query, session_id, uow, tr, user, clock)


async def room_booked(uow: UnitOfWork, session_id: int, user: User, clock: Clock) -> None:
    """An order was placed: an admitted tourist's turn is used."""
    gate = await may_book(uow, session_id, user.id, clock.now())
    if gate is not None and gate.place.id is not None:
        await note_booked(uow, session_id, user.id, clock.now())
