"""The catalog in memory (bot/storage/catalog_cache.py): served without SQL, reloaded when any writer changes the
catalog (the triggers of migration 0006 bump its version), never deciding a seat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text, update

from bot.storage.catalog_cache import CatalogCache
from bot.storage.organiser_tables import OrganiserExtrasRow
from bot.storage.tables import EventRow, HotelRow, OrganiserRow, RegionRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.organiser_settings import Setting, TextKind
from domain.use_cases.organiser_access import OrganiserActor
from domain.use_cases.organiser_settings import change_term, save_text
from tests.conftest import engine_twin
from tests.seed import INSTANT_ORGANISER_CHAT_ID, seed_catalog

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def another_process_writes(engine, statement) -> None:
    """``statement`` committed by another process (an import, a replica, a hand-written fix): its own engine."""
    other = engine_twin(engine)
    try:
        async with other.begin() as connection:
            await connection.execute(statement)
    finally:
        await other.dispose()


def count_statements(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


async def test_what_was_read_once_is_served_from_memory(engine, sessions) -> None:
    seeded = await seed_catalog(sessions, NOW)
    cache = CatalogCache(refresh_every=60, monotonic=Clock())
    uow = SqlUnitOfWork(sessions, cache)
    async with uow.read():
        event_ = await uow.catalog.event(seeded.event_id)
        await uow.catalog.organiser(seeded.organiser_id)
        await uow.catalog.hotel(seeded.hotel_id)
    assert event_ is not None and cache.loads == 1
    statements = count_statements(engine)
    for _ in range(3):
        async with uow.read():
            assert (await uow.catalog.event(seeded.event_id)) == event_
            assert (await uow.catalog.region(seeded.region_id)) is not None
            assert (await uow.catalog.organiser(seeded.organiser_id)) is not None
            assert (await uow.catalog.hotel(seeded.hotel_id)) is not None
            assert [r.id for r in await uow.catalog.regions()] == sorted([seeded.region_id, seeded.other_region_id])
    assert statements == [] and cache.loads == 1


@pytest.mark.parametrize("table", ["regions", "hotels", "organisers", "events"])
async def test_any_change_of_the_catalog_by_any_writer_is_seen_at_the_next_check(engine, sessions, table) -> None:
    seeded = await seed_catalog(sessions, NOW)
    clock = Clock()
    cache = CatalogCache(refresh_every=1, monotonic=clock)
    uow = SqlUnitOfWork(sessions, cache)
    async with uow.read():
        before = await uow.catalog.event(seeded.event_id)
    row, row_id = {
        "regions": (RegionRow, seeded.region_id),
        "hotels": (HotelRow, seeded.hotel_id),
        "organisers": (OrganiserRow, seeded.organiser_id),
        "events": (EventRow, seeded.event_id),
    }[table]
    changes = {
        "regions": {"timezone": "Europe/Helsinki"},
        "hotels": {"discount_percent": 33},
        "organisers": {"phone": "+3725550000"},
        "events": {"category": "changed"},
    }[table]

    async def seen() -> object:
        async with uow.read():
            read = {
                "regions": lambda: uow.catalog.region(seeded.region_id),
                "hotels": lambda: uow.catalog.hotel(seeded.hotel_id),
                "organisers": lambda: uow.catalog.organiser(seeded.organiser_id),
                "events": lambda: uow.catalog.event(seeded.event_id),
            }[table]
            return await read()

    assert await seen() is not None  # in the copy now
    await another_process_writes(engine, update(row).where(row.id == row_id).values(**changes))

    stale = await seen()  # within the refresh period the copy is served
    clock.now += 1.0
    fresh = await seen()
    field, value = next(iter(changes.items()))
    assert getattr(fresh, field) == value
    assert getattr(stale, field) != value
    assert cache.loads == 2 and before is not None


async def test_an_organisers_extras_come_from_memory_and_every_change_is_seen(engine, sessions) -> None:
    """Their cutoff, texts and Book button (read by every booking and card): this process's change at its commit,
    another writer's at the next check (migration 0021's triggers); a caller changing its copy changes nothing."""
    seeded = await seed_catalog(sessions, NOW)
    organiser = seeded.instant_organiser_id
    clock = Clock()
    cache = CatalogCache(refresh_every=1, monotonic=clock)
    uow = SqlUnitOfWork(sessions, cache)

    async def cutoff() -> timedelta:
        async with uow.read():
            return (await uow.organiser_settings.extras(organiser)).booking_cutoff

    assert await cutoff() == timedelta(minutes=5)  # none stored: the defaults, kept too
    await change_term(uow, organiser, Setting.CUTOFF, "30m", OrganiserActor(INSTANT_ORGANISER_CHAT_ID), NOW)
    assert await cutoff() == timedelta(minutes=30)  # this process's own change: at once

    statements = count_statements(engine)
    async with uow.read():
        mine = await uow.organiser_settings.extras(organiser)
        mine.texts["bring"] = {"en": "changed by a caller"}
    async with uow.read():
        assert (await uow.organiser_settings.extras(organiser)).texts == {}
    assert statements == []

    await another_process_writes(
        engine,
        update(OrganiserExtrasRow).where(OrganiserExtrasRow.organiser_id == organiser).values(booking_cutoff_s=3600),
    )
    assert await cutoff() == timedelta(minutes=30)  # within the refresh period
    clock.now += 1.0
    assert await cutoff() == timedelta(hours=1)


async def test_an_organisers_change_never_writes_back_a_stale_copy(engine, sessions) -> None:
    """Another writer's change, not yet seen by this process's copy, survives this process's next change: the
    settings read what they change from the database (``extras_to_change``), not from the cache."""
    seeded = await seed_catalog(sessions, NOW)
    organiser = seeded.instant_organiser_id
    actor = OrganiserActor(INSTANT_ORGANISER_CHAT_ID)
    uow = SqlUnitOfWork(sessions, CatalogCache(refresh_every=3600, monotonic=Clock()))
    await change_term(uow, organiser, Setting.CUTOFF, "30m", actor, NOW)
    async with uow.read():
        await uow.organiser_settings.extras(organiser)  # in the copy
    await another_process_writes(
        engine,
        update(OrganiserExtrasRow).where(OrganiserExtrasRow.organiser_id == organiser).values(booking_cutoff_s=3600),
    )
    await save_text(uow, organiser, TextKind.BRING, "de", "Warme Schuhe", actor, NOW)
    async with uow.read():
        extras = await uow.organiser_settings.extras(organiser)
    assert extras.booking_cutoff == timedelta(hours=1)  # the other writer's cutoff, kept
    assert extras.texts == {"bring": {"de": "Warme Schuhe"}}


async def test_an_organisers_term_never_writes_back_a_stale_copy_of_the_others(engine, sessions) -> None:
    """The same for the terms (``terms_to_change``): they are saved together, from the database's row."""
    seeded = await seed_catalog(sessions, NOW)
    organiser = seeded.instant_organiser_id
    uow = SqlUnitOfWork(sessions, CatalogCache(refresh_every=3600, monotonic=Clock()))
    async with uow.read():
        cached = await uow.catalog.organiser(organiser)  # in the copy
    assert cached is not None and cached.hold != timedelta(minutes=25)
    longer_hold = update(OrganiserRow).where(OrganiserRow.id == organiser).values(hold_s=25 * 60)
    await another_process_writes(engine, longer_hold)
    actor = OrganiserActor(INSTANT_ORGANISER_CHAT_ID)
    changed = await change_term(uow, organiser, Setting.PAY_WITHIN, "45m", actor, NOW)
    assert (changed.organiser.hold, changed.organiser.pay_within) == (timedelta(minutes=25), timedelta(minutes=45))
    async with uow.read():
        fresh = await uow.catalog.organiser(organiser)
    assert fresh is not None and (fresh.hold, fresh.pay_within) == (timedelta(minutes=25), timedelta(minutes=45))


