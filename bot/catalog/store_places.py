"""Importing the catalog's places and media (issue 15): the meeting point on the map and the photos of each event,
each hotel's page and each region's area guide, in the import's transaction (:mod:`bot.catalog.store`).

Every entry of the file says all there is: its row is replaced when it changed and removed when the entry no longer
gives any of it. Entries the file does not mention keep theirs, as everywhere in the import. One SELECT, at most one
DELETE and one INSERT per table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalog.schema import Catalog, EventSpec, HotelSpec, PointSpec, RegionSpec
from bot.storage.place_tables import EventPlaceRow, HotelPageRow, RegionGuideRow
from bot.storage.tables import Base

__all__ = ["write_places"]


def _point(point: PointSpec | None) -> dict[str, float | None]:
    return {
        "latitude": point.latitude if point else None,
        "longitude": point.longitude if point else None,
    }


def event_place_values(spec: EventSpec) -> dict[str, Any] | None:
    """The ``event_places`` row of an event; None when it gives no place or photo."""
    if spec.meeting_location is None and spec.meeting_address is None and not spec.photos:
        return None
    return {**_point(spec.meeting_location), "address": spec.meeting_address, "photos": list(spec.photos)}


def hotel_page_values(spec: HotelSpec) -> dict[str, Any] | None:
    """The ``hotel_pages`` row of a hotel; None when it gives nothing for its page."""
    texts = {"free": spec.free, "paid": spec.paid, "timetable": spec.timetable, "sights": spec.sights}
    if spec.address is None and spec.location is None and not any(texts.values()):
        return None
    return {"address": spec.address, **_point(spec.location), **{k: dict(v) for k, v in texts.items()}}


def region_guide_values(spec: RegionSpec) -> dict[str, Any] | None:
    return {"guide": dict(spec.guide)} if spec.guide else None


async def write_places(
    s: AsyncSession,
    catalog: Catalog,
    region_ids: Mapping[str, int],
    hotel_ids: Mapping[str, int],
    event_ids: Mapping[str, int],
) -> int:
    """Write the places of every entry in the file; return how many rows were added, replaced or removed."""
    changed = await _replace(
        s, RegionGuideRow, "region_id", {region_ids[r.code]: region_guide_values(r) for r in catalog.regions}
    )
    changed += await _replace(
        s, HotelPageRow, "hotel_id", {hotel_ids[h.code]: hotel_page_values(h) for h in catalog.hotels}
    )
    changed += await _replace(
        s, EventPlaceRow, "event_id", {event_ids[e.code]: event_place_values(e) for e in catalog.events}
    )
    return changed


async def _replace(s: AsyncSession, row: type[Base], key: str, wanted: Mapping[int, dict[str, Any] | None]) -> int:
    if not wanted:
        return 0
    table = row.__table__
    assert isinstance(table, Table)  # every row class maps one table
    result = await s.execute(select(table).where(table.c[key].in_(list(wanted))))
    existing = {r._mapping[key]: {name: v for name, v in r._mapping.items() if name != key} for r in result}
    gone = [ref for ref, values in wanted.items() if ref in existing and existing[ref] != values]
    new = [{key: ref, **values} for ref, values in wanted.items() if values is not None and existing.get(ref) != values]
    if gone:
        await s.execute(delete(table).where(table.c[key].in_(gone)))
    if new:
        await s.execute(insert(table), new)
    return len({*gone, *(values[key] for values in new)})
