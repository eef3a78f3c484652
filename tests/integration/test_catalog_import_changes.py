"""The catalog import and the organisers' own changes (``/settings``, ``/sessions``) on SQLite and PostgreSQL: the
import keeps a value the organiser changed while the file still says what the catalog said then, replaces it once the
file changes that value, and reports both (``bot/catalog/changes.py``, ``docs/catalog.md``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalog.store import import_catalog
from bot.storage.organiser_tables import OrganiserChangeRow
from bot.storage.tables import AuditRow, EventRow, OrganiserRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.catalog import Confirmation
from domain.model.organiser_settings import Setting
from domain.use_cases.organiser_access import OrganiserActor
from domain.use_cases.organiser_sessions import add_session, capacity_key, change_capacity, stop_sales
from domain.use_cases.organiser_settings import change_confirmation, change_term

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog.yaml"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CHAT = 700001  # baltic-boats' chat in the example


async def organiser(sessions: async_sessionmaker[AsyncSession]) -> OrganiserRow:
    async with sessions() as s:
        row = await s.scalar(select(OrganiserRow).where(OrganiserRow.code == "baltic-boats"))
        assert row is not None
        return row


async def event(sessions: async_sessionmaker[AsyncSession], code: str) -> EventRow:
    async with sessions() as s:
        row = await s.scalar(select(EventRow).where(EventRow.code == code))
        assert row is not None
        return row


async def notes(sessions: async_sessionmaker[AsyncSession]) -> set[str]:
    async with sessions() as s:
        return {row.key for row in await s.scalars(select(OrganiserChangeRow))}


async def test_the_import_keeps_the_organisers_changes_until_the_file_changes_them(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await import_catalog(sessions, EXAMPLE)
    org = await organiser(sessions)
    cruise = await event(sessions, "islands-cruise")
    assert (org.hold_s, org.reminders_s, cruise.confirmation) == (900, [86400, 7200], "required")
    actor = OrganiserActor(CHAT)
    await change_term(SqlUnitOfWork(sessions), org.id, Setting.HOLD, "20m", actor, NOW)
    await change_term(SqlUnitOfWork(sessions), org.id, Setting.HOLD, "25m", actor, NOW)  # the first note stays
    await change_term(SqlUnitOfWork(sessions), org.id, Setting.REMINDERS, "3h", actor, NOW)
    await change_confirmation(SqlUnitOfWork(sessions), org.id, cruise.id, Confirmation.INSTANT, actor, NOW)
    async with sessions() as s:
        actions = [row.action for row in await s.scalars(select(AuditRow).order_by(AuditRow.id))]
    assert actions == [
        "organiser.hold_changed",
        "organiser.hold_changed",
        "organiser.reminders_changed",
        "organiser.confirmation_changed",
    ]

    # the same file again: the catalog changed none of those values, so the organiser's stay
    report = await import_catalog(sessions, EXAMPLE)
    assert sorted(report.kept) == [
        "event islands-cruise: confirmation kept the organiser's instant (the file still says required)",
        "organiser baltic-boats: hold kept the organiser's 25m (the file still says 15m)",
        "organiser baltic-boats: reminders kept the organiser's [3h] (the file still says [1d, 2h])",
    ]
    assert report.replaced == ()
    assert report.organisers.updated == 0
    assert "kept: organiser baltic-boats: hold kept the organiser's 25m" in report.summary()
    org = await organiser(sessions)
    assert (org.hold_s, org.reminders_s) == (1500, [10800])
    assert (await event(sessions, "islands-cruise")).confirmation == "instant"

    # the file changes the hold (and only the hold): the file's new value wins, the other changes stay
    changed = EXAMPLE.read_text(encoding="utf-8").replace("    hold: 15m\n", "    hold: 30m\n", 1)
    path = tmp_path / "catalog.yaml"
    path.write_text(changed, encoding="utf-8")
    report = await import_catalog(sessions, path)
    assert report.replaced == (
        "organiser baltic-boats: hold replaced the organiser's 25m with the file's 30m (changed in the file since 15m)",
    )
    assert len(report.kept) == 2
    org = await organiser(sessions)
    assert (org.hold_s, org.reminders_s) == (1800, [10800])
    assert await notes(sessions) == {"reminders", "confirmation:islands-cruise"}

    # from now on the hold is the catalog's again: the same file reports nothing new about it
    report = await import_catalog(sessions, path)
    assert report.replaced == ()
    assert not any("hold" in line for line in report.kept)
    assert not report.changed


async def cruise_sessions(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[datetime, int, int]]:
    """The islands cruise's sessions as (UTC start, capacity, seats left), by start."""
    async with sessions() as s:
        rows = await s.execute(
            select(SessionRow.starts_at, SessionRow.capacity, SessionRow.seats_left)
            .join(EventRow, EventRow.id == SessionRow.event_id)
            .where(EventRow.code == "islands-cruise")
            .order_by(SessionRow.starts_at)
        )
        return [(start.replace(tzinfo=UTC), capacity, left) for start, capacity, left in rows]


