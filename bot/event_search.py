"""The inline mode's search (``handlers.tourist.inline_mode.EventSearch``) over the catalog.

Each event's title and its region's name, per language, are kept in memory as casefolded text, rebuilt when the
catalog's version moves (the triggers of migration 0006; checked at most every ``refresh_every`` seconds, like
:class:`~bot.storage.catalog_cache.CatalogCache`). A query is then one aggregate over the sessions open for booking
(the next start of each event) and a substring match in memory; the events found come from the catalog cache.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.catalog_cache import CatalogCache
from bot.storage.reads import read_sessions
from bot.storage.tables import CatalogVersionRow, EventRow, SessionRow
from domain.model.catalog import BOOKING_CUTOFF, SessionStatus, localized
from handlers.tourist.inline_mode import FoundEvent


class CatalogSearch:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cache: CatalogCache,
        refresh_every: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._cache = cache
        self.refresh_every = refresh_every
        self._monotonic = monotonic
        self._version: int | None = None
        self._checked = 0.0
        self._titles: list[tuple[int, int, dict[str, str]]] = []  # (event id, region id, its title's translations)
        self._texts: dict[str, list[tuple[int, str]]] = {}  # language -> (event id, casefolded title and region)
        self._lock = asyncio.Lock()

    async def search(self, language: str, words: Sequence[str], now: datetime, limit: int) -> Sequence[FoundEvent]:
        async with read_sessions(self._sessions)() as db:
            texts = await self._texts_in(db, language)
            matching = {event_id for event_id, text in texts if all(word in text for word in words)}
            if not matching:
                return []
            nexts = await db.execute(
                select(SessionRow.event_id, func.min(SessionRow.starts_at).label("next_start"))
                .where(
                    SessionRow.status == SessionStatus.SCHEDULED.value,
                    SessionRow.sales_stopped.is_(False),
                    SessionRow.seats_left > 0,
                    SessionRow.starts_at > now + BOOKING_CUTOFF,
                )
                .group_by(SessionRow.event_id)
            )
            soonest = sorted((row.next_start, row.event_id) for row in nexts if row.event_id in matching)[:limit]
            events = await self._cache.events(db, [event_id for _start, event_id in soonest])
            regions = {r.id: r for r in await self._cache.regions(db)}
        found = []
        for start, event_id in soonest:
            event = events.get(event_id)
            region = regions.get(event.region_id) if event else None
            if event is not None and region is not None:
                found.append(FoundEvent(event, region, start))
        return found

    async def _texts_in(self, db: AsyncSession, language: str) -> list[tuple[int, str]]:
        async with self._lock:
            if self._version is None or self._monotonic() - self._checked >= self.refresh_every:
                version = int(await db.scalar(select(CatalogVersionRow.version).where(CatalogVersionRow.id == 1)) or 0)
                if version != self._version:
                    rows = await db.execute(select(EventRow.id, EventRow.region_id, EventRow.title))
                    self._titles = [(row.id, row.region_id, dict(row.title)) for row in rows]
                    self._texts = {}
                    self._version = version
                self._checked = self._monotonic()
            if (texts := self._texts.get(language)) is None:
                regions = {r.id: localized(r.name, language) for r in await self._cache.regions(db)}
                texts = [
                    (event_id, f"{localized(title, language)} {regions.get(region_id, '')}".casefold())
                    for event_id, region_id, title in self._titles
                ]
                self._texts[language] = texts
            return texts
