"""Paying in chat, end to end through the real Dispatcher and the outbox sender: the invoice (validated against the
Bot API like every request), the pre-checkout answer, the successful payment recorded once, the ticket with its QR
image, and every kind of money that cannot pay an order."""

from __future__ import annotations

import itertools
import struct
from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import BufferedInputFile, Update
from pydantic import SecretStr
from sqlalchemy import func, select, update

from bot.config import Settings
from bot.outbox import OutboxSender
from bot.ratelimit import Limits
from bot.storage.tables import EventRow, OrderRow, OutboxRow, PaymentRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.messages import OutboxKind, keyed_message
from domain.model.orders import (
    BookingStatus,
    PaymentStatus,
    TicketStatus,
    format_order_code,
)
from domain.model.payments import invoice_payload, normalize_ticket_code
from domain.use_cases.booking import PlaceOrder, cancel_order, place_order
from handlers.tourist.booking import BookingForm
from handlers.tourist.callbacks import OrderAction, OrderCb
from scheduler.jobs import DeskJobs
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_CHAT_ID
from tests.seed import seed_user
from tests.telegram.recorder import RecordingSession, Request

PROVIDER_TOKEN = "284685063:TEST:abc"
ORGANISER_CHAT = 700001
TOURIST = 5001
STRANGER = 6001
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_update_ids = itertools.count(900_000)
_query_ids = itertools.count(1)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The conftest settings with a payment provider: orders are paid in chat."""
    return settings.model_copy(update={"payment_provider_token": SecretStr(PROVIDER_TOKEN)})


@pytest.fixture
def sender(bot: Bot, sessions, dp: Dispatcher, clock) -> OutboxSender:
    return OutboxSender(
        bot, sessions, dp["i18n"], clock, limits=Limits.unlimited(), payment_provider_token=PROVIDER_TOKEN
    )


@pytest.fixture
def tourist(dp: Dispatcher, bot: Bot, recorder: RecordingSession) -> Chat:
    return Chat(dp, bot, recorder, TOURIST, language_code="ru", first_name="Олег")


@pytest.fixture
def operators(dp: Dispatcher, bot: Bot, recorder: RecordingSession) -> Chat:
    return Chat(dp, bot, recorder, 1, chat_id=OPERATOR_CHAT_ID, chat_type="supergroup", title="Operators")


# ---- helpers: the two payment updates Telegram sends -------------------------------------------------------------


async def _feed(chat: Chat, payload: dict[str, Any]) -> int:
    """Feed one update; returns the request-log mark before it (for :func:`since`)."""
    mark = len(chat.recorder.requests)
    update = Update.model_validate({"update_id": next(_update_ids), **payload}, context={"bot": chat.bot})
    await chat.dp.feed_update(chat.bot, update)
    return mark


async def pre_checkout(chat: Chat, payload: str, total: int, currency: str = "EUR") -> Request:
    """A pre_checkout_query from ``chat``'s user; returns the bot's answerPreCheckoutQuery (there must be one)."""
    query_id = f"pcq-{next(_query_ids)}"
    query = {"id": query_id, "from": chat.user, "currency": currency, "total_amount": total, "invoice_payload": payload}
    mark = await _feed(chat, {"pre_checkout_query": query})
    answers = [
        r
        for r in chat.recorder.calls("answerPreCheckoutQuery", since=mark)
        if r.params["pre_checkout_query_id"] == query_id
    ]
    assert len(answers) == 1, f"the pre-checkout query was answered {len(answers)} times"
    return answers[0]


async def successful_payment(
    chat: Chat, payload: str, total: int, charge: str = "tg-charge-1", currency: str = "EUR"
) -> list[Request]:
    """The service message Telegram sends after it charged; returns the requests the bot made for it."""
    message = {
        "message_id": chat.recorder.next_message_id(chat.chat_id),
        "date": int(chat.recorder.now().timestamp()),
        "chat": chat.recorder.chat(chat.chat_id),
        "from": chat.user,
        "successful_payment": {
            "currency": currency,
            "total_amount": total,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge,
            "provider_payment_charge_id": f"prov-{charge}",
        },
    }
    chat.recorder.store_message(message)
    mark = await _feed(chat, {"message": message})
    return chat.recorder.calls(since=mark)


def texts(requests: list[Request]) -> list[str]:
    return [r.text for r in requests if r.text is not None and r.error is None]


def sent(recorder: RecordingSession, method: str, chat_id: int) -> list[Request]:
    return [r for r in recorder.calls(method) if r.params["chat_id"] == chat_id]


async def order_row(sessions, order_id: int) -> OrderRow:
    async with sessions() as db:
        return await db.get(OrderRow, order_id)


async def payment_rows(sessions) -> list[PaymentRow]:
    async with sessions() as db:
        return list(await db.scalars(select(PaymentRow).order_by(PaymentRow.id)))


async def outbox_kinds(sessions) -> list[str]:
    async with sessions() as db:
        return list(await db.scalars(select(OutboxRow.kind).order_by(OutboxRow.id)))


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# ---- getting an order to pay ---------------------------------------------------------------------------------------


async def confirmed_order(sender, recorder, organiser, sessions, seeded, clock, language="ru", hotel_id=None):
    """A cruise booking the organiser confirms by replying "+": the tourist is then asked to pay."""
    await seed_user(sessions, TOURIST, language=language, now=clock.now(), hotel_id=hotel_id)
    order = await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(
            user_id=TOURIST,
            session_id=seeded.session_id,
            quantities={"adult": 2, "child": 1},
            answers={"pickup": "Hotel Viru", "lunch": "fish"},
            payments_enabled=True,
        ),
        clock.now(),
    )
    assert await sender.deliver_due() == 1
    [request] = sent(recorder, "sendMessage", ORGANISER_CHAT)
    await organiser.send("+", reply_to=request.result.message_id)
    return order


async def instant_order(sessions, seeded, clock):
    """One adult on the Old Town walk, booked in English without the organiser's confirmation: due at once."""
    await seed_user(sessions, TOURIST, language="en", now=clock.now())
    return await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(
            user_id=TOURIST, session_id=seeded.instant_session_id, quantities={"adult": 1}, payments_enabled=True
        ),
        clock.now(),
    )


