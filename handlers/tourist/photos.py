"""An event's photos (issue 15): the card has "📷 Photos" when the catalog gives any; the photos come as an album
below the card (one photo: a photo with the event's title as its caption).

Why not make the card itself a photo: the card is edited in place on every step of browsing, booking and the
orders, and Telegram cannot edit a text message into a photo or back; the card would have to be deleted and sent
anew at each step, losing its place in the chat. An album below leaves all of that as it is, shows every photo
(not only the first) at full size, and takes URLs and Telegram file ids alike.
"""

from __future__ import annotations

import logging

from aiogram import Router, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardButton, InputMediaPhoto

from domain.model.catalog import localized
from domain.model.places import EventPlace
from domain.ports import UnitOfWork
from handlers.media import CAPTION_LIMIT
from handlers.tourist.messaging import answer_query
from handlers.tourist.place_callbacks import PhotosCb
from handlers.ui import Translator, button, cut

log = logging.getLogger(__name__)
router = Router(name=__name__)


def photo_rows(place: EventPlace | None, tr: Translator) -> list[list[InlineKeyboardButton]]:
    """The event card's "📷 Photos (n)" row; none when the event has no photo."""
    if place is None or not place.photos:
        return []
    label = "📷 " + tr.gettext("Photos") + (f" ({len(place.photos)})" if len(place.photos) > 1 else "")
    return [[button(label, PhotosCb(event=place.event_id))]]


@router.callback_query(PhotosCb.filter())
async def on_photos(query: CallbackQuery, callback_data: PhotosCb, uow: UnitOfWork, tr: Translator) -> None:
    async with uow.read():
        event = await uow.catalog.event(callback_data.event)
        place = await uow.places.event_place(callback_data.event) if event else None
    if event is None or place is None or not place.photos:  # a forged button, or the photos were taken out
        await answer_query(query, tr.gettext("This event has no photos."), alert=True)
        return
    caption = f"<b>{html.quote(cut(localized(event.title, tr.language), CAPTION_LIMIT - 10))}</b>"
    assert query.bot is not None, "an update fed through the Dispatcher is bound to its bot"
    chat_id = query.from_user.id
    try:
        if len(place.photos) == 1:
            await query.bot.send_photo(chat_id, place.photos[0], caption=caption)
        else:
            media = [InputMediaPhoto(media=p, caption=caption if i == 0 else None) for i, p in enumerate(place.photos)]
            await query.bot.send_media_group(chat_id, media=list(media))
    except TelegramBadRequest as error:  # a photo Telegram cannot fetch (a dead URL, a file id of another bot)
        log.warning("event %s: photos refused by Telegram: %s", event.id, error.message)
        await answer_query(query, tr.gettext("The photos cannot be shown right now. Please try later."), alert=True)
        return
    await answer_query(query)
