"""SQLAlchemy implementation of ``domain.ports.SeatRepository``: a session's seats, taken and given back atomically
(no oversold seat: the check and the change are one conditional UPDATE on every backend)."""

from __future__ import annotations

from sqlalchemy import bindparam, case, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.tables import SessionRow
from domain.model.catalog import SessionStatus

# Built once, with bound parameters: the hot statement of an on-sale costs SQLAlchemy no rebuilding per booking.
_RESERVE = (
    update(SessionRow)
    .where(
        SessionRow.id == bindparam("session_id"),
        SessionRow.status == SessionStatus.SCHEDULED.value,
        SessionRow.sales_stopped.is_(False),  # the organiser stopped its sales (``/sessions``): no seat is taken
        SessionRow.seats_left >= bindparam("seats"),
    )
    .values(seats_left=SessionRow.seats_left - bindparam("seats"))
)


class SqlSeatRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def reserve(self, session_id: int, seats: int) -> bool:
        db = await self._db.connection()
        result = await db.execute(_RESERVE, {"session_id": session_id, "seats": seats})
        return result.rowcount == 1

    async def release(self, session_id: int, seats: int) -> None:
        await self._db.execute(
            update(SessionRow)
            .where(SessionRow.id == session_id)
            .values(
                seats_left=case(
                    (SessionRow.seats_left + seats > SessionRow.capacity, SessionRow.capacity),
                    else_=SessionRow.seats_left + seats,
                )
            )
            .execution_options(synchronize_session=False)
        )
