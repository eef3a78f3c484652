"""The desk's read side: what ``/session``, ``/find``, ``/events`` and ``/stats`` look up beyond the unit of work's
repositories. A port: ``bot/storage/desk_queries.py`` implements it in SQL on the update's unit of work, the tests
have an in-memory fake; handlers get it injected as ``desk_queries``.

Every method reads only, inside the transaction the caller opened with ``async with uow``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from domain.model.catalog import BOOKING_CUTOFF, Event, EventSession
from domain.model.orders import BookingStatus
from domain.model.users import User
from domain.use_cases.stats import DayFacts

# The contract's numbers and rules, one place for the SQL implementation and the fake alike.
SESSIONS_BETWEEN_MAX = 20  # sessions_between: at most this many
ENDED_BOOKINGS = frozenset({BookingStatus.CANCELLED, BookingStatus.DECLINED, BookingStatus.EXPIRED})  # day_facts


def first_open_start(start: datetime, now: datetime) -> datetime:
    """The earliest start ``open_sessions`` lists: not before ``start``, and still more than the booking cutoff
    away from ``now``."""
    return max(start, now + BOOKING_CUTOFF + timedelta(seconds=1))


@dataclass(frozen=True, slots=True)
class OpenSession:
    """A bookable session with free seats, and its event."""

    session: EventSession
    event: Event


class DeskQueries(Protocol):
    # /session
    async def session_at(self, event_id: int, starts_at: datetime) -> EventSession | None:
        """The event's session starting exactly then, whatever its status."""

    async def sessions_between(self, event_id: int, start: datetime, end: datetime) -> list[EventSession]:
        """The event's sessions starting in ``[start, end)``, soonest first (at most :data:`SESSIONS_BETWEEN_MAX`)."""

    # /find: exact matches only
    async def users_by_phone(self, phone: str, limit: int) -> list[User]:
        """Tourists with exactly this E.164 phone, by id."""

    async def users_by_username(self, username: str, limit: int) -> list[User]:
        """Tourists with exactly this username, ignoring case (never a pattern), by id."""

    async def order_id_by_ticket(self, ticket_code: str) -> int | None: ...

    # /events
    async def open_sessions(
        self,
        region_id: int,
        start: datetime,
        end: datetime,
        category: str | None,
        now: datetime,
        offset: int,
        limit: int,
    ) -> tuple[list[OpenSession], int]:
        """Bookable sessions with free seats in the region, from :func:`first_open_start` to ``end``, soonest
        first, and how many there are."""

    async def categories(self, region_id: int) -> list[str]:
        """The categories of the region's events, sorted."""

    # /stats
    async def day_facts(self, start: datetime, end: datetime) -> DayFacts:
        """What happened in ``[start, end)`` (orders ended: :data:`ENDED_BOOKINGS`), and the problems open now."""
