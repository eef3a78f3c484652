"""Rebooking by oneself through the real Dispatcher: My orders → an order → "Change date" → a date → the summary →
confirm; every refusal (after the cutoff, onto a full session, someone else's order, a stale or forged button) and
the money (same price, cheaper, dearer: the invoice for the difference, its pre-checkout and payment)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import Update
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import Settings
from bot.outbox import OutboxSender
from bot.ratelimit import Limits
from bot.storage.organiser_tables import OrganiserExtrasRow
from bot.storage.tables import AuditRow, EventRow, OrderReminderRow, OrderRow, OutboxRow, PaymentRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.messages import OutboxKind
from domain.model.orders import Order, format_order_code
from domain.model.organiser_settings import ButtonStyle
from domain.rules.rebooking import difference_payload
from domain.use_cases.booking import PlaceOrder, place_order
from handlers.tourist.callbacks import Below, BelowCb, OrderAction, OrderCb, RebookAction, RebookCb
from tests.conftest import FixedClock
from tests.handlers.chat import Chat
from tests.seed import ORGANISER_CHAT_ID, Seeded
from tests.telegram.recorder import RecordingSession, Request

PROVIDER_TOKEN = "284685063:TEST:abc"
ANSWERS = {"pickup": "Hotel Telegraaf", "lunch": "fish"}
TICKET_CODE = "TKT-ACD-EFH-JKM"
OTHER_TOURIST = 3003

_update_ids = itertools.count(700_000)
_query_ids = itertools.count(1)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Orders are paid in chat (a payment provider is configured)."""
    return settings.model_copy(update={"payment_provider_token": SecretStr(PROVIDER_TOKEN)})


@pytest.fixture
def sender(bot: Bot, sessions, dp: Dispatcher, clock) -> OutboxSender:
    return OutboxSender(
        bot, sessions, dp["i18n"], clock, limits=Limits.unlimited(), payment_provider_token=PROVIDER_TOKEN
    )


@pytest.fixture
async def later_id(seeded: Seeded, sessions: async_sessionmaker, clock: FixedClock) -> int:
    """Another cruise, five days ahead, 20 seats: the date the tests move to."""
    async with sessions() as db, db.begin():
        row = SessionRow(
            event_id=seeded.event_id,
            starts_at=clock.now() + timedelta(days=5),
            capacity=20,
            seats_left=20,
            status="scheduled",
        )
        db.add(row)
        await db.flush()
        return row.id


async def place(sessions: async_sessionmaker, clock: FixedClock, user_id: int, session_id: int) -> Order:
    cmd = PlaceOrder(user_id=user_id, session_id=session_id, quantities={"adult": 2}, answers=ANSWERS)
    return await place_order(SqlUnitOfWork(sessions), cmd, now=clock.now())


async def set_order(sessions: async_sessionmaker, order_id: int, **values: Any) -> None:
    async with sessions() as db, db.begin():
        await db.execute(update(OrderRow).where(OrderRow.id == order_id).values(**values))


async def paid(sessions: async_sessionmaker, clock: FixedClock, order: Order) -> None:
    await set_order(
        sessions,
        order.stored_id,
        booking="confirmed",
        payment="paid",
        ticket="issued",
        ticket_code=TICKET_CODE,
        paid_at=clock.now(),
    )


async def set_adult_price(sessions: async_sessionmaker, event_id: int, price_minor: int) -> None:
    """The catalog's price changed since the order was booked (a new season's prices, say)."""
    prices = [{"code": "adult", "price_minor": price_minor}, {"code": "child", "price_minor": 2500}]
    async with sessions() as db, db.begin():
        await db.execute(update(EventRow).where(EventRow.id == event_id).values(prices=prices))


async def order_row(sessions: async_sessionmaker, order_id: int) -> OrderRow:
    async with sessions() as db:
        return await db.get(OrderRow, order_id)


async def seats_left(sessions: async_sessionmaker, session_id: int) -> int:
    async with sessions() as db:
        return int(await db.scalar(select(SessionRow.seats_left).where(SessionRow.id == session_id)))


async def outbox_kinds(sessions: async_sessionmaker) -> list[str]:
    async with sessions() as db:
        return list(await db.scalars(select(OutboxRow.kind).order_by(OutboxRow.id)))


def pick(order: Order, session_id: int) -> str:
    return RebookCb(action=RebookAction.PICK, order=order.stored_id, session=session_id).pack()


def confirm(order: Order, session_id: int) -> str:
    return RebookCb(action=RebookAction.CONFIRM, order=order.stored_id, session=session_id).pack()


