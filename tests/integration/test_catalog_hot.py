"""The catalog's hot on-sales (issue 13): ``hot``, ``sale_opens_at`` (the region's time) and ``admission_window``
on an event apply to its sessions unless a session says otherwise; a re-import changes them in place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalog.store import KindCounts, import_catalog
from bot.storage.catalog import session_from_row
from bot.storage.tables import EventRow, SessionRow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog.yaml"

HOT = """
events:
  - id: midsummer-night
    organiser: baltic-boats
    region: stockholm
    category: night
    title: {en: Midsummer night, ru: Ночь летнего солнцестояния, de: Mittsommernacht, et: Jaaniöö}
    duration: 2h
    languages: [en]
    currency: SEK
    prices: {adult: 300}
    hot: true
    sale_opens_at: 2026-12-05T10:00
    sessions:
      - {starts_at: 2026-12-20T18:00, capacity: 50}
      - {starts_at: 2026-12-21T18:00, capacity: 50, admission_window: 3m}
      - {starts_at: 2026-12-22T18:00, capacity: 50, hot: false}
"""


async def hot_sessions(sessions: async_sessionmaker[AsyncSession]) -> list[SessionRow]:
    async with sessions() as s:
        return list(
            await s.scalars(
                select(SessionRow)
                .join(EventRow, EventRow.id == SessionRow.event_id)
                .where(EventRow.code == "midsummer-night")
                .order_by(SessionRow.starts_at)
            )
        )


async def test_an_events_hot_on_sale_applies_to_its_sessions_unless_they_say_otherwise(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await import_catalog(sessions, EXAMPLE)
    path = tmp_path / "hot.yaml"
    path.write_text(HOT, encoding="utf-8")
    await import_catalog(sessions, path)
    first, second, third = (session_from_row(r) for r in await hot_sessions(sessions))
    opens = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)  # 10:00 in Stockholm
    assert (first.hot, first.sale_opens_at, first.admission_window) == (True, opens, None)
    assert (second.hot, second.admission_window) == (True, timedelta(minutes=3))
    assert third.hot is False and third.sale_opens_at == opens

    report = await import_catalog(sessions, path)
    assert report.sessions == KindCounts(unchanged=3)
    path.write_text(HOT.replace("hot: true", "hot: false"), encoding="utf-8")
    report = await import_catalog(sessions, path)
    assert report.sessions == KindCounts(updated=2, unchanged=1)
    assert [r.hot for r in await hot_sessions(sessions)] == [False, False, False]
