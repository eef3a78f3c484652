"""The in-memory :class:`domain.favourite_ports.FavouriteRepository` of :mod:`tests.fakes` (its state lives in
``FakeState.favourites`` / ``FakeState.favourite_sold_out``), with the SQL contracts: one favourite per guest and
event, the newest first, the claims skip what they are told to."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from domain.model.catalog import SessionStatus
from domain.model.favourites import Favourite

if TYPE_CHECKING:
    from tests.fakes import FakeState


class _Opened(Protocol):
    def require_open(self) -> FakeState: ...


class FakeFavouriteRepository:
    def __init__(self, uow: _Opened) -> None:
        self._uow = uow

    @property
    def _state(self) -> FakeState:
        return self._uow.require_open()

    async def get(self, user_id: int, event_id: int) -> Favourite | None:
        return self._state.favourites.get((user_id, event_id))

    async def add(self, favourite: Favourite) -> bool:
        key = (favourite.user_id, favourite.event_id)
        if key in self._state.favourites:
            return False
        self._state.favourites[key] = favourite
        return True

    async def remove(self, user_id: int, event_id: int) -> bool:
        return self._state.favourites.pop((user_id, event_id), None) is not None

    async def save(self, favourite: Favourite) -> None:
        key = (favourite.user_id, favourite.event_id)
        if key in self._state.favourites:
            self._state.favourites[key] = favourite

    async def for_user(self, user_id: int) -> Sequence[Favourite]:
        mine = [f for f in self._state.favourites.values() if f.user_id == user_id]
        return sorted(mine, key=lambda f: (f.created_at, f.event_id), reverse=True)

    async def count(self, user_id: int) -> int:
        return sum(1 for f in self._state.favourites.values() if f.user_id == user_id)

    async def latest_session_id(self, event_id: int) -> int:
        return max((s.id for s in self._state.sessions.values() if s.event_id == event_id), default=0)

    async def claim_with_new_sessions(self, exclude: Collection[tuple[int, int]]) -> Favourite | None:
        for key in sorted(self._state.favourites, key=lambda k: (k[1], k[0])):
            favourite = self._state.favourites[key]
            newer = await self.latest_session_id(favourite.event_id) > favourite.seen_session_id
            if favourite.alerts and key not in exclude and newer:
                return favourite
        return None

    async def sessions_after(self, event_id: int, session_id: int) -> Sequence[int]:
        return sorted(s.id for s in self._state.sessions.values() if s.event_id == event_id and s.id > session_id)

    async def watch_sold_out(self, now: datetime) -> int:
        state = self._state
        for session_id in list(state.favourite_sold_out):
            session = state.sessions.get(session_id)
            if session is None or session.starts_at <= now or session.status is not SessionStatus.SCHEDULED:
                del state.favourite_sold_out[session_id]
        starred = {f.event_id for f in state.favourites.values() if f.alerts}
        added = 0
        for session in state.sessions.values():
            if (
                session.seats_left == 0
                and session.status is SessionStatus.SCHEDULED
                and session.starts_at > now
                and session.event_id in starred
                and session.id not in state.favourite_sold_out
            ):
                state.favourite_sold_out[session.id] = now
                added += 1
        return added

    async def claim_watched_with_seats(self, exclude: Collection[int]) -> int | None:
        state = self._state
        found = [
            session_id
            for session_id in state.favourite_sold_out
            if session_id not in exclude and (s := state.sessions.get(session_id)) is not None and s.seats_left > 0
        ]
        return min(found, default=None)

    async def unwatch(self, session_id: int) -> None:
        self._state.favourite_sold_out.pop(session_id, None)

    async def alert_recipients(self, event_id: int) -> Sequence[int]:
        state = self._state
        return sorted(
            f.user_id
            for f in state.favourites.values()
            if f.event_id == event_id
            and f.alerts
            and (user := state.users.get(f.user_id)) is not None
            and not user.blocked_bot
        )
