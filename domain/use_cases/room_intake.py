"""Book presses on a date with a queue taken into its line as they arrive, many in one transaction (issue 13).

In a hot on-sale thousands press Book within a second. Handled one update at a time (the user, the conversation,
the throttle, the press's own transaction), their places were taken at the pace of the update path, a dozen chats
at a time: 10,000 presses took minutes to stand in line, and the room admitted no one ranked behind a press not yet
handled. :func:`take_places` takes a batch of presses on one date in one transaction: each tourist new to the line
gets a place at the back, ranked by the press's ``update_id`` (the order Telegram received the presses in), as
their press's handler would have given it (:func:`~domain.use_cases.waiting_room.press_book`); its first message, with
its position, comes from the room's pass within the room's budget, front first. Everything else (pressing again,
coming back, the tourist's turn, a tourist the bot does not know yet, a room that does not line people up now) is
left to the handlers, which decide it as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.model.waiting_room import Place, RoomStatus, late_rank
from domain.ports import UnitOfWork
from domain.use_cases.waiting_room import room_for


@dataclass(frozen=True)
class Press:
    user_id: int
    arrival: int  # the press's update id: its place in the line


async def take_places(uow: UnitOfWork, session_id: int, presses: Sequence[Press], now: datetime) -> list[int]:
    """Give each tourist of ``presses`` (Book on ``session_id``, an open room) who has no place in its line a new
    one at the back, ranked by the press's arrival; returns the arrivals served. A place taken here has no message
    yet: the room's pass gives it its first, with its position, within the room's budget and front first
    (:func:`~domain.use_cases.waiting_room.run_room`), which is what a press's own first message would have
    shown. Presses of tourists who have a place (pressing again, coming back, their turn), of tourists the bot does
    not know, and on a room that does not line people up now (it watches, its pre-queue waits for the draw, it is
    sold out or closed) are not served: their handlers decide them. A date the catalog made hot gets its room here
    if it has none yet."""
    served: list[int] = []
    async with uow:
        room = await uow.rooms.room(session_id)
        if room is None:  # the first presses on a date the catalog made hot: its room begins here, as press_book's
            session = await uow.catalog.session(session_id)
            if session is None or not session.hot or not session.bookable(now) or session.seats_left <= 0:
                return served
            room = await uow.rooms.add_room(room_for(session, now))
        if room.status is not RoomStatus.OPEN:
            return served
        arrival: dict[int, int] = {}  # one place per tourist: their earliest press
        for press in sorted(presses, key=lambda p: p.arrival):
            arrival.setdefault(press.user_id, press.arrival)
        places = [Place(session_id, user_id, now, rank=late_rank(at)) for user_id, at in arrival.items()]
        served = sorted(arrival[place.user_id] for place in await uow.rooms.add_places(places))
        await uow.commit()
    return served
