"""/orders through the real Dispatcher: the list and its pages, the order card in every language, and cancelling
(free, paid, forged, stale)."""

from __future__ import annotations

import re

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.i18n import I18n
from bot.storage.tables import OrderRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.errors import NotAllowed
from domain.model.orders import Order, OrderItem, Stage, format_order_code
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.profile import set_hotel
from handlers.tourist.callbacks import BookAction, BookCb, OrderAction, OrderCb, OrdersPageCb
from handlers.tourist.orders import PAGE_SIZE, order_card, stage_lines
from tests.conftest import FixedClock
from tests.handlers.chat import Chat
from tests.seed import Seeded
from tests.telegram.recorder import RecordingSession

ANSWERS = {"pickup": "Hotel Telegraaf", "lunch": "fish"}
CODE = re.compile(r"[A-Z0-9]{3}-[A-Z0-9]{3}")


async def place(
    sessions: async_sessionmaker,
    clock: FixedClock,
    user_id: int,
    session_id: int,
    quantities: dict[str, int] | None = None,
    answers: dict[str, str] | None = None,
    payments_enabled: bool = False,
) -> Order:
    cmd = PlaceOrder(
        user_id=user_id,
        session_id=session_id,
        quantities=quantities or {"adult": 2},
        answers=ANSWERS if answers is None else answers,
        payments_enabled=payments_enabled,
    )
    return await place_order(SqlUnitOfWork(sessions), cmd, now=clock.now())


async def set_order(sessions: async_sessionmaker, order_id: int, **values: str) -> None:
    async with sessions() as db, db.begin():
        await db.execute(update(OrderRow).where(OrderRow.id == order_id).values(**values))


async def order_row(sessions: async_sessionmaker, order_id: int) -> OrderRow:
    async with sessions() as db:
        return await db.get(OrderRow, order_id)


async def seats_left(sessions: async_sessionmaker, session_id: int) -> int:
    async with sessions() as db:
        return await db.scalar(select(SessionRow.seats_left).where(SessionRow.id == session_id))


def view(order: Order) -> str:
    return OrderCb(action=OrderAction.VIEW, order=order.id).pack()


# ---- the list ---------------------------------------------------------------------------------------------------


async def test_no_orders_offers_the_events(chat: Chat, seeded: Seeded) -> None:
    await chat.send("/orders")
    assert "You have no orders yet" in chat.last_text()
    assert chat.buttons() == ["🗺 Events", "🏠 Main menu"]