def dates(order: Order) -> str:
    return RebookCb(action=RebookAction.DATES, order=order.stored_id).pack()


def alerts(chat: Chat) -> list[str]:
    return [a.text for a in chat.alerts() if a.show_alert]


async def open_dates(chat: Chat, order: Order) -> None:
    await chat.press_data(OrderCb(action=OrderAction.VIEW, order=order.stored_id).pack())
    await chat.press("Change date")


# ---- the screens and a move at the same price ---------------------------------------------------------------------


async def test_change_date_moves_the_order_and_tells_the_organiser(
    chat: Chat, seeded: Seeded, sessions, clock, later_id: int, sender: OutboxSender, recorder: RecordingSession
) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await sender.deliver_due()  # the booking request to the organiser
    await open_dates(chat, order)
    text = chat.last_text()
    assert f"Change the date of order {format_order_code(order.code)}" in text
    assert "Now: Wed, Dec 2, 11:00 (Tallinn time)" in text
    assert "free seats for all 2 of your tickets" in text
    # the other dates with room for both tickets, in the region's zone; not its own, the past or the cancelled one
    assert chat.buttons() == [
        "Thu, Dec 3, 11:00 (Tallinn time) · 2 seats left",
        "Sat, Dec 5, 11:00 (Tallinn time) · 20 seats left",
        "↩️ Back to the order",
        "🏠 Main menu",
    ]

    await chat.press("Sat, Dec 5")
    text = chat.last_text()
    assert "From: Wed, Dec 2, 11:00 (Tallinn time)" in text
    assert "To: Sat, Dec 5, 11:00 (Tallinn time)" in text  # chat.last_text() is the text without its markup
    assert "The price stays the same: €90.00." in text
    assert "they will answer for the new date" in text  # still awaiting the organiser: told, not asked anew
    assert chat.buttons() == ["✅ Change the date", "🗓 Other dates", "↩️ Back to the order"]

    await chat.press("Change the date")
    assert [a.text for a in chat.alerts()] == ["Date changed."]
    assert chat.last_text().startswith("✅ Date changed.")
    assert "Sat, Dec 5, 11:00 (Tallinn time)" in chat.last_text()
    row = await order_row(sessions, order.stored_id)
    assert (row.session_id, row.booking, row.total_minor) == (later_id, "awaiting_organiser", 9000)
    assert await seats_left(sessions, later_id) == 18  # taken on the new date
    assert await seats_left(sessions, seeded.session_id) == 20  # given back on the old one

    assert await sender.deliver_due() == 1  # the organiser is told (not asked again), in Estonian, with the order
    told = [r for r in recorder.calls("sendMessage") if r.params["chat_id"] == ORGANISER_CHAT_ID][-1]
    assert format_order_code(order.code) in told.text
    assert "Külaline tõstis broneeringu" in told.text  # in the organiser's language (Estonian)
    async with sessions() as db:
        actions = list(await db.scalars(select(AuditRow.action).where(AuditRow.order_id == order.stored_id)))
    assert "order.rebooked_by_tourist" in actions


async def test_reminders_move_with_the_session(chat: Chat, seeded: Seeded, sessions, clock, later_id: int) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await paid(sessions, clock, order)
    async with SqlUnitOfWork(sessions) as uow:  # the reminders a confirmation schedules, for the old date
        from domain.use_cases.deadlines import schedule_order_reminders

        stored = await uow.orders.get(order.stored_id)
        assert stored is not None
        await schedule_order_reminders(uow, stored, clock.now())
        await uow.commit()
    await open_dates(chat, order)
    await chat.press_data(pick(order, later_id))
    await chat.press("Change the date")
    async with sessions() as db:
        reminders = list(await db.scalars(select(OrderReminderRow).where(OrderReminderRow.order_id == order.stored_id)))
    pending = [r for r in reminders if r.status == "pending"]
    assert pending and all(r.kind.endswith(f"@{later_id}") for r in pending)  # the new date's reminders
    old = [r for r in reminders if r.kind.endswith(f"@{seeded.session_id}")]
    assert old and all(r.status == "skipped" for r in old)


# ---- refusals -------------------------------------------------------------------------------------------------------


