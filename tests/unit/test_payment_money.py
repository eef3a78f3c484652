"""Money is an amount and a currency; a payment carries who paid; money for an order we cannot find reaches the
desk (issue 10, items 2-4), through the in-memory fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.model.desk import DeskSettings
from domain.model.messages import OutboxKind
from domain.model.orders import BookingStatus, Order, PaymentStatus
from domain.model.payments import Payer, PaymentResult
from domain.rules.problems import ProblemKind, open_problems, order_facts
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.order_changes import record_refund
from domain.use_cases.payments import record_payment, record_unmatched_payment
from tests.fakes import FakeUnitOfWork, add_user, fake_world
from tests.seed import Seeded

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TOURIST = 42
OTHER = 43
DESK = DeskSettings(chat_id=-100500)


@pytest.fixture
def world() -> tuple[FakeUnitOfWork, Seeded]:
    uow, seeded = fake_world(NOW)
    add_user(uow.state, TOURIST, language="de")
    add_user(uow.state, OTHER)
    return uow, seeded


async def payable(uow: FakeUnitOfWork, seeded: Seeded) -> Order:
    return await place_order(
        uow,
        PlaceOrder(
            user_id=TOURIST, session_id=seeded.instant_session_id, quantities={"adult": 2}, payments_enabled=True
        ),
        NOW,
    )


async def pay(uow: FakeUnitOfWork, order: Order, charge: str = "tg-1", **changes: Any):
    values: dict[str, Any] = {
        "order_id": order.id,
        "user_id": TOURIST,
        "telegram_charge_id": charge,
        "provider_charge_id": f"prov-{charge}",
        "total_minor": order.total_minor,
        "currency": order.currency,
        "now": NOW + timedelta(minutes=5),
        "payer_name": "Anna Berg",
    }
    values.update(changes)
    return await record_payment(uow, **values)


async def test_money_in_another_currency_is_owed_back_in_that_currency(world) -> None:
    uow, seeded = world
    order = await payable(uow, seeded)
    assert order.currency == "EUR"
    await pay(uow, order, "tg-1")  # paid
    outcome = await pay(uow, order, "tg-usd", total_minor=9000, currency="usd")
    assert outcome.result is PaymentResult.NOT_APPLIED
    stored = uow.state.orders[order.id]
    assert stored.stray_minor == 0  # not a single euro cent of it
    assert stored.owed_back() == {"USD": 9000}
    facts = order_facts(stored, NOW + timedelta(days=1), False, NOW)
    assert ProblemKind.LATE_PAYMENT in open_problems(facts, [])
    await pay(uow, order, "tg-eur", total_minor=500)
    assert uow.state.orders[order.id].owed_back() == {"EUR": 500, "USD": 9000}
    refunded = await record_refund(uow, order.id, "operator:1", NOW + timedelta(hours=1))
    assert refunded.owed_back() == {} and refunded.payment is PaymentStatus.PAID
    assert refunded.refunded_minor == 500  # the order's currency; the dollars are in the audit entry
    assert uow.state.audit[-1].after["stray_other"] == {}


async def test_another_currency_after_the_booking_ended_is_not_the_order_s_refund(world) -> None:
    uow, seeded = world
    order = await payable(uow, seeded)
    uow.state.orders[order.id].booking = BookingStatus.EXPIRED
    uow.state.orders[order.id].payment = PaymentStatus.NOT_DUE
    await pay(uow, order, total_minor=9000, currency="USD")
    stored = uow.state.orders[order.id]
    assert stored.payment is PaymentStatus.NOT_DUE  # not "refund due: €90.00" for dollars
    assert stored.owed_back() == {"USD": 9000}


async def test_a_payment_carries_its_payer(world) -> None:
    uow, seeded = world
    order = await payable(uow, seeded)
    await pay(uow, order, "tg-1")
    await pay(uow, order, "tg-2", user_id=OTHER, payer_name="Mallory")
    first, second = uow.state.payments
    assert (first.payer_id, first.payer_name) == (TOURIST, "Anna Berg")
    assert (second.payer_id, second.payer_name) == (OTHER, "Mallory")
    assert uow.state.audit[-1].after["payer_id"] == OTHER


async def test_a_payment_for_an_unknown_order_opens_a_card(world) -> None:
    uow, _ = world
    payer = Payer(id=OTHER, name="Mallory")
    args = ("tg-x", "prov-x", 4500, "eur", "order:999999", NOW)
    outcome = await record_unmatched_payment(uow, payer, *args, settings=DESK)
    assert outcome.result is PaymentResult.NOT_APPLIED and outcome.order is None
    [payment] = uow.state.payments
    assert (payment.order_id, payment.payer_id, payment.payer_name, payment.currency) == (None, OTHER, "Mallory", "EUR")
    [card] = uow.state.cards.values()
    assert card.kinds == [ProblemKind.UNMATCHED_PAYMENT.value] and card.user_id == OTHER and card.order_id is None
    assert card.subject == "payment:tg-x"
    assert [m.kind for m in uow.state.outbox] == [OutboxKind.PROBLEM_CARD]
    again = await record_unmatched_payment(uow, payer, *args, settings=DESK)
    assert again.result is PaymentResult.DUPLICATE and len(uow.state.cards) == 1 and len(uow.state.outbox) == 1
