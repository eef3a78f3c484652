"""The emulator's map pins and albums (issue 15): ``sendVenue`` and ``sendMediaGroup`` from a real aiogram Bot, as
Telegram answers them (every answer checked against the Bot API types by the fixtures), the values Telegram
refuses, and the transcript that the sandbox page shows."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InputMediaDocument, InputMediaPhoto

from sandbox.world import World
from tests.sandbox.test_emulator import bot, emulator, http, raw, world  # noqa: F401 - the emulator's fixtures


async def test_a_venue_is_a_message_with_its_place(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    sent = await bot.send_venue(anna.id, 59.4445, 24.767, "Pier 3", "Sadama 25, 10111 Tallinn")
    assert sent.venue is not None and sent.venue.title == "Pier 3" and sent.venue.address.startswith("Sadama 25")
    assert (sent.venue.location.latitude, sent.venue.location.longitude) == (59.4445, 24.767)
    assert sent.location is not None and sent.location.latitude == 59.4445
    (entry,) = world.transcript(anna.id)
    assert entry["venue"]["title"] == "Pier 3"


@pytest.mark.parametrize(
    ("latitude", "longitude", "title", "address", "reason"),
    [
        (91, 24.7, "Pier 3", "Sadama 25", "wrong latitude"),
        (59.4, -181, "Pier 3", "Sadama 25", "wrong longitude"),
        (59.4, 24.7, " ", "Sadama 25", "title must be non-empty"),
        (59.4, 24.7, "Pier 3", "", "address"),
    ],
)
async def test_a_venue_telegram_would_refuse(
    bot: Bot,
    world: World,
    latitude: float,
    longitude: float,
    title: str,
    address: str,
    reason: str,
) -> None:
    anna = world.add_user("Anna")
    with pytest.raises(TelegramBadRequest, match=reason):
        await bot.send_venue(anna.id, latitude, longitude, title, address)
    assert world.transcript(anna.id) == []


async def test_an_album_is_one_message_per_photo_sharing_a_group(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    uploaded = await bot.send_photo(anna.id, BufferedInputFile(b"\xff\xd8jpeg", filename="2.jpg"))
    assert uploaded.photo
    media = [
        InputMediaPhoto(media="https://example.com/1.jpg", caption="<b>Islands cruise</b>"),
        InputMediaPhoto(media=uploaded.photo[-1].file_id),  # a file id the bot was given
    ]
    sent = await bot.send_media_group(anna.id, media=media)
    assert len(sent) == 2 and sent[0].media_group_id == sent[1].media_group_id is not None
    assert sent[0].caption == "Islands cruise" and sent[1].caption is None
    assert sent[0].photo and sent[1].photo and sent[1].photo[-1].file_size == 6
    assert [m["message_id"] for m in world.transcript(anna.id)][1:] == [s.message_id for s in sent]


async def test_an_album_telegram_would_refuse(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    with pytest.raises(TelegramBadRequest, match="2-10"):
        await bot.send_media_group(anna.id, media=[InputMediaPhoto(media="https://example.com/1.jpg")])
    mixed = [
        InputMediaPhoto(media="https://example.com/1.jpg"),
        InputMediaDocument(media="https://example.com/menu.pdf"),
    ]
    with pytest.raises(TelegramBadRequest, match="can't be mixed"):
        await bot.send_media_group(anna.id, media=mixed)
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_media_group(
            anna.id, media=[InputMediaPhoto(media="https://example.com/1.jpg"), InputMediaPhoto(media="no-such-id")]
        )
    assert world.transcript(anna.id) == []  # nothing of a refused album is sent


async def test_a_calendar_file_is_a_document(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    ics = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    sent = await bot.send_document(anna.id, BufferedInputFile(ics, filename="tripdesk-HCM-KKC.ics"), caption="🗓")
    assert sent.document is not None and sent.document.file_name == "tripdesk-HCM-KKC.ics"
    assert sent.document.mime_type == "text/calendar" and sent.document.file_size == len(ics)
