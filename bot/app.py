"""Assembly: the Bot, the Dispatcher with its dependencies and middlewares, and the ordered list of routers.

What handlers need reaches them by parameter name: ``settings`` (:class:`handlers.settings.HandlerSettings`),
``i18n`` (:class:`handlers.ui.Languages`), ``clock`` (:class:`domain.ports.Clock`) and ``operators`` from the
Dispatcher; ``uow``, ``desk_queries``, ``user`` and ``tr`` per update from :mod:`bot.middlewares`.
"""

from __future__ import annotations

import logging
from functools import partial

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from bot.command_menus import CommandMenus, tourist_commands
from bot.config import Settings
from bot.event_search import CatalogSearch
from bot.i18n import I18n
from bot.middlewares import TransientFailures, UnitOfWorkMiddleware, UserMiddleware
from bot.response_models import keep_response_models
from bot.routing import tune_routing
from bot.storage.catalog_cache import CatalogCache
from bot.storage.fsm import SqlStorage
from bot.storage.reads import read_sessions
from bot.telegram_retry import RetryMiddleware
from bot.throttle import Throttle, ThrottleMiddleware
from domain.ports import Clock
from handlers.operator.access import OperatorDirectory

log = logging.getLogger(__name__)


def build_bot(settings: Settings, token: str) -> Bot:
    """The one code path to Telegram in every mode: the API server comes from ``TELEGRAM_API_URL``."""
    keep_response_models()
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    session.middleware(RetryMiddleware())
    return Bot(token=token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def build_storage(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> BaseStorage:
    """FSM state: in Redis when configured, else in the database; either survives a restart and is shared by
    replicas."""
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        return RedisStorage.from_url(settings.redis_url)
    return SqlStorage(sessions)


def routers() -> list[Router]:
    """Every audience's parent router, in the order updates try them; the catch-all comes last.

    The tourists' parent starts with payments, so no conversation's state swallows a payment update; nothing before
    it reacts to one (the organisers' answers are replies to a booking request, the desk reads the operator chat).
    """
    from handlers import operator, organiser, tourist
    from handlers.common import errors, fallback
    from handlers.organiser import confirmations

    return [
        errors.router,
        confirmations.router,  # replies to booking requests, before any flow reads the text
        organiser.router,  # the organisers' own chat: check-in links, the day itself, /settings, /sessions, /questions
        operator.router,  # the desk: only the operator chat's messages, only operators' presses
        tourist.router,  # private chats only: payments, then every tourist flow
        fallback.router,
    ]


def build_dispatcher(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    i18n: I18n | None = None,
    clock: Clock | None = None,
    storage: BaseStorage | None = None,
    throttle: Throttle | None = None,
) -> Dispatcher:
    i18n = i18n or I18n(settings.default_locale)
    keep_response_models()  # whichever Bot feeds this dispatcher
    dp = Dispatcher(
        storage=storage or build_storage(settings, sessions),
        settings=settings,
        i18n=i18n,
        clock=clock or SystemClock(),
    )
    dp["operators"] = OperatorDirectory(settings)
    dp["organiser_menus"] = CommandMenus(sessions, i18n, dp["clock"])  # an organiser chat's command menu (issue 14)
    dp["catalog_cache"] = CatalogCache(settings.catalog_refresh_seconds)
    dp["event_search"] = CatalogSearch(sessions, dp["catalog_cache"], settings.catalog_refresh_seconds)  # inline mode
    dp.update.outer_middleware(UnitOfWorkMiddleware(sessions, dp["catalog_cache"]))
    if throttle is not None:  # the running bot's (bot/runner.py); tests drive users faster than any person
        # before the user is registered: a dropped update costs no transaction
        dp.update.outer_middleware(ThrottleMiddleware(throttle, settings, i18n))
    dp.update.outer_middleware(UserMiddleware(i18n, dp["clock"]))
    dp.errors.outer_middleware(TransientFailures())  # before the errors router's apology
    dp.include_routers(*routers())
    tune_routing(dp)  # after every include: sync filters on the loop, presses routed by prefix (bot/routing.py)
    dp.startup.register(set_commands)
    dp.startup.register(partial(warm_catalog, dp["catalog_cache"], sessions))
    return dp


async def warm_catalog(cache: CatalogCache, sessions: async_sessionmaker[AsyncSession], **_: object) -> None:
    """The catalog's first copy, read before the first update (so no update waits for it)."""
    async with read_sessions(sessions)() as db:
        await cache.regions(db)


async def set_commands(bot: Bot, i18n: I18n, settings: Settings) -> None:
    """The command menu in each language (and the default language for everyone else); the operator group gets
    the desk's commands in the operators' language."""
    for language in (None, *i18n.languages):
        commands = tourist_commands(i18n.translator(language))  # each organiser chat has its own (bot/command_menus.py)
        await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats(), language_code=language)
    if settings.operator_chat_id is not None:
        from handlers.operator.help import DESK_COMMANDS

        tr = i18n.translator(settings.default_locale)
        desk = [BotCommand(command=c, description=tr.gettext(d)[:256]) for c, d in DESK_COMMANDS]
        try:
            await bot.set_my_commands(desk, scope=BotCommandScopeChat(chat_id=settings.operator_chat_id))
        except TelegramAPIError as error:  # the bot is not in the group (yet): the menu is a convenience
            log.warning("the operator group's command menu was not set: %s", error)
