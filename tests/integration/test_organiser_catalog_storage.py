"""The organiser's own catalog changes (bot/storage/organiser_catalog.py, issue 14) on SQLite and PostgreSQL (the
``engine`` fixture): the paged session list, a new session (refused at a taken start), capacity by one conditional
UPDATE that never goes below the seats held (also while tourists book at the same moment: nothing oversold), stopping
sales, and the questions read under lock and written back with the removed ones kept aside."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.catalog.store import import_catalog
from bot.storage.catalog_cache import CatalogCache
from bot.storage.tables import CatalogVersionRow, OrderItemRow, OrderRow, OrganiserRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.errors import SoldOut
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.organiser_access import OrganiserActor
from domain.use_cases.organiser_questions import add_question, question_key, remove_question
from domain.use_cases.organiser_sessions import BelowHeld, change_capacity
from tests.seed import ORGANISER_CHAT_ID, Seeded, seed_catalog, seed_users

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
OWN = OrganiserActor(ORGANISER_CHAT_ID)
FIRST_USER = 900_000
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog.yaml"


@pytest.fixture
async def seeded(sessions: async_sessionmaker) -> Seeded:
    return await seed_catalog(sessions, NOW)


async def seats(sessions: async_sessionmaker, session_id: int) -> tuple[int, int, int]:
    """(capacity, seats left, seats in orders)."""
    async with sessions() as db:
        row = await db.get(SessionRow, session_id)
        sold = await db.scalar(
            select(func.coalesce(func.sum(OrderItemRow.quantity), 0))
            .join(OrderRow, OrderRow.id == OrderItemRow.order_id)
            .where(OrderRow.session_id == session_id)
        )
    assert row is not None
    return row.capacity, row.seats_left, int(sold or 0)


async def test_sessions_are_listed_soonest_first_and_paged(sessions, seeded) -> None:
    uow = SqlUnitOfWork(sessions)
    async with uow:
        for day in (9, 7, 8):
            assert await uow.organiser_catalog.add_session(seeded.event_id, NOW + timedelta(days=day), 4)
        assert await uow.organiser_catalog.add_session(seeded.event_id, NOW + timedelta(days=7), 9) is None
        await uow.commit()
    async with uow:
        first, total = await uow.organiser_catalog.sessions(seeded.organiser_id, NOW, 0, 3)
        rest, _total = await uow.organiser_catalog.sessions(seeded.organiser_id, NOW, 3, 3)
        other, other_total = await uow.organiser_catalog.sessions(seeded.instant_organiser_id, NOW, 0, 10)
    # the two seeded upcoming ones and three new; not the past or the cancelled one, nor another organiser's
    assert total == 5 and other_total == 1 and other[0].id == seeded.instant_session_id
    starts = [s.starts_at for s in (*first, *rest)]
    assert starts == sorted(starts) and len(starts) == 5
    assert [s.capacity for s in rest] == [4, 4]


async def test_capacity_and_stopping_sales_are_conditional_updates(sessions, seeded) -> None:
    await seed_users(sessions, [FIRST_USER], NOW)
    await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(FIRST_USER, seeded.session_id, {"adult": 3}, {"pickup": "Viru", "lunch": "fish"}),
        NOW,
    )
    uow = SqlUnitOfWork(sessions)
    async with uow:
        assert await uow.organiser_catalog.set_capacity(seeded.session_id, 2) is None
        changed = await uow.organiser_catalog.set_capacity(seeded.session_id, 3)
        assert changed is not None and (changed.capacity, changed.seats_left) == (3, 0)
        changed = await uow.organiser_catalog.set_capacity(seeded.session_id, 8)
        assert changed is not None and (changed.capacity, changed.seats_left) == (8, 5)
        assert await uow.organiser_catalog.set_capacity(seeded.cancelled_session_id, 8) is None
        stopped = await uow.organiser_catalog.set_sales_stopped(seeded.session_id, True)
        assert stopped is not None and (stopped.capacity, stopped.seats_left, stopped.sales_stopped) == (8, 5, True)
        assert await uow.organiser_catalog.set_sales_stopped(seeded.session_id, True) is None  # stopped already
        assert await uow.seats.reserve(seeded.session_id, 1) is False  # no seat of a stopped session is taken
        await uow.commit()
    assert await seats(sessions, seeded.session_id) == (8, 5, 3)


async def test_capacity_changes_while_tourists_book_oversell_nothing(sessions, seeded) -> None:
    users = range(FIRST_USER, FIRST_USER + 12)
    await seed_users(sessions, users, NOW)

    async def book(user_id: int) -> object:
        order = PlaceOrder(user_id, seeded.session_id, {"adult": 2}, {"pickup": "Viru", "lunch": "veg"})
        return await place_order(SqlUnitOfWork(sessions), order, NOW)

    async def shrink(capacity: int) -> object:
        return await change_capacity(
            SqlUnitOfWork(sessions), seeded.organiser_id, seeded.session_id, capacity, OWN, NOW
        )

    results = await asyncio.gather(*(book(u) for u in users), shrink(12), shrink(6), shrink(16), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, SoldOut | BelowHeld):
            raise result
    capacity, left, sold = await seats(sessions, seeded.session_id)
    assert left >= 0 and sold <= capacity and capacity - left == sold


async def test_questions_are_written_back_with_the_removed_ones_kept(sessions, seeded) -> None:
    async def version() -> int:
        async with sessions() as db:
            return int(await db.scalar(select(CatalogVersionRow.version)) or 0)

    before = await version()
    organiser = await add_question(SqlUnitOfWork(sessions), seeded.organiser_id, "en", "Shoe size?", None, OWN, NOW)
    await remove_question(SqlUnitOfWork(sessions), seeded.organiser_id, question_key("pickup"), OWN, NOW)
    assert await version() > before  # every process's catalog copy reloads the organiser
    uow = SqlUnitOfWork(sessions)
    async with uow:
        locked = await uow.organiser_catalog.lock_questions(seeded.organiser_id)
        read = await uow.catalog.organiser(seeded.organiser_id)
        by_chat = await uow.organiser_catalog.organiser_for_chat(ORGANISER_CHAT_ID)
        assert await uow.organiser_catalog.lock_questions(10_000) is None
    assert locked is not None
    asked, removed = locked
    assert [q.id for q in asked] == ["lunch", organiser.questions[-1].id] and [q.id for q in removed] == ["pickup"]
    assert read is not None and [q.id for q in read.questions] == [q.id for q in asked]
    assert [q.id for q in read.retired_questions] == ["pickup"]
    assert by_chat is not None and by_chat.id == seeded.organiser_id
    assert [c.id for c in asked[0].choices] == ["fish", "veg"]  # a choice question comes back whole


async def test_this_process_sees_a_question_change_at_once_whatever_its_refresh_interval(sessions, seeded) -> None:
    cache = CatalogCache(refresh_every=3600)
    async with SqlUnitOfWork(sessions, cache) as uow:
        cached = await uow.catalog.organiser(seeded.organiser_id)
    assert cached is not None and len(cached.questions) == 2
    await add_question(SqlUnitOfWork(sessions, cache), seeded.organiser_id, "en", "Shoe size?", None, OWN, NOW)
    async with SqlUnitOfWork(sessions, cache) as uow:
        fresh = await uow.catalog.organiser(seeded.organiser_id)
    assert fresh is not None and [q.text for q in fresh.questions][-1] == {"en": "Shoe size?"}


async def test_the_import_keeps_the_organisers_questions_until_the_file_changes_them(sessions, tmp_path: Path) -> None:
    await import_catalog(sessions, EXAMPLE)
    async with sessions() as db:
        organiser_id = await db.scalar(select(OrganiserRow.id).where(OrganiserRow.code == "baltic-boats"))
    await add_question(SqlUnitOfWork(sessions), organiser_id, "en", "Shoe size?", None, OWN, NOW)
    await remove_question(SqlUnitOfWork(sessions), organiser_id, question_key("lunch"), OWN, NOW)

    report = await import_catalog(sessions, EXAMPLE)  # the file still says what it said: the organiser's stay
    assert report.kept == (
        "organiser baltic-boats: questions kept the organiser's [pickup, q1] (the file still says [pickup, lunch])",
    )
    async with sessions() as db:
        kept = (await db.get(OrganiserRow, organiser_id)).questions
    assert [(q["id"], q.get("retired", False)) for q in kept] == [("pickup", False), ("q1", False), ("lunch", True)]

    changed = tmp_path / "catalog.yaml"
    changed.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace("max_length: 120", "max_length: 150"), encoding="utf-8"
    )
    report = await import_catalog(sessions, changed)  # the file changed the questions since: the file's replace them
    [line] = report.replaced
    assert line.startswith("organiser baltic-boats: questions replaced the organiser's [pickup, q1] with the file's")
    async with sessions() as db:
        replaced = (await db.get(OrganiserRow, organiser_id)).questions
    assert [q["id"] for q in replaced] == ["pickup", "lunch"] and replaced[0]["max_length"] == 150
