"""A turn's admission window starts when the tourist is told (issue 13): the room admits the front of the line, and
the "your turn" message goes out through the outbox within Telegram's limits, maybe many seconds later; the window
(:attr:`domain.model.waiting_room.WaitingRoom.admission_window`) runs from the moment that message goes out, not
from the admission. A message that never goes out does not hold the turn: the bound set at admission
(:data:`domain.model.waiting_room.TURN_DELIVERY` + the window) ends it anyway.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.ports import UnitOfWork


async def turn_told(uow: UnitOfWork, place_id: int, sent_at: datetime) -> datetime | None:
    """The turn's message of ``place_id`` went out at ``sent_at``: its window runs from then. The window's new end,
    or None when nothing changed (no longer admitted, or its window runs already)."""
    async with uow:
        place = await uow.rooms.place_by_id(place_id)
        room = await uow.rooms.room(place.session_id) if place is not None else None
        if place is None or room is None:
            return None
        until = place.turn_told(sent_at, room.admission_window)
        if until is None or not await uow.rooms.shorten_window(place.stored_id, until):
            return None
        await uow.commit()
    return until


def shown_turn_end(
    bound: datetime | None, current: datetime | None, drawn_at: datetime, window: timedelta
) -> datetime | None:
    """The end a turn's message shows when drawn at ``drawn_at`` (right before it goes out): ``window`` from then,
    never past ``bound`` (its row's, set at admission) nor the end already running (``current``, the place's)."""
    if bound is None:
        return None
    return min(moment for moment in (bound, current, drawn_at + window) if moment is not None)
