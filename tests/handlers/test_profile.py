"""/profile through the real Dispatcher: phone (own contact, foreign contact, typed), hotel search, language and
deleting my data."""

from __future__ import annotations

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.storage.tables import OrderRow, SessionRow, UserRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.orders import format_order_code
from domain.use_cases.booking import PlaceOrder, place_order
from handlers.tourist.callbacks import HotelCb, HotelRegionCb, ProfileAction, ProfileCb
from tests.handlers.chat import Chat
from tests.seed import Seeded
from tests.telegram.recorder import RecordingSession

PHONE = "37251234567"  # as Telegram shares it: no "+"


async def user_row(sessions: async_sessionmaker, user_id: int) -> UserRow | None:
    async with sessions() as db:
        return await db.get(UserRow, user_id)


def last_reply_markup(chat: Chat) -> dict | None:
    sent = chat.replies("sendMessage")
    return sent[-1].params.get("reply_markup") if sent else None


async def open_profile(chat: Chat) -> None:
    await chat.send("/start")
    await chat.send("/profile")


# ---- the screen -------------------------------------------------------------------------------------------------


async def test_profile_shows_language_phone_and_hotel(chat: Chat, seeded: Seeded) -> None:
    await open_profile(chat)
    text = chat.last_text()
    assert "Your profile" in text
    assert "Language: English" in text
    assert "Phone: not set" in text
    assert "Hotel: not set" in text
    assert chat.buttons() == [
        "🌐 Language",
        "📱 Share phone",
        "🏨 Hotel",
        "🪙 My points",
        "🎁 Offers: on",
        "🗑 Delete my data",
        "🏠 Main menu",
    ]


async def test_profile_from_the_main_menu_in_german(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded
) -> None:
    chat = Chat(dp, bot, recorder, 3001, language_code="de", first_name="Jonas")
    await chat.send("/start")
    await chat.press("👤")
    assert "Deutsch" in chat.last_text()


async def test_language_button_opens_the_language_list(chat: Chat, seeded: Seeded) -> None:
    await open_profile(chat)
    await chat.press("Language")
    assert "Choose your language:" in chat.last_text()
    assert "✅ English" in chat.buttons()
    await chat.press("Deutsch")
    await chat.send("/profile")
    assert "Deutsch" in chat.last_text()


# ---- phone ------------------------------------------------------------------------------------------------------


async def test_share_phone_asks_with_a_contact_button(chat: Chat, seeded: Seeded) -> None:
    await open_profile(chat)
    await chat.press("Share phone")
    markup = last_reply_markup(chat)
    assert markup["keyboard"][0][0]["request_contact"] is True
    assert markup["keyboard"][1][0]["text"] == "✖️ Cancel"
    assert markup["one_time_keyboard"] is True and markup["resize_keyboard"] is True


async def test_own_contact_is_saved(chat: Chat, seeded: Seeded, sessions) -> None:
    await open_profile(chat)
    await chat.press("Share phone")
    await chat.send_contact(PHONE, own=True)
    texts = chat.texts()
    assert texts[0] == "Phone saved: +37251234567"
    assert last_reply_markup(chat) is not None
    assert chat.replies("sendMessage")[0].params["reply_markup"] == {"remove_keyboard": True}
    assert "Phone: +37251234567" in chat.last_text()
    assert (await user_row(sessions, chat.user_id)).phone == "+37251234567"

    await chat.send("+372 5123 4567")  # the form is over: no longer read as a phone
    assert "I didn't catch that" in chat.last_text()


async def test_someone_elses_contact_is_refused(chat: Chat, seeded: Seeded, sessions) -> None:
    await open_profile(chat)
    await chat.press("Share phone")
    await chat.send_contact("37255550002", own=False)
    assert "someone else's contact" in chat.last_text()
    assert (await user_row(sessions, chat.user_id)).phone is None
    await chat.send_contact(PHONE, own=True)  # still asking: the own one is taken
    assert (await user_row(sessions, chat.user_id)).phone == "+37251234567"


async def test_typed_phone_is_validated(chat: Chat, seeded: Seeded, sessions) -> None:
    await open_profile(chat)
    await chat.press("Share phone")
    for wrong in ("12345", "call me maybe", "+372 0000"):
        await chat.send(wrong)
        assert "does not look like a phone number" in chat.last_text()
    assert (await user_row(sessions, chat.user_id)).phone is None
    await chat.send("+372 5123 4567")
    assert "Phone saved: +37251234567" in chat.texts()
    assert (await user_row(sessions, chat.user_id)).phone == "+37251234567"


