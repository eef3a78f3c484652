"""The in-memory :class:`domain.ports.WaitingRoomRepository` of :mod:`tests.fakes` (its state lives in
``FakeState.rooms`` / ``FakeState.places``). It keeps the SQL contracts: one place per user and session, a copy on
every read, ranks ordering the line (then ids). The inbox it reads for :meth:`oldest_unhandled_update` is
``unhandled``: update id -> when it was received, set by a test as the updates still in the bot's hands (``retried``:
those of them given back after a failure)."""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from domain.errors import ConcurrentChange
from domain.model.waiting_room import BOOKS, IN_LINE, LineMark, Place, PlaceStatus, RoomStatus, WaitingRoom

if TYPE_CHECKING:
    from tests.fakes import FakeState

_WORKING = (RoomStatus.PRE_QUEUE, RoomStatus.OPEN, RoomStatus.SOLD_OUT)


class _Opened(Protocol):
    def require_open(self) -> FakeState: ...


class FakeWaitingRoomRepository:
    def __init__(self, uow: _Opened) -> None:
        self._uow = uow
        self.unhandled: dict[int, datetime] = {}
        self.retried: set[int] = set()  # of ``unhandled``, those given back after a failure

    @property
    def _rooms(self) -> dict[int, WaitingRoom]:
        return self._uow.require_open().rooms

    @property
    def _places(self) -> dict[int, Place]:
        return self._uow.require_open().places

    async def room(self, session_id: int, lock: str | None = None) -> WaitingRoom | None:
        return copy.deepcopy(self._rooms.get(session_id))

    async def add_room(self, room: WaitingRoom) -> WaitingRoom:
        if room.session_id not in self._rooms:
            state = self._uow.require_open()
            room = copy.deepcopy(room)
            room.id = state.next_room_id
            state.next_room_id += 1
            self._rooms[room.session_id] = room
        return copy.deepcopy(self._rooms[room.session_id])

    async def save_room(self, room: WaitingRoom) -> None:
        if room.session_id in self._rooms:
            stored = self._rooms[room.session_id]
            saved = copy.deepcopy(room)
            saved.summary_message_id = stored.summary_message_id  # its own write, as in SQL
            self._rooms[room.session_id] = saved

    async def claim_room(self, exclude: Collection[int]) -> WaitingRoom | None:
        rooms = sorted(self._rooms.values(), key=lambda r: r.id or 0)
        return next(
            (copy.deepcopy(r) for r in rooms if r.status in _WORKING and r.session_id not in exclude),
            None,
        )

    async def place(self, session_id: int, user_id: int) -> Place | None:
        found = (p for p in self._places.values() if p.session_id == session_id and p.user_id == user_id)
        return copy.deepcopy(next(found, None))

    async def place_by_id(self, place_id: int) -> Place | None:
        return copy.deepcopy(self._places.get(place_id))

    async def add_place(self, place: Place) -> Place:
        if await self.place(place.session_id, place.user_id) is not None:
            raise ConcurrentChange(session=place.session_id, user=place.user_id)
        state = self._uow.require_open()
        place.id = state.next_place_id
        state.next_place_id += 1
        self._places[place.id] = copy.deepcopy(place)
        return place

    async def add_places(self, places: Sequence[Place]) -> Sequence[Place]:
        users = self._state().users
        fresh = [p for p in places if p.user_id in users and await self.place(p.session_id, p.user_id) is None]
        return [await self.add_place(place) for place in fresh]

    async def save_place(self, place: Place) -> None:
        await self.save_places([place])

    async def book_place(self, session_id: int, user_id: int) -> bool:
        for place in self._places.values():
            if place.session_id == session_id and place.user_id == user_id and place.status in BOOKS:
                place.status = PlaceStatus.BOOKED
                return True
        return False

    async def save_places(self, places: Sequence[Place]) -> None:
        for place in places:
            stored = self._places.get(place.stored_id)
            if stored is not None:
                saved = copy.deepcopy(place)
                saved.message_id = stored.message_id  # its own write, as in SQL
                self._places[place.stored_id] = saved

    async def set_place_message(self, place_id: int, message_id: int | None) -> None:
        if place_id in self._places:
            self._places[place_id].message_id = message_id

    async def shorten_window(self, place_id: int, until: datetime) -> bool:
        place = self._places.get(place_id)
        if place is None or place.status is not PlaceStatus.ADMITTED or not (place.admit_until or until) > until:
            return False
        place.admit_until = until
        return True

    async def set_summary_message(self, session_id: int, message_id: int) -> None:
        if session_id in self._rooms:
            self._rooms[session_id].summary_message_id = message_id

    async def undrawn(self, session_id: int) -> Sequence[int]:
        return sorted(p.stored_id for p in self._places.values() if p.session_id == session_id and p.rank is None)

    async def set_ranks(self, ranks: dict[int, int]) -> None:
        for place_id, rank in ranks.items():
            if place_id in self._places:
                self._places[place_id].rank = rank

    def _ranked(self, session_id: int, statuses: Collection[PlaceStatus]) -> list[Place]:
        places = [
            p
            for p in self._places.values()
            if p.session_id == session_id and p.status in statuses and p.rank is not None
        ]
        return sorted(places, key=lambda p: (p.rank or 0, p.stored_id))

    async def line(self, session_id: int) -> Sequence[Place]:
        return copy.deepcopy(self._ranked(session_id, IN_LINE))

    async def line_marks(self, session_id: int) -> Sequence[LineMark]:
        return [
            LineMark(p.stored_id, p.status, p.shown_status, p.shown_position, p.shown_at, p.message_id is not None)
            for p in self._ranked(session_id, IN_LINE)
        ]

    async def places_by_ids(self, place_ids: Sequence[int]) -> Sequence[Place]:
        return [copy.deepcopy(self._places[i]) for i in place_ids if i in self._places]

    async def ahead_of(self, place: Place) -> int:
        rank = place.rank
        if rank is None:
            return 0
        key = (rank, place.stored_id)
        return sum(1 for p in self._ranked(place.session_id, IN_LINE) if (p.rank or 0, p.stored_id) < key)

    async def with_status(
        self, session_id: int, statuses: Collection[PlaceStatus], limit: int | None
    ) -> Sequence[Place]:
        return copy.deepcopy(self._ranked(session_id, statuses)[:limit])

    async def unannounced(self, session_id: int, statuses: Collection[PlaceStatus], limit: int) -> Sequence[Place]:
        places = [
            p
            for p in self._places.values()
            if p.session_id == session_id and p.status in statuses and p.shown_status is not p.status
        ]
        places.sort(key=lambda p: (p.rank is None, p.rank or 0, p.stored_id))
        return copy.deepcopy(places[:limit])

    async def counts(self, session_id: int) -> dict[PlaceStatus, int]:
        counts: dict[PlaceStatus, int] = {}
        for p in self._places.values():
            if p.session_id == session_id:
                counts[p.status] = counts.get(p.status, 0) + 1
        return counts

    async def oldest_unhandled_update(self, since: datetime) -> int | None:
        return min(
            (u for u, received in self.unhandled.items() if received >= since or u not in self.retried), default=None
        )
