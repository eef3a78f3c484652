"""SQLAlchemy implementation of ``domain.ports.WaitingRoomRepository``: the waiting rooms and their places.

Locks (PostgreSQL; SQLite runs one writer at a time): a join into the pre-queue reads its room ``FOR SHARE``, so
joins go on together while the draw (``FOR UPDATE``) waits for those in hand and they for it: no place can miss the
draw. After the opening a join takes no lock on the room: its rank comes from its press alone
(``LATE_RANK_BASE`` + the press's ``update_id``: :func:`domain.model.waiting_room.late_rank`), and a place that
commits late is still not passed over, as admission waits for the presses still in the bot's hands
(:meth:`SqlWaitingRoomRepository.oldest_unhandled_update`, read from the inbox). Places of the same rank (none are
expected) are in the order of their ids. The job claims a room ``FOR UPDATE SKIP LOCKED``: two processes running
it take different rooms.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.db import changed_rows, insert_on_conflict
from bot.storage.room_tables import RoomPlaceRow, WaitingRoomRow
from bot.storage.tables import InboxRow, UserRow
from domain.errors import ConcurrentChange
from domain.model.waiting_room import BOOKS, IN_LINE, LineMark, Place, PlaceStatus, RoomStatus, WaitingRoom

_WORKING = (RoomStatus.PRE_QUEUE.value, RoomStatus.OPEN.value, RoomStatus.SOLD_OUT.value)
_UNHANDLED = ("pending", "handling")  # the inbox's updates not handled yet (bot/inbox.py)


def room_from_row(row: WaitingRoomRow) -> WaitingRoom:
    return WaitingRoom(
        session_id=row.session_id,
        status=RoomStatus(row.status),
        opens_at=row.opens_at,
        admission_window=timedelta(seconds=row.admission_window_s),
        created_at=row.created_at,
        opened_at=row.opened_at,
        seed=row.seed,
        drawn=row.drawn,
        presses=row.presses,
        presses_since=row.presses_since,
        summary_version=row.summary_version,
        summary_at=row.summary_at,
        summary_message_id=row.summary_message_id,
        summary_figures=dict(row.summary_figures or {}),
        id=row.id,
    )


def _room_values(room: WaitingRoom) -> dict[str, object]:
    return {
        "status": room.status.value,
        "opens_at": room.opens_at,
        "admission_window_s": int(room.admission_window.total_seconds()),
        "opened_at": room.opened_at,
        "seed": room.seed,
        "drawn": room.drawn,
        "presses": room.presses,
        "presses_since": room.presses_since,
        "summary_version": room.summary_version,
        "summary_at": room.summary_at,
        "summary_figures": room.summary_figures,
    }


def place_from_row(row: RoomPlaceRow) -> Place:
    return Place(
        session_id=row.session_id,
        user_id=row.user_id,
        joined_at=row.joined_at,
        status=PlaceStatus(row.status),
        rank=row.rank,
        admitted_at=row.admitted_at,
        admit_until=row.admit_until,
        left_at=row.left_at,
        message_id=row.message_id,
        shown_status=PlaceStatus(row.shown_status) if row.shown_status else None,
        shown_position=row.shown_position,
        shown_at=row.shown_at,
        version=row.version,
        id=row.id,
    )


def _place_values(place: Place) -> dict[str, object]:
    """What a save writes (the message id has its own write: the handler sets it)."""
    return {
        "joined_at": place.joined_at,
        "status": place.status.value,
        "rank": place.rank,
        "admitted_at": place.admitted_at,
        "admit_until": place.admit_until,
        "left_at": place.left_at,
        "shown_status": place.shown_status.value if place.shown_status else None,
        "shown_position": place.shown_position,
        "shown_at": place.shown_at,
        "version": place.version,
    }


_PLACE_FIELDS = (
    "joined_at",
    "status",
    "rank",
    "admitted_at",
    "admit_until",
    "left_at",
    "shown_status",
    "shown_position",
    "shown_at",
    "version",
)
# one statement for many places (executemany); the parameters are named apart from the columns, as SQLAlchemy asks
_SAVE_PLACE = (
    update(RoomPlaceRow)
    .where(RoomPlaceRow.id == bindparam("row_id"))
    .values({key: bindparam(f"new_{key}") for key in _PLACE_FIELDS})
)

_BOOK_PLACE = (  # built once: it runs in every booking's transaction (domain/use_cases/booking.py's _use_turn)
    update(RoomPlaceRow)
    .where(
        RoomPlaceRow.session_id == bindparam("place_session"),
        RoomPlaceRow.user_id == bindparam("place_user"),
        RoomPlaceRow.status.in_([status.value for status in BOOKS]),
    )
    .values(status=PlaceStatus.BOOKED.value)
)


class SqlWaitingRoomRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def room(self, session_id: int, lock: str | None = None) -> WaitingRoom | None:
        query = select(WaitingRoomRow).where(WaitingRoomRow.session_id == session_id)
        if lock == "share":
            query = query.with_for_update(read=True)
        elif lock == "update":
            query = query.with_for_update()
        if lock is not None:
            query = query.execution_options(populate_existing=True)
        row = await self._db.scalar(query)
        return room_from_row(row) if row is not None else None

    async def add_room(self, room: WaitingRoom) -> WaitingRoom:
        values = {"session_id": room.session_id, "created_at": room.created_at, **_room_values(room)}
        table = WaitingRoomRow.__table__
        await self._db.execute(
            insert_on_conflict(self._db, table).values(values).on_conflict_do_nothing(index_elements=["session_id"])
        )
        stored = await self.room(room.session_id)
        if stored is None:
            raise RuntimeError(f"the room of session {room.session_id} was not stored")
        return stored

    async def save_room(self, room: WaitingRoom) -> None:
        await self._db.execute(
            update(WaitingRoomRow).where(WaitingRoomRow.session_id == room.session_id).values(_room_values(room))
        )

    async def claim_room(self, exclude: Collection[int]) -> WaitingRoom | None:
        query = select(WaitingRoomRow).where(WaitingRoomRow.status.in_(_WORKING))
        if exclude:
            query = query.where(WaitingRoomRow.session_id.not_in(list(exclude)))
        row = await self._db.scalar(
            query.order_by(WaitingRoomRow.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return room_from_row(row) if row is not None else None

    async def place(self, session_id: int, user_id: int) -> Place | None:
        row = await self._db.scalar(
            select(RoomPlaceRow)
            .where(RoomPlaceRow.session_id == session_id, RoomPlaceRow.user_id == user_id)
            .execution_options(populate_existing=True)
        )
        return place_from_row(row) if row is not None else None

    async def place_by_id(self, place_id: int) -> Place | None:
        row = await self._db.get(RoomPlaceRow, place_id, populate_existing=True)
        return place_from_row(row) if row is not None else None

    async def add_place(self, place: Place) -> Place:
        values: dict[str, object] = {
            "session_id": place.session_id,
            "user_id": place.user_id,
            "message_id": place.message_id,
            **_place_values(place),
        }
        table = RoomPlaceRow.__table__
        place_id = await self._db.scalar(
            insert_on_conflict(self._db, table)
            .values(values)
            .on_conflict_do_nothing(index_elements=["session_id", "user_id"])
            .returning(table.c.id)
        )
        if place_id is None:
            raise ConcurrentChange(session=place.session_id, user=place.user_id)
        place.id = place_id
        return place

    async def add_places(self, places: Sequence[Place]) -> Sequence[Place]:
        if not places:
            return []
        known = set(await self._db.scalars(select(UserRow.id).where(UserRow.id.in_({p.user_id for p in places}))))
        fresh = [p for p in places if p.user_id in known]
        if not fresh:
            return []
        table = RoomPlaceRow.__table__
        rows = [
            {"session_id": p.session_id, "user_id": p.user_id, "message_id": None, **_place_values(p)} for p in fresh
        ]
        inserted = await self._db.execute(
            insert_on_conflict(self._db, table)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["session_id", "user_id"])
            .returning(table.c.id, table.c.user_id)
        )
        ids = {user_id: place_id for place_id, user_id in inserted}
        added = []
        for place in fresh:
            if (place_id := ids.pop(place.user_id, None)) is not None:  # a user twice: the first one
                place.id = place_id
                added.append(place)
        return added

    async def save_place(self, place: Place) -> None:
        await self.save_places([place])

    async def save_places(self, places: Sequence[Place]) -> None:
        if not places:
            return
        connection = await self._db.connection()
        params = [
            {"row_id": p.stored_id, **{f"new_{key}": value for key, value in _place_values(p).items()}} for p in places
        ]
        await connection.execute(_SAVE_PLACE, params)

    async def book_place(self, session_id: int, user_id: int) -> bool:
        connection = await self._db.connection()
        result = await connection.execute(_BOOK_PLACE, {"place_session": session_id, "place_user": user_id})
        return result.rowcount > 0

    async def set_place_message(self, place_id: int, message_id: int | None) -> None:
        await self._db.execute(update(RoomPlaceRow).where(RoomPlaceRow.id == place_id).values(message_id=message_id))

    async def shorten_window(self, place_id: int, until: datetime) -> bool:
        statement = (
            update(RoomPlaceRow)
            .where(
                RoomPlaceRow.id == place_id,
                RoomPlaceRow.status == PlaceStatus.ADMITTED.value,
                RoomPlaceRow.admit_until > until,
            )
            .values(admit_until=until)
        )
        return await changed_rows(self._db, statement) > 0

    async def set_summary_message(self, session_id: int, message_id: int) -> None:
        await self._db.execute(
            update(WaitingRoomRow).where(WaitingRoomRow.session_id == session_id).values(summary_message_id=message_id)
        )

    async def undrawn(self, session_id: int) -> Sequence[int]:
        result = await self._db.scalars(
            select(RoomPlaceRow.id)
            .where(RoomPlaceRow.session_id == session_id, RoomPlaceRow.rank.is_(None))
            .order_by(RoomPlaceRow.id)
        )
        return list(result)

    async def set_ranks(self, ranks: dict[int, int]) -> None:
        if not ranks:
            return
        connection = await self._db.connection()
        await connection.execute(
            update(RoomPlaceRow).where(RoomPlaceRow.id == bindparam("row_id")).values(rank=bindparam("new_rank")),
            [{"row_id": place_id, "new_rank": rank} for place_id, rank in ranks.items()],
        )

    async def line(self, session_id: int) -> Sequence[Place]:
        return await self.with_status(session_id, IN_LINE, None)

    async def ahead_of(self, place: Place) -> int:
        if place.rank is None:
            return 0
        count = await self._db.scalar(
            select(func.count())
            .select_from(RoomPlaceRow)
            .where(
                RoomPlaceRow.session_id == place.session_id,
                RoomPlaceRow.status.in_([s.value for s in IN_LINE]),
                or_(
                    RoomPlaceRow.rank < place.rank,
                    and_(RoomPlaceRow.rank == place.rank, RoomPlaceRow.id < place.stored_id),
                ),
            )
        )
        return int(count or 0)

    async def line_marks(self, session_id: int) -> Sequence[LineMark]:
        """Core rows of six columns (no ORM object per place: a line of 10,000 took ~0.5 s of CPU as places)."""
        table = RoomPlaceRow.__table__.c
        rows = await self._db.execute(
            select(table.id, table.status, table.shown_status, table.shown_position, table.shown_at, table.message_id)
            .where(
                table.session_id == session_id,
                table.status.in_([s.value for s in IN_LINE]),
                table.rank.is_not(None),
            )
            .order_by(table.rank, table.id)
        )
        return [
            LineMark(
                place_id, PlaceStatus(status), PlaceStatus(shown) if shown else None, position, at, message is not None
            )
            for place_id, status, shown, position, at, message in rows
        ]

    async def places_by_ids(self, place_ids: Sequence[int]) -> Sequence[Place]:
        if not place_ids:
            return []
        rows = await self._db.scalars(
            select(RoomPlaceRow).where(RoomPlaceRow.id.in_(list(place_ids))).execution_options(populate_existing=True)
        )
        return [place_from_row(row) for row in rows]

    async def with_status(
        self, session_id: int, statuses: Collection[PlaceStatus], limit: int | None
    ) -> Sequence[Place]:
        query = (
            select(RoomPlaceRow)
            .where(
                RoomPlaceRow.session_id == session_id,
                RoomPlaceRow.status.in_([s.value for s in statuses]),
                RoomPlaceRow.rank.is_not(None),
            )
            .order_by(RoomPlaceRow.rank, RoomPlaceRow.id)
            .execution_options(populate_existing=True)
        )
        if limit is not None:
            query = query.limit(limit)
        return [place_from_row(row) for row in await self._db.scalars(query)]

    async def unannounced(self, session_id: int, statuses: Collection[PlaceStatus], limit: int) -> Sequence[Place]:
        rows = await self._db.scalars(
            select(RoomPlaceRow)
            .where(
                RoomPlaceRow.session_id == session_id,
                RoomPlaceRow.status.in_([s.value for s in statuses]),
                RoomPlaceRow.shown_status.is_distinct_from(RoomPlaceRow.status),
            )
            .order_by(RoomPlaceRow.rank, RoomPlaceRow.id)
            .limit(limit)
            .execution_options(populate_existing=True)
        )
        return [place_from_row(row) for row in rows]

    async def counts(self, session_id: int) -> dict[PlaceStatus, int]:
        result = await self._db.execute(
            select(RoomPlaceRow.status, func.count())
            .where(RoomPlaceRow.session_id == session_id)
            .group_by(RoomPlaceRow.status)
        )
        return {PlaceStatus(status): int(count) for status, count in result}

    async def oldest_unhandled_update(self, since: datetime) -> int | None:
        """From the inbox (``ix_inbox_status``: only the open updates are read); ``attempts`` counts the failures of
        an open update (bot/inbox.py's ``give_back``)."""
        oldest = await self._db.scalar(
            select(func.min(InboxRow.update_id)).where(
                InboxRow.status.in_(_UNHANDLED), or_(InboxRow.attempts == 0, InboxRow.received_at >= since)
            )
        )
        return int(oldest) if oldest is not None else None
