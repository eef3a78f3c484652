"""The favourites' tables (issue 15; domain/model/favourites.py), in :data:`bot.storage.tables.Base`'s metadata.
The schema is created only by the Alembic migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, true
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.tables import Base


class FavouriteRow(Base):
    """An event among a guest's favourites (one row per guest and event; gone with the guest's data)."""

    __tablename__ = "favourites"
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True, autoincrement=False)
    created_at: Mapped[datetime]
    alerts: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # the highest session id of the event the guest was told about (or that existed when the alerts went on)
    seen_session_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    __table_args__ = (Index("ix_favourites_event_id", "event_id"),)


class FavouriteSoldOutRow(Base):
    """A sold-out session of a favourite event, remembered until it has seats again (then the guests are told)."""

    __tablename__ = "favourite_sold_out"
    session_id: Mapped[int] = mapped_column(ForeignKey("event_sessions.id"), primary_key=True, autoincrement=False)
    since: Mapped[datetime]