async def test_sticker_while_asking_for_the_phone_asks_again(chat: Chat, seeded: Seeded) -> None:
    await open_profile(chat)
    await chat.press("Share phone")
    await chat.send_sticker()
    assert "Please share your phone number" in chat.last_text()


async def test_cancel_button_leaves_the_phone_form(chat: Chat, seeded: Seeded, sessions) -> None:
    await open_profile(chat)
    await chat.press("Share phone")
    await chat.send("✖️ Cancel")
    assert chat.texts()[0] == "Phone number not changed."
    assert chat.replies("sendMessage")[0].params["reply_markup"] == {"remove_keyboard": True}
    assert "Your profile" in chat.last_text()
    assert (await user_row(sessions, chat.user_id)).phone is None


@pytest.mark.parametrize("command", ["/question", "/nonsense"])
async def test_a_command_leaves_the_phone_form(chat: Chat, seeded: Seeded, sessions, command: str) -> None:
    await open_profile(chat)
    await chat.press("Share phone")
    await chat.send(command)
    texts = chat.texts()
    assert texts[0] == "Phone number not changed."
    assert len(texts) == 2  # and the command got its own answer
    await chat.send("+372 5123 4567")
    assert (await user_row(sessions, chat.user_id)).phone is None


async def test_start_leaves_the_phone_form(chat: Chat, seeded: Seeded, sessions) -> None:
    await open_profile(chat)
    await chat.press("Share phone")
    await chat.send("/start")
    await chat.send("+372 5123 4567")
    assert (await user_row(sessions, chat.user_id)).phone is None


# ---- hotel ------------------------------------------------------------------------------------------------------


async def test_hotel_asks_the_region_first_then_searches(chat: Chat, seeded: Seeded, sessions) -> None:
    await open_profile(chat)
    await chat.press("Hotel")
    assert "Which region is your hotel in?" in chat.last_text()
    assert chat.buttons() == ["Tallinn", "Tartu", "👤 Back to profile"]
    await chat.press("Tallinn")
    assert "Region: Tallinn" in chat.last_text()
    assert (await user_row(sessions, chat.user_id)).region_id == seeded.region_id

    await chat.send("  TELE  ")
    assert "Pick your hotel" in chat.last_text()
    assert chat.buttons() == ["🏨 Hotel Telegraaf · −10%", "🗺 Change region", "👤 Back to profile"]
    await chat.press("Hotel Telegraaf")
    assert [a.text for a in chat.alerts()] == ["Hotel saved."]
    assert "Hotel: Hotel Telegraaf — partner discount 10%" in chat.last_text()
    assert (await user_row(sessions, chat.user_id)).hotel_id == seeded.hotel_id
    assert "✖️ Remove hotel" in chat.buttons()

    await chat.send("Harbour")  # the search is over
    assert "I didn't catch that" in chat.last_text()


async def test_hotel_search_with_a_known_region_asks_for_the_name(chat: Chat, seeded: Seeded, sessions) -> None:
    await open_profile(chat)
    async with sessions() as db, db.begin():
        await db.execute(update(UserRow).where(UserRow.id == chat.user_id).values(region_id=seeded.region_id))
    await chat.press("Hotel")
    assert "Region: Tallinn" in chat.last_text()
    await chat.send("harbour")
    assert chat.buttons()[0] == "🏨 Harbour Inn"


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("Телеграф", "Nothing found for “Телеграф”"),
        ("%_", "Nothing found for “%_”"),
        ("<b>inn</b>", "Nothing found for “<b>inn</b>”"),
        ("🏨🏨", "Nothing found for “🏨🏨”"),
        ("x", "Please type 2 to 60 characters"),
        ("   a   ", "Please type 2 to 60 characters"),
        ("a" * 61, "Please type 2 to 60 characters"),
    ],
)
async def test_hotel_search_odd_input(chat: Chat, seeded: Seeded, typed: str, answer: str) -> None:
    await open_profile(chat)
    await chat.press("Hotel")
    await chat.press("Tallinn")
    await chat.send(typed)
    assert answer in chat.last_text()
    assert chat.buttons() == ["🗺 Change region", "👤 Back to profile"]
    await chat.send("inn")  # still searching
    assert chat.buttons()[0] == "🏨 Harbour Inn"


