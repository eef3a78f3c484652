"""Money per currency and payers in storage, on SQLite and PostgreSQL: what is owed back in another currency, who
paid, a payment without an order and its card; and migration 0004 keeps (and repairs) the data it finds."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.storage.migrate import alembic_config, upgrade
from bot.storage.tables import DeskCardRow, OrderRow, PaymentRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.desk import DeskSettings
from domain.model.orders import Order
from domain.model.payments import Payer
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.payments import record_payment, record_unmatched_payment
from tests.seed import seed_catalog, seed_user

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TOURIST = 5001
LONG_CHARGE = "9" * 250  # charge ids have no documented length: a card's subject holds a long one


async def _stored(sessions: async_sessionmaker, order_id: int) -> Order:
    uow = SqlUnitOfWork(sessions)
    async with uow:
        order = await uow.orders.get(order_id)
    assert order is not None
    return order


async def _order(sessions: async_sessionmaker):
    seeded = await seed_catalog(sessions, NOW)
    await seed_user(sessions, TOURIST, now=NOW)
    return await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(
            user_id=TOURIST, session_id=seeded.instant_session_id, quantities={"adult": 2}, payments_enabled=True
        ),
        NOW,
    )


def _pay(sessions, order, charge: str, amount: int, currency: str):
    return record_payment(
        SqlUnitOfWork(sessions), order.id, TOURIST, charge, f"prov-{charge}", amount, currency, NOW, payer_name="Anna"
    )


async def test_money_per_currency_and_the_payer_are_stored(sessions: async_sessionmaker) -> None:
    order = await _order(sessions)
    await _pay(sessions, order, "tg-1", order.total_minor, "EUR")
    await _pay(sessions, order, "tg-2", 9000, "USD")
    await _pay(sessions, order, "tg-3", 1000, "USD")
    stored = await _stored(sessions, order.id)
    assert stored.stray_minor == 0 and stored.owed_back() == {"USD": 10000}
    async with sessions() as db:
        payers = list(await db.execute(select(PaymentRow.payer_id, PaymentRow.payer_name).order_by(PaymentRow.id)))
    assert [tuple(p) for p in payers] == [(TOURIST, "Anna")] * 3


async def test_a_payment_without_an_order_and_its_card(sessions: async_sessionmaker) -> None:
    await seed_user(sessions, TOURIST, now=NOW)
    desk = DeskSettings(chat_id=-100500)
    args = (Payer(TOURIST, "Anna"), LONG_CHARGE, "prov-x", 4500, "EUR", "order:999", NOW)
    await record_unmatched_payment(SqlUnitOfWork(sessions), *args, settings=desk)
    await record_unmatched_payment(SqlUnitOfWork(sessions), *args, settings=desk)  # a repeat changes nothing
    async with sessions() as db:
        [payment] = list(await db.scalars(select(PaymentRow)))
        [card] = list(await db.scalars(select(DeskCardRow)))
    assert (payment.order_id, payment.payer_id, payment.applied) == (None, TOURIST, False)
    assert card.subject == f"payment:{LONG_CHARGE}" and card.kinds == ["unmatched_payment"]
    uow = SqlUnitOfWork(sessions)
    async with uow:
        assert await uow.payments.by_charge_id(LONG_CHARGE) is not None


async def test_migration_0004_moves_foreign_money_out_of_the_order_s_currency(
    engine: AsyncEngine, sessions: async_sessionmaker
) -> None:
    order = await _order(sessions)
    await _pay(sessions, order, "tg-1", order.total_minor, "EUR")
    await _pay(sessions, order, "tg-2", 9000, "USD")
    await _pay(sessions, order, "tg-3", 500, "EUR")
    async with sessions() as db, db.begin():  # what an older version stored: dollars added as euro cents
        await db.execute(update(OrderRow).where(OrderRow.id == order.id).values(stray_minor=9500, stray_other=None))

    def downgrade(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), "0003")

    async with engine.begin() as connection:
        await connection.run_sync(downgrade)
    await upgrade(engine)
    stored = await _stored(sessions, order.id)
    assert (stored.stray_minor, stored.stray_other) == (500, {"USD": 9000})
    assert stored.total_minor == order.total_minor and stored.owed_back() == {"EUR": 500, "USD": 9000}