async def paid_order(sender, recorder, tourist, organiser, sessions, seeded, clock):
    order = await confirmed_order(sender, recorder, organiser, sessions, seeded, clock)
    assert await sender.deliver_due() == 2  # confirmed + invoice
    answer = await pre_checkout(tourist, invoice_payload(order.id), order.total_minor)
    assert answer.params["ok"] is True
    await successful_payment(tourist, invoice_payload(order.id), order.total_minor)
    return order


# ---- the invoice ---------------------------------------------------------------------------------------------------


async def test_a_confirmed_order_gets_an_invoice_in_the_tourist_s_language(
    sender, recorder, tourist, organiser, sessions, seeded, clock, dp
) -> None:
    order = await confirmed_order(sender, recorder, organiser, sessions, seeded, clock)
    assert await sender.deliver_due() == 2
    [confirmed] = sent(recorder, "sendMessage", TOURIST)
    [invoice] = sent(recorder, "sendInvoice", TOURIST)
    assert recorder.requests.index(confirmed) < recorder.requests.index(invoice)  # the news first, then the bill
    params = invoice.params
    assert params["title"] == "Круиз по островам"
    assert params["payload"] == invoice_payload(order.id)
    assert params["currency"] == "EUR" and params["provider_token"] == PROVIDER_TOKEN
    assert sum(p["amount"] for p in params["prices"]) == order.total_minor == 2 * 4500 + 2500
    ru = dp["i18n"].translator("ru")
    assert [p["label"] for p in params["prices"]] == [ru.gettext("Adult") + " × 2", ru.gettext("Child") + " × 1"]
    assert format_order_code(order.code) in params["description"] and "Причал 3" in params["description"]
    assert await sender.deliver_due() == 0  # one invoice


async def test_a_hotel_discount_is_a_negative_line_and_the_sum_is_exact(
    sender, recorder, tourist, organiser, sessions, seeded, clock
) -> None:
    order = await confirmed_order(sender, recorder, organiser, sessions, seeded, clock, hotel_id=seeded.hotel_id)
    assert order.discount_percent == 10 and order.total_minor < order.subtotal_minor
    await sender.deliver_due()
    [invoice] = sent(recorder, "sendInvoice", TOURIST)
    amounts = [p["amount"] for p in invoice.params["prices"]]
    assert amounts == [9000, 2500, -(order.subtotal_minor - order.total_minor)]
    assert sum(amounts) == order.total_minor
    assert "10%" in invoice.params["prices"][-1]["label"]


