"""Outer middlewares: per-update context reaches handlers by parameter name.

- ``uow``: a :class:`~bot.storage.uow.SqlUnitOfWork` (each ``async with`` is one transaction), with the catalog
  from the process's :class:`~bot.storage.catalog_cache.CatalogCache`
- ``desk_queries``: the desk's read side (:class:`~bot.storage.desk_queries.SqlDeskQueries`) on that unit of work
- ``user``: the tourist (:class:`domain.model.users.User`), registered on first contact in a private chat; None
  elsewhere
- ``tr``: the :class:`handlers.ui.Translator` for the user's language

An update during which the database became unreachable is marked for the inbox to hand back (no apology: it will be
handled again), see :class:`TransientFailures`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.enums import ChatType
from aiogram.types import Chat, TelegramObject, Update
from aiogram.types import User as TgUser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.catalog_cache import CatalogCache
from bot.storage.db import is_transient
from bot.storage.desk_queries import SqlDeskQueries
from bot.storage.uow import SqlUnitOfWork
from bot.storage.update_scope import CURRENT
from domain.ports import Clock
from domain.use_cases.profile import register_user
from handlers.ui import Languages

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UnitOfWorkMiddleware(BaseMiddleware):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], catalog_cache: CatalogCache | None = None) -> None:
        self.sessions = sessions
        self.catalog_cache = catalog_cache

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        uow = SqlUnitOfWork(self.sessions, self.catalog_cache)
        data["uow"] = uow
        data["desk_queries"] = SqlDeskQueries(uow)  # the operator desk's read side, on the same transactions
        return await handler(event, data)


class TransientFailures(BaseMiddleware):
    """On the dispatcher's errors (before the errors router): an update during which the database became
    unreachable (a restart, a failover) gets no apology; it is marked for the inbox to hand back and handle again
    once the database answers (bot/inbox.py). Outside the inbox (no update scope) the errors router has it."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        scope = CURRENT.get()
        error = getattr(event, "exception", None)
        if scope is None or error is None or not is_transient(error):
            return await handler(event, data)
        scope.transient = error
        return None


class UserMiddleware(BaseMiddleware):
    def __init__(self, i18n: Languages, clock: Clock) -> None:
        self.i18n = i18n
        self.clock = clock

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        from_user: TgUser | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        user = None
        # a guest blocking or unblocking the bot (``my_chat_member``) is not a guest writing to us: their flag is the
        # handler's to set (handlers/tourist/blocking.py), not register_user's "writes to us, so unblocked"
        changed_membership = isinstance(event, Update) and event.my_chat_member is not None
        if (
            from_user is not None
            and not from_user.is_bot
            and (chat is None or chat.type == ChatType.PRIVATE)
            and not changed_membership
        ):
            user = await register_user(
                data["uow"],
                from_user.id,
                self.i18n.best(from_user.language_code),
                from_user.first_name,
                from_user.username,
                self.clock.now(),
            )
        data["user"] = user
        language = user.language if user else self.i18n.best(from_user.language_code if from_user else None)
        data["tr"] = self.i18n.translator(language)
        return await handler(event, data)
