"""What the event card offers besides booking (issue 15): ☆/★ to keep it among one's favourites, and Share, which
lets the guest pick a chat (a person, a group or a channel) and puts ``@bot <the event's title>`` in it: the bot's
inline mode (:mod:`handlers.tourist.inline_mode`) then lists the event with a link that opens its card."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, SwitchInlineQueryChosenChat

from domain.model.catalog import Event, localized
from domain.ports import UnitOfWork
from handlers.tourist.callbacks import FavAction, FavCb
from handlers.ui import Translator, button, cut

SHARE_QUERY_LIMIT = 64  # of Telegram's 256: a title is enough to find the event


def share_query(event: Event, language: str) -> str:
    """The inline query Share puts in the chosen chat: the event's title in the sharer's language."""
    return cut(localized(event.title, language), SHARE_QUERY_LIMIT)


def share_button(event: Event, tr: Translator) -> InlineKeyboardButton:
    chosen = SwitchInlineQueryChosenChat(
        query=share_query(event, tr.language),
        allow_user_chats=True,
        allow_group_chats=True,
        allow_channel_chats=True,
    )
    return InlineKeyboardButton(text="↗️ " + tr.gettext("Share"), switch_inline_query_chosen_chat=chosen)


def favourite_button(event: Event, starred: bool, tr: Translator) -> InlineKeyboardButton:
    if starred:
        return button("★ " + tr.gettext("In favourites"), FavCb(action=FavAction.REMOVE, event=event.id))
    return button("☆ " + tr.gettext("Add to favourites"), FavCb(action=FavAction.ADD, event=event.id))


async def card_actions_row(uow: UnitOfWork, event: Event, user_id: int, tr: Translator) -> list[InlineKeyboardButton]:
    """☆/★ and Share, for the card ``user_id`` looks at."""
    async with uow.read():
        starred = await uow.favourites.get(user_id, event.id) is not None
    return [favourite_button(event, starred, tr), share_button(event, tr)]
