"""SQLAlchemy implementation of ``domain.ports.WaitlistRepository``: the waitlists of sold-out sessions.

Entries are saved with optimistic locking (a stale ``version`` raises :class:`ConcurrentChange`). The jobs' claims
lock one waitlist row each (``FOR UPDATE SKIP LOCKED OF waitlist``: never a session's row, so bookings go on);
SQLite ignores the clause, its write transactions run one at a time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.storage.db import changed_rows, insert_on_conflict
from bot.storage.tables import SessionRow, WaitlistRow
from domain.errors import ConcurrentChange
from domain.model.catalog import SessionStatus
from domain.model.waitlist import OPEN, WaitlistEntry, WaitlistStatus

_OPEN = sorted(s.value for s in OPEN)
_FIELDS = ("session_id", "user_id", "seats", "joined_at", "offered_at", "offered_until", "ended_at", "order_id")


def entry_from_row(row: WaitlistRow) -> WaitlistEntry:
    return WaitlistEntry(
        id=row.id,
        session_id=row.session_id,
        user_id=row.user_id,
        seats=row.seats,
        joined_at=row.joined_at,
        status=WaitlistStatus(row.status),
        offered_at=row.offered_at,
        offered_until=row.offered_until,
        ended_at=row.ended_at,
        order_id=row.order_id,
        version=row.version,
    )


def _values(entry: WaitlistEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in _FIELDS} | {"status": entry.status.value}


class SqlWaitlistRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def add(self, entry: WaitlistEntry) -> bool:
        """Insert ``entry``; False (nothing written) when the tourist has an open entry on the session already,
        also one a concurrent transaction is adding (this one waits for it)."""
        statement = (
            insert_on_conflict(self._db, WaitlistRow)
            .values(**_values(entry), version=0)
            .on_conflict_do_nothing()
            .returning(WaitlistRow.id)
        )
        entry_id = await self._db.scalar(statement)
        if entry_id is None:
            return False
        entry.id, entry.version = entry_id, 0
        return True

    async def get(self, entry_id: int) -> WaitlistEntry | None:
        row = await self._db.get(WaitlistRow, entry_id, populate_existing=True)
        return entry_from_row(row) if row is not None else None

    async def open_entry(self, user_id: int, session_id: int) -> WaitlistEntry | None:
        row = await self._db.scalar(
            select(WaitlistRow).where(
                WaitlistRow.user_id == user_id, WaitlistRow.session_id == session_id, WaitlistRow.status.in_(_OPEN)
            )
        )
        return entry_from_row(row) if row is not None else None

    async def for_user(self, user_id: int) -> Sequence[WaitlistEntry]:
        rows = await self._db.scalars(
            select(WaitlistRow)
            .where(WaitlistRow.user_id == user_id, WaitlistRow.status.in_(_OPEN))
            .order_by(WaitlistRow.id)
        )
        return [entry_from_row(row) for row in rows]

    async def waiting(self, session_id: int) -> Sequence[WaitlistEntry]:
        rows = await self._db.scalars(
            select(WaitlistRow)
            .where(WaitlistRow.status == WaitlistStatus.WAITING.value, WaitlistRow.session_id == session_id)
            .order_by(WaitlistRow.id)
        )
        return [entry_from_row(row) for row in rows]

    async def save(self, entry: WaitlistEntry) -> None:
        changed = await changed_rows(
            self._db,
            update(WaitlistRow)
            .where(WaitlistRow.id == entry.id, WaitlistRow.version == entry.version)
            .values(**_values(entry), version=entry.version + 1)
            .execution_options(synchronize_session=False),
        )
        if changed != 1:
            raise ConcurrentChange(waitlist=entry.id)
        entry.version += 1

    async def claim_session_to_offer(self, starts_after: datetime, exclude: Collection[int]) -> int | None:
        """A scheduled session on sale starting after ``starts_after`` whose free seats fit a waiting entry, not in
        ``exclude``; locked through the first entry that fits (one lock per session; the session row is read, not
        locked, so bookings go on). Only sessions with something to offer are returned: one whose waiting entries
        all want more than is free never stands in the way of the others."""
        first = aliased(WaitlistRow)
        first_fit = (
            select(func.min(first.id))
            .where(
                first.session_id == WaitlistRow.session_id,
                first.status == WaitlistStatus.WAITING.value,
                first.seats <= SessionRow.seats_left,
            )
            .scalar_subquery()
        )
        query = (
            select(WaitlistRow.session_id)
            .join(SessionRow, SessionRow.id == WaitlistRow.session_id)
            .where(
                WaitlistRow.status == WaitlistStatus.WAITING.value,
                SessionRow.status == SessionStatus.SCHEDULED.value,
                SessionRow.sales_stopped.is_(False),  # its organiser stopped the sales: nothing is offered
                SessionRow.starts_at > starts_after,
                WaitlistRow.seats <= SessionRow.seats_left,
                WaitlistRow.id == first_fit,
            )
        )
        if exclude:
            query = query.where(WaitlistRow.session_id.not_in(list(exclude)))
        return await self._db.scalar(
            query.order_by(WaitlistRow.id).limit(1).with_for_update(skip_locked=True, of=WaitlistRow)
        )

    async def claim_expired_offer(self, now: datetime, exclude: Collection[int]) -> int | None:
        query = select(WaitlistRow.id).where(
            WaitlistRow.status == WaitlistStatus.OFFERED.value, WaitlistRow.offered_until <= now
        )
        if exclude:
            query = query.where(WaitlistRow.id.not_in(list(exclude)))
        return await self._db.scalar(
            query.order_by(WaitlistRow.offered_until, WaitlistRow.id)
            .limit(1)
            .with_for_update(skip_locked=True, of=WaitlistRow)
        )