async def test_an_instant_booking_is_invoiced_at_once(sender, recorder, tourist, sessions, seeded, clock) -> None:
    order = await instant_order(sessions, seeded, clock)
    assert await sender.deliver_due() == 1
    [invoice] = sent(recorder, "sendInvoice", TOURIST)
    assert invoice.params["title"] == "Old Town walk"
    assert invoice.params["prices"] == [{"label": "Adult × 1", "amount": order.total_minor}]


async def test_long_catalog_texts_are_cut_to_the_invoice_limits(
    sender, recorder, tourist, sessions, seeded, clock
) -> None:
    async with sessions() as db, db.begin():
        await db.execute(
            update(EventRow)
            .where(EventRow.id == seeded.instant_event_id)
            .values(
                title={"en": "A very long walk through every single street of the Old Town"},
                meeting_point={"en": "At the fountain " * 30},
            )
        )
    await instant_order(sessions, seeded, clock)
    assert await sender.deliver_due() == 1  # the recorder checked the 32 and 255 character limits
    [invoice] = sent(recorder, "sendInvoice", TOURIST)
    assert len(invoice.params["title"]) <= 32 and invoice.params["title"].endswith("…")
    assert len(invoice.params["description"]) <= 255


async def test_no_stale_invoice_for_an_order_cancelled_before_it_was_sent(
    sender, recorder, tourist, organiser, sessions, seeded, clock
) -> None:
    order = await confirmed_order(sender, recorder, organiser, sessions, seeded, clock)
    await cancel_order(SqlUnitOfWork(sessions), TOURIST, order.id, clock.now())
    await sender.deliver_due()
    assert sent(recorder, "sendInvoice", TOURIST) == []


# ---- pre-checkout ------------------------------------------------------------------------------------------------


async def test_the_full_payment_gives_one_ticket_with_a_qr_code(
    sender, recorder, tourist, organiser, sessions, seeded, clock, dp
) -> None:
    order = await confirmed_order(sender, recorder, organiser, sessions, seeded, clock)
    await sender.deliver_due()
    answer = await pre_checkout(tourist, invoice_payload(order.id), order.total_minor)
    assert answer.params["ok"] is True and "error_message" not in answer.params
    replies = await successful_payment(tourist, invoice_payload(order.id), order.total_minor)
    ru = dp["i18n"].translator("ru")
    [said] = texts(replies)
    assert format_order_code(order.code) in said and said.startswith("✅")
    row = await order_row(sessions, order.id)
    assert (row.payment, row.ticket) == (PaymentStatus.PAID, TicketStatus.ISSUED)
    assert normalize_ticket_code(row.ticket_code) == row.ticket_code

    assert await sender.deliver_due() == 2  # the ticket, then its calendar file (the seeded event is not on the map)
    [photo] = sent(recorder, "sendPhoto", TOURIST)
    caption = photo.text
    assert row.ticket_code in caption and ru.gettext("Your ticket") in caption
    assert "Круиз по островам" in caption and "Причал 3" in caption
    assert "<code>" + row.ticket_code + "</code>" in photo.params["caption"]
    image = photo.params["photo"]
    assert isinstance(image, BufferedInputFile)
    width, height = png_size(image.data)
    assert width == height and 250 <= width <= 400
    assert photo.params["reply_markup"]["inline_keyboard"]  # the order button
    assert await sender.deliver_due() == 0

    # the order card shows the ticket code (and it is the same code after the tourist looks again)
    await tourist.press_data(OrderCb(action=OrderAction.VIEW, order=order.id).pack())
    assert row.ticket_code in tourist.last_text()


async def test_a_repeated_successful_payment_changes_nothing_and_sends_nothing(
    sender, recorder, tourist, organiser, sessions, seeded, clock
) -> None:
    order = await paid_order(sender, recorder, tourist, organiser, sessions, seeded, clock)
    await sender.deliver_due()
    before = await order_row(sessions, order.id)
    kinds = await outbox_kinds(sessions)
    replies = await successful_payment(tourist, invoice_payload(order.id), order.total_minor)
    assert len(texts(replies)) == 1 and "✅" not in texts(replies)[0]  # a short "already recorded", no ticket
    after = await order_row(sessions, order.id)
    assert (after.version, after.ticket_code, after.payment) == (before.version, before.ticket_code, before.payment)
    assert await outbox_kinds(sessions) == kinds
    assert len(await payment_rows(sessions)) == 1
    assert await sender.deliver_due() == 0
    assert len(sent(recorder, "sendPhoto", TOURIST)) == 1


