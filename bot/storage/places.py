"""SQLAlchemy implementation of ``domain.place_ports.PlaceRepository``: the places and media of the catalog
(``bot/storage/place_tables.py``), read as the catalog import wrote them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.place_tables import EventPlaceRow, HotelPageRow, RegionGuideRow
from domain.model.catalog import Translations
from domain.model.places import EventPlace, HotelPage, Point


def _point(latitude: float | None, longitude: float | None) -> Point | None:
    return Point(latitude, longitude) if latitude is not None and longitude is not None else None


class SqlPlaceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def event_place(self, event_id: int) -> EventPlace | None:
        row = await self._db.get(EventPlaceRow, event_id)
        if row is None:
            return None
        return EventPlace(event_id, _point(row.latitude, row.longitude), row.address, tuple(row.photos))

    async def hotel_page(self, hotel_id: int) -> HotelPage | None:
        row = await self._db.get(HotelPageRow, hotel_id)
        if row is None:
            return None
        return HotelPage(
            hotel_id=hotel_id,
            address=row.address,
            point=_point(row.latitude, row.longitude),
            free=dict(row.free),
            paid=dict(row.paid),
            timetable=dict(row.timetable),
            sights=dict(row.sights),
        )

    async def area_guide(self, region_id: int) -> Translations | None:
        row = await self._db.get(RegionGuideRow, region_id)
        return dict(row.guide) if row is not None and row.guide else None

    async def guided_regions(self) -> Sequence[int]:
        result = await self._db.scalars(select(RegionGuideRow.region_id).order_by(RegionGuideRow.region_id))
        return list(result)
