"""What the favourites (domain/model/favourites.py) need from storage: ``uow.favourites``. ``bot/storage/favourites.py``
implements it with SQLAlchemy; ``tests/fake_favourites.py`` in memory."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from domain.model.favourites import Favourite


class FavouriteRepository(Protocol):
    async def get(self, user_id: int, event_id: int) -> Favourite | None: ...
    async def add(self, favourite: Favourite) -> bool:
        """Insert unless the guest has the event among their favourites already; True if this call added it."""

    async def remove(self, user_id: int, event_id: int) -> bool:
        """True if there was such a favourite."""

    async def save(self, favourite: Favourite) -> None:
        """Store the favourite's alerts switch and ``seen_session_id``."""

    async def for_user(self, user_id: int) -> Sequence[Favourite]:
        """The guest's favourites, the newest first."""

    async def count(self, user_id: int) -> int: ...
    async def latest_session_id(self, event_id: int) -> int:
        """The highest id of the event's sessions (0: none)."""

    async def claim_with_new_sessions(self, exclude: Collection[tuple[int, int]]) -> Favourite | None:
        """A favourite with alerts on whose event has a session above its ``seen_session_id``, not in ``exclude``
        ((user id, event id) pairs), locked."""

    async def sessions_after(self, event_id: int, session_id: int) -> Sequence[int]:
        """The ids of the event's sessions above ``session_id``, in order."""

    async def watch_sold_out(self, now: datetime) -> int:
        """Remember every scheduled session starting after ``now`` of an event someone has among their favourites
        with alerts on that has no seat left (once per session); how many were new."""

    async def claim_watched_with_seats(self, exclude: Collection[int]) -> int | None:
        """A remembered sold-out session that has free seats now, not in ``exclude``, locked."""

    async def unwatch(self, session_id: int) -> None: ...
    async def alert_recipients(self, event_id: int) -> Sequence[int]:
        """The guests who have the event among their favourites with alerts on and have not blocked the bot."""