async def test_forget_drops_the_copy_at_once(sessions) -> None:
    seeded = await seed_catalog(sessions, NOW)
    cache = CatalogCache(refresh_every=3600, monotonic=Clock())
    uow = SqlUnitOfWork(sessions, cache)
    async with uow.read():
        await uow.catalog.event(seeded.event_id)
    async with sessions() as db, db.begin():
        await db.execute(update(EventRow).where(EventRow.id == seeded.event_id).values(category="late"))
    cache.forget()
    async with uow.read():
        assert (await uow.catalog.event(seeded.event_id)).category == "late"


async def test_sessions_and_their_seats_always_come_from_the_database(sessions) -> None:
    seeded = await seed_catalog(sessions, NOW)
    cache = CatalogCache(refresh_every=3600, monotonic=Clock())
    uow = SqlUnitOfWork(sessions, cache)
    async with uow.read():
        first = await uow.catalog.session(seeded.session_id)
    async with sessions() as db, db.begin():
        await db.execute(update(SessionRow).where(SessionRow.id == seeded.session_id).values(seats_left=0))
    async with uow.read():
        again = await uow.catalog.session(seeded.session_id)
    assert first.seats_left > 0 and again.seats_left == 0


async def test_a_read_block_refuses_to_write(sessions) -> None:
    seeded = await seed_catalog(sessions, NOW)
    uow = SqlUnitOfWork(sessions)
    with pytest.raises(Exception, match="read-only"):
        async with uow.read():
            await uow.seats.reserve(seeded.session_id, 1)
    async with uow:  # the next block is a transaction again
        assert await uow.seats.reserve(seeded.session_id, 1)
        await uow.commit()


async def test_a_read_block_takes_no_write_lock(engine, sessions) -> None:
    seeded = await seed_catalog(sessions, NOW)
    statements = count_statements(engine)
    uow = SqlUnitOfWork(sessions, CatalogCache(refresh_every=0))
    async with uow.read():
        await uow.catalog.session(seeded.session_id)
        await uow.users.get(1)
    assert not any(s.upper().startswith(("BEGIN", "INSERT", "UPDATE", "DELETE")) for s in statements)
    async with sessions() as db:
        assert (await db.execute(text("SELECT 1"))).scalar() == 1


async def test_only_the_most_recently_used_events_are_kept(sessions) -> None:
    seeded = await seed_catalog(sessions, NOW)
    cache = CatalogCache(refresh_every=60, monotonic=Clock(), max_items=1)
    uow = SqlUnitOfWork(sessions, cache)
    async with uow.read():
        first = await uow.catalog.event(seeded.event_id)
        second = await uow.catalog.event(seeded.instant_event_id)
        assert (await uow.catalog.event(seeded.event_id)) == first  # read again: the older one was let go
        assert (await uow.catalog.event_by_code(second.code)) == second
        assert await uow.catalog.event(10_000) is None
