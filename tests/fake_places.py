"""The in-memory :class:`domain.place_ports.PlaceRepository` of :mod:`tests.fakes`: what the catalog import would
have written, set by a test in ``events`` / ``hotels`` / ``guides``."""

from __future__ import annotations

from collections.abc import Sequence

from domain.model.catalog import Translations
from domain.model.places import EventPlace, HotelPage


class FakePlaceRepository:
    def __init__(self) -> None:
        self.events: dict[int, EventPlace] = {}
        self.hotels: dict[int, HotelPage] = {}
        self.guides: dict[int, Translations] = {}

    async def event_place(self, event_id: int) -> EventPlace | None:
        return self.events.get(event_id)

    async def hotel_page(self, hotel_id: int) -> HotelPage | None:
        return self.hotels.get(hotel_id)

    async def area_guide(self, region_id: int) -> Translations | None:
        return dict(self.guides[region_id]) if self.guides.get(region_id) else None

    async def guided_regions(self) -> Sequence[int]:
        return sorted(region for region, guide in self.guides.items() if guide)
