"""The bot's description (shown in an empty chat with it) and short description (its profile page, and a shared
link), per language (issue 15): ``setMyDescription`` / ``setMyShortDescription`` with ``language_code`` for each
language we speak, and without one (for everyone else) in English, the source language.

Set by the leader when its term starts (bot/runner.py: one replica, not all at once), only what changed since it was
last set: a digest of each text is remembered in ``bot_profile`` (``description:<language>``, ``-`` for the default),
so a restart with the same texts asks Telegram nothing. A refusal is logged (tried again at the next start).
"""

from __future__ import annotations

import hashlib
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.command_menus import CommandMenus
from bot.storage.bot_profile import BotProfileStore
from domain.ports import Clock
from handlers.ui import N_, Languages

DESCRIPTION = N_(
    "I book excursions and events for you: browse by region, date and category, book in a few taps, pay here or on "
    "site, and get your ticket, reminders and our team's answers right in this chat. Press Start to begin."
)
SHORT_DESCRIPTION = N_("Excursions and events: book, pay and get your ticket right in this chat.")
DESCRIPTION_LIMIT = 512  # Bot API: 0-512 characters
SHORT_DESCRIPTION_LIMIT = 120  # Bot API: 0-120 characters
_DEFAULT = "-"  # the key's language part of the texts set without a language_code


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]


async def set_descriptions(bot: Bot, sessions: async_sessionmaker[AsyncSession], i18n: Languages, clock: Clock) -> int:
    """Both descriptions in every language (and the default) where they changed; how many requests it made."""
    store = BotProfileStore(sessions)
    known = {**await store.values("description"), **await store.values("short_description")}
    asked = 0
    for language in (None, *i18n.languages):
        tr = i18n.translator(language)
        texts = {
            "description": (tr.gettext(DESCRIPTION) if language else DESCRIPTION)[:DESCRIPTION_LIMIT],
            "short_description": (tr.gettext(SHORT_DESCRIPTION) if language else SHORT_DESCRIPTION)[
                :SHORT_DESCRIPTION_LIMIT
            ],
        }
        for kind, text in texts.items():
            key = f"{kind}:{language or _DEFAULT}"
            if known.get(key) == _digest(text):
                continue
            asked += 1
            try:
                if kind == "description":
                    await bot.set_my_description(description=text, language_code=language)
                else:
                    await bot.set_my_short_description(short_description=text, language_code=language)
            except TelegramAPIError as error:
                logging.getLogger(__name__).warning("the bot's %s (%s) was not set: %s", kind, key, error)
                continue
            await store.remember(key, _digest(text), clock.now())
    return asked


async def update_bot_profile(
    bot: Bot, sessions: async_sessionmaker[AsyncSession], i18n: Languages, clock: Clock, menus: CommandMenus
) -> None:
    """What the leader sets at the start of its term: the descriptions, then the organiser chats' menus (bounded,
    paced). Never raises (a failure is logged): the bot works without them."""
    log = logging.getLogger(__name__)
    try:
        asked = await set_descriptions(bot, sessions, i18n, clock)
        menus_set = await menus.sync(bot)
        log.info("bot profile: %s description requests, %s organiser menus set", asked, menus_set)
    except Exception:  # the bot works without them: nothing here may stop the leader's duties
        log.exception("the bot's descriptions or the organiser menus could not be brought up to date")
