"""The day itself's tables (issue 14; domain/model/checkin.py), in :data:`bot.storage.tables.Base`'s metadata. The
schema is created only by the Alembic migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.tables import Base


class OrderDayRow(Base):
    """An order's day: checked in (when, by whom), running late (when). One row per order, made by the first mark."""

    __tablename__ = "order_days"
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    checked_in_at: Mapped[datetime | None]
    checked_in_by: Mapped[str | None] = mapped_column(String(64))
    running_late_at: Mapped[datetime | None]


class SessionDayRow(Base):
    """A session's day: the organiser announced they are at the meeting point (when, who)."""

    __tablename__ = "session_days"
    session_id: Mapped[int] = mapped_column(ForeignKey("event_sessions.id"), primary_key=True)
    at_meeting_point_at: Mapped[datetime | None]
    announced_by: Mapped[str | None] = mapped_column(String(64))
