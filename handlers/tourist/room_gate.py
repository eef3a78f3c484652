"""Where booking meets the waiting room (issue 13): the calls :mod:`handlers.tourist.booking` makes on a Book press
and on Confirm. A session without a queue books as before; on a hot one, Book takes the tourist's one place in the
queue and only an admitted tourist goes on to book. The press is answered with a toast only: the place's message
(the room's, edited in place from then on) is queued with the place and sent by the outbox within Telegram's
limits, so a burst of presses never waits out flood limits in the handlers. An order placed on the session uses the
admitted tourist's turn in its own transaction (:func:`domain.use_cases.booking.place_order`).
"""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery

from domain.errors import SoldOut
from domain.model.users import User
from domain.ports import Clock, UnitOfWork
from domain.use_cases.waiting_room import may_book, press_book
from handlers.tourist.messaging import answer_query
from handlers.tourist.room_screens import load_view, place_view, status_line
from handlers.tourist.waitlist_claims import WAITLIST
from handlers.ui import Translator


async def enter_waiting_room(
    query: CallbackQuery, session_id: int, arrival: int, uow: UnitOfWork, tr: Translator, user: User, clock: Clock
) -> bool:
    """Book pressed (``arrival``: the press's update id, its place in the line): True when the waiting room
    answered (a place was given or shown); False when the booking goes on as usual (no queue, or it is the tourist's
    turn)."""
    now = clock.now()
    try:
        entry = await press_book(uow, session_id, user.id, arrival, now)
    except SoldOut:
        return False  # the booking screens say it is sold out, as for any session
    if entry is None or entry.place.may_book(now):
        return False
    if entry.fresh:  # its message is on its way (the outbox): the press only needs its answer
        await answer_query(query, tr.gettext("You are in the queue."))
        return True
    view = await load_view(uow, session_id)  # one place, one message: pressing again only says where they stand
    await answer_query(query, status_line(place_view(entry, view), tr) if view is not None else None, alert=True)
    return True


async def hold_for_turn(
    query: CallbackQuery,
    session_id: int,
    arrival: int,
    draft: dict[str, Any],
    uow: UnitOfWork,
    tr: Translator,
    user: User,
    clock: Clock,
) -> bool:
    """Confirm pressed on a booking (``arrival``: the press's update id): True when it must wait for the tourist's
    turn (the prepared booking is kept and their turn will be one tap); False when it may be placed now (no queue,
    their turn, or a claimed waitlist offer: its seats were held for it)."""
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
    return await enter_waiting_room(query, session_id, arrival, uow, tr, user, clock)