async def test_a_second_charge_for_a_paid_order_is_due_back_and_becomes_a_problem_card(
    sender, recorder, tourist, organiser, operators, sessions, seeded, clock, dp, settings
) -> None:
    order = await paid_order(sender, recorder, tourist, organiser, sessions, seeded, clock)
    await sender.deliver_due()
    ticket_code = (await order_row(sessions, order.id)).ticket_code
    # Telegram asks again for the same invoice: refused, the order is paid
    answer = await pre_checkout(tourist, invoice_payload(order.id), order.total_minor)
    assert answer.params["ok"] is False
    assert answer.params["error_message"] == dp["i18n"].translator("ru").gettext(
        "This order is already paid — there is nothing more to pay."
    )
    # ... and if money arrives anyway (a second charge), it is recorded as not applied and due back
    replies = await successful_payment(tourist, invoice_payload(order.id), order.total_minor, charge="tg-charge-2")
    [said] = texts(replies)
    assert said.startswith("💸") and format_order_code(order.code) in said
    row = await order_row(sessions, order.id)
    assert (row.payment, row.ticket_code, row.stray_minor) == (PaymentStatus.PAID, ticket_code, order.total_minor)
    assert [p.applied for p in await payment_rows(sessions)] == [True, False]
    await DeskJobs(lambda: SqlUnitOfWork(sessions), clock, settings.desk).check_orders()
    assert await sender.deliver_due() == 1
    card = operators.last_text()
    assert format_order_code(order.code) in card and "Payment that did not pay the order" in card
    assert "prov-tg-charge-2 · did not pay the order" in card and "owed back" in card
    assert len(sent(recorder, "sendPhoto", TOURIST)) == 1  # no second ticket


async def test_a_pre_checkout_for_a_cancelled_order_is_refused_in_the_tourist_s_language(
    sender, recorder, tourist, organiser, sessions, seeded, clock, dp
) -> None:
    order = await confirmed_order(sender, recorder, organiser, sessions, seeded, clock)
    await sender.deliver_due()
    await cancel_order(SqlUnitOfWork(sessions), TOURIST, order.id, clock.now())
    answer = await pre_checkout(tourist, invoice_payload(order.id), order.total_minor)
    assert answer.params["ok"] is False
    assert answer.params["error_message"] == dp["i18n"].translator("ru").gettext(
        "This booking is cancelled, so there is nothing to pay."
    )
    assert await payment_rows(sessions) == []


async def test_a_pre_checkout_with_another_amount_is_refused(
    sender, recorder, tourist, organiser, sessions, seeded, clock
) -> None:
    order = await confirmed_order(sender, recorder, organiser, sessions, seeded, clock)
    await sender.deliver_due()
    assert (await pre_checkout(tourist, invoice_payload(order.id), order.total_minor - 1)).params["ok"] is False
    assert (await pre_checkout(tourist, invoice_payload(order.id), order.total_minor, "USD")).params["ok"] is False
    assert (await pre_checkout(tourist, invoice_payload(order.id), order.total_minor)).params["ok"] is True


async def test_a_pre_checkout_after_the_pay_deadline_and_its_grace_is_refused(
    sender, recorder, tourist, organiser, sessions, seeded, clock, dp
) -> None:
    order = await confirmed_order(sender, recorder, organiser, sessions, seeded, clock)
    await sender.deliver_due()
    clock.advance(minutes=31)  # past pay_by: reminded, and the seats are held a little longer
    async with sessions() as db, db.begin():
        await db.execute(
            update(OrderRow)
            .where(OrderRow.id == order.id)
            .values(pay_reminded_at=clock.now(), hold_until=clock.now() + timedelta(minutes=15))
        )
    assert (await pre_checkout(tourist, invoice_payload(order.id), order.total_minor)).params["ok"] is True
    clock.advance(minutes=15)
    answer = await pre_checkout(tourist, invoice_payload(order.id), order.total_minor)
    assert answer.params["ok"] is False
    assert answer.params["error_message"] == dp["i18n"].translator("ru").gettext(
        "The time to pay for this booking has run out and the seats went back on sale. You are welcome to book again."
    )


async def test_someone_else_s_invoice_is_refused(
    sender, recorder, tourist, organiser, sessions, seeded, clock, dp, bot
) -> None:
    order = await confirmed_order(sender, recorder, organiser, sessions, seeded, clock)
    await sender.deliver_due()
    stranger = Chat(dp, bot, recorder, STRANGER, language_code="de")
    answer = await pre_checkout(stranger, invoice_payload(order.id), order.total_minor)
    assert answer.params["ok"] is False
    assert answer.params["error_message"] == dp["i18n"].translator("de").gettext(
        "This invoice belongs to someone else's booking. Please book for yourself in the bot."
    )


