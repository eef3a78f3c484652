"""The in-memory ``OrganiserCatalogRepository`` (issue 14) over :class:`tests.fakes.FakeState`: the organiser's
sessions and booking questions, with the SQL implementation's contracts (a new session is refused at a taken start,
capacity never goes below the seats held, stopped sales are a flag the seat-taking refuses)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from domain.model.catalog import Event, EventSession, Organiser, Question, SessionStatus

if TYPE_CHECKING:
    from tests.fakes import FakeState, FakeUnitOfWork


class FakeOrganiserCatalogRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def _state(self) -> FakeState:
        return self._uow.require_open()

    async def organiser_for_chat(self, chat_id: int) -> Organiser | None:
        found = sorted((o for o in self._state.organisers.values() if o.chat_id == chat_id), key=lambda o: o.id)
        return found[0] if found else None

    async def organiser_by_code(self, code: str) -> Organiser | None:
        return next((o for o in self._state.organisers.values() if o.code == code), None)

    async def events(self, organiser_id: int) -> Sequence[Event]:
        found = [e for e in self._state.events.values() if e.organiser_id == organiser_id]
        return sorted(found, key=lambda e: e.code)

    async def sessions(
        self, organiser_id: int, after: datetime, offset: int, limit: int
    ) -> tuple[Sequence[EventSession], int]:
        events = {e.id for e in self._state.events.values() if e.organiser_id == organiser_id}
        found = sorted(
            (
                s
                for s in self._state.sessions.values()
                if s.event_id in events and s.status is SessionStatus.SCHEDULED and s.starts_at > after
            ),
            key=lambda s: (s.starts_at, s.id),
        )
        return found[offset : offset + limit], len(found)

    async def add_session(self, event_id: int, starts_at: datetime, capacity: int) -> EventSession | None:
        sessions = self._state.sessions
        if any(s.event_id == event_id and s.starts_at == starts_at for s in sessions.values()):
            return None
        session = EventSession(
            id=max(sessions, default=0) + 1,
            event_id=event_id,
            starts_at=starts_at,
            capacity=capacity,
            seats_left=capacity,
        )
        sessions[session.id] = session
        return session

    async def set_capacity(self, session_id: int, capacity: int) -> EventSession | None:
        s = self._state.sessions.get(session_id)
        if s is None or s.status is not SessionStatus.SCHEDULED or s.capacity - s.seats_left > capacity:
            return None
        changed = dataclasses.replace(s, capacity=capacity, seats_left=s.seats_left + capacity - s.capacity)
        self._state.sessions[session_id] = changed
        return changed

    async def set_sales_stopped(self, session_id: int, stopped: bool) -> EventSession | None:
        s = self._state.sessions.get(session_id)
        if s is None or s.status is not SessionStatus.SCHEDULED or s.sales_stopped is stopped:
            return None
        changed = dataclasses.replace(s, sales_stopped=stopped)
        self._state.sessions[session_id] = changed
        return changed

    async def lock_questions(self, organiser_id: int) -> tuple[list[Question], list[Question]] | None:
        organiser = self._state.organisers.get(organiser_id)
        if organiser is None:
            return None
        return list(organiser.questions), list(organiser.retired_questions)

    async def save_questions(self, organiser_id: int, asked: Sequence[Question], removed: Sequence[Question]) -> None:
        organiser = self._state.organisers[organiser_id]
        self._state.organisers[organiser_id] = dataclasses.replace(
            organiser, questions=tuple(asked), retired_questions=tuple(removed)
        )
