"""The in-memory :class:`domain.ports.CheckinRepository` of :mod:`tests.fakes` (its state lives in
``FakeState.order_days`` / ``FakeState.session_days``). It keeps the SQL contracts: each mark once, a copy on every
read, the attendance claim by the session's start."""

from __future__ import annotations

import copy
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from domain.model.catalog import SessionStatus
from domain.model.checkin import OrderDay, SessionDay
from domain.model.orders import BookingStatus

if TYPE_CHECKING:
    from tests.fakes import FakeState


class _Opened(Protocol):
    def require_open(self) -> FakeState: ...


class FakeCheckinRepository:
    def __init__(self, uow: _Opened) -> None:
        self._uow = uow

    @property
    def _state(self) -> FakeState:
        return self._uow.require_open()

    async def order_by_ticket(self, ticket_code: str) -> int | None:
        return next((o.id for o in self._state.orders.values() if o.ticket_code == ticket_code), None)

    async def order_day(self, order_id: int) -> OrderDay | None:
        return copy.deepcopy(self._state.order_days.get(order_id))

    async def session_days(self, session_id: int) -> dict[int, OrderDay]:
        state = self._state
        return {
            order_id: copy.deepcopy(day)
            for order_id, day in state.order_days.items()
            if (order := state.orders.get(order_id)) is not None and order.session_id == session_id
        }

    async def mark_checked_in(self, order_id: int, now: datetime, actor: str) -> bool:
        day = self._state.order_days.setdefault(order_id, OrderDay(order_id))
        if day.checked_in_at is not None:
            return False
        day.checked_in_at, day.checked_in_by = now, actor
        return True

    async def mark_running_late(self, order_id: int, now: datetime) -> bool:
        day = self._state.order_days.setdefault(order_id, OrderDay(order_id))
        if day.running_late_at is not None:
            return False
        day.running_late_at = now
        return True

    async def session_day(self, session_id: int) -> SessionDay | None:
        return copy.deepcopy(self._state.session_days.get(session_id))

    async def mark_at_meeting_point(self, session_id: int, now: datetime, actor: str) -> bool:
        day = self._state.session_days.setdefault(session_id, SessionDay(session_id))
        if day.at_meeting_point_at is not None:
            return False
        day.at_meeting_point_at, day.announced_by = now, actor
        return True

    async def claim_order_to_settle(self, now: datetime, since: datetime, exclude: Collection[int]) -> int | None:
        state = self._state
        found = []
        for order in state.orders.values():
            session = state.sessions.get(order.session_id)
            if (
                order.booking is BookingStatus.CONFIRMED
                and order.id not in exclude
                and session is not None
                and session.status is SessionStatus.SCHEDULED
                and since <= session.starts_at <= now
            ):
                found.append((session.starts_at, order.stored_id))
        return min(found)[1] if found else None
