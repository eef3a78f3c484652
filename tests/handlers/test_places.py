"""Places and media through the real Dispatcher and the outbox sender (issue 15): the hotel page and its map pin,
the area guide, an event's photos, "Add to calendar", and the map pin and the .ics after the ticket and with a
reminder; every refusal (no hotel, a hotel not on the map, a forged region, event or order) changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import BufferedInputFile
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import Settings
from bot.outbox import OutboxSender
from bot.ratelimit import Limits
from bot.storage.place_tables import EventPlaceRow, HotelPageRow, RegionGuideRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.orders import Order, format_order_code
from domain.model.payments import invoice_payload
from domain.use_cases.booking import PlaceOrder, place_order
from handlers.tourist.callbacks import EventCb, OrderAction, OrderCb
from handlers.tourist.place_callbacks import AreaCb, CalendarCb, HotelAction, HotelPageCb, PhotosCb
from scheduler.jobs import DeadlineJobs
from tests.fakes import FixedClock
from tests.handlers.chat import Chat
from tests.handlers.test_payments import pre_checkout, successful_payment
from tests.seed import INSTANT_SESSION_IN, Seeded, seed_user
from tests.telegram.recorder import RecordingSession, Request
from tests.unit.test_ics import props, unescape

PROVIDER_TOKEN = "284685063:TEST:abc"
TOURIST = 1001  # the conftest's chat
OTHER = 1002
PIER = (59.4445, 24.767)
HOTEL_POINT = (59.43722, 24.74778)
PHOTOS = ["https://example.com/cruise-1.jpg", "https://example.com/cruise-2.jpg"]
WALK_PHOTO = "https://example.com/walk.jpg"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"payment_provider_token": SecretStr(PROVIDER_TOKEN)})


@pytest.fixture
def sender(bot: Bot, sessions: async_sessionmaker, dp: Dispatcher, clock: FixedClock) -> OutboxSender:
    return OutboxSender(
        bot, sessions, dp["i18n"], clock, limits=Limits.unlimited(), payment_provider_token=PROVIDER_TOKEN
    )


@pytest.fixture
async def places(sessions: async_sessionmaker, seeded: Seeded) -> Seeded:
    """The cruise with two photos; the walk's meeting point on the map with its address; the partner hotel's full
    page; the plain hotel's page without a map point; Tallinn's area guide (Tartu has none)."""
    async with sessions() as db, db.begin():
        db.add_all(
            [
                EventPlaceRow(event_id=seeded.event_id, latitude=None, longitude=None, address=None, photos=PHOTOS),
                EventPlaceRow(
                    event_id=seeded.instant_event_id,
                    latitude=PIER[0],
                    longitude=PIER[1],
                    address="Raekoja plats 1, 10146 Tallinn",
                    photos=[WALK_PHOTO],
                ),
                HotelPageRow(
                    hotel_id=seeded.hotel_id,
                    address="Vene 9, 10123 Tallinn",
                    latitude=HOTEL_POINT[0],
                    longitude=HOTEL_POINT[1],
                    free={"en": "Wi-Fi, breakfast, the spa pool", "de": "WLAN, Frühstück, der Spa-Pool"},
                    paid={"en": "Parking, spa treatments"},
                    timetable={"en": "Breakfast 7:00-10:30"},
                    sights={"en": "Town Hall Square, 2 minutes on foot"},
                ),
                HotelPageRow(
                    hotel_id=seeded.plain_hotel_id,
                    address="Sadama 1, Tallinn",
                    latitude=None,
                    longitude=None,
                    free={"en": "Wi-Fi"},
                    paid={},
                    timetable={},
                    sights={},
                ),
                RegionGuideRow(region_id=seeded.region_id, guide={"en": "A medieval Old Town above the harbour."}),
            ]
        )
    return seeded


def calls(chat: Chat, method: str) -> list[Request]:
    return [r for r in chat.replies(method) if r.error is None]


async def guest(chat: Chat, sessions: async_sessionmaker, hotel_id: int | None) -> None:
    await seed_user(sessions, chat.user_id, first_name="Anna", hotel_id=hotel_id)
    await chat.send("/start")


# ---- the menu and the hotel page -----------------------------------------------------------------------------------


async def test_the_main_menu_has_my_hotel_and_the_area_guide(chat: Chat, places: Seeded) -> None:
    await chat.send("/start")
    assert "🏨 My hotel" in chat.buttons() and "🧭 Area guide" in chat.buttons()


async def test_the_hotel_page_in_the_guest_s_language_with_a_map_pin(
    chat: Chat, sessions: async_sessionmaker, places: Seeded
) -> None:
    await guest(chat, sessions, places.hotel_id)
    await chat.press("🏨 My hotel")
    text = chat.last_text()
    assert text.startswith("🏨 Hotel Telegraaf") and "Vene 9, 10123 Tallinn" in text
    assert "Wi-Fi, breakfast, the spa pool" in text and "Parking, spa treatments" in text
    assert "Breakfast 7:00-10:30" in text and "Town Hall Square, 2 minutes on foot" in text
    assert "Partner discount on events: 10%" in text
    assert chat.buttons() == ["🗺 Show on map", "🧭 Area guide", "👤 Change hotel", "🏠 Main menu"]

    await chat.press("🗺 Show on map")
    [venue] = calls(chat, "sendVenue")
    assert (venue.params["latitude"], venue.params["longitude"]) == HOTEL_POINT
    assert venue.params["title"] == "Hotel Telegraaf" and venue.params["address"] == "Vene 9, 10123 Tallinn"
    assert chat.alerts() == []


async def test_the_hotel_page_reads_the_catalog_s_german(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, sessions: async_sessionmaker, places: Seeded
) -> None:
    chat = Chat(dp, bot, recorder, 3001, language_code="de", first_name="Jonas")
    await seed_user(sessions, 3001, language="de", hotel_id=places.hotel_id)
    await chat.send("/start")
    await chat.press_data(HotelPageCb(action=HotelAction.PAGE).pack())
    text = chat.last_text()
    assert "WLAN, Frühstück, der Spa-Pool" in text  # German where the hotel wrote it
    assert "Parking, spa treatments" in text  # English where it did not


async def test_no_hotel_set_offers_to_choose_one_and_the_map_is_refused(
    chat: Chat, sessions: async_sessionmaker, places: Seeded
) -> None:
    await guest(chat, sessions, None)
    await chat.press("🏨 My hotel")
    assert "You have not told us your hotel yet" in chat.last_text()
    assert chat.buttons() == ["🏨 Choose my hotel", "🏠 Main menu"]
    await chat.press("🏨 Choose my hotel")
    assert "Which region is your hotel in?" in chat.last_text()  # the profile's hotel search

    await chat.press_data(HotelPageCb(action=HotelAction.MAP).pack())  # a forged or stale "Show on map"
    assert [a.text for a in chat.alerts()] == ["You have not told us your hotel yet."]
    assert calls(chat, "sendVenue") == []


async def test_a_hotel_without_coordinates_has_no_map(chat: Chat, sessions: async_sessionmaker, places: Seeded) -> None:
    await guest(chat, sessions, places.plain_hotel_id)
    await chat.press("🏨 My hotel")
    assert "Harbour Inn" in chat.last_text() and "Sadama 1, Tallinn" in chat.last_text()
    assert "🗺 Show on map" not in chat.buttons()
    await chat.press_data(HotelPageCb(action=HotelAction.MAP).pack())
    [alert] = chat.alerts()
    assert alert.text == "We do not have this hotel on the map yet." and alert.show_alert
    assert calls(chat, "sendVenue") == []


async def test_a_hotel_that_sent_no_page_says_so(chat: Chat, sessions: async_sessionmaker, seeded: Seeded) -> None:
    await guest(chat, sessions, seeded.hotel_id)
    await chat.press("🏨 My hotel")
    assert "The hotel has not told us more yet" in chat.last_text()
    assert "🗺 Show on map" not in chat.buttons() and "🧭 Area guide" not in chat.buttons()


# ---- the area guide ------------------------------------------------------------------------------------------------


async def test_the_area_guide_of_the_guest_s_region(chat: Chat, sessions: async_sessionmaker, places: Seeded) -> None:
    await guest(chat, sessions, places.hotel_id)
    await chat.press("🧭 Area guide")
    assert chat.last_text() == "🧭 Tallinn\n\nA medieval Old Town above the harbour."
    assert chat.buttons() == ["🗺 Events here", "🏠 Main menu"]  # the only region with a guide: no "Other regions"
    await chat.press("🗺 Events here")
    assert "Tallinn" in chat.last_text() and "when would you like to go?" in chat.last_text()


async def test_a_forged_region_is_refused_with_the_list(
    chat: Chat, sessions: async_sessionmaker, places: Seeded
) -> None:
    await guest(chat, sessions, None)
    for region in (places.other_region_id, 99_999):  # Tartu has no guide; 99999 is no region
        await chat.press_data(AreaCb(region=region).pack())
        [alert] = chat.alerts()
        assert alert.text == "There is no area guide for this region." and alert.show_alert
        assert chat.last_text() == "Which area would you like to read about?"
        assert chat.buttons() == ["🧭 Tallinn", "🏠 Main menu"]


async def test_no_guide_anywhere(chat: Chat, sessions: async_sessionmaker, seeded: Seeded) -> None:
    await guest(chat, sessions, seeded.hotel_id)
    await chat.press("🧭 Area guide")
    assert chat.last_text() == "There is no area guide yet. Please come back later."


# ---- photos ----------------------------------------------------------------------------------------------------------


async def test_the_event_card_s_photos_come_as_an_album_below_it(chat: Chat, places: Seeded) -> None:
    await chat.send("/start")
    await chat.press_data(EventCb(event=places.event_id).pack())
    card = chat.last_message()
    assert "📷 Photos (2)" in chat.buttons()
    await chat.press("📷 Photos (2)")
    [album] = calls(chat, "sendMediaGroup")
    assert [m["media"] for m in album.params["media"]] == PHOTOS
    assert album.params["media"][0]["caption"] == "<b>Islands cruise</b>" and "caption" not in album.params["media"][1]
    assert chat.alerts() == []
    # the card is still there, as it was, and browsing on edits it in place
    await chat.press("⬅️ More events", message_id=card.message_id)
    assert calls(chat, "editMessageText")[0].params["message_id"] == card.message_id


async def test_one_photo_is_a_photo_with_the_title(chat: Chat, places: Seeded) -> None:
    await chat.send("/start")
    await chat.press_data(EventCb(event=places.instant_event_id).pack())
    await chat.press("📷 Photos")
    [photo] = calls(chat, "sendPhoto")
    assert photo.params["photo"] == WALK_PHOTO and photo.params["caption"] == "<b>Old Town walk</b>"


async def test_no_photos_no_button_and_a_forged_one_is_refused(chat: Chat, seeded: Seeded) -> None:
    await chat.send("/start")
    await chat.press_data(EventCb(event=seeded.event_id).pack())
    assert not any("Photos" in b for b in chat.buttons())
    for event in (seeded.event_id, 99_999):
        await chat.press_data(PhotosCb(event=event).pack())
        assert [a.text for a in chat.alerts()] == ["This event has no photos."]
        assert calls(chat, "sendMediaGroup") == calls(chat, "sendPhoto") == []


# ---- the calendar file, the ticket's map pin and the reminder's ------------------------------------------------------


async def walk_order(sessions: async_sessionmaker, seeded: Seeded, clock: FixedClock, user_id: int = TOURIST) -> Order:
    """Two adults on the instant walk (confirmed at once), to pay in chat."""
    await seed_user(sessions, user_id, first_name="Anna", now=clock.now())
    return await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(
            user_id=user_id, session_id=seeded.instant_session_id, quantities={"adult": 2}, payments_enabled=True
        ),
        clock.now(),
    )


def ics_of(request: Request) -> dict[str, str]:
    document = request.params["document"]
    assert isinstance(document, BufferedInputFile) and document.filename.endswith(".ics")
    return props(document.data)


async def test_the_ticket_brings_the_map_pin_and_the_calendar_file_once(
    chat: Chat, sender: OutboxSender, sessions: async_sessionmaker, places: Seeded, clock: FixedClock
) -> None:
    order = await walk_order(sessions, places, clock)
    await sender.deliver_due()  # the invoice
    await pre_checkout(chat, invoice_payload(order.id), order.total_minor)
    await successful_payment(chat, invoice_payload(order.id), order.total_minor)
    mark = len(chat.recorder.requests)
    assert await sender.deliver_due() == 3
    sent = [r for r in chat.recorder.requests[mark:] if r.method.startswith("send") and r.error is None]
    assert [r.method for r in sent] == ["sendPhoto", "sendVenue", "sendDocument"]  # the ticket first
    _ticket, venue, document = sent
    assert (venue.params["latitude"], venue.params["longitude"]) == PIER
    assert venue.params["title"] == "Town Hall Square" and venue.params["address"] == "Raekoja plats 1, 10146 Tallinn"
    found = ics_of(document)
    code = format_order_code(order.code)
    assert unescape(found["SUMMARY"]) == "Old Town walk"
    start = places_start(clock)
    assert found["DTSTART"] == start.strftime("%Y%m%dT%H%M%SZ")
    assert found["DTEND"] == (start + timedelta(hours=2)).strftime("%Y%m%dT%H%M%SZ")
    assert unescape(found["LOCATION"]) == "Town Hall Square, Raekoja plats 1, 10146 Tallinn"
    assert code in unescape(found["DESCRIPTION"]) and "Ticket: " in unescape(found["DESCRIPTION"])
    assert document.params["caption"].startswith("🗓 Open the file to add it to your calendar")
    assert await sender.deliver_due() == 0  # once

    # "Add to calendar" on the order card sends the same event again (the same UID: a calendar updates it)
    await chat.press_data(OrderCb(action=OrderAction.VIEW, order=order.id).pack())
    await chat.press("🗓 Add to calendar")
    [again] = calls(chat, "sendDocument")
    assert ics_of(again)["UID"] == found["UID"] == f"order-{order.code}@tripdesk"
    assert ics_of(again) == found


def places_start(clock: FixedClock):
    return clock.now() + INSTANT_SESSION_IN


async def test_without_coordinates_the_ticket_brings_only_the_calendar(
    chat: Chat, sender: OutboxSender, sessions: async_sessionmaker, seeded: Seeded, clock: FixedClock
) -> None:
    order = await walk_order(sessions, seeded, clock)
    await sender.deliver_due()
    await pre_checkout(chat, invoice_payload(order.id), order.total_minor)
    await successful_payment(chat, invoice_payload(order.id), order.total_minor)
    assert await sender.deliver_due() == 2
    assert calls(chat, "sendVenue") == [] and len(calls(chat, "sendDocument")) == 1
    found = ics_of(calls(chat, "sendDocument")[0])
    assert unescape(found["LOCATION"]) == "Town Hall Square" and "GEO" not in found  # the words, no point


async def test_add_to_calendar_is_refused_for_someone_else_s_or_an_unconfirmed_order(
    chat: Chat,
    dp: Dispatcher,
    bot: Bot,
    recorder: RecordingSession,
    sessions: async_sessionmaker,
    places: Seeded,
    clock: FixedClock,
) -> None:
    other = await walk_order(sessions, places, clock, user_id=OTHER)
    await seed_user(sessions, TOURIST, first_name="Anna", now=clock.now())
    await chat.send("/start")
    await chat.press_data(CalendarCb(order=other.id).pack())
    assert [a.text for a in chat.alerts()] == ["This is not your order."]
    asked = await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(
            user_id=TOURIST,
            session_id=places.session_id,
            quantities={"adult": 1},
            answers={"pickup": "Viru", "lunch": "veg"},
        ),
        clock.now(),
    )
    await chat.press_data(OrderCb(action=OrderAction.VIEW, order=asked.id).pack())
    assert "🗓 Add to calendar" not in chat.buttons()  # awaiting the organiser
    await chat.press_data(CalendarCb(order=asked.id).pack())
    assert [a.text for a in chat.alerts()] == [
        "The calendar file is there for a confirmed booking that is still ahead."
    ]
    assert calls(chat, "sendDocument") == []


async def test_the_reminder_brings_the_map_pin(
    chat: Chat, sender: OutboxSender, sessions: async_sessionmaker, places: Seeded, clock: FixedClock
) -> None:
    await walk_order(sessions, places, clock)
    await sender.deliver_due()
    jobs = DeadlineJobs(lambda: SqlUnitOfWork(sessions), clock)
    clock.advance(seconds=(INSTANT_SESSION_IN - timedelta(hours=2)).total_seconds())
    assert len((await jobs.send_due_reminders()).done) == 1
    mark = len(chat.recorder.requests)
    await sender.deliver_due()
    sent = [r for r in chat.recorder.requests[mark:] if r.method.startswith("send") and r.error is None]
    assert [r.method for r in sent] == ["sendMessage", "sendVenue"]  # the reminder, then where to go
    assert (sent[1].params["latitude"], sent[1].params["longitude"]) == PIER
    assert len((await jobs.send_due_reminders()).done) == 0
    assert await sender.deliver_due() == 0  # once per reminder


async def test_no_pin_with_the_reminder_of_an_event_not_on_the_map(
    chat: Chat, sender: OutboxSender, sessions: async_sessionmaker, seeded: Seeded, clock: FixedClock
) -> None:
    await walk_order(sessions, seeded, clock)
    await sender.deliver_due()
    clock.advance(seconds=(INSTANT_SESSION_IN - timedelta(hours=2)).total_seconds())
    jobs = DeadlineJobs(lambda: SqlUnitOfWork(sessions), clock)
    assert len((await jobs.send_due_reminders()).done) == 1
    mark = len(chat.recorder.requests)
    assert await sender.deliver_due() == 1
    assert [r.method for r in chat.recorder.requests[mark:] if r.method.startswith("send")] == ["sendMessage"]
