"""The catalog's places and media stored by the import and read through ``uow.places`` (issue 15), on SQLite and
PostgreSQL: written with the entries, replaced when the file changes them, removed when it drops them, left alone for
entries the file does not mention, and nothing written when the file is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalog.load import CatalogError
from bot.catalog.store import import_catalog
from bot.storage.place_tables import EventPlaceRow, HotelPageRow, RegionGuideRow
from bot.storage.tables import EventRow, HotelRow, RegionRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.places import Point

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog.yaml"


def example() -> dict:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def write(tmp_path: Path, data: dict, name: str = "catalog.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


async def ids(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as s:
        rows = [
            *(await s.execute(select(RegionRow.code, RegionRow.id))),
            *(await s.execute(select(HotelRow.code, HotelRow.id))),
            *(await s.execute(select(EventRow.code, EventRow.id))),
        ]
    return {code: row_id for code, row_id in rows}  # noqa: C416 - rows of two columns


async def place_rows(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    async with sessions() as s:
        return tuple(  # type: ignore[return-value]
            [
                await s.scalar(select(func.count()).select_from(t)) or 0
                for t in (EventPlaceRow, HotelPageRow, RegionGuideRow)
            ]
        )


async def test_the_example_s_places_are_stored_and_read(sessions, tmp_path: Path) -> None:
    await import_catalog(sessions, EXAMPLE)
    known = await ids(sessions)
    uow = SqlUnitOfWork(sessions)
    async with uow.read():
        cruise = await uow.places.event_place(known["islands-cruise"])
        walk = await uow.places.event_place(known["old-town-walk"])
        page = await uow.places.hotel_page(known["telegraaf"])
        plain = await uow.places.hotel_page(known["kalamaja-guesthouse"])
        guide = await uow.places.area_guide(known["tallinn"])
        none = await uow.places.area_guide(known["stockholm"])
        guided = await uow.places.guided_regions()
    assert cruise is not None and cruise.point == Point(59.4445, 24.767)
    assert cruise.address == "Sadama 25, 10111 Tallinn" and len(cruise.photos) == 2
    assert walk is None and plain is None and none is None  # nothing given: no row
    assert page is not None and page.point == Point(59.43722, 24.74778) and page.address == "Vene 9, 10123 Tallinn"
    assert page.free["et"] == "WiFi, hommikusöök, spaa bassein" and page.sights["en"].startswith("Town Hall")
    assert guide is not None and guide["de"].startswith("Eine mittelalterliche Altstadt")
    assert list(guided) == [known["tallinn"]]
    assert await place_rows(sessions) == (1, 1, 1)


async def test_a_second_import_replaces_removes_and_keeps(sessions, tmp_path: Path) -> None:
    await import_catalog(sessions, EXAMPLE)
    again = await import_catalog(sessions, EXAMPLE)
    assert not again.changed and await place_rows(sessions) == (1, 1, 1)

    data = example()
    cruise = next(e for e in data["events"] if e["id"] == "islands-cruise")
    cruise["meeting_location"] = {"latitude": 59.45, "longitude": 24.77}
    del cruise["photos"]
    walk = next(e for e in data["events"] if e["id"] == "old-town-walk")
    walk["photos"] = ["https://example.com/walk.jpg"]
    hotel = next(h for h in data["hotels"] if h["id"] == "telegraaf")
    for key in ("address", "location", "free", "paid", "timetable", "sights"):
        del hotel[key]  # the hotel's page taken out of the file
    await import_catalog(sessions, write(tmp_path, data))
    known = await ids(sessions)
    uow = SqlUnitOfWork(sessions)
    async with uow.read():
        moved = await uow.places.event_place(known["islands-cruise"])
        walk_place = await uow.places.event_place(known["old-town-walk"])
        page = await uow.places.hotel_page(known["telegraaf"])
        guide = await uow.places.area_guide(known["tallinn"])
    assert moved is not None and moved.point == Point(59.45, 24.77) and moved.photos == ()
    assert (
        walk_place is not None and walk_place.point is None and walk_place.photos == ("https://example.com/walk.jpg",)
    )
    assert page is None
    assert guide is not None  # the region is still in the file, with its guide

    # a file that mentions only the walk leaves the cruise's place as it is
    only_walk = {"events": [walk]}
    await import_catalog(sessions, write(tmp_path, only_walk, "walk.yaml"))
    async with uow.read():
        assert await uow.places.event_place(known["islands-cruise"]) == moved


async def test_a_refused_file_writes_no_place(sessions, tmp_path: Path) -> None:
    data = example()
    data["events"][0]["meeting_location"] = {"latitude": 95, "longitude": 24}
    with pytest.raises(CatalogError, match=r"meeting_location\.latitude: 95 is out of range"):
        await import_catalog(sessions, write(tmp_path, data))
    assert await place_rows(sessions) == (0, 0, 0)