async def test_after_the_organisers_cutoff_the_date_cannot_change(
    chat: Chat, seeded: Seeded, sessions, clock, later_id: int
) -> None:
    """The organiser closes bookings 60 hours before a start: the order's date in 2 days is inside it, so no
    "Change date" on its card, and an old button is refused; a new date inside it is never offered."""
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await open_dates(chat, order)
    async with sessions() as db, db.begin():
        db.add(
            OrganiserExtrasRow(
                organiser_id=seeded.organiser_id,
                booking_cutoff_s=60 * 3600,
                texts={},
                book_text={},
                book_style=ButtonStyle.DEFAULT.value,
            )
        )
    await chat.press_data(pick(order, later_id))
    assert alerts(chat) == ["It is too late to change the date of this booking: the booking time for it has closed."]
    assert "🔄 Change date" not in chat.buttons()  # the order card as it stands
    await chat.press_data(confirm(order, later_id))
    assert len(alerts(chat)) == 1
    assert (await order_row(sessions, order.stored_id)).session_id == seeded.session_id


async def test_a_new_date_inside_the_cutoff_is_neither_offered_nor_taken(
    chat: Chat, seeded: Seeded, sessions, clock, later_id: int
) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.small_session_id)  # in 3 days
    async with sessions() as db, db.begin():
        soon = SessionRow(  # in 2 hours: outside the house cutoff (5 min), inside the organiser's (3 h)
            event_id=seeded.event_id, starts_at=clock.now() + timedelta(hours=2), capacity=9, seats_left=9
        )
        db.add(soon)
        db.add(
            OrganiserExtrasRow(
                organiser_id=seeded.organiser_id,
                booking_cutoff_s=3 * 3600,
                texts={},
                book_text={},
                book_style=ButtonStyle.DEFAULT.value,
            )
        )
        await db.flush()
        soon_id = soon.id
    await open_dates(chat, order)
    assert not any("Mon, Nov 30" in b for b in chat.buttons())
    await chat.press_data(pick(order, soon_id))
    assert alerts(chat) == ["That date can no longer be booked. Please pick another one."]
    assert "Change the date of order" in chat.last_text()  # back on the dates


async def test_a_full_session_is_refused_and_nothing_changes(
    chat: Chat, seeded: Seeded, sessions, clock, later_id: int
) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    async with sessions() as db, db.begin():
        await db.execute(update(SessionRow).where(SessionRow.id == seeded.small_session_id).values(seats_left=1))
    await open_dates(chat, order)
    assert not any("Dec 3" in b for b in chat.buttons())  # one seat left: not enough for two
    await chat.press_data(pick(order, seeded.small_session_id))  # an old or forged button
    assert alerts(chat) == ["Sorry, that date no longer has enough free seats for you. Please pick another one."]

    # the summary was shown, then the last seats went before Confirm
    await chat.press_data(pick(order, later_id))
    async with sessions() as db, db.begin():
        await db.execute(update(SessionRow).where(SessionRow.id == later_id).values(seats_left=1))
    await chat.press("Change the date")
    assert alerts(chat) == ["Sorry, that date no longer has enough free seats for you. Please pick another one."]
    assert "Change the date of order" in chat.last_text()
    assert (await order_row(sessions, order.stored_id)).session_id == seeded.session_id
    assert await seats_left(sessions, later_id) == 1
    assert await seats_left(sessions, seeded.session_id) == 18


async def test_someone_elses_order_is_refused(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, chat: Chat, seeded: Seeded, sessions, clock, later_id: int
) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    other = Chat(dp, bot, recorder, OTHER_TOURIST, first_name="Mallory")
    await other.send("/start")
    for data in (dates(order), pick(order, later_id), confirm(order, later_id)):
        await other.press_data(data)
        assert alerts(other) == ["This is not your order."]
    assert (await order_row(sessions, order.stored_id)).session_id == seeded.session_id
    assert await seats_left(sessions, later_id) == 20


async def test_stale_buttons_after_a_cancel_change_nothing(
    chat: Chat, seeded: Seeded, sessions, clock, later_id: int
) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await open_dates(chat, order)
    await chat.press_data(pick(order, later_id))
    summary = chat.last_message().message_id
    await chat.press_data(OrderCb(action=OrderAction.CANCEL_CONFIRM, order=order.stored_id).pack())
    await chat.press_data(confirm(order, later_id), message_id=summary)  # the summary's Confirm, pressed late
    assert alerts(chat) == ["This booking can no longer be changed."]
    await chat.press_data(dates(order))
    assert alerts(chat) == ["This booking can no longer be changed."]
    row = await order_row(sessions, order.stored_id)
    assert (row.session_id, row.booking) == (seeded.session_id, "cancelled")
    assert await seats_left(sessions, later_id) == 20


async def test_a_confirm_without_its_summary_shows_the_summary_first(
    chat: Chat, seeded: Seeded, sessions, clock, later_id: int
) -> None:
    """A forged Confirm (or one from a summary of another conversation) never moves anything unseen."""
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await chat.press_data(confirm(order, later_id))
    assert [a.text for a in chat.alerts()] == ["Please check the summary and confirm again."]
    assert "The price stays the same" in chat.last_text()
    assert (await order_row(sessions, order.stored_id)).session_id == seeded.session_id


