"""The catalog in memory: regions, hotels, organisers (with their own settings) and events served from the process
until the catalog changes; sessions (their dates, status and seats left) are always read from the database.

The catalog changes on import, in the demo and from an organiser's chat, rarely; every screen reads it. The
database keeps a version number that triggers bump on any change of those four tables (migration 0006) and of the
organisers' extras (their cutoff, texts and Book button, set from their chat: migration 0021), whoever writes. A
process checks it with one cheap SELECT at most every ``refresh_every`` seconds (default 1 s, so another process's
import shows within a second; 0 checks on every read) and starts a new, empty copy when it moved.
:meth:`CatalogCache.forget` drops the copy at once (for a writer in this process that cannot wait a second).

The regions are read whole (a handful); events, organisers, their extras and hotels one by one as screens ask for
them, the most recently used ``max_items`` of each kept: a scale-10 catalog (6,800 events, each with its texts in
four languages) held whole took ~54 MiB (bench/memory.py), the events people actually look at take a few.

It reads through the session of whoever asks (a unit of work's, inside its transaction if it has one): a reader that
holds SQLite's write lock must not wait for a second connection from a pool whose connections may all be waiting for
that lock. Nothing here decides whether a seat can be sold: that stays the conditional ``UPDATE``
(bot/storage/seats.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.catalog import (
    SqlCatalogRepository,
    event_from_row,
    hotel_from_row,
    organiser_from_row,
    region_from_row,
)
from bot.storage.organiser_settings import SqlOrganiserSettingsRepository, copy_extras, extras_from_row
from bot.storage.organiser_tables import OrganiserExtrasRow
from bot.storage.tables import CatalogVersionRow, EventRow, HotelRow, OrganiserRow, RegionRow
from domain.model.catalog import Event, Hotel, Organiser, Region
from domain.model.organiser_settings import OrganiserExtras

MAX_ITEMS = 1024


class _Recent:
    """The most recently used ``limit`` values by key."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any) -> Any:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: Any, value: Any) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)


class _Copy:
    """The catalog as of one version."""

    def __init__(self, version: int, regions: Sequence[Region], limit: int) -> None:
        self.version = version
        self.regions = tuple(sorted(regions, key=lambda r: r.code))
        self.region_by_id = {r.id: r for r in self.regions}
        self.events, self.event_codes = _Recent(limit), _Recent(limit)
        self.organisers, self.hotels, self.extras = _Recent(limit), _Recent(limit), _Recent(limit)


async def _version(db: AsyncSession) -> int:
    return int(await db.scalar(select(CatalogVersionRow.version).where(CatalogVersionRow.id == 1)) or 0)