async def session_ids(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    async with sessions() as s:
        rows = await s.scalars(
            select(SessionRow.id)
            .join(EventRow, EventRow.id == SessionRow.event_id)
            .where(EventRow.code == "islands-cruise")
            .order_by(SessionRow.starts_at)
        )
        return list(rows)


async def test_the_import_keeps_the_organisers_session_changes_until_the_file_changes_them(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await import_catalog(sessions, EXAMPLE)
    org = await organiser(sessions)
    cruise = await event(sessions, "islands-cruise")
    first, second, _ = await session_ids(sessions)
    actor = OrganiserActor(CHAT)
    await change_capacity(SqlUnitOfWork(sessions), org.id, first, 24, actor, NOW)
    await change_capacity(SqlUnitOfWork(sessions), org.id, first, 25, actor, NOW)  # the first note stays
    await stop_sales(SqlUnitOfWork(sessions), org.id, second, actor, NOW)
    added_at = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # 10:00 in Tallinn
    added = await add_session(SqlUnitOfWork(sessions), org.id, cruise.id, added_at, 15, actor, NOW)
    # stopped sales are a flag of the session, not a capacity: no note (the file has no say on them)
    assert await notes(sessions) == {capacity_key(first), capacity_key(added.session.id)}

    # the same file again: it still says 20 for both sessions, so the organiser's capacities stay; the added session
    # is not in the file and is left alone
    report = await import_catalog(sessions, EXAMPLE)
    assert sorted(report.kept) == [
        "event islands-cruise session 2026-12-01T10:00: capacity kept the organiser's 25 (the file still says 20)",
        "event islands-cruise session 2026-12-03T10:00: sales kept stopped by the organiser (resumed only in "
        "/sessions)",
    ]
    assert report.replaced == ()
    assert report.sessions.updated == 0
    assert not report.changed
    assert [(capacity, left) for _, capacity, left in await cruise_sessions(sessions)] == [
        (25, 25),
        (20, 20),
        (30, 30),
        (15, 15),
    ]

    # the file changes the first session's capacity and lists the added session: the file's values win there
    # (the notes go); the stopped sales stay stopped
    changed = EXAMPLE.read_text(encoding="utf-8").replace(
        "      - starts_at: 2026-12-01T10:00     # local time of the region: 08:00 UTC\n        capacity: 20\n",
        "      - starts_at: 2026-12-01T10:00\n        capacity: 22\n"
        "      - starts_at: 2026-12-07T10:00\n        capacity: 18\n",
        1,
    )
    path = tmp_path / "catalog.yaml"
    path.write_text(changed, encoding="utf-8")
    report = await import_catalog(sessions, path)
    assert sorted(report.replaced) == [
        "event islands-cruise session 2026-12-01T10:00: capacity replaced the organiser's 25 with the file's 22 "
        "(changed in the file since 20)",
        "event islands-cruise session 2026-12-07T10:00: capacity replaced the organiser's 15 with the file's 18 "
        "(the organiser added the session)",
    ]
    assert report.kept == (
        "event islands-cruise session 2026-12-03T10:00: sales kept stopped by the organiser (resumed only in "
        "/sessions)",
    )
    assert "replaced: event islands-cruise session 2026-12-01T10:00: capacity" in report.summary()
    assert [(capacity, left) for _, capacity, left in await cruise_sessions(sessions)] == [
        (22, 22),
        (20, 20),
        (30, 30),
        (18, 18),
    ]
    assert await notes(sessions) == set()
    async with sessions() as s:
        assert [row.sales_stopped for row in await s.scalars(select(SessionRow).where(SessionRow.id == second))] == [
            True
        ]

    # from now on those capacities are the catalog's again: the same file reports nothing new about them
    report = await import_catalog(sessions, path)
    assert report.replaced == ()
    assert len(report.kept) == 1
    assert not report.changed


async def test_a_kept_capacity_is_checked_against_the_seats_sold_not_the_files(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """An organiser raised a capacity and sold more than the file's: the import keeps their capacity, so the seats
    sold are no reason to refuse the file."""
    await import_catalog(sessions, EXAMPLE)
    org = await organiser(sessions)
    first = (await session_ids(sessions))[0]
    await change_capacity(SqlUnitOfWork(sessions), org.id, first, 40, OrganiserActor(CHAT), NOW)
    async with sessions() as s, s.begin():
        row = await s.get(SessionRow, first)
        assert row is not None
        row.seats_left = 10  # 30 seats sold, more than the file's 20
    report = await import_catalog(sessions, EXAMPLE)
    assert report.kept == (
        "event islands-cruise session 2026-12-01T10:00: capacity kept the organiser's 40 (the file still says 20)",
    )
    _, capacity, left = (await cruise_sessions(sessions))[0]
    assert (capacity, left) == (40, 10)
