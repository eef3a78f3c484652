"""Who may act on the desk: members of the operator chat (``getChatMember``, cached briefly) and ``ADMIN_IDS``.

A button press proves nothing about who pressed it, so the desk's parent router (:mod:`handlers.operator`) is put
behind :func:`guard` once: it checks the presser on the server for every message and callback query a desk handler
matched, refuses strangers with a localized "not allowed" (a callback query) or silence (a message in some other
chat), and hands the handlers

- ``operator``: the :class:`Operator` acting (id, display name, ``actor`` string for the audit log),
- ``tr``: the operators' translator (``DEFAULT_LOCALE``, the language every desk text is in).

Messages are only taken from the operator chat itself; commands sent elsewhere fall through to the other routers.
Callback data of the desk uses prefixes starting with ``d`` (see each module's ``*Cb``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Router
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, TelegramObject

from handlers.settings import HandlerSettings
from handlers.tourist.messaging import answer_query
from handlers.ui import Languages

log = logging.getLogger(__name__)

MEMBER_STATUSES = frozenset({ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER})
CACHE_TTL_S = 60.0


@dataclass(frozen=True, slots=True)
class Operator:
    id: int
    name: str

    @property
    def actor(self) -> str:
        """How the audit log names them."""
        return f"operator:{self.id}"


class OperatorDirectory:
    """Membership of the operator chat, asked of Telegram and remembered for ``ttl`` seconds per user.

    One per process (``dp["operators"]``). A failed ``getChatMember`` (network, the bot was removed) counts as
    "not a member" and is not cached, so access comes back as soon as Telegram answers again.
    """

    def __init__(
        self, settings: HandlerSettings, ttl: float = CACHE_TTL_S, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.chat_id = settings.operator_chat_id
        self.admins = frozenset(settings.admin_ids)
        self.ttl = ttl
        self.monotonic = monotonic
        self._cache: dict[int, tuple[float, bool]] = {}

    async def is_operator(self, bot: Bot, user_id: int) -> bool:
        if user_id in self.admins:
            return True
        if self.chat_id is None:
            return False
        now = self.monotonic()
        cached = self._cache.get(user_id)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        try:
            member = await bot.get_chat_member(self.chat_id, user_id)
        except TelegramAPIError as error:
            log.warning("getChatMember(%s, %s) failed: %s", self.chat_id, user_id, error)
            return False
        allowed = member.status in MEMBER_STATUSES or (
            member.status == ChatMemberStatus.RESTRICTED and getattr(member, "is_member", False)
        )
        self._cache[user_id] = (now, allowed)
        return allowed

    def forget(self, user_id: int) -> None:
        self._cache.pop(user_id, None)


Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def in_operator_chat(message: Message, settings: HandlerSettings) -> bool:
    return settings.operator_chat_id is not None and message.chat.id == settings.operator_chat_id


async def _message_guard(handler: Handler, message: TelegramObject, data: dict[str, Any]) -> Any:
    if not isinstance(message, Message) or message.from_user is None or message.from_user.is_bot:
        return None
    directory: OperatorDirectory = data["operators"]
    if not await directory.is_operator(data["bot"], message.from_user.id):
        return None  # someone in the group who is not (any more) an operator: say nothing in a busy group
    _enrich(data, message.from_user.id, message.from_user.full_name)
    return await handler(message, data)


async def _query_guard(handler: Handler, query: TelegramObject, data: dict[str, Any]) -> Any:
    if not isinstance(query, CallbackQuery):
        return await handler(query, data)
    directory: OperatorDirectory = data["operators"]
    if not await directory.is_operator(data["bot"], query.from_user.id):
        tr = data["i18n"].translator(data["user"].language if data.get("user") else None)
        await answer_query(query, tr.gettext("Not allowed: only our operators can use this button."), alert=True)
        return None
    _enrich(data, query.from_user.id, query.from_user.full_name)
    return await handler(query, data)


def _enrich(data: dict[str, Any], user_id: int, name: str) -> None:
    i18n: Languages = data["i18n"]
    settings: HandlerSettings = data["settings"]
    data["operator"] = Operator(id=user_id, name=name)
    data["tr"] = i18n.translator(settings.default_locale)


def guard(router: Router) -> Router:
    """Put ``router`` and the routers it includes behind the operator check: their messages only from the operator
    chat, and every message or button press a handler's filters matched checked on the server (inner middlewares
    run after a handler's filters, so the tourist's own buttons never meet this check)."""
    router.message.filter(in_operator_chat)
    router.message.middleware(_message_guard)
    router.callback_query.middleware(_query_guard)
    return router