@pytest.mark.parametrize("payload", ["order:999999", "garbage", "order:"])
async def test_an_unknown_payload_is_refused(payload, tourist, seeded) -> None:
    answer = await pre_checkout(tourist, payload, 100)
    assert answer.params["ok"] is False and answer.params["error_message"]


async def test_a_pre_checkout_is_answered_even_when_the_check_fails(
    monkeypatch, sender, recorder, tourist, organiser, sessions, seeded, clock
) -> None:
    order = await confirmed_order(sender, recorder, organiser, sessions, seeded, clock)

    async def broken(*_args: object) -> None:
        raise RuntimeError("database is down")

    monkeypatch.setattr("handlers.tourist.payments.check_payable", broken)
    answer = await pre_checkout(tourist, invoice_payload(order.id), order.total_minor)
    assert answer.params["ok"] is False and answer.params["error_message"]


# ---- money that cannot pay the order ----------------------------------------------------------------------------


async def test_a_payment_after_expiry_is_refund_due_and_becomes_a_problem_card(
    sender, recorder, tourist, organiser, operators, sessions, seeded, clock, dp, settings
) -> None:
    order = await confirmed_order(sender, recorder, organiser, sessions, seeded, clock)
    await sender.deliver_due()
    async with sessions() as db, db.begin():  # the expiry job ran
        await db.execute(update(OrderRow).where(OrderRow.id == order.id).values(booking=BookingStatus.EXPIRED.value))
    assert (await pre_checkout(tourist, invoice_payload(order.id), order.total_minor)).params["ok"] is False
    replies = await successful_payment(tourist, invoice_payload(order.id), order.total_minor)
    [said] = texts(replies)
    assert said.startswith("💸") and format_order_code(order.code) in said
    row = await order_row(sessions, order.id)
    assert (row.booking, row.payment, row.ticket, row.ticket_code) == (
        BookingStatus.EXPIRED,
        PaymentStatus.REFUND_DUE,
        TicketStatus.NONE,
        None,
    )
    [payment] = await payment_rows(sessions)
    assert not payment.applied and payment.amount_minor == order.total_minor
    await DeskJobs(lambda: SqlUnitOfWork(sessions), clock, settings.desk).check_orders()
    assert await sender.deliver_due() == 1
    card = operators.last_text()
    assert "Payment that did not pay the order" in card and "prov-tg-charge-1 · did not pay the order" in card
    assert "💸 Refund" in operators.buttons()
    assert sent(recorder, "sendPhoto", TOURIST) == []


async def test_a_payment_during_another_conversation_is_still_recorded(
    sender, recorder, tourist, organiser, sessions, seeded, clock, dp, bot
) -> None:
    """The tourist is half-way through booking something else (the booking form waits for a text answer) when the
    money arrives: the payment is recorded, not taken for an answer."""
    order = await confirmed_order(sender, recorder, organiser, sessions, seeded, clock)
    await sender.deliver_due()
    state = dp.fsm.get_context(bot=bot, chat_id=TOURIST, user_id=TOURIST)
    await state.set_state(BookingForm.answering)
    await pre_checkout(tourist, invoice_payload(order.id), order.total_minor)
    await successful_payment(tourist, invoice_payload(order.id), order.total_minor)
    assert (await order_row(sessions, order.id)).payment == PaymentStatus.PAID
    assert await state.get_state() == BookingForm.answering.state  # the other conversation goes on


async def test_without_a_provider_token_nobody_is_invoiced(bot, sessions, dp, clock, recorder, seeded) -> None:
    sender = OutboxSender(bot, sessions, dp["i18n"], clock, limits=Limits.unlimited(), payment_provider_token=None)
    await instant_order(sessions, seeded, clock)
    assert await sender.deliver_due() == 0
    assert recorder.calls("sendInvoice") == []
    async with sessions() as db:
        assert await db.scalar(select(func.count()).where(OutboxRow.status == "dead")) == 1