async def test_the_price_changed_between_summary_and_confirm(
    chat: Chat, seeded: Seeded, sessions, clock, later_id: int
) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await open_dates(chat, order)
    await chat.press_data(pick(order, later_id))
    await set_adult_price(sessions, seeded.event_id, 5000)
    await chat.press("Change the date")
    assert alerts(chat) == ["The price of that date changed a moment ago. Please check the new summary."]
    assert "€100.00 instead of €90.00" in chat.last_text()
    assert (await order_row(sessions, order.stored_id)).session_id == seeded.session_id


# ---- the money ------------------------------------------------------------------------------------------------------


async def test_paid_and_cheaper_makes_a_partial_refund_due(
    chat: Chat, seeded: Seeded, sessions, clock, later_id: int, sender: OutboxSender, recorder: RecordingSession
) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await paid(sessions, clock, order)
    await set_adult_price(sessions, seeded.event_id, 4000)
    await open_dates(chat, order)
    await chat.press_data(pick(order, later_id))
    text = chat.last_text()
    assert "The new date costs €10.00 less: €80.00 instead of €90.00." in text
    assert "Our team will refund the difference of €10.00" in text
    assert "Your ticket code stays the same" in text
    await chat.press("Change the date")
    assert "Our team will refund the difference of €10.00" in chat.last_text()
    row = await order_row(sessions, order.stored_id)
    assert (row.session_id, row.total_minor, row.partial_refund_minor) == (later_id, 8000, 1000)
    assert (row.payment, row.ticket_code) == ("paid", TICKET_CODE)  # the ticket code stays
    kinds = await outbox_kinds(sessions)
    assert OutboxKind.ORGANISER_REBOOKED.value in kinds and OutboxKind.TICKET.value in kinds
    await sender.deliver_due()
    tickets = [r for r in recorder.calls("sendPhoto") if r.params["chat_id"] == chat.user_id]
    assert tickets and TICKET_CODE in (tickets[-1].params.get("caption") or "")


async def test_paid_and_dearer_invoices_the_difference_and_moves_when_paid(
    chat: Chat, seeded: Seeded, sessions, clock, later_id: int, sender: OutboxSender, recorder: RecordingSession
) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await paid(sessions, clock, order)
    await set_adult_price(sessions, seeded.event_id, 5000)
    await open_dates(chat, order)
    await chat.press_data(pick(order, later_id))
    assert "The new date costs €10.00 more: €100.00 instead of €90.00." in chat.last_text()
    await chat.press("Pay €10.00 and change the date")
    assert "The invoice for the difference of €10.00 follows" in chat.last_text()
    row = await order_row(sessions, order.stored_id)
    assert (row.session_id, row.total_minor) == (seeded.session_id, 9000)  # nothing moved yet
    assert await seats_left(sessions, later_id) == 20

    await sender.deliver_due()  # the booking request to the organiser, and the invoice
    invoice = recorder.calls("sendInvoice")[-1]
    payload = difference_payload(order.stored_id, later_id)
    assert invoice.params["payload"] == payload and invoice.params["prices"][0]["amount"] == 1000

    answer = await pre_checkout(chat, payload, 1000)
    assert answer.params["ok"] is True
    wrong = await pre_checkout(chat, payload, 900)
    assert wrong.params["ok"] is False

    await successful_payment(chat, payload, 1000)
    assert "has its new date" in chat.texts()[-1]
    row = await order_row(sessions, order.stored_id)
    assert (row.session_id, row.total_minor, row.payment, row.stray_minor) == (later_id, 10000, "paid", 0)
    assert [(i.unit_price_minor, i.quantity) for i in await items(sessions, order.stored_id)] == [(5000, 2)]
    assert await seats_left(sessions, later_id) == 18 and await seats_left(sessions, seeded.session_id) == 20
    async with sessions() as db:
        payments = list(await db.scalars(select(PaymentRow)))
    assert [(p.amount_minor, p.applied) for p in payments] == [(1000, True)]

    await successful_payment(chat, payload, 1000)  # Telegram repeats the update: recorded once
    assert "already recorded" in chat.texts()[-1]


