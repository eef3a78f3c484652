"""Places and media of the catalog (issue 15): the meeting point on a map and the event's photos, the partner hotel's
page and the area guide of a region.

Texts carry their own translations (``{language: text}``, read with :func:`domain.model.catalog.localized`); an
address is written once, as it is on the street. Photos are https URLs or Telegram file ids, the first one is the
event's cover.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.model.catalog import Translations

LATITUDE_RANGE = (-90.0, 90.0)
LONGITUDE_RANGE = (-180.0, 180.0)
MAX_PHOTOS = 10  # an album (sendMediaGroup) holds 2-10


@dataclass(frozen=True, slots=True)
class Point:
    """A place on the map, in degrees (WGS 84, as Telegram's venues and every map app take them)."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class EventPlace:
    """Where an event's meeting point is on the map (``point`` None: not given) and the event's photos."""

    event_id: int
    point: Point | None = None
    address: str | None = None
    photos: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HotelPage:
    """What a partner hotel tells its guests: the address and the map, what is free and what is paid, timetable notes
    (breakfast, reception, sauna...) and the sights around."""

    hotel_id: int
    address: str | None = None
    point: Point | None = None
    free: Translations = field(default_factory=dict)
    paid: Translations = field(default_factory=dict)
    timetable: Translations = field(default_factory=dict)
    sights: Translations = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.address or self.point or self.free or self.paid or self.timetable or self.sights)