async def test_main_menu_button_opens_the_list(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await chat.press("My orders")
    assert "You have 1 order." in chat.last_text()
    assert chat.buttons()[0] == f"{format_order_code(order.code)} · Islands cruise · Wed, Dec 2 · ⏳"


async def test_list_pages_newest_first(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await chat.send("/start")
    orders = []
    for _ in range(PAGE_SIZE + 2):
        orders.append(await place(sessions, clock, chat.user_id, seeded.session_id, {"adult": 1}))
        clock.advance(minutes=1)
    instant = await place(sessions, clock, chat.user_id, seeded.instant_session_id, {"adult": 1}, answers={})
    newest_first = [instant, *reversed(orders)]

    await chat.send("/orders")
    text = chat.last_text()
    assert "You have 8 orders." in text and "Page 1 of 2" in text
    first = chat.buttons()
    assert first[0] == f"{format_order_code(instant.code)} · Old Town walk · Tue, Dec 1 · ✅"
    assert [b.split(" · ")[0] for b in first[:PAGE_SIZE]] == [format_order_code(o.code) for o in newest_first[:5]]
    assert first[PAGE_SIZE:] == ["Older ▶️", "🏠 Main menu"]

    await chat.press("Older")
    assert "Page 2 of 2" in chat.last_text()
    second = chat.buttons()
    assert [b.split(" · ")[0] for b in second[:3]] == [format_order_code(o.code) for o in newest_first[5:]]
    assert second[3:] == ["◀️ Newer", "🏠 Main menu"]

    await chat.press("Newer")
    assert chat.buttons() == first


async def test_a_page_beyond_the_end_shows_the_last_one(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await chat.send("/start")
    for _ in range(PAGE_SIZE + 1):
        await place(sessions, clock, chat.user_id, seeded.session_id, {"adult": 1})
    await chat.send("/orders")
    await chat.press_data(OrdersPageCb(page=99).pack())
    assert "Page 2 of 2" in chat.last_text()
    await chat.press_data(OrdersPageCb(page=-3).pack())
    assert "Page 1 of 2" in chat.last_text()


async def test_orders_command_leaves_a_form(chat: Chat, seeded: Seeded) -> None:
    await chat.send("/question")
    await chat.send("/orders")
    assert "You have no orders yet" in chat.last_text()
    await chat.send("so, about lunch")  # no longer the question form: the catch-all answers
    assert "I didn't catch that" in chat.last_text()


# ---- the card ---------------------------------------------------------------------------------------------------


async def test_card_awaiting_organiser_says_by_when(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id, {"adult": 2, "child": 1})
    await chat.send("/orders")
    await chat.press(format_order_code(order.code))
    text = chat.last_text()
    assert f"Order {format_order_code(order.code)}" in text
    assert "Islands cruise" in text
    assert "Wed, Dec 2, 11:00 (Tallinn time)" in text  # 09:00 UTC is 11:00 in Tallinn
    assert "Meeting point: Pier 3" in text
    assert "Adult × 2: €90.00" in text and "Child × 1: €25.00" in text
    assert "Total: €115.00" in text
    assert "Waiting for the organiser to confirm" in text
    assert "The organiser answers by 11:10 (Tallinn time) — we will message you here." in text
    assert chat.buttons() == [
        "✖️ Cancel booking",
        "🔄 Change date",
        "🗺 Open the event",
        "🎟 Back to my orders",
        "🏠 Main menu",
    ]

    await chat.press("Open the event")  # the browse module shows the event
    assert "Islands cruise" in chat.last_text()


async def test_card_shows_the_hotel_discount(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await chat.send("/start")
    await set_hotel(SqlUnitOfWork(sessions), chat.user_id, seeded.hotel_id)
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await chat.send("/orders")
    await chat.press(format_order_code(order.code))
    text = chat.last_text()
    assert "Hotel discount (Hotel Telegraaf, 10%): −€9.00" in text
    assert "Total: €81.00" in text


async def test_card_awaiting_payment_and_pay_on_site(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await chat.send("/start")
    paying = await place(sessions, clock, chat.user_id, seeded.instant_session_id, {"adult": 1}, {}, True)
    on_site = await place(sessions, clock, chat.user_id, seeded.instant_session_id, {"adult": 2}, {})

    await chat.send("/orders")
    await chat.press(format_order_code(paying.code))
    assert "Please pay €15.00 by 11:30" in chat.last_text()

    await chat.press("Back to my orders")
    await chat.press(format_order_code(on_site.code))
    assert "Pay at the meeting point: €30.00." in chat.last_text()


async def test_card_deadline_on_another_day_names_the_day(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    clock.set(clock.now().replace(hour=21, minute=55))  # 23:55 in Tallinn: the deadline falls on tomorrow
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await chat.send("/orders")
    await chat.press(format_order_code(order.code))
    assert "The organiser answers by Tue, Dec 1, 00:05" in chat.last_text()


@pytest.mark.parametrize(
    ("language", "money", "start"),
    [("en", "€90.00", "11:00"), ("ru", "90,00", "11:00"), ("de", "90,00", "11:00"), ("et", "90,00", "11:00")],
)
async def test_card_in_every_language(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded, sessions, clock, language, money, start
) -> None:
    chat = Chat(dp, bot, recorder, 3000, language_code=language, first_name="Mia")
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await chat.send("/orders")
    await chat.press(format_order_code(order.code))
    text = chat.last_text()
    lines = text.splitlines()
    assert format_order_code(order.code) in lines[0]
    assert (
        lines[1]
        == {"en": "Islands cruise", "ru": "Круиз по островам", "de": "Inselkreuzfahrt", "et": "Saarte kruiis"}[language]
    )
    assert start in lines[2]
    assert sum(money in line for line in lines) == 2  # the line of adults and the total
    assert "11:10" in lines[-1]  # what happens next, by when (the organiser's deadline)
    assert len(chat.buttons()) == 5  # cancel, change date, the event, my orders, home


def test_every_stage_has_words_in_every_language() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    order = Order(
        code="K7MA4X",
        user_id=1,
        session_id=1,
        event_id=1,
        currency="EUR",
        items=[OrderItem("adult", 1, 4500)],
        subtotal_minor=4500,
        discount_percent=0,
        total_minor=4500,
        created_at=now,
        hold_until=now,
        language="en",
        confirm_by=now + timedelta(minutes=10),
        pay_by=now + timedelta(minutes=30),
    )
    i18n = I18n()
    for language in i18n.languages:
        tr = i18n.translator(language)
        for stage in Stage:
            status, after = stage_lines(tr, order, stage, "Europe/Tallinn", now)
            assert status.strip(), (language, stage)
            if stage in (Stage.AWAITING_ORGANISER, Stage.AWAITING_PAYMENT):
                assert "11:10" in after or "11:30" in after


@pytest.mark.parametrize(
    ("booking", "payment", "session", "words", "cancellable"),
    [
        ("declined", "not_due", "session_id", "The organiser could not accept this booking.", False),
        ("expired", "not_due", "session_id", "This booking expired", False),
        # still active on a session the organiser cancelled: the domain lets the tourist cancel (a refund if paid)
        ("confirmed", "not_due", "cancelled_session_id", "The organiser cancelled this session.", True),
        ("cancelled", "not_due", "cancelled_session_id", "The organiser cancelled this session.", False),
        ("confirmed", "on_site", "past_session_id", "This session has already taken place.", False),
        ("attended", "paid", "past_session_id", "You attended this event.", False),
        ("no_show", "not_due", "past_session_id", "You were marked as a no-show.", False),
        ("cancelled", "refunded", "session_id", "Your payment has been refunded.", False),
        ("cancelled", "partially_refunded", "session_id", "Part of your payment has been refunded.", False),
    ],
)
async def test_card_other_stages(
    chat: Chat, seeded: Seeded, sessions, clock, booking, payment, session, words, cancellable
) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await set_order(sessions, order.id, booking=booking, payment=payment, session_id=getattr(seeded, session))
    await chat.press_data(view(order))
    assert words in chat.last_text()
    assert ("✖️ Cancel booking" in chat.buttons()) is cancellable


async def test_order_card_refuses_someone_elses_order(seeded: Seeded, sessions, clock, chat: Chat) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    tr = I18n().translator("en")
    with pytest.raises(NotAllowed):
        await order_card(SqlUnitOfWork(sessions), order.id, chat.user_id + 1, tr, clock.now())
    with pytest.raises(NotAllowed):
        await order_card(SqlUnitOfWork(sessions), 987654, chat.user_id, tr, clock.now())


# ---- cancelling -------------------------------------------------------------------------------------------------


async def test_cancel_before_payment_is_free_and_gives_the_seats_back(
    chat: Chat, seeded: Seeded, sessions, clock
) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    assert await seats_left(sessions, seeded.session_id) == 18
    await chat.send("/orders")
    await chat.press(format_order_code(order.code))
    await chat.press("Cancel booking")
    text = chat.last_text()
    assert f"Cancel booking {format_order_code(order.code)}?" in text
    assert "Cancelling is free: you have not paid anything." in text
    assert chat.buttons() == ["✅ Yes, cancel it", "↩️ No, keep it"]

    await chat.press("No, keep it")
    assert "Waiting for the organiser" in chat.last_text()
    await chat.press("Cancel booking")
    await chat.press("Yes, cancel it")

    assert [a.text for a in chat.alerts()] == [f"Booking {format_order_code(order.code)} cancelled."]
    assert "You cancelled this booking." in chat.last_text()
    assert "Nothing to pay." in chat.last_text()
    assert "✖️ Cancel booking" not in chat.buttons()
    assert await seats_left(sessions, seeded.session_id) == 20
    row = await order_row(sessions, order.id)
    assert (row.booking, row.payment) == ("cancelled", "not_due")


async def test_cancel_after_payment_becomes_refund_due(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await set_order(sessions, order.id, booking="confirmed", payment="paid", ticket="issued")
    await chat.press_data(view(order))
    assert "Confirmed and paid." in chat.last_text()
    await chat.press("Cancel booking")
    assert "You have paid €90.00. If you cancel, the payment becomes a refund due" in chat.last_text()
    await chat.press("Yes, cancel it")

    text = chat.last_text()
    assert "Cancelled after payment." in text
    assert "Refund due: our team will return €90.00." in text
    row = await order_row(sessions, order.id)
    assert (row.booking, row.payment, row.ticket) == ("cancelled", "refund_due", "voided")


async def test_someone_elses_order_is_refused_and_unchanged(
    chat: Chat, dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded, sessions, clock
) -> None:
    other = Chat(dp, bot, recorder, 2002, first_name="Olaf")
    await other.send("/start")
    theirs = await place(sessions, clock, other.user_id, seeded.session_id)
    await chat.send("/start")

    for action in OrderAction:
        if action is OrderAction.EVENT:
            continue
        await chat.press_data(OrderCb(action=action, order=theirs.id).pack())
        assert [(a.text, a.show_alert) for a in chat.alerts()] == [("This is not your order.", True)]
        assert chat.texts() == []
    await chat.press_data(OrderCb(action=OrderAction.VIEW, order=999999).pack())
    assert [a.text for a in chat.alerts()] == ["This is not your order."]

    row = await order_row(sessions, theirs.id)
    assert (row.booking, row.user_id) == ("awaiting_organiser", other.user_id)
    assert await seats_left(sessions, seeded.session_id) == 18


async def test_stale_cancel_confirm_says_so_and_shows_the_fresh_card(
    chat: Chat, seeded: Seeded, sessions, clock
) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await chat.press_data(view(order))
    await chat.press("Cancel booking")
    confirm = chat.last_message().message_id
    confirm_data = OrderCb(action=OrderAction.CANCEL_CONFIRM, order=order.id).pack()
    await chat.press_data(confirm_data, message_id=confirm)
    assert "You cancelled this booking." in chat.last_text()

    await chat.press_data(confirm_data, message_id=confirm)  # a second tap (or an old screen)
    assert [(a.text, a.show_alert) for a in chat.alerts()] == [("This booking is already cancelled.", True)]
    assert "You cancelled this booking." in chat.last_text()
    await chat.press_data(OrderCb(action=OrderAction.CANCEL, order=order.id).pack())
    assert [a.text for a in chat.alerts()] == ["This booking is already cancelled."]
    assert await seats_left(sessions, seeded.session_id) == 20


async def test_a_started_session_can_no_longer_be_cancelled(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await chat.send("/start")
    order = await place(sessions, clock, chat.user_id, seeded.session_id)
    await chat.press_data(view(order))
    await chat.press("Cancel booking")
    clock.advance(days=3)  # the session has started meanwhile
    await chat.press("Yes, cancel it")
    assert [a.text for a in chat.alerts()] == ["This booking can no longer be cancelled."]
    assert "This session has already taken place." in chat.last_text()
    assert (await order_row(sessions, order.id)).booking == "awaiting_organiser"


# ---- the card shown when booking follows the order (issue 10, item 14) ------------------------------------------


async def booked_card(chat: Chat, seeded: Seeded) -> int:
    """The tourist books the cruise through the bot; the id of the order card the confirm turned into."""
    from tests.handlers.test_browse_booking import book_to_summary

    await chat.send("/start")
    await book_to_summary(chat, seeded)
    await chat.press_data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id).pack())
    card = chat.last_message()
    assert "Waiting for the organiser to confirm. Your seats are held." in card.text
    assert "✖️ Cancel booking" in chat.buttons(card.message_id)
    return card.message_id


def shown(chat: Chat, message_id: int) -> str:
    return next(m.text for m in chat.messages() if m.message_id == message_id)


async def answer_request(sender, organiser: Chat, reply: str) -> None:
    """The booking request reaches the organiser, who answers it by replying; the outcome reaches the tourist."""
    assert await sender.deliver_due() == 1
    request = organiser.last_message()
    await organiser.send(reply, reply_to=request.message_id)
    assert await sender.deliver_due() >= 1


async def test_the_booking_card_is_redrawn_when_the_organiser_confirms(
    chat: Chat, seeded: Seeded, sender, organiser: Chat
) -> None:
    card = await booked_card(chat, seeded)
    await answer_request(sender, organiser, "+")
    text = shown(chat, card)
    assert "Waiting for the organiser" not in text and "seats are held" not in text
    assert "Confirmed." in text and "Pay at the meeting point" in text
    assert "✖️ Cancel booking" in chat.buttons(card)  # still cancellable, and it says so truthfully


async def test_the_booking_card_is_redrawn_when_the_organiser_declines(
    chat: Chat, seeded: Seeded, sender, organiser: Chat
) -> None:
    card = await booked_card(chat, seeded)
    await answer_request(sender, organiser, "- fully booked by a group")
    text = shown(chat, card)
    assert "Waiting for the organiser" not in text
    assert "The organiser could not accept this booking." in text
    assert "✖️ Cancel booking" not in chat.buttons(card)


async def test_the_booking_card_is_redrawn_when_cancelled_from_my_orders(chat: Chat, seeded: Seeded, sessions) -> None:
    card = await booked_card(chat, seeded)
    [order] = await orders_of(sessions, chat.user_id)
    await chat.send("/orders")
    await chat.press(format_order_code(order.code))
    listed = chat.last_message().message_id
    assert listed != card
    await chat.press("Cancel booking", message_id=listed)
    await chat.press("Yes, cancel it", message_id=listed)
    text = shown(chat, card)
    assert "Waiting for the organiser" not in text and "You cancelled this booking." in text
    assert "✖️ Cancel booking" not in chat.buttons(card)
    assert "Open the event" in " ".join(chat.buttons(card))  # its navigation stays (and still opens below)


async def orders_of(sessions: async_sessionmaker, user_id: int) -> list[OrderRow]:
    async with sessions() as db:
        return list(await db.scalars(select(OrderRow).where(OrderRow.user_id == user_id)))


async def test_the_booking_card_stays_a_card_after_no_keep_it(chat: Chat, seeded: Seeded) -> None:
    """Cancel → "No, keep it" on the booking card draws the card again with its navigation still opening below, so
    the message redrawn later is still the order's card, not a list the tourist moved on to."""
    card = await booked_card(chat, seeded)
    await chat.press("Cancel booking", message_id=card)
    await chat.press("No, keep it", message_id=card)
    assert "Waiting for the organiser" in shown(chat, card)
    await chat.press("Back to my orders", message_id=card)
    assert "Waiting for the organiser" in shown(chat, card)  # the list opened below
    assert chat.last_message().message_id != card
