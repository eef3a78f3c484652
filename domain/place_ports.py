"""What the places and media of the catalog (issue 15, :mod:`domain.model.places`) need from storage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.model.catalog import Translations
from domain.model.places import EventPlace, HotelPage


class PlaceRepository(Protocol):
    """Read-only: the catalog import writes these (``bot/catalog/store_places.py``)."""

    async def event_place(self, event_id: int) -> EventPlace | None: ...
    async def hotel_page(self, hotel_id: int) -> HotelPage | None: ...
    async def area_guide(self, region_id: int) -> Translations | None:
        """The region's area guide; None when it has none."""

    async def guided_regions(self) -> Sequence[int]:
        """The ids of the regions that have an area guide."""