class CatalogCache:
    """One per process and database (see the module's docstring)."""

    def __init__(
        self, refresh_every: float = 1.0, monotonic: Callable[[], float] = time.monotonic, max_items: int = MAX_ITEMS
    ) -> None:
        self.refresh_every = refresh_every
        self.max_items = max_items
        self._monotonic = monotonic
        self._copy: _Copy | None = None
        self._checked = 0.0
        self._lock = asyncio.Lock()
        self.loads = 0  # how many times a new copy was started (for tests and benches)

    def forget(self) -> None:
        self._copy = None

    async def _current(self, db: AsyncSession) -> _Copy:
        current = self._copy
        if current is not None and (self._monotonic() - self._checked < self.refresh_every or self._lock.locked()):
            return current  # fresh enough, or another reader is checking: nobody waits while holding a connection
        async with self._lock:  # only before the first copy do readers wait for it
            current = self._copy
            if current is not None and self._monotonic() - self._checked < self.refresh_every:
                return current
            version = await _version(db)
            if current is None or current.version != version:
                regions = [region_from_row(r) for r in await db.scalars(select(RegionRow))]
                current = _Copy(version, regions, self.max_items)
                self.loads += 1
            self._copy, self._checked = current, self._monotonic()
            return current

    async def regions(self, db: AsyncSession) -> Sequence[Region]:
        return (await self._current(db)).regions

    async def region(self, db: AsyncSession, region_id: int) -> Region | None:
        return (await self._current(db)).region_by_id.get(region_id)

    async def events(self, db: AsyncSession, ids: Sequence[int]) -> dict[int, Event]:
        copy = await self._current(db)
        found = {i: e for i in ids if (e := copy.events.get(i)) is not None}
        missing = [i for i in ids if i not in found]
        if missing:
            for row in await db.scalars(select(EventRow).where(EventRow.id.in_(missing))):
                event = event_from_row(row)
                copy.events.put(event.id, event)
                copy.event_codes.put(event.code, event)
                found[event.id] = event
        return found

    async def event_by_code(self, db: AsyncSession, code: str) -> Event | None:
        copy = await self._current(db)
        if (event := copy.event_codes.get(code)) is None:
            row = await db.scalar(select(EventRow).where(EventRow.code == code))
            if row is None:
                return None
            event = event_from_row(row)
            copy.events.put(event.id, event)
            copy.event_codes.put(code, event)
        return event  # type: ignore[no-any-return]

    async def organiser(self, db: AsyncSession, organiser_id: int) -> Organiser | None:
        copy = await self._current(db)
        if (organiser := copy.organisers.get(organiser_id)) is None:
            row = await db.get(OrganiserRow, organiser_id)
            if row is None:
                return None
            organiser = organiser_from_row(row)
            copy.organisers.put(organiser_id, organiser)
        return organiser  # type: ignore[no-any-return]

    async def hotel(self, db: AsyncSession, hotel_id: int) -> Hotel | None:
        copy = await self._current(db)
        if (hotel := copy.hotels.get(hotel_id)) is None:
            row = await db.get(HotelRow, hotel_id)
            if row is None:
                return None
            hotel = hotel_from_row(row)
            copy.hotels.put(hotel_id, hotel)
        return hotel  # type: ignore[no-any-return]

    async def extras(self, db: AsyncSession, organiser_id: int) -> OrganiserExtras:
        """The organiser's extras (the defaults when none were set), a copy the caller may change."""
        copy = await self._current(db)
        if (extras := copy.extras.get(organiser_id)) is None:
            row = await db.get(OrganiserExtrasRow, organiser_id)
            extras = extras_from_row(row) if row is not None else OrganiserExtras(organiser_id=organiser_id)
            copy.extras.put(organiser_id, extras)
        return copy_extras(extras)


class CachedOrganiserSettingsRepository(SqlOrganiserSettingsRepository):
    """``domain.ports.OrganiserSettingsRepository`` with the extras from :class:`CatalogCache`."""

    def __init__(self, session: AsyncSession, cache: CatalogCache, changed: Callable[[], None]) -> None:
        super().__init__(session, changed)
        self._cache = cache

    async def extras(self, organiser_id: int) -> OrganiserExtras:
        return await self._cache.extras(self._db, organiser_id)


class CachedCatalogRepository(SqlCatalogRepository):
    """``domain.ports.CatalogRepository`` with the static catalog from :class:`CatalogCache`; sessions and the
    browse queries (which count seats) from the database, in the unit of work's session."""

    def __init__(self, session: AsyncSession, cache: CatalogCache) -> None:
        super().__init__(session)
        self._cache = cache

    async def regions(self) -> Sequence[Region]:
        return await self._cache.regions(self._db)

    async def region(self, region_id: int) -> Region | None:
        return await self._cache.region(self._db, region_id)

    async def event(self, event_id: int) -> Event | None:
        return (await self._cache.events(self._db, [event_id])).get(event_id)

    async def event_by_code(self, code: str) -> Event | None:
        return await self._cache.event_by_code(self._db, code)

    async def organiser(self, organiser_id: int) -> Organiser | None:
        return await self._cache.organiser(self._db, organiser_id)

    async def hotel(self, hotel_id: int) -> Hotel | None:
        return await self._cache.hotel(self._db, hotel_id)

    async def _events(self, ids: Sequence[int]) -> dict[int, Event]:
        return await self._cache.events(self._db, ids)
