"""Loyalty points' storage on SQLite and PostgreSQL (issue 15): a movement is written once per order and reason (and
once per referral), the balance adds the ledger up, the catalog's points rules are imported and read with the
organiser's percentage first, referral links are unique and linked once, a guest's data is forgotten, and two
checkouts of the same guest at once cannot spend the same points."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.catalog.store import import_catalog
from bot.storage.tables import OrganiserRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.points import NotEnoughPoints, PointsEntry, PointsReason, PointsRule, Referral
from domain.use_cases.booking import PlaceOrder, place_order
from tests.seed import seed_catalog, seed_user

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
GUEST = 5001


def entry(amount: int, reason: PointsReason, order_id: int | None = None, friend: int | None = None) -> PointsEntry:
    return PointsEntry(GUEST, amount, reason, NOW, order_id=order_id, friend_id=friend)


async def test_each_movement_is_written_once_and_the_balance_adds_up(sessions: async_sessionmaker) -> None:
    seeded = await seed_catalog(sessions, NOW)
    await seed_user(sessions, GUEST, now=NOW)
    uow = SqlUnitOfWork(sessions)
    order = await place_order(uow, PlaceOrder(GUEST, seeded.instant_session_id, {"adult": 1}), NOW)
    async with uow:
        assert await uow.points.add(entry(500, PointsReason.REFERRAL, friend=7))
        assert not await uow.points.add(entry(500, PointsReason.REFERRAL, friend=7))  # the same bonus again
        assert await uow.points.add(entry(500, PointsReason.REFERRAL, friend=8))
        assert await uow.points.add(entry(-300, PointsReason.REDEEMED, order.stored_id))
        assert not await uow.points.add(entry(-300, PointsReason.REDEEMED, order.stored_id))
        assert await uow.points.add(entry(300, PointsReason.RETURNED, order.stored_id))
        await uow.commit()
    async with uow.read():
        assert await uow.points.balance(GUEST) == 1000
        history = await uow.points.history(GUEST, 3)
        assert [(e.reason, e.amount) for e in history] == [
            (PointsReason.RETURNED, 300),
            (PointsReason.REDEEMED, -300),
            (PointsReason.REFERRAL, 500),
        ]
        assert history[0].at == NOW and history[0].order_id == order.id
        redeemed = await uow.points.of_order(order.stored_id, PointsReason.REDEEMED)
        assert redeemed is not None and redeemed.amount == -300
        assert await uow.points.of_order(order.stored_id, PointsReason.EARNED) is None
        assert await uow.points.balance(GUEST + 1) == 0


CATALOG = """
regions:
  - id: tallinn
    timezone: Europe/Tallinn
    name: {en: Tallinn}
    points: {earn_percent: 5, referral_bonus: 500}
  - id: riga
    timezone: Europe/Riga
    name: {en: Riga}
organisers:
  - id: boats
    name: Boats
    chat_id: 700001
    language: en
    %s
  - id: walks
    name: Walks
    chat_id: 700002
    language: en
"""


async def test_points_rules_are_imported_with_the_organisers_percentage_first(
    sessions: async_sessionmaker, tmp_path: Path
) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG % "points: {earn_percent: 10}")
    await import_catalog(sessions, path)
    uow = SqlUnitOfWork(sessions)
    async with uow.read():
        regions = {r.code: r.id for r in await uow.catalog.regions()}
    async with sessions() as db:
        organisers = {code: id_ for id_, code in (await db.execute(select(OrganiserRow.id, OrganiserRow.code))).all()}
    async with uow.read():
        assert await uow.points.rule(regions["tallinn"], organisers["boats"]) == PointsRule(10, 500)
        assert await uow.points.rule(regions["tallinn"], organisers["walks"]) == PointsRule(5, 500)
        assert await uow.points.rule(regions["riga"], organisers["walks"]) == PointsRule(0, 0)
        assert await uow.points.rule(regions["riga"], organisers["boats"]) == PointsRule(10, 0)
    path.write_text(CATALOG % "")  # the organiser's rule is gone from the file
    await import_catalog(sessions, path)
    async with uow.read():
        assert await uow.points.rule(regions["tallinn"], organisers["boats"]) == PointsRule(5, 500)


async def test_referral_links_are_unique_and_linked_once(sessions: async_sessionmaker) -> None:
    uow = SqlUnitOfWork(sessions)
    async with uow:
        assert await uow.points.add_referral(Referral(1, "tokenone"))
        assert not await uow.points.add_referral(Referral(1, "tokentwo"))  # one row per guest
        assert not await uow.points.add_referral(Referral(2, "tokenone"))  # one guest per token
        assert await uow.points.add_referral(Referral(2, "tokentwo"))
        assert await uow.points.link(2, 1, NOW)
        assert not await uow.points.link(2, 3, NOW)
        assert await uow.points.add(PointsEntry(2, 500, PointsReason.REFERRAL, NOW, friend_id=1))
        await uow.commit()
    async with uow:
        found = await uow.points.by_token("tokentwo")
        assert found == Referral(2, "tokentwo", 1, NOW)
        assert (await uow.points.referral(1)) == Referral(1, "tokenone")
        await uow.points.forget(2)
        await uow.commit()
    async with uow.read():
        assert await uow.points.referral(2) is None and await uow.points.balance(2) == 0
        assert await uow.points.referral(1) is not None


@pytest.mark.parametrize("attempt", range(2))
async def test_two_checkouts_at_once_cannot_spend_the_same_points(sessions: async_sessionmaker, attempt: int) -> None:
    seeded = await seed_catalog(sessions, NOW)
    await seed_user(sessions, GUEST, now=NOW)
    uow = SqlUnitOfWork(sessions)
    async with uow:
        await uow.points.add(entry(700, PointsReason.REFERRAL, friend=9))
        await uow.commit()

    async def checkout(n: int) -> object:
        cmd = PlaceOrder(GUEST, seeded.instant_session_id, {"adult": 1}, request_key=f"k{n}", points=700)
        try:
            return await place_order(SqlUnitOfWork(sessions), cmd, NOW + timedelta(seconds=n))
        except NotEnoughPoints as refused:
            return refused

    results = await asyncio.gather(checkout(1), checkout(2))
    assert sorted(type(r).__name__ for r in results) == ["NotEnoughPoints", "Order"]
    async with uow.read():
        assert await uow.points.balance(GUEST) == 0
