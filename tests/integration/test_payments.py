"""Payments are recorded once per Telegram charge, on SQLite and PostgreSQL, also when duplicates race.

Telegram (or our own retry of an update) may deliver the same successful payment more than once, and nothing stops
two deliveries from being handled at the same moment by two workers. The unique charge id decides: one of them
records it, every other one ends as a duplicate (never an exception, never a second ticket).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.storage.tables import OrderRow, OutboxRow, PaymentRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.orders import Order, PaymentStatus, TicketStatus
from domain.model.payments import Payment, PaymentResult
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.payments import record_payment
from tests.seed import Seeded, seed_catalog, seed_user

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TOURIST = 5001
RACERS = 10


@pytest.fixture
async def world(sessions: async_sessionmaker) -> tuple[async_sessionmaker, Order]:
    """An instant booking with payments on: confirmed and awaiting payment."""
    seeded: Seeded = await seed_catalog(sessions, NOW)
    await seed_user(sessions, TOURIST, now=NOW)
    order = await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(
            user_id=TOURIST, session_id=seeded.instant_session_id, quantities={"adult": 2}, payments_enabled=True
        ),
        NOW,
    )
    return sessions, order


def pay(sessions: async_sessionmaker, order: Order, charge: str):
    return record_payment(
        SqlUnitOfWork(sessions),
        order.id,
        TOURIST,
        charge,
        f"prov-{charge}",
        order.total_minor,
        order.currency,
        NOW + timedelta(minutes=1),
    )


async def count(sessions: async_sessionmaker, *where) -> int:
    async with sessions() as db:
        return await db.scalar(select(func.count()).where(*where))


async def test_concurrent_duplicates_of_one_charge_are_recorded_once(world) -> None:
    sessions, order = world
    outcomes = await asyncio.gather(*(pay(sessions, order, "tg-same") for _ in range(RACERS)))
    results = sorted(o.result for o in outcomes)
    assert results.count(PaymentResult.APPLIED) == 1
    assert results.count(PaymentResult.DUPLICATE) == RACERS - 1
    assert await count(sessions, PaymentRow.telegram_charge_id == "tg-same") == 1
    assert await count(sessions, OutboxRow.kind == "tourist.ticket") == 1
    async with sessions() as db:
        row = await db.get(OrderRow, order.id)
    assert (row.payment, row.ticket, row.version) == (PaymentStatus.PAID, TicketStatus.ISSUED, 1)


async def test_concurrent_different_charges_pay_once_and_the_rest_is_due_back(world) -> None:
    sessions, order = world
    outcomes = await asyncio.gather(*(pay(sessions, order, f"tg-{i}") for i in range(RACERS)))
    assert sorted(o.result for o in outcomes).count(PaymentResult.APPLIED) == 1
    assert {o.reason for o in outcomes if o.result is PaymentResult.NOT_APPLIED} == {"already_paid"}
    assert await count(sessions, PaymentRow.applied.is_(True)) == 1
    assert await count(sessions, PaymentRow.applied.is_(False)) == RACERS - 1
    assert await count(sessions, OutboxRow.kind == "tourist.ticket") == 1
    async with sessions() as db:
        row = await db.get(OrderRow, order.id)
    assert (row.payment, row.stray_minor) == (PaymentStatus.PAID, (RACERS - 1) * order.total_minor)


async def test_concurrent_duplicates_of_a_second_charge_are_one_refund(world) -> None:
    """Money for an order already paid is added to the order's money due back: the charge id and the order's
    version stand between the racers, so it is counted once."""
    sessions, order = world
    assert (await pay(sessions, order, "tg-first")).result is PaymentResult.APPLIED
    outcomes = await asyncio.gather(*(pay(sessions, order, "tg-second") for _ in range(RACERS)))
    results = [o.result for o in outcomes]
    assert results.count(PaymentResult.NOT_APPLIED) == 1
    assert results.count(PaymentResult.DUPLICATE) == RACERS - 1
    assert all(o.payment is not None and not o.payment.applied for o in outcomes if o.result is PaymentResult.DUPLICATE)
    assert await count(sessions, PaymentRow.telegram_charge_id == "tg-second") == 1
    async with sessions() as db:
        assert (await db.get(OrderRow, order.id)).stray_minor == order.total_minor  # counted once


async def test_an_insert_racing_an_uncommitted_one_waits_and_inserts_nothing(world) -> None:
    """The repository's contract: the second insert of a charge id waits for the first transaction; after its
    commit it reports False, and its own transaction is still usable (no aborted transaction on PostgreSQL)."""
    sessions, order = world
    payment = Payment(order.id, "tg-race", "prov", order.total_minor, "EUR", NOW, applied=True)
    first = SqlUnitOfWork(sessions)
    async with first:
        assert await first.payments.add(payment)

        async def second() -> tuple[bool, Payment | None]:
            uow = SqlUnitOfWork(sessions)
            async with uow:
                added = await uow.payments.add(payment)
                found = await uow.payments.by_charge_id("tg-race")  # the transaction still works
                await uow.commit()
            return added, found

        racer = asyncio.create_task(second())
        await asyncio.sleep(0.2)
        assert not racer.done()  # it waits for us
        await first.commit()
    added, found = await asyncio.wait_for(racer, 30)
    assert added is False and found == payment
    assert await count(sessions, PaymentRow.telegram_charge_id == "tg-race") == 1
    async with SqlUnitOfWork(sessions) as uow:
        assert await uow.payments.for_order(order.id) == [payment]