async def test_a_payment_redraws_the_participant_list_and_the_confirmation(
    sender, recorder, tourist, organiser, sessions, seeded, clock, dp
) -> None:
    """The organiser's list said "payment pending" and the tourist's confirmation "please pay": after the payment
    both are edited to say it is paid (no screen keeps contradicting the truth)."""
    order = await confirmed_order(sender, recorder, organiser, sessions, seeded, clock, language="en")
    assert await sender.deliver_due() == 2  # confirmed + invoice
    confirmation = sent(recorder, "sendMessage", TOURIST)[-1]
    assert "Please pay" in confirmation.text
    uow = SqlUnitOfWork(sessions)
    async with uow:
        payload = {"session_id": seeded.session_id, "updated": False}
        await uow.outbox.add(keyed_message(OutboxKind.PARTICIPANTS, ORGANISER_CHAT, payload, clock.now(), 1, 1))
        await uow.commit()
    assert await sender.deliver_due() == 1
    listed = sent(recorder, "sendMessage", ORGANISER_CHAT)[-1]
    et = dp["i18n"].translator("et")
    assert et.gettext("payment pending") in listed.text

    await pre_checkout(tourist, invoice_payload(order.id), order.total_minor)
    await successful_payment(tourist, invoice_payload(order.id), order.total_minor)
    assert await sender.deliver_due() == 2  # the ticket and its calendar file
    shown = next(m.text for m in organiser.messages() if m.message_id == listed.result.message_id)
    assert et.gettext("payment pending") not in shown and et.gettext("paid") in shown
    told = next(m.text for m in tourist.messages() if m.message_id == confirmation.result.message_id)
    assert "Please pay" not in told and format_order_code(order.code) in told


# ---- the region's zone --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "zone"), [("en", "(Tallinn time)"), ("ru", "(часовой пояс: Таллин)")])
async def test_the_confirmation_names_the_region_s_zone_at_the_start_and_the_pay_by_time(
    language, zone, sender, recorder, organiser, dp, bot, sessions, seeded, clock
) -> None:
    """A tourist reading on a phone set to another zone sees whose clock the start and the pay-by time follow."""
    tourist = Chat(dp, bot, recorder, TOURIST, language_code=language)
    order = await confirmed_order(sender, recorder, organiser, sessions, seeded, clock, language=language)
    assert await sender.deliver_due() == 2  # confirmed + invoice
    tr = dp["i18n"].translator(language)
    code = format_order_code(order.code)
    confirmed = tr.gettext("Your booking <b>{code}</b> is confirmed!").format(code=code)
    [text] = [t for t in tourist.texts() if confirmed.replace("<b>", "").replace("</b>", "") in t]
    assert f"11:00 {zone}" in text  # the cruise starts at 09:00 UTC: 11:00 in Tallinn
    async with sessions() as db:
        pay_by = (await db.get(OrderRow, order.id)).pay_by
    assert pay_by is not None
    assert f"{tr.datetime(pay_by, 'Europe/Tallinn')} {zone}" in text


async def test_the_card_shown_when_booking_is_redrawn_after_the_payment(
    sender, recorder, organiser, dp, bot, sessions, seeded, clock
) -> None:
    """The card the booking turned into said "waiting for the organiser… seats held"; once confirmed and paid it
    says so, with the ticket code (issue 10, item 14)."""
    from tests.handlers.test_browse_booking import book_to_summary

    tourist = Chat(dp, bot, recorder, TOURIST, language_code="en", first_name="Anna")
    await tourist.send("/start")
    await book_to_summary(tourist, seeded)
    await tourist.press("Confirm")
    card = tourist.last_message().message_id
    assert "Waiting for the organiser" in tourist.last_text()
    [order] = [o async for o in _orders(sessions)]
    assert await sender.deliver_due() == 1  # the request
    await organiser.send("+", reply_to=sent(recorder, "sendMessage", ORGANISER_CHAT)[-1].result.message_id)
    assert await sender.deliver_due() == 2  # confirmed + invoice
    confirmed = next(m.text for m in tourist.messages() if m.message_id == card)
    assert "waiting for your payment" in confirmed and "Waiting for the organiser" not in confirmed

    await pre_checkout(tourist, invoice_payload(order.id), order.total_minor)
    await successful_payment(tourist, invoice_payload(order.id), order.total_minor)
    assert await sender.deliver_due() == 2  # the ticket and its calendar file
    paid = next(m.text for m in tourist.messages() if m.message_id == card)
    row = await order_row(sessions, order.id)
    assert "Confirmed and paid." in paid and row.ticket_code in paid


async def _orders(sessions):
    async with sessions() as db:
        for row in await db.scalars(select(OrderRow).where(OrderRow.user_id == TOURIST)):
            yield row
