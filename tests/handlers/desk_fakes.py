"""An in-memory :class:`handlers.operator.queries.DeskQueries` over a :class:`tests.fakes.FakeUnitOfWork`'s state:
the desk's screens run on fakes with it. It keeps the SQL implementation's contracts (exact matches only, the same
orderings and limits) and, like it, reads only inside the unit of work's open transaction.

Also the problem cards the desk's ``/stats`` tests open, told the same to the database and to the fake."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.storage.tables import DeskCardRow
from domain.model.catalog import EventSession, SessionStatus
from domain.model.desk import Card, CardStatus
from domain.model.users import User
from domain.use_cases.stats import DayFacts
from handlers.operator.queries import ENDED_BOOKINGS, SESSIONS_BETWEEN_MAX, OpenSession, first_open_start
from tests.fakes import FakeState, FakeUnitOfWork


class FakeDeskQueries:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def _state(self) -> FakeState:
        return self._uow.require_open()

    async def session_at(self, event_id: int, starts_at: datetime) -> EventSession | None:
        found = (s for s in self._state.sessions.values() if s.event_id == event_id and s.starts_at == starts_at)
        return next(found, None)

    async def sessions_between(self, event_id: int, start: datetime, end: datetime) -> list[EventSession]:
        found = [s for s in self._state.sessions.values() if s.event_id == event_id and start <= s.starts_at < end]
        return sorted(found, key=lambda s: s.starts_at)[:SESSIONS_BETWEEN_MAX]

    async def users_by_phone(self, phone: str, limit: int) -> list[User]:
        return sorted((u for u in self._state.users.values() if u.phone == phone), key=lambda u: u.id)[:limit]

    async def users_by_username(self, username: str, limit: int) -> list[User]:
        wanted = username.lower()
        found = (u for u in self._state.users.values() if u.username is not None and u.username.lower() == wanted)
        return sorted(found, key=lambda u: u.id)[:limit]

    async def order_id_by_ticket(self, ticket_code: str) -> int | None:
        return next((o.id for o in self._state.orders.values() if o.ticket_code == ticket_code), None)

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
        state = self._state
        first = first_open_start(start, now)
        found = [
            OpenSession(session, event)
            for session in state.sessions.values()
            if (event := state.events[session.event_id]).region_id == region_id
            and first <= session.starts_at < end
            and session.status is SessionStatus.SCHEDULED
            and not session.sales_stopped
            and session.seats_left > 0
            and (not category or event.category == category)
        ]
        found.sort(key=lambda item: (item.session.starts_at, item.session.id))
        return found[offset : offset + limit], len(found)

    async def categories(self, region_id: int) -> list[str]:
        return sorted({e.category for e in self._state.events.values() if e.region_id == region_id})

    async def day_facts(self, start: datetime, end: datetime) -> DayFacts:
        state = self._state

        def within(moment: datetime | None) -> bool:
            return moment is not None and start <= moment < end

        revenue: dict[str, int] = {}
        for payment in state.payments:
            if payment.applied and within(payment.paid_at):
                revenue[payment.currency] = revenue.get(payment.currency, 0) + payment.amount_minor
        ended: dict[str, int] = {}
        for order in state.orders.values():
            if order.booking in ENDED_BOOKINGS and within(order.cancelled_at):
                ended[order.booking.value] = ended.get(order.booking.value, 0) + 1
        cards = list(state.cards.values())
        return DayFacts(
            placed=sum(1 for o in state.orders.values() if within(o.created_at)),
            paid=sum(1 for o in state.orders.values() if within(o.paid_at)),
            revenue=revenue,
            ended=ended,
            problems_opened=sum(1 for c in cards if within(c.opened_at)),
            resolve_times=[
                c.resolved_at - c.opened_at
                for c in cards
                if c.status is CardStatus.RESOLVED and c.resolved_at is not None and within(c.resolved_at)
            ],
            open_problems=sum(1 for c in cards if c.is_open),
        )


# ---- problem cards for /stats ----------------------------------------------------------------------------------------

# (opened this many minutes ago, resolved this many minutes ago or None: still open)
PROBLEM_CARDS = ((10, 4), (50, 20), (30, None))


async def add_problem_cards(sessions: async_sessionmaker, now: datetime) -> None:
    """:data:`PROBLEM_CARDS` as rows in the database."""
    async with sessions() as db, db.begin():
        for opened, resolved in PROBLEM_CARDS:
            db.add(
                DeskCardRow(
                    subject=f"order:{opened}",
                    open_subject=None if resolved else f"order:{opened}",
                    kinds=["x"],
                    status="resolved" if resolved else "open",
                    opened_at=now - timedelta(minutes=opened),
                    updated_at=now,
                    resolved_at=now - timedelta(minutes=resolved) if resolved else None,
                )
            )


def add_fake_problem_cards(state: FakeState, now: datetime) -> None:
    """:data:`PROBLEM_CARDS` in a fake unit of work's state."""
    for number, (opened, resolved) in enumerate(PROBLEM_CARDS, start=1):
        state.cards[number] = Card(
            subject=f"order:{opened}",
            kinds=["x"],
            opened_at=now - timedelta(minutes=opened),
            updated_at=now,
            status=CardStatus.RESOLVED if resolved else CardStatus.OPEN,
            resolved_at=now - timedelta(minutes=resolved) if resolved else None,
            id=number,
        )
