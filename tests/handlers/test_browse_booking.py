"""A tourist goes from /start to a held booking and sees it under My orders — in each language — plus the ways
that flow can go wrong: stale and forged buttons, sold-out dates, double taps, odd input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import InlineKeyboardButton
from sqlalchemy import select, update

from bot.storage.tables import OrderRow, SessionRow
from domain.model.orders import BookingStatus, format_order_code
from handlers.tourist.callbacks import (
    BookAction,
    BookCb,
    BrowseCb,
    EventCb,
    MenuAction,
    MenuCb,
    When,
)
from tests.handlers.chat import Chat
from tests.seed import Seeded, seed_user
from tests.telegram.recorder import RecordingSession

LANGUAGES = ["en", "ru", "de", "et"]


def data(cb: object) -> Callable[[InlineKeyboardButton], bool]:
    packed = cb.pack()
    return lambda button: button.callback_data == packed


def starting(prefix: str) -> Callable[[InlineKeyboardButton], bool]:
    return lambda button: bool(button.callback_data and button.callback_data.startswith(prefix))


async def seats_left(sessions, session_id: int) -> int:
    async with sessions() as db:
        return await db.scalar(select(SessionRow.seats_left).where(SessionRow.id == session_id))


async def order_rows(sessions) -> list[OrderRow]:
    async with sessions() as db:
        return list(await db.scalars(select(OrderRow).order_by(OrderRow.id)))


async def book_to_summary(chat: Chat, seeded: Seeded, adults: int = 1) -> None:
    """Events -> Tallinn -> next 30 days -> sea -> the cruise -> its first date -> tickets -> both questions."""
    await chat.press(data(MenuCb(action=MenuAction.EVENTS)))
    await chat.press(data(BrowseCb(region=seeded.region_id, step="when")))
    await chat.press(data(BrowseCb(region=seeded.region_id, when=When.UPCOMING, step="category")))
    await chat.press(data(BrowseCb(region=seeded.region_id, when=When.UPCOMING, category="sea", step="list")))
    await chat.press(data(EventCb(event=seeded.event_id)))
    await chat.press(data(BookCb(action=BookAction.START, session=seeded.session_id)))
    for _ in range(adults - 1):
        await chat.press(data(BookCb(action=BookAction.INC, session=seeded.session_id, value=0)))
    await chat.press(data(BookCb(action=BookAction.NEXT, session=seeded.session_id)))
    await chat.send("Hotel Telegraaf, lobby")  # pickup: free text
    await chat.press(data(BookCb(action=BookAction.CHOICE, session=seeded.session_id, value=1)))  # lunch: veg


@pytest.mark.parametrize("language", LANGUAGES)
async def test_tourist_books_and_sees_the_order_in_each_language(
    language: str, dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded, sessions, i18n_for
) -> None:
    tr = i18n_for(language)
    chat = Chat(dp, bot, recorder, 2001, language_code=language, first_name="Mari")
    await chat.send("/start")
    assert tr.gettext("What would you like to do?") in chat.last_text()

    await chat.press(data(MenuCb(action=MenuAction.EVENTS)))
    assert tr.gettext("Where are you? Choose a region:") in chat.last_text()
    await chat.press(data(BrowseCb(region=seeded.region_id, step="when")))
    await chat.press(data(BrowseCb(region=seeded.region_id, when=When.UPCOMING, step="category")))
    assert any(tr.gettext("All categories") in b for b in chat.buttons())
    await chat.press(data(BrowseCb(region=seeded.region_id, when=When.UPCOMING, category="sea", step="list")))
    assert "1." in chat.last_text()
    await chat.press(data(EventCb(event=seeded.event_id)))
    card = chat.last_text()
    assert tr.money(4500, "EUR") in card and tr.money(2500, "EUR") in card
    assert tr.gettext("Upcoming dates") in card

    await chat.press(data(BookCb(action=BookAction.START, session=seeded.session_id)))
    await chat.press(data(BookCb(action=BookAction.INC, session=seeded.session_id, value=0)))  # 2 adults
    await chat.press(data(BookCb(action=BookAction.INC, session=seeded.session_id, value=1)))  # 1 child
    assert tr.money(2 * 4500 + 2500, "EUR") in chat.last_text()
    await chat.press(data(BookCb(action=BookAction.NEXT, session=seeded.session_id)))
    await chat.send("Old Town, Viru 1")
    await chat.press(data(BookCb(action=BookAction.CHOICE, session=seeded.session_id, value=0)))
    summary = chat.last_text()
    assert tr.money(11500, "EUR") in summary and "Old Town, Viru 1" in summary

    await chat.press(data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id)))
    [order] = await order_rows(sessions)
    assert order.user_id == 2001 and order.booking == BookingStatus.AWAITING_ORGANISER
    assert order.total_minor == 11500 and order.answers == {"pickup": "Old Town, Viru 1", "lunch": "fish"}
    assert order.language == language
    assert await seats_left(sessions, seeded.session_id) == 20 - 3
    code = format_order_code(order.code)
    assert code in chat.last_text()

    await chat.send("/orders")
    assert any(code in b for b in chat.buttons())
    await chat.press(starting(f"o:v:{order.id}"))
    assert code in chat.last_text()


@pytest.fixture
def i18n_for(dp: Dispatcher):
    return dp["i18n"].translator


async def test_language_follows_telegram_and_can_be_switched(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded, i18n_for
) -> None:
    chat = Chat(dp, bot, recorder, 2002, language_code="de-AT")
    await chat.send("/start")
    assert i18n_for("de").gettext("What would you like to do?") in chat.last_text()
    await chat.send("/language")
    await chat.press(starting("l:ru"))
    assert i18n_for("ru").gettext("What would you like to do?") in chat.last_text()
    await chat.send("/help")
    assert i18n_for("ru").gettext("<b>What I can do</b>").replace("<b>", "").replace("</b>", "") in chat.last_text()


async def test_unknown_language_falls_back_to_default(chat: Chat, dp: Dispatcher, bot: Bot, recorder, seeded) -> None:
    stranger = Chat(dp, bot, recorder, 2003, language_code="pt-BR")
    await stranger.send("/start")
    assert "What would you like to do?" in stranger.last_text()


async def test_deep_link_opens_the_event_card(chat: Chat, seeded: Seeded) -> None:
    await chat.send("/start ev-islands-cruise")
    assert "Islands cruise" in chat.last_text()
    assert any(b.startswith("🏠") for b in chat.buttons())
    await chat.send("/start ev-nope")
    assert "no longer valid" in chat.texts()[0] or "not valid" in chat.texts()[0]


async def test_hotel_guest_gets_the_partner_discount(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded, sessions
) -> None:
    await seed_user(sessions, 2004, hotel_id=seeded.hotel_id)
    chat = Chat(dp, bot, recorder, 2004)
    await chat.send("/start")
    await book_to_summary(chat, seeded, adults=2)
    assert "10%" in chat.last_text() and "€81.00" in chat.last_text()  # 2 × 45.00 less 10%
    await chat.press(data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id)))
    [order] = await order_rows(sessions)
    assert (order.subtotal_minor, order.discount_percent, order.total_minor) == (9000, 10, 8100)


async def test_double_confirm_places_one_order(chat: Chat, seeded: Seeded, sessions) -> None:
    await chat.send("/start")
    await book_to_summary(chat, seeded)
    summary_id = chat.last_message().message_id
    await chat.press(data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id)), message_id=summary_id)
    await chat.press_data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id).pack(), message_id=summary_id)
    assert chat.alerts() and chat.alerts()[0].show_alert
    assert len(await order_rows(sessions)) == 1
    assert await seats_left(sessions, seeded.session_id) == 19


async def test_seats_taken_meanwhile_refuses_with_the_fresh_state(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await chat.send("/start")
    await book_to_summary(chat, seeded, adults=2)
    async with sessions() as db, db.begin():  # someone else buys all but one seat
        await db.execute(update(SessionRow).where(SessionRow.id == seeded.session_id).values(seats_left=1))
    await chat.press(data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id)))
    [alert] = chat.alerts()
    assert alert.show_alert and "1 seat" in alert.text
    assert await order_rows(sessions) == []
    assert await seats_left(sessions, seeded.session_id) == 1
    assert "1 seat left" in chat.last_text()  # the event card, fresh


async def test_plus_is_bounded_by_seats_left(chat: Chat, seeded: Seeded) -> None:
    await chat.send("/start ev-islands-cruise")
    await chat.press(data(BookCb(action=BookAction.START, session=seeded.small_session_id)))
    await chat.press(data(BookCb(action=BookAction.INC, session=seeded.small_session_id, value=0)))
    assert chat.alerts() == []
    await chat.press(data(BookCb(action=BookAction.INC, session=seeded.small_session_id, value=1)))
    [alert] = chat.alerts()
    assert alert.show_alert and "2 seats" in alert.text
    await chat.press(data(BookCb(action=BookAction.DEC, session=seeded.small_session_id, value=1)))  # already 0
    assert chat.alerts() == []


async def test_zero_tickets_cannot_continue(chat: Chat, seeded: Seeded) -> None:
    await chat.send("/start ev-islands-cruise")
    await chat.press(data(BookCb(action=BookAction.START, session=seeded.session_id)))
    await chat.press(data(BookCb(action=BookAction.DEC, session=seeded.session_id, value=0)))
    await chat.press(data(BookCb(action=BookAction.NEXT, session=seeded.session_id)))
    [alert] = chat.alerts()
    assert alert.show_alert and "at least one" in alert.text


async def test_answers_are_validated(chat: Chat, seeded: Seeded) -> None:
    await chat.send("/start ev-islands-cruise")
    await chat.press(data(BookCb(action=BookAction.START, session=seeded.session_id)))
    await chat.press(data(BookCb(action=BookAction.NEXT, session=seeded.session_id)))
    await chat.send("x" * 201)
    assert "200" in chat.last_text()
    await chat.send_sticker()
    assert "text message" in chat.last_text()
    await chat.send("   ")
    assert "type an answer" in chat.last_text()
    await chat.send("Pier 3")
    await chat.send("fish")  # a choice question wants a button
    assert "buttons" in chat.last_text()


async def test_a_command_during_the_flow_leaves_it(chat: Chat, seeded: Seeded, sessions) -> None:
    await chat.send("/start ev-islands-cruise")
    await chat.press(data(BookCb(action=BookAction.START, session=seeded.session_id)))
    await chat.press(data(BookCb(action=BookAction.NEXT, session=seeded.session_id)))
    await chat.send("/orders")
    assert await order_rows(sessions) == []
    await chat.send("some text")  # no longer an answer: the fallback hint
    assert "Ask a question" in chat.last_text()


async def test_stale_buttons_after_sell_out(chat: Chat, seeded: Seeded, sessions) -> None:
    await chat.send("/start ev-islands-cruise")
    card_id = chat.last_message().message_id
    async with sessions() as db, db.begin():
        await db.execute(update(SessionRow).where(SessionRow.id == seeded.session_id).values(seats_left=0))
    await chat.press(data(BookCb(action=BookAction.START, session=seeded.session_id)), message_id=card_id)
    [alert] = chat.alerts()
    assert alert.show_alert and "sold out" in alert.text
    assert not any(b.startswith(BookCb(action=BookAction.START, session=seeded.session_id).pack()) for b in [])
    assert "sold out" in chat.last_text()


async def test_buttons_of_an_old_booking_screen_are_stale(chat: Chat, seeded: Seeded, sessions) -> None:
    await chat.send("/start ev-islands-cruise")
    await chat.press(data(BookCb(action=BookAction.START, session=seeded.session_id)))
    old = chat.last_message().message_id
    await chat.send("/start")  # leaves the flow
    await chat.press_data(BookCb(action=BookAction.INC, session=seeded.session_id, value=0).pack(), message_id=old)
    [alert] = chat.alerts()
    assert alert.show_alert and "out of date" in alert.text
    await chat.press_data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id).pack(), message_id=old)
    assert chat.alerts()[0].show_alert
    assert await order_rows(sessions) == []


@pytest.mark.parametrize(
    "forged",
    [
        "k:y:999999:0",  # confirm for a session that does not exist
        "k:i:{session}:7",  # a ticket type index that does not exist
        "b:999999::0::0:when",  # a region that does not exist
        "e:999999",  # an event that does not exist
        "k:zz:1:0",  # an action that does not exist
        "o:v:abc",  # not a number
        "totally-made-up",
        "b:1:d:-5::0:list",
    ],
)
async def test_forged_buttons_change_nothing(chat: Chat, seeded: Seeded, sessions, forged: str) -> None:
    await chat.send("/start")
    await chat.press_data(forged.format(session=seeded.session_id))
    assert await order_rows(sessions) == []
    assert await seats_left(sessions, seeded.session_id) == 20


async def test_past_and_cancelled_sessions_are_not_offered(chat: Chat, seeded: Seeded) -> None:
    await chat.send("/start ev-islands-cruise")
    offered = {b.callback_data for row in chat.last_message().reply_markup.inline_keyboard for b in row}
    assert BookCb(action=BookAction.START, session=seeded.session_id).pack() in offered
    assert BookCb(action=BookAction.START, session=seeded.past_session_id).pack() not in offered
    assert BookCb(action=BookAction.START, session=seeded.cancelled_session_id).pack() not in offered
    await chat.press_data(BookCb(action=BookAction.START, session=seeded.past_session_id).pack())
    assert chat.alerts()[0].show_alert


async def test_empty_windows_say_so(chat: Chat, seeded: Seeded) -> None:
    await chat.send("/events")
    await chat.press(data(BrowseCb(region=seeded.other_region_id, step="when")))
    await chat.press(data(BrowseCb(region=seeded.other_region_id, when=When.UPCOMING, step="category")))
    assert "No events" in chat.last_text()


async def test_date_picker_and_pagination(chat: Chat, seeded: Seeded, clock) -> None:
    await chat.send("/events")
    await chat.press(data(BrowseCb(region=seeded.region_id, step="when")))
    await chat.press(data(BrowseCb(region=seeded.region_id, when=When.PICK, step="when")))
    assert len(chat.buttons()) == 14 + 2
    day = (clock.now().date()).toordinal() + 2  # the cruise's regular session is two days ahead
    await chat.press(data(BrowseCb(region=seeded.region_id, when=When.DAY, day=day, step="category")))
    assert "Islands cruise" in chat.last_text()


@pytest.mark.parametrize(
    "send",
    [
        lambda chat: chat.send("/nonsense"),
        lambda chat: chat.send("hello there"),
        lambda chat: chat.send("x" * 4096),
        lambda chat: chat.send_sticker(),
        lambda chat: chat.send_photo(),
        lambda chat: chat.send_voice(),
        lambda chat: chat.send_location(),
        lambda chat: chat.send_document(),
    ],
)
async def test_anything_outside_a_flow_gets_a_localized_hint(chat: Chat, seeded: Seeded, send) -> None:
    await send(chat)
    [reply] = chat.replies("sendMessage")
    assert reply.params["text"]
    assert chat.buttons()  # the main menu comes with it


async def test_unknown_things_in_russian(dp: Dispatcher, bot: Bot, recorder, seeded, i18n_for) -> None:
    chat = Chat(dp, bot, recorder, 2005, language_code="ru")
    await chat.send_sticker()
    assert i18n_for("ru").gettext("I can only read text and buttons, sorry. Here is the menu:") == chat.last_text()


async def test_group_chats_are_not_the_tourist_bot(dp: Dispatcher, bot: Bot, recorder, seeded) -> None:
    group = Chat(dp, bot, recorder, 2006, chat_id=-100777, chat_type="supergroup", title="Friends")
    await group.send("hello bot")
    await group.send("/events")
    assert group.replies("sendMessage") == []


async def test_capacity_cannot_be_oversold_through_the_bot(dp: Dispatcher, bot: Bot, recorder, seeded, sessions, clock):
    """The small session has 2 seats: three tourists race for 1 seat each; the third is refused."""
    chats = [Chat(dp, bot, recorder, 3000 + i) for i in range(3)]
    for chat in chats:
        await chat.send("/start ev-islands-cruise")
        await chat.press(data(BookCb(action=BookAction.START, session=seeded.small_session_id)))
    for chat in chats:
        await chat.press(data(BookCb(action=BookAction.NEXT, session=seeded.small_session_id)))
        await chat.send("Pier")
        await chat.press(data(BookCb(action=BookAction.CHOICE, session=seeded.small_session_id, value=0)))
    for chat in chats:
        await chat.press(data(BookCb(action=BookAction.CONFIRM, session=seeded.small_session_id)))
    rows = await order_rows(sessions)
    assert len(rows) == 2 and await seats_left(sessions, seeded.small_session_id) == 0
    assert chats[2].alerts()[0].show_alert


async def test_each_line_of_a_day_list_shows_its_own_session_seats(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    """Two sessions of one event on one day: the line shows the first one's time with its own seats, never the sum."""
    async with sessions() as db, db.begin():
        first = await db.get(SessionRow, seeded.session_id)
        db.add(
            SessionRow(
                event_id=seeded.event_id,
                starts_at=first.starts_at + timedelta(hours=3),
                capacity=8,
                seats_left=8,
                status="scheduled",
            )
        )
    await chat.send("/events")
    await chat.press(data(BrowseCb(region=seeded.region_id, step="when")))
    await chat.press(data(BrowseCb(region=seeded.region_id, when=When.PICK, step="when")))
    day = clock.now().date().toordinal() + 2
    await chat.press(data(BrowseCb(region=seeded.region_id, when=When.DAY, day=day, step="category")))
    text = chat.last_text()
    assert "Islands cruise" in text
    assert "28 seats" not in text
    assert "11:00 · from €25.00 · 20 seats left" in text
    assert "+1 more time" in text
    await chat.press(data(EventCb(event=seeded.event_id)))  # the card lists each session with its seats
    assert "14:00 — 8 seats left" in chat.last_text()


async def test_main_menu_under_the_booking_confirmation_opens_below(chat: Chat, seeded: Seeded, sessions) -> None:
    """The order card the confirm turns into is the confirmation: its navigation continues in a new message."""
    await chat.send("/start")
    await book_to_summary(chat, seeded)
    await chat.press(data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id)))
    [order] = await order_rows(sessions)
    confirmation = chat.last_message()
    assert format_order_code(order.code) in confirmation.text
    for label in ("Main menu", "Back to my orders", "Open the event"):
        await chat.press(label, message_id=confirmation.message_id)
        assert chat.replies("editMessageText") == []
        assert chat.last_message().message_id != confirmation.message_id
    kept = next(m for m in chat.messages() if m.message_id == confirmation.message_id)
    assert kept.text == confirmation.text