async def test_hotel_search_change_region(chat: Chat, seeded: Seeded, sessions) -> None:
    await open_profile(chat)
    await chat.press("Hotel")
    await chat.press("Tartu")
    await chat.send("Telegraaf")
    assert "Nothing found" in chat.last_text()
    await chat.press("Change region")
    assert chat.buttons() == ["Tallinn", "Tartu", "👤 Back to profile"]
    await chat.press("Tallinn")
    await chat.send("Telegraaf")
    assert chat.buttons()[0] == "🏨 Hotel Telegraaf · −10%"


async def test_sticker_during_hotel_search_asks_for_text(chat: Chat, seeded: Seeded) -> None:
    await open_profile(chat)
    await chat.press("Hotel")
    await chat.press("Tallinn")
    await chat.send_sticker()
    assert "Please type part of your hotel's name." in chat.last_text()


async def test_forged_hotel_and_region_are_refused(chat: Chat, seeded: Seeded, sessions) -> None:
    await open_profile(chat)
    await chat.press_data(HotelCb(hotel=999).pack())
    assert [(a.text, a.show_alert) for a in chat.alerts()] == [("This hotel is not available.", True)]
    await chat.press_data(HotelRegionCb(region=999).pack())
    assert [(a.text, a.show_alert) for a in chat.alerts()] == [("This region is not available.", True)]
    row = await user_row(sessions, chat.user_id)
    assert (row.hotel_id, row.region_id) == (None, None)


async def test_remove_hotel(chat: Chat, seeded: Seeded, sessions) -> None:
    await open_profile(chat)
    await chat.press_data(HotelCb(hotel=seeded.plain_hotel_id).pack())
    assert "Hotel: Harbour Inn" in chat.last_text()
    await chat.press("Remove hotel")
    assert [a.text for a in chat.alerts()] == ["Hotel removed."]
    assert "Hotel: not set" in chat.last_text()
    assert (await user_row(sessions, chat.user_id)).hotel_id is None


# ---- delete my data ---------------------------------------------------------------------------------------------


async def test_delete_my_data(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await open_profile(chat)
    await chat.press("Share phone")
    await chat.send_contact(PHONE)
    uow = SqlUnitOfWork(sessions)
    answers = {"pickup": "Room 12", "lunch": "veg"}
    unpaid = await place_order(uow, PlaceOrder(chat.user_id, seeded.session_id, {"adult": 2}, answers), clock.now())
    paid = await place_order(uow, PlaceOrder(chat.user_id, seeded.session_id, {"adult": 1}, answers), clock.now())
    async with sessions() as db, db.begin():
        await db.execute(update(OrderRow).where(OrderRow.id == paid.id).values(booking="confirmed", payment="paid"))

    await chat.send("/profile")
    await chat.press("Delete my data")
    text = chat.last_text()
    assert "name, username, phone, hotel and your answers" in text
    assert "Your orders stay in our books without your name" in text
    assert "Unpaid upcoming bookings are cancelled" in text
    assert "Paid upcoming bookings stay valid: keep their codes" in text
    assert chat.buttons() == ["🗑 Yes, delete my data", "↩️ No, keep it"]

    await chat.press("No, keep it")
    assert "Your profile" in chat.last_text()
    assert await user_row(sessions, chat.user_id) is not None

    await chat.press("Delete my data")
    await chat.press("Yes, delete my data")
    text = chat.last_text()
    assert "Your personal data has been deleted." in text
    assert f"Cancelled unpaid bookings: {format_order_code(unpaid.code)}." in text
    assert f"Paid bookings stay valid: {format_order_code(paid.code)}." in text
    assert [a.text for a in chat.alerts()] == ["Your data has been deleted."]

    assert await user_row(sessions, chat.user_id) is None
    async with sessions() as db:
        rows = {r.id: r for r in await db.scalars(select(OrderRow))}
        seats = await db.scalar(select(SessionRow.seats_left).where(SessionRow.id == seeded.session_id))
    assert rows[unpaid.id].booking == "cancelled" and rows[paid.id].booking == "confirmed"
    assert all(r.user_id is None and r.answers == {} for r in rows.values())
    assert seats == 19

    await chat.send("/profile")  # writing again: a fresh, empty profile
    assert "Phone: not set" in chat.last_text()
    await chat.send("/orders")
    assert "You have no orders yet" in chat.last_text()


async def test_delete_with_nothing_booked(chat: Chat, seeded: Seeded, sessions) -> None:
    await open_profile(chat)
    await chat.press_data(ProfileCb(action=ProfileAction.DELETE_CONFIRM).pack())
    text = chat.last_text()
    assert "Your personal data has been deleted." in text
    assert "Cancelled" not in text and "stay valid" not in text
    assert await user_row(sessions, chat.user_id) is None
