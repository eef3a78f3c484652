"""The waiting room's tables (issue 13; domain/model/waiting_room.py), in :data:`bot.storage.tables.Base`'s
metadata. The schema is created only by the Alembic migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.tables import Base


class WaitingRoomRow(Base):
    """The waiting room of a session (domain/model/waiting_room.py): one per session, made at the first Book press.
    ``seed`` is the recorded seed of the pre-queue's draw."""

    __tablename__ = "waiting_rooms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("event_sessions.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # watching, pre_queue, open, sold_out, closed
    opens_at: Mapped[datetime]
    admission_window_s: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    seed: Mapped[int | None] = mapped_column(BigInteger)
    drawn: Mapped[int] = mapped_column(Integer, default=0)
    presses: Mapped[int] = mapped_column(Integer, default=0)
    presses_since: Mapped[datetime | None]
    summary_version: Mapped[int] = mapped_column(Integer, default=0)
    summary_at: Mapped[datetime | None]
    summary_message_id: Mapped[int | None] = mapped_column(BigInteger)
    summary_figures: Mapped[dict[str, Any]]
    __table_args__ = (Index("ix_waiting_rooms_status", "status"),)


class RoomPlaceRow(Base):
    """A tourist's one place in a waiting room (unique per session and user); ``rank`` orders the line."""

    __tablename__ = "room_places"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("event_sessions.id"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    joined_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int | None] = mapped_column(BigInteger)
    admitted_at: Mapped[datetime | None]
    admit_until: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    shown_status: Mapped[str | None] = mapped_column(String(16))
    shown_position: Mapped[int | None] = mapped_column(Integer)
    shown_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (
        UniqueConstraint("session_id", "user_id", name="uq_room_places_session_user"),
        Index("ix_room_places_line", "session_id", "status", "rank"),
    )
