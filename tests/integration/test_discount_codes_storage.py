"""Discount codes on SQLite and PostgreSQL: stored upper-case and found whatever the case; a use is taken once per
guest and never above ``max_uses``, also by guests racing for the last one; a refused use writes nothing; a released
use comes back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.storage.offer_tables import DiscountCodeUseRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.discount_codes import DiscountCode

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def a_code(max_uses: int | None) -> DiscountCode:
    return DiscountCode(
        code="SUMMER-5",
        amount_minor=500,
        currency="EUR",
        valid_from=NOW,
        valid_until=NOW + timedelta(days=3),
        max_uses=max_uses,
        created_at=NOW,
        created_by="operator:1",
    )


async def test_a_code_is_found_whatever_the_case_and_its_text_is_unique(sessions: async_sessionmaker) -> None:
    uow = SqlUnitOfWork(sessions)
    async with uow:
        added = await uow.discount_codes.add(a_code(max_uses=None))
        assert added is not None and added.id is not None
        assert await uow.discount_codes.add(a_code(max_uses=3)) is None
        await uow.commit()
    async with uow:
        found = await uow.discount_codes.get("summer-5")
        assert found is not None and found.amount_minor == 500 and found.currency == "EUR" and found.used == 0
        assert found.valid_until == NOW + timedelta(days=3)
        assert await uow.discount_codes.get("nope!") is None
        assert await uow.discount_codes.get("OTHER") is None


async def test_uses_are_once_per_guest_and_within_max_uses(sessions: async_sessionmaker) -> None:
    uow = SqlUnitOfWork(sessions)
    async with uow:
        await uow.discount_codes.add(a_code(max_uses=2))
        assert await uow.discount_codes.record_use("summer-5", 1, 101, NOW)
        assert not await uow.discount_codes.record_use("SUMMER-5", 1, 102, NOW)
        assert await uow.discount_codes.record_use("SUMMER-5", 2, 103, NOW)
        assert not await uow.discount_codes.record_use("SUMMER-5", 3, 104, NOW)
        assert await uow.discount_codes.uses_by("SUMMER-5", 3) == 0  # the refused use left nothing
        assert await uow.discount_codes.release_use("SUMMER-5", 103)
        assert not await uow.discount_codes.release_use("SUMMER-5", 103)
        assert await uow.discount_codes.record_use("SUMMER-5", 3, 104, NOW)
        code = await uow.discount_codes.get("SUMMER-5")
        assert code is not None and code.used == 2 and code.uses_left == 0
        await uow.commit()


async def test_guests_racing_for_the_last_uses_never_overuse_a_code(sessions: async_sessionmaker) -> None:
    async with SqlUnitOfWork(sessions) as uow:
        await uow.discount_codes.add(a_code(max_uses=3))
        await uow.commit()

    async def use(user_id: int) -> bool:
        async with SqlUnitOfWork(sessions) as uow:
            taken = await uow.discount_codes.record_use("SUMMER-5", user_id, user_id, NOW)
            await uow.commit()
            return taken

    taken = await asyncio.gather(*(use(user_id) for user_id in range(10, 20)))
    assert sum(taken) == 3
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(DiscountCodeUseRow)) == 3
