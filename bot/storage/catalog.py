"""SQLAlchemy implementation of ``domain.ports.CatalogRepository``: regions, hotels, organisers, events and their
sessions, as the catalog import wrote them (``bot/catalog``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.db import changed_rows
from bot.storage.tables import EventRow, HotelRow, OrganiserRow, RegionRow, SessionRow
from domain.model.catalog import (
    DEFAULT_WAITLIST_CLAIM_WINDOW,
    Choice,
    Confirmation,
    Event,
    EventSession,
    EventSummary,
    Hotel,
    Organiser,
    Question,
    QuestionKind,
    Region,
    SessionStatus,
    TicketType,
)


def region_from_row(row: RegionRow) -> Region:
    return Region(id=row.id, code=row.code, timezone=row.timezone, name=dict(row.name))


def hotel_from_row(row: HotelRow) -> Hotel:
    return Hotel(
        id=row.id, code=row.code, region_id=row.region_id, name=row.name, discount_percent=row.discount_percent
    )


def question_from_dict(data: dict[str, Any]) -> Question:
    return Question(
        id=data["id"],
        text=dict(data["text"]),
        kind=QuestionKind(data.get("kind", "text")),
        required=data.get("required", True),
        max_length=data.get("max_length", 200),
        choices=tuple(Choice(id=c["id"], text=dict(c["text"])) for c in data.get("choices", ())),
    )


def organiser_from_row(row: OrganiserRow) -> Organiser:
    return Organiser(
        id=row.id,
        code=row.code,
        name=row.name,
        chat_id=row.chat_id,
        language=row.language,
        phone=row.phone,
        confirm_within=timedelta(seconds=row.confirm_within_s),
        pay_within=timedelta(seconds=row.pay_within_s),
        hold=timedelta(seconds=row.hold_s),
        # a row built in memory (the fakes, before an INSERT) has no column default yet
        waitlist_claim_window=(
            timedelta(seconds=row.waitlist_claim_window_s)
            if row.waitlist_claim_window_s is not None
            else DEFAULT_WAITLIST_CLAIM_WINDOW
        ),
        reminders=tuple(timedelta(seconds=s) for s in row.reminders_s),
        questions=tuple(question_from_dict(q) for q in row.questions if not q.get("retired")),
        retired_questions=tuple(question_from_dict(q) for q in row.questions if q.get("retired")),
    )


def event_from_row(row: EventRow) -> Event:
    return Event(
        id=row.id,
        code=row.code,
        organiser_id=row.organiser_id,
        region_id=row.region_id,
        category=row.category,
        title=dict(row.title),
        description=dict(row.description),
        meeting_point=dict(row.meeting_point),
        duration=timedelta(seconds=row.duration_s),
        languages=tuple(row.languages),
        currency=row.currency,
        ticket_types=tuple(TicketType(p["code"], p["price_minor"]) for p in row.prices),
        confirmation=Confirmation(row.confirmation),
    )


_SESSIONS: Table = SessionRow.__table__  # type: ignore[assignment]
# built once, run on the connection: every booking and most screens read their session (statement construction
# and the ORM session's execution path were a sixth of place_order's CPU)
_SESSION_BY_ID = select(_SESSIONS).where(_SESSIONS.c.id == bindparam("session_id"))


def session_from_row(row: SessionRow) -> EventSession:
    return EventSession(
        id=row.id,
        event_id=row.event_id,
        starts_at=row.starts_at,
        capacity=row.capacity,
        seats_left=row.seats_left,
        status=SessionStatus(row.status),
        hot=bool(row.hot),  # a row built in memory (the fakes) has no column default yet: None is not hot
        sale_opens_at=row.sale_opens_at,
        admission_window=timedelta(seconds=row.admission_window_s) if row.admission_window_s else None,
        sales_stopped=bool(row.sales_stopped),
    )


def _window(region_id: int, start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
    """The scheduled sessions on sale (not stopped by their organiser) of a region's events starting in
    ``[start, end)``."""
    return (
        EventRow.region_id == region_id,
        SessionRow.starts_at >= start,
        SessionRow.starts_at < end,
        SessionRow.status == SessionStatus.SCHEDULED.value,
        SessionRow.sales_stopped.is_(False),
    )


class SqlCatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def regions(self) -> Sequence[Region]:
        rows = await self._db.scalars(select(RegionRow).order_by(RegionRow.code))
        return [region_from_row(r) for r in rows]

    async def region(self, region_id: int) -> Region | None:
        row = await self._db.get(RegionRow, region_id)
        return region_from_row(row) if row else None

    async def event(self, event_id: int) -> Event | None:
        row = await self._db.get(EventRow, event_id)
        return event_from_row(row) if row else None

    async def event_by_code(self, code: str) -> Event | None:
        row = await self._db.scalar(select(EventRow).where(EventRow.code == code))
        return event_from_row(row) if row else None

    async def organiser(self, organiser_id: int) -> Organiser | None:
        row = await self._db.get(OrganiserRow, organiser_id)
        return organiser_from_row(row) if row else None

    async def hotel(self, hotel_id: int) -> Hotel | None:
        row = await self._db.get(HotelRow, hotel_id)
        return hotel_from_row(row) if row else None

    async def search_hotels(self, region_id: int, text: str, limit: int) -> Sequence[Hotel]:
        needle = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self._db.scalars(
            select(HotelRow)
            .where(HotelRow.region_id == region_id, HotelRow.search_name.like(f"%{needle}%", escape="\\"))
            .order_by(HotelRow.name)
            .limit(limit)
        )
        return [hotel_from_row(r) for r in rows]

    async def session(self, session_id: int) -> EventSession | None:
        # Core rows, not ORM objects: always the database's current seats, and no identity map to keep
        connection = await self._db.connection()
        row = (await connection.execute(_SESSION_BY_ID, {"session_id": session_id})).first()
        return session_from_row(row) if row else None  # type: ignore[arg-type]

    async def upcoming_sessions(self, event_id: int, after: datetime, limit: int) -> Sequence[EventSession]:
        rows = await self._db.execute(
            select(_SESSIONS)
            .where(
                SessionRow.event_id == event_id,
                SessionRow.starts_at > after,
                SessionRow.status == SessionStatus.SCHEDULED.value,
            )
            .order_by(SessionRow.starts_at)
            .limit(limit)
        )
        return [session_from_row(r) for r in rows]  # type: ignore[arg-type]

    async def categories(self, region_id: int, start: datetime, end: datetime) -> Sequence[tuple[str, int]]:
        rows = await self._db.execute(
            select(EventRow.category, func.count(func.distinct(EventRow.id)))
            .join(SessionRow, SessionRow.event_id == EventRow.id)
            .where(*_window(region_id, start, end))
            .group_by(EventRow.category)
            .order_by(EventRow.category)
        )
        return [(category, count) for category, count in rows]

    async def event_summaries(
        self, region_id: int, start: datetime, end: datetime, category: str | None, offset: int, limit: int
    ) -> tuple[Sequence[EventSummary], int]:
        conditions = list(_window(region_id, start, end))
        if category is not None:
            conditions.append(EventRow.category == category)
        # One line per event: its next session in the window that still has seats (or, if none has, its next one)
        # with that session's own seats, and how many sessions the window holds.
        ranked = (
            select(
                SessionRow.event_id.label("event_id"),
                SessionRow.starts_at.label("next_start"),
                SessionRow.seats_left.label("seats"),
                func.count().over(partition_by=SessionRow.event_id).label("sessions"),
                func.row_number()
                .over(
                    partition_by=SessionRow.event_id,
                    order_by=(case((SessionRow.seats_left > 0, 0), else_=1), SessionRow.starts_at, SessionRow.id),
                )
                .label("rank"),
            )
            .join(EventRow, EventRow.id == SessionRow.event_id)
            .where(*conditions)
            .subquery()
        )
        first = select(ranked).where(ranked.c.rank == 1).subquery()
        rows = (
            await self._db.execute(
                select(first.c.event_id, first.c.next_start, first.c.sessions, first.c.seats, func.count().over())
                .order_by(first.c.next_start, first.c.event_id)
                .offset(offset)
                .limit(limit)
            )
        ).all()
        events = await self._events([row[0] for row in rows])
        summaries = []
        for event_id, next_start, sessions, seats, _total in rows:
            if (event := events.get(event_id)) is None:
                continue  # removed since the query ran
            summaries.append(
                EventSummary(
                    event=event,
                    next_start=next_start,
                    sessions_in_window=int(sessions),
                    seats_left=int(seats or 0),
                    price_from_minor=min((t.price_minor for t in event.ticket_types), default=0),
                )
            )
        # the total rides on every row (a window over the whole result); a page past the end has no row to carry it
        if rows:
            return summaries, int(rows[0][4])
        return summaries, int(await self._db.scalar(select(func.count()).select_from(first)) or 0) if offset else 0

    async def _events(self, ids: Sequence[int]) -> dict[int, Event]:
        if not ids:
            return {}
        rows = await self._db.scalars(select(EventRow).where(EventRow.id.in_(ids)))
        return {row.id: event_from_row(row) for row in rows}

    async def cancel_session(self, session_id: int, reason: str | None) -> bool:
        # Conditional: of two operators cancelling at once, one changes the row, the other sees rowcount 0.
        changed = await changed_rows(
            self._db,
            update(SessionRow)
            .where(SessionRow.id == session_id, SessionRow.status == SessionStatus.SCHEDULED.value)
            .values(status=SessionStatus.CANCELLED.value, cancel_reason=reason)
            .execution_options(synchronize_session=False),
        )
        return changed == 1
