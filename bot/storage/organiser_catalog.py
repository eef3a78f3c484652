"""SQLAlchemy implementation of ``domain.ports.OrganiserCatalogRepository``: what organisers change of their own
catalog from their chat (issue 14), their sessions and their booking questions.

Everything here reads the database itself, not the in-memory catalog copy: each answer decides a change. A change of
the questions is an UPDATE of the organiser's row, which bumps the catalog version (migration 0006), so every
process's copy reloads it within its refresh interval, and this process's at once (the unit of work drops its copy on
commit); sessions are never in that copy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.catalog import event_from_row, organiser_from_row, question_from_dict, session_from_row
from bot.storage.db import changed_rows
from bot.storage.tables import EventRow, OrganiserRow, SessionRow
from domain.model.catalog import Event, EventSession, Organiser, Question, SessionStatus

_SESSIONS: Table = SessionRow.__table__  # type: ignore[assignment]
_ORGANISERS: Table = OrganiserRow.__table__  # type: ignore[assignment]
_SCHEDULED = SessionStatus.SCHEDULED.value


def question_to_dict(question: Question, retired: bool = False) -> dict[str, Any]:
    """The ``organisers.questions`` JSON shape (the catalog import writes the same; ``retired`` marks a removed
    question, kept for the answers earlier orders gave)."""
    data: dict[str, Any] = {
        "id": question.id,
        "text": dict(question.text),
        "kind": question.kind.value,
        "required": question.required,
        "max_length": question.max_length,
        "choices": [{"id": c.id, "text": dict(c.text)} for c in question.choices],
    }
    if retired:
        data["retired"] = True
    return data


class SqlOrganiserCatalogRepository:
    """``changed`` is called when the organisers' catalog rows change (the unit of work then drops this process's
    catalog copy once it commits)."""

    def __init__(self, session: AsyncSession, changed: Callable[[], None] | None = None) -> None:
        self._db = session
        self._changed = changed

    async def organiser_for_chat(self, chat_id: int) -> Organiser | None:
        row = (
            await self._db.execute(
                select(_ORGANISERS).where(_ORGANISERS.c.chat_id == chat_id).order_by(_ORGANISERS.c.id).limit(1)
            )
        ).first()
        return organiser_from_row(row) if row else None  # type: ignore[arg-type]

    async def organiser_by_code(self, code: str) -> Organiser | None:
        row = (await self._db.execute(select(_ORGANISERS).where(_ORGANISERS.c.code == code))).first()
        return organiser_from_row(row) if row else None  # type: ignore[arg-type]

    async def events(self, organiser_id: int) -> Sequence[Event]:
        rows = await self._db.scalars(
            select(EventRow).where(EventRow.organiser_id == organiser_id).order_by(EventRow.code)
        )
        return [event_from_row(r) for r in rows]

    async def sessions(
        self, organiser_id: int, after: datetime, offset: int, limit: int
    ) -> tuple[Sequence[EventSession], int]:
        conditions = (
            EventRow.organiser_id == organiser_id,
            _SESSIONS.c.status == _SCHEDULED,
            _SESSIONS.c.starts_at > after,
        )
        base = select(_SESSIONS).join(EventRow, EventRow.id == _SESSIONS.c.event_id).where(*conditions)
        rows = await self._db.execute(base.order_by(_SESSIONS.c.starts_at, _SESSIONS.c.id).offset(offset).limit(limit))
        total = await self._db.scalar(
            select(func.count())
            .select_from(_SESSIONS)
            .join(EventRow, EventRow.id == _SESSIONS.c.event_id)
            .where(*conditions)
        )
        return [session_from_row(r) for r in rows], int(total or 0)  # type: ignore[arg-type]

    async def _session(self, session_id: int) -> EventSession | None:
        row = (await self._db.execute(select(_SESSIONS).where(_SESSIONS.c.id == session_id))).first()
        return session_from_row(row) if row else None  # type: ignore[arg-type]

    async def add_session(self, event_id: int, starts_at: datetime, capacity: int) -> EventSession | None:
        taken = await self._db.scalar(
            select(_SESSIONS.c.id).where(_SESSIONS.c.event_id == event_id, _SESSIONS.c.starts_at == starts_at)
        )
        if taken is not None:
            return None
        new_id = await self._db.scalar(
            insert(_SESSIONS)
            .values(event_id=event_id, starts_at=starts_at, capacity=capacity, seats_left=capacity, status=_SCHEDULED)
            .returning(_SESSIONS.c.id)
        )
        return await self._session(int(new_id)) if new_id is not None else None

    async def set_capacity(self, session_id: int, capacity: int) -> EventSession | None:
        # One statement decides: the seats held are ``capacity - seats_left`` as the row is now, so a booking that
        # took seats a moment ago is counted, and one that comes after sees the new seats left.
        changed = await changed_rows(
            self._db,
            update(_SESSIONS)
            .where(
                _SESSIONS.c.id == session_id,
                _SESSIONS.c.status == _SCHEDULED,
                _SESSIONS.c.capacity - _SESSIONS.c.seats_left <= capacity,
            )
            .values(capacity=capacity, seats_left=_SESSIONS.c.seats_left + (capacity - _SESSIONS.c.capacity)),
        )
        return await self._session(session_id) if changed == 1 else None

    async def set_sales_stopped(self, session_id: int, stopped: bool) -> EventSession | None:
        changed = await changed_rows(
            self._db,
            update(_SESSIONS)
            .where(
                _SESSIONS.c.id == session_id,
                _SESSIONS.c.status == _SCHEDULED,
                _SESSIONS.c.sales_stopped.is_(not stopped),
            )
            .values(sales_stopped=stopped),
        )
        return await self._session(session_id) if changed == 1 else None

    async def lock_questions(self, organiser_id: int) -> tuple[list[Question], list[Question]] | None:
        stored = (
            await self._db.execute(
                select(_ORGANISERS.c.questions).where(_ORGANISERS.c.id == organiser_id).with_for_update()
            )
        ).first()
        if stored is None:
            return None
        data: list[dict[str, Any]] = list(stored[0] or [])
        asked = [question_from_dict(q) for q in data if not q.get("retired")]
        removed = [question_from_dict(q) for q in data if q.get("retired")]
        return asked, removed

    async def save_questions(self, organiser_id: int, asked: Sequence[Question], removed: Sequence[Question]) -> None:
        stored = [question_to_dict(q) for q in asked] + [question_to_dict(q, retired=True) for q in removed]
        await self._db.execute(update(_ORGANISERS).where(_ORGANISERS.c.id == organiser_id).values(questions=stored))
        if self._changed is not None:
            self._changed()
