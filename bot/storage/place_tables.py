"""Places and media of the catalog (issue 15; domain/model/places.py), in :data:`bot.storage.tables.Base`'s metadata:
one row per event, hotel or region whose catalog entry gives any. Written only by the catalog import
(bot/catalog/store_places.py); the schema is created only by the Alembic migrations (0018)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Double, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.tables import Base

ADDRESS_MAX = 300


class EventPlaceRow(Base):
    """An event's meeting point on the map (both coordinates or neither) and its photos (URLs or file ids)."""

    __tablename__ = "event_places"
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    latitude: Mapped[float | None] = mapped_column(Double)
    longitude: Mapped[float | None] = mapped_column(Double)
    address: Mapped[str | None] = mapped_column(String(ADDRESS_MAX))
    photos: Mapped[list[str]] = mapped_column(JSON)


class HotelPageRow(Base):
    """A partner hotel's page: the texts are ``{language: text}``."""

    __tablename__ = "hotel_pages"
    hotel_id: Mapped[int] = mapped_column(ForeignKey("hotels.id"), primary_key=True)
    address: Mapped[str | None] = mapped_column(String(ADDRESS_MAX))
    latitude: Mapped[float | None] = mapped_column(Double)
    longitude: Mapped[float | None] = mapped_column(Double)
    free: Mapped[dict[str, Any]]
    paid: Mapped[dict[str, Any]]
    timetable: Mapped[dict[str, Any]]
    sights: Mapped[dict[str, Any]]


class RegionGuideRow(Base):
    """A region's short area guide, ``{language: text}``."""

    __tablename__ = "region_guides"
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), primary_key=True)
    guide: Mapped[dict[str, Any]]
