"""Messages that are not text (issue 15): a map pin (``sendVenue``) and a file (``sendDocument``), as screens and the
outbox's renderers describe them (:class:`handlers.notifications.Rendered`); sent by ``bot/place_sending.py``."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message

from domain.model.places import Point
from handlers.ui import cut

# sendVenue's title and address are plain text; Telegram clients show about this much of them
VENUE_TITLE_LIMIT = 100
VENUE_ADDRESS_LIMIT = 200
CAPTION_LIMIT = 1024  # a photo's or a document's caption


@dataclass(frozen=True, slots=True)
class Venue:
    title: str
    address: str
    point: Point


@dataclass(frozen=True, slots=True)
class Document:
    data: bytes
    filename: str


async def send_venue(
    bot: Bot, chat_id: int, venue: Venue, markup: InlineKeyboardMarkup | None = None, **extra: object
) -> Message:
    return await bot.send_venue(
        chat_id,
        latitude=venue.point.latitude,
        longitude=venue.point.longitude,
        title=cut(venue.title, VENUE_TITLE_LIMIT),
        address=cut(venue.address, VENUE_ADDRESS_LIMIT),
        reply_markup=markup,
        **extra,  # type: ignore[arg-type]
    )


async def send_document(
    bot: Bot,
    chat_id: int,
    document: Document,
    caption: str,
    markup: InlineKeyboardMarkup | None = None,
    **extra: object,
) -> Message:
    return await bot.send_document(
        chat_id,
        BufferedInputFile(document.data, filename=document.filename),
        caption=cut(caption, CAPTION_LIMIT) if caption else None,
        reply_markup=markup,
        **extra,  # type: ignore[arg-type]
    )
