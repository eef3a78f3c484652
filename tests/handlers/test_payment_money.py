"""Money on the desk (issue 10, items 2-4), through the real Dispatcher and the outbox sender: money in another
currency is owed back in that currency; a payment for an order we cannot find becomes a problem card with the charge
ids and the payer; a card about money names a payer who is not the order's tourist, and that payer is never shown
the order's code."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.tables import DeskCardRow, OrderRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.orders import format_order_code
from domain.model.payments import invoice_payload
from scheduler.jobs import DeskJobs
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_CHAT_ID
from tests.handlers.test_payments import (  # noqa: F401 (fixtures)
    STRANGER,
    operators,
    order_row,
    paid_order,
    payment_rows,
    sender,
    sent,
    settings,
    successful_payment,
    texts,
    tourist,
)


async def _cards(sessions) -> list[DeskCardRow]:
    async with sessions() as db:
        return list(await db.scalars(select(DeskCardRow).order_by(DeskCardRow.id)))


async def test_dollars_on_a_euro_order_are_owed_back_in_dollars(
    sender, recorder, tourist, organiser, operators, sessions, seeded, clock, settings
) -> None:
    order = await paid_order(sender, recorder, tourist, organiser, sessions, seeded, clock)
    await sender.deliver_due()
    await successful_payment(tourist, invoice_payload(order.id), 9000, charge="tg-usd", currency="USD")
    row = await order_row(sessions, order.id)
    assert row.stray_minor == 0 and row.stray_other == {"USD": 9000}
    await DeskJobs(lambda: SqlUnitOfWork(sessions), clock, settings.desk).check_orders()
    assert await sender.deliver_due() == 1
    card = operators.last_text()
    assert "owed back $90.00" in card and "€90.0" not in card.split("owed back")[1]


async def test_a_payment_for_an_order_we_cannot_find_becomes_a_card(
    sender, recorder, tourist, operators, sessions, seeded, clock
) -> None:
    replies = await successful_payment(tourist, "order:999999", 4500, charge="tg-lost")
    [said] = texts(replies)
    assert "45,00" in said and "свяжется" in said  # the tourist is told the team will contact them ...
    [payment] = await payment_rows(sessions)
    assert (payment.order_id, payment.payer_id, payment.applied) == (None, tourist.user_id, False)
    [card] = await _cards(sessions)
    assert card.kinds == ["unmatched_payment"] and card.status == "open"
    assert await sender.deliver_due() == 1  # ... and an operator is told: the card
    text = sent(recorder, "sendMessage", OPERATOR_CHAT_ID)[-1].params["text"]
    assert "tg-lost" in text and "prov-tg-lost" in text and "€45.00" in text
    assert tourist.first_name in text and f"tg://user?id={tourist.user_id}" in text
    assert "Resolve" in " ".join(operators.buttons())
    mark = len(recorder.requests)
    await successful_payment(tourist, "order:999999", 4500, charge="tg-lost")  # Telegram repeats the update
    assert len(await _cards(sessions)) == 1 and await sender.deliver_due() == 0
    assert [r.method for r in recorder.requests[mark:]] == ["sendMessage"]


async def test_someone_else_s_payment_names_the_payer_and_hides_the_order_code(
    sender, recorder, tourist, organiser, operators, sessions, seeded, clock, settings, dp, bot
) -> None:
    order = await paid_order(sender, recorder, tourist, organiser, sessions, seeded, clock)
    await sender.deliver_due()
    payer = Chat(dp, bot, recorder, STRANGER, language_code="en", first_name="Mallory")
    replies = await successful_payment(payer, invoice_payload(order.id), order.total_minor, charge="tg-fwd")
    [said] = texts(replies)
    assert format_order_code(order.code) not in said and order.code not in said
    payments = await payment_rows(sessions)
    assert [(p.payer_id, p.payer_name) for p in payments] == [(tourist.user_id, "Олег"), (STRANGER, "Mallory")]
    await DeskJobs(lambda: SqlUnitOfWork(sessions), clock, settings.desk).check_orders()
    assert await sender.deliver_due() == 1
    card = sent(recorder, "sendMessage", OPERATOR_CHAT_ID)[-1].params["text"]
    assert "prov-tg-fwd" in card and "Mallory" in card and f"tg://user?id={STRANGER}" in card
    async with sessions() as db:
        assert (await db.get(OrderRow, order.id)).stray_minor == order.total_minor