async def test_a_difference_paid_after_the_date_filled_is_due_back(
    chat: Chat, seeded: Seeded, sessions, clock, later_id: int
) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await paid(sessions, clock, order)
    await set_adult_price(sessions, seeded.event_id, 5000)
    payload = difference_payload(order.stored_id, later_id)
    async with sessions() as db, db.begin():
        await db.execute(update(SessionRow).where(SessionRow.id == later_id).values(seats_left=1))
    refused = await pre_checkout(chat, payload, 1000)
    assert refused.params["ok"] is False and "can no longer be booked" in refused.params["error_message"]

    await successful_payment(chat, payload, 1000, charge="late")  # charged anyway (between the check and now)
    assert "We could not change the date" in chat.texts()[-1]
    row = await order_row(sessions, order.stored_id)
    assert (row.session_id, row.total_minor, row.stray_minor) == (seeded.session_id, 9000, 1000)  # due back
    async with sessions() as db:
        payments = list(await db.scalars(select(PaymentRow)))
    assert [(p.amount_minor, p.applied) for p in payments] == [(1000, False)]


async def test_unpaid_and_dearer_takes_the_new_price_with_a_new_invoice(
    chat: Chat, seeded: Seeded, sessions, clock, later_id: int
) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await set_order(sessions, order.stored_id, booking="confirmed", payment="awaiting", pay_by=clock.now())
    await set_adult_price(sessions, seeded.event_id, 5000)
    await open_dates(chat, order)
    await chat.press_data(pick(order, later_id))
    text = chat.last_text()
    assert "The price on the new date: €100.00 instead of €90.00." in text
    assert "A new invoice follows" in text
    await chat.press("Change the date")
    row = await order_row(sessions, order.stored_id)
    assert (row.session_id, row.total_minor, row.payment) == (later_id, 10000, "awaiting")
    assert OutboxKind.INVOICE.value in await outbox_kinds(sessions)


# ---- helpers: the payment updates Telegram sends --------------------------------------------------------------------


async def items(sessions: async_sessionmaker, order_id: int) -> list[Any]:
    from bot.storage.tables import OrderItemRow

    async with sessions() as db:
        return list(await db.scalars(select(OrderItemRow).where(OrderItemRow.order_id == order_id)))


async def _feed(chat: Chat, payload: dict[str, Any]) -> int:
    mark = len(chat.recorder.requests)
    update_ = Update.model_validate({"update_id": next(_update_ids), **payload}, context={"bot": chat.bot})
    await chat.dp.feed_update(chat.bot, update_)
    return mark


async def pre_checkout(chat: Chat, payload: str, total: int) -> Request:
    query_id = f"rb-pcq-{next(_query_ids)}"
    query = {"id": query_id, "from": chat.user, "currency": "EUR", "total_amount": total, "invoice_payload": payload}
    mark = await _feed(chat, {"pre_checkout_query": query})
    answers = list(chat.recorder.calls("answerPreCheckoutQuery", since=mark))
    assert len(answers) == 1
    return answers[0]


async def successful_payment(chat: Chat, payload: str, total: int, charge: str = "tg-charge-1") -> None:
    message = {
        "message_id": chat.recorder.next_message_id(chat.chat_id),
        "date": int(chat.recorder.now().timestamp()),
        "chat": chat.recorder.chat(chat.chat_id),
        "from": chat.user,
        "successful_payment": {
            "currency": "EUR",
            "total_amount": total,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge,
            "provider_payment_charge_id": f"prov-{charge}",
        },
    }
    chat.recorder.store_message(message)
    await _feed(chat, {"message": message})


async def test_the_booking_card_changes_date_in_place_and_stays_the_orders_card(
    chat: Chat, seeded: Seeded, sessions, clock, later_id: int
) -> None:
    """ "Change date" on the card the booking turned into: the screens replace it, and after the move it is the
    order's card again (recorded, so later changes still redraw it), with the new date."""
    from tests.handlers.test_orders import booked_card

    card = await booked_card(chat, seeded)
    await chat.press("Change date", message_id=card)
    await chat.press("Sat, Dec 5", message_id=card)
    await chat.press("Change the date", message_id=card)
    text = next(m.text for m in chat.messages() if m.message_id == card)
    assert text.startswith("✅ Date changed.") and "Sat, Dec 5, 11:00 (Tallinn time)" in text
    buttons = chat.buttons(card)
    assert "🔄 Change date" in buttons and "🎟 Back to my orders" in buttons
    message = next(m for m in chat.messages() if m.message_id == card)
    data = [b.callback_data for row in message.reply_markup.inline_keyboard for b in row]
    assert BelowCb(to=Below.ORDERS).pack() in data  # the card's navigation opens below it, as before the change
    async with sessions() as db:
        row = await db.scalar(select(OrderRow).where(OrderRow.user_id == chat.user_id))
    assert row is not None and row.session_id == later_id
