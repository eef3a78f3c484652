"""Places and media with the real bot process against the emulator (issue 15): a guest books the cruise, the
organiser confirms, she pays, and the ticket comes with the meeting point as a map pin and the calendar file, in
that order; "Add to calendar" sends the same event again; "📷 Photos" sends the album below the event card.

Payments are on (a dummy provider token); the catalog is tests/seed.py's, with the cruise's meeting point on the
map and its photos added as the catalog import would store them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.storage.place_tables import EventPlaceRow
from domain.model.orders import format_order_code
from handlers.tourist.callbacks import Below, BelowCb, BookAction, BookCb
from handlers.tourist.place_callbacks import CalendarCb, PhotosCb
from sandbox.server import Emulator
from tests.e2e.booking import book_cruise, orders_of
from tests.e2e.conftest import BotProcess, Database, seeded_database, sqlite_url
from tests.e2e.tourist import Tourist
from tests.e2e_lifecycle.harness import Organiser, invoices, order_row, photos, running_bot
from tests.seed import ORGANISER_CHAT_ID
from tests.unit.test_ics import props, unescape

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROVIDER_TOKEN = "sandbox:TEST:e2e"
PIER = (59.4445, 24.767)
ADDRESS = "Sadama 25, 10111 Tallinn"
PHOTOS = ["https://example.com/cruise-1.jpg", "https://example.com/cruise-2.jpg"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    async with seeded_database(sqlite_url(tmp_path_factory.mktemp("places"))) as database:
        async with database.sessions() as db, db.begin():
            db.add(
                EventPlaceRow(
                    event_id=database.seeded.event_id,
                    latitude=PIER[0],
                    longitude=PIER[1],
                    address=ADDRESS,
                    photos=PHOTOS,
                )
            )
        yield database


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    emulator: Emulator, database: Database, operators: int, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    log_path = tmp_path_factory.mktemp("places-bot") / "bot.log"
    async with running_bot(
        emulator, database.url, operators, log_path, PAYMENT_PROVIDER_TOKEN=PROVIDER_TOKEN
    ) as process:
        yield process


def kinds(tourist: Tourist, after: int) -> list[str]:
    """What the bot's messages after message ``after`` are: photo, venue, document or text."""
    found = []
    for message in tourist.bot_messages():
        if message["message_id"] <= after:
            continue
        found.append(next((k for k in ("photo", "venue", "document", "invoice") if k in message), "text"))
    return found


def ics(world: Any, message: dict[str, Any]) -> dict[str, str]:
    return props(world.file_bytes[message["document"]["file_id"]])


async def test_a_guest_books_pays_and_gets_the_ticket_the_map_pin_and_the_calendar(world, database, bot) -> None:
    seeded, sessions = database.seeded, database.sessions
    anna = Tourist(world, world.add_user(first_name="Anna", language_code="en"))
    summary, _menu = await book_cruise(anna, seeded)
    await anna.press(BookCb(action=BookAction.CONFIRM, session=seeded.session_id), summary)
    [order] = await orders_of(sessions, anna.id)
    await Organiser(world, ORGANISER_CHAT_ID, sessions=sessions).answer_request(order.code, "+")
    [invoice] = await anna.wait(lambda: invoices(anna), "the invoice")

    paid = await world.user_pays(anna.id, anna.id, invoice["message_id"])
    assert paid["ok"], paid
    after = paid["message"]["message_id"]
    await anna.wait(lambda: kinds(anna, after).count("document") == 1, "the ticket, the map pin and the calendar file")
    assert [k for k in kinds(anna, after) if k != "text"] == ["photo", "venue", "document"]  # in this order, once
    [ticket] = photos(anna)
    venue = next(m for m in anna.bot_messages() if "venue" in m)
    document = next(m for m in anna.bot_messages() if "document" in m)
    row = await order_row(sessions, order.id)
    assert row.ticket_code and row.ticket_code in ticket["caption"]
    assert venue["venue"]["title"] == "Pier 3" and venue["venue"]["address"] == ADDRESS
    assert (venue["venue"]["location"]["latitude"], venue["venue"]["location"]["longitude"]) == PIER
    assert document["document"]["file_name"] == f"tripdesk-{format_order_code(order.code)}.ics"
    assert document["document"]["mime_type"] == "text/calendar"
    event = ics(world, document)
    assert unescape(event["SUMMARY"]) == "Islands cruise" and event["UID"] == f"order-{order.code}@tripdesk"
    assert unescape(event["LOCATION"]) == f"Pier 3, {ADDRESS}" and event["GEO"] == "59.444500;24.767000"
    assert row.ticket_code in unescape(event["DESCRIPTION"])

    # "Add to calendar" on the order card: the same event again
    card = await anna.press(BelowCb(to=Below.ORDER, id=order.id), ticket)
    again = await anna.press(CalendarCb(order=order.id), card)
    assert "document" in again and again["message_id"] > card["message_id"]
    assert ics(world, again) == event


async def test_the_event_card_s_photos_come_below_it(world, database, bot) -> None:
    seeded = database.seeded
    ben = Tourist(world, world.add_user(first_name="Ben", language_code="en"))
    card = await ben.send("/start ev-islands-cruise")  # the event's deep link opens its card
    assert any("📷" in b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row)
    before = len(ben.bot_messages())
    await ben.press(PhotosCb(event=seeded.event_id), card)
    await ben.wait(lambda: len([m for m in ben.bot_messages() if "photo" in m]) == 2, "the album")
    album = ben.bot_messages()[before:]
    assert [m.get("media_group_id") for m in album] == [album[0]["media_group_id"]] * 2
    assert album[0]["caption"] == "Islands cruise"
    assert ben.message(card["message_id"])["text"] == card["text"]  # the card stays as it was
