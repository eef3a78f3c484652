"""Telegram's command menus: the tourists' one (every private chat, per language) and each organiser chat's own
(issue 14): the organiser commands (``handlers/organiser/commands.py``) then the tourists' ones, in the organiser's
language, with ``BotCommandScopeChat`` — a scope that replaces the private chats' menu in that chat only.

An organiser chat's menu is set once per version (its commands and language, a digest remembered in ``bot_profile``,
``menu:<chat id>``): when the organiser sends ``/start`` (:class:`CommandMenus`, the handlers' ``organiser_menus``)
and at the leader's start for the organisers whose menu is missing or outdated (:func:`sync_organiser_menus`: at most
:data:`MENUS_PER_START`, one request every :data:`MENU_PAUSE_S` seconds; the rest at the next start or their
``/start``). A chat keeps the language its menu was last set in (the organiser's ``/start`` sets it in theirs); a chat
without a menu gets the catalog's language of the organiser. A refusal (the bot not in a group, a chat that blocked
it) is logged and not remembered: tried again next time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.types import BotCommand, BotCommandScopeChat
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.bot_profile import BotProfileStore
from bot.storage.tables import OrganiserRow
from domain.ports import Clock
from handlers.ui import Languages, Translator

log = logging.getLogger(__name__)

MENUS_PER_START = 200  # organiser menus set at one start at most
MENU_PAUSE_S = 0.1  # between two of them: a start never floods the Bot API
DESCRIPTION_LIMIT = 256  # a command's description (Bot API: 1-256 characters)
_MENU = "menu:"


def tourist_commands(tr: Translator) -> list[BotCommand]:
    """The menu of every private chat (and the end of an organiser's)."""
    _ = tr.gettext
    return [
        BotCommand(command="start", description=_("Main menu")),
        BotCommand(command="events", description=_("Browse events")),
        BotCommand(command="orders", description=_("My orders")),
        BotCommand(command="favourites", description=_("My favourites")),
        BotCommand(command="question", description=_("Ask a question")),
        BotCommand(command="profile", description=_("Profile: phone, hotel, data")),
        BotCommand(command="language", description=_("Change language")),
        BotCommand(command="help", description=_("What this bot can do")),
    ]


def organiser_menu(tr: Translator) -> list[BotCommand]:
    # imported here: bot.app imports this module, and the organisers' package is imported after the tourists' one
    from handlers.organiser.commands import ORGANISER_COMMANDS

    own = [BotCommand(command=c, description=tr.gettext(d)[:DESCRIPTION_LIMIT]) for c, d in ORGANISER_COMMANDS]
    return own + tourist_commands(tr)


def menu_version(language: str, commands: list[BotCommand]) -> str:
    """``<language>:<digest of the commands>``: what ``bot_profile`` remembers of a chat's menu."""
    listed = json.dumps([language, [[c.command, c.description] for c in commands]], ensure_ascii=False)
    return f"{language}:{hashlib.sha256(listed.encode()).hexdigest()[:40]}"


class CommandMenus:
    """The organiser chats' menus (the ``OrganiserMenus`` port of ``handlers/organiser/commands.py``)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], i18n: Languages, clock: Clock) -> None:
        self.store = BotProfileStore(sessions)
        self.i18n, self.clock = i18n, clock
        self._set: dict[int, str] = {}  # this process's knowledge: chat -> version set

    async def show(self, bot: Bot, chat_id: int, language: str) -> None:
        language = self.i18n.best(language)
        commands = organiser_menu(self.i18n.translator(language))
        version = menu_version(language, commands)
        if self._set.get(chat_id) == version:
            return
        if await self.store.value(_MENU + str(chat_id)) != version:
            await self._send(bot, chat_id, commands, version)
        self._set[chat_id] = version

    async def _send(self, bot: Bot, chat_id: int, commands: list[BotCommand], version: str) -> bool:
        try:
            await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=chat_id))
        except TelegramRetryAfter:
            raise
        except TelegramAPIError as error:
            log.warning("the command menu of organiser chat %s was not set: %s", chat_id, error)
            return False
        await self.store.remember(_MENU + str(chat_id), version, self.clock.now())
        self._set[chat_id] = version
        return True

    async def sync(self, bot: Bot, limit: int = MENUS_PER_START, pause_s: float = MENU_PAUSE_S) -> int:
        """Every known organiser chat's menu brought up to date, at most ``limit`` of them; how many were set."""
        async with self.store.sessions() as db:
            organisers = (await db.execute(select(OrganiserRow.chat_id, OrganiserRow.language))).all()
        stored = await self.store.values(_MENU)
        done, waiting = 0, 0
        chats = {int(chat_id): str(language) for chat_id, language in organisers}  # one menu per chat
        for chat_id, catalog_language in sorted(chats.items()):
            was = stored.get(_MENU + str(chat_id))
            language = self.i18n.best(was.split(":", 1)[0] if was else catalog_language)
            commands = organiser_menu(self.i18n.translator(language))
            version = menu_version(language, commands)
            if was == version:
                self._set[chat_id] = version
                continue
            if done >= limit:
                waiting += 1
                continue
            try:
                if await self._send(bot, chat_id, commands, version):
                    done += 1
            except TelegramRetryAfter as error:
                log.warning("organiser menus: Telegram asks to wait %ss; the rest at the next start", error.retry_after)
                break
            await asyncio.sleep(pause_s)
        if waiting:
            log.info("organiser menus: %s set, %s left for the next start or their /start", done, waiting)
        return done
